"""tccas.catalog: grids, study sites, the weather generator and readers of real products
(ERA5, FLUXNET/PLUMBER2, SMOS, TROPOSIF). All file I/O lives here."""
