"""tccas.model: the D&B land model (DALEC + BETHY): parameter table, forcing, tiles,
Numba kernels and the block driver. Imports nothing from catalog or pipeline."""
