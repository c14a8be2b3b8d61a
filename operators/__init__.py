"""tccas.operators: observation operators at tile level, PFT mixing inside a footprint,
and footprint geometry as sparse weights onto the model grid."""
