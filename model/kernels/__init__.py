"""Numba kernels of D&B: scalar functions of one tile and one hour.

Layer 1 of ARCHITECTURE.md: no xarray, no Dask, no allocation. Every differentiable kernel
takes and returns floats so that its tangent-linear and adjoint can sit beside it.

All kernels are compiled with :data:`kernel` (cached on disk). Its fast-math flags allow
fused multiply-add, reciprocal instead of division, signed-zero folding and approximate
library functions; they do not assume the absence of NaN or infinity, so a NaN in the model
still propagates and is reported. Measured on this project's 2-core machine: 1.23 ->
0.83 us per tile-hour (BENCHMARKS.md). The NumPy error model makes a division by zero give
inf or NaN (IEEE) instead of raising inside a run; the block driver checks every tile for
non-finite values and reports the tile, PFT and day.
"""

from functools import partial

from numba import njit

KERNEL_FASTMATH = frozenset({"contract", "arcp", "nsz", "afn"})

kernel = partial(njit, cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
