"""tccas.pipeline: orchestration: simulations, validation, benchmarks and the `tccas`
command line."""
