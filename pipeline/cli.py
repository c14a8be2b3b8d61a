"""The ``tccas`` command line.

User errors (:class:`tccas.model.errors.TccasInputError`) print one line
``tccas: error: ...`` on standard error and exit with status 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import version

import numpy as np

from tccas.model.driver import SpinUp
from tccas.model.errors import TccasInputError


def _simulate(args: argparse.Namespace) -> int:
    from tccas.pipeline.simulate import (
        EQUIVALENTS_GROUP,
        forward_dataset,
        observation_equivalents,
        run,
        site_simulation,
        tower_simulation,
        write_zarr_atomic,
    )

    spinup = SpinUp(years=args.spinup_years, cycles=args.spinup_cycles)
    if args.site and args.forcing:
        raise TccasInputError("give either --site or --forcing, not both")
    if args.site:
        simulation = site_simulation(args.site, args.start, args.end, seed=args.seed,
                                     spinup=spinup)
    elif args.forcing:
        if args.lat is None or args.lon is None:
            raise TccasInputError("a tower run needs --lat and --lon")
        simulation = tower_simulation(args.forcing, args.lat, args.lon, args.pft or [],
                                      args.start, args.end, soil=args.soil,
                                      utc_offset=args.utc_offset, spinup=spinup)
    else:
        raise TccasInputError("give --site NAME or --forcing FILE")
    result = run(simulation)
    store = write_zarr_atomic(forward_dataset(simulation, result), args.out,
                              {EQUIVALENTS_GROUP: observation_equivalents(simulation, result)})
    print(f"wrote {store} ({simulation.tiles.n_tile} tiles, {result.days.size} days)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from tccas.pipeline.demo import run_demo

    run_demo(args.out, seed=args.seed)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from tccas.pipeline.bench import named_only_suites, run_benchmarks, suites

    selected = args.suite.split(",") if args.suite else None
    available = [*suites(), *named_only_suites()]
    unknown = sorted(set(selected or []) - set(available))
    if unknown:
        raise TccasInputError(f"unknown benchmark suite(s) {', '.join(unknown)}; "
                              f"available: {', '.join(available)} (the last "
                              f"{len(named_only_suites())} only when named)")
    figures = run_benchmarks(selected)
    for name, value in figures.items():
        print(f"{name:40s} {value:12.4g}")
    if args.json:
        print(json.dumps(figures))
    return 0


def _check_derivatives(args: argparse.Namespace) -> int:
    from tccas.pipeline.check_derivatives import check_site, format_report, json_fields

    if args.site not in ("majadas", "sodankyla"):
        raise TccasInputError(f"--site must be majadas or sodankyla, got '{args.site}'")
    seed = args.seed if args.seed is not None else int(
        np.random.SeedSequence().entropy % 2**32)
    report = check_site(args.site, args.years, seed)
    print(format_report(report))
    if args.json:
        print(json.dumps(json_fields(report)))
    return 0 if report["passed"] else 1


def _assimilate(args: argparse.Namespace) -> int:
    from tccas.pipeline.assimilate import run_assimilation
    from tccas.pipeline.cluster import open_cluster
    from tccas.pipeline.config import load_config

    config = load_config(args.config, args.overrides)
    if args.in_process:
        run_assimilation(config, args.catalogue, args.out, resume=args.resume)
    else:
        with open_cluster(config.cluster) as client:
            run_assimilation(config, args.catalogue, args.out, resume=args.resume,
                             client=client)
    return 0


def _uncertainty(args: argparse.Namespace) -> int:
    from tccas.pipeline.report_uncertainty import write_report

    for path in write_report(args.posterior, args.out, leave_one_out=args.leave_one_out):
        print(f"wrote {path}")
    return 0


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """The CONFIG positional (a built-in name or a YAML file) and the repeatable
    ``--set dotted.key=value`` override shared by every configuration-driven command;
    :func:`tccas.pipeline.config.load_config` ``(args.config, args.overrides)`` reads them."""
    parser.add_argument("config", metavar="CONFIG",
                        help="built-in configuration name (e.g. majadas-site) or YAML file")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override a configuration entry, e.g. period.end=2016-12-31 "
                             "(repeatable; the value is parsed as YAML)")


def _inspect(args: argparse.Namespace) -> int:
    from tccas.pipeline.inspect import format_summary, inspect_file, summary_json

    summary = inspect_file(args.file)
    print(summary_json(summary) if args.json else format_summary(summary))
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from tccas.pipeline.config import load_config
    from tccas.pipeline.ingest import run_ingest

    config = load_config(args.config, args.overrides)
    report = run_ingest(config, args.raw, args.out, strict=args.strict,
                        show_progress=not args.quiet)
    for line in report.lines():
        print(line, file=sys.stderr if line.startswith("rejected ") else sys.stdout)
    return 0


def _synth(args: argparse.Namespace) -> int:
    from tccas.pipeline.config import load_config
    from tccas.pipeline.synth import run_synth

    return run_synth(load_config(args.config, args.overrides), args.out, quiet=args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tccas",
        description="Terrestrial Carbon Community Assimilation System: the D&B land model, "
                    "EO observation operators and variational assimilation.")
    parser.add_argument("--version", action="version", version=f"tccas {version('tccas')}")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="run the main job on built-in data")
    demo.add_argument("--out", default="tccas-demo", help="output folder (default tccas-demo)")
    demo.add_argument("--seed", type=int, default=0, help="weather generator seed")
    demo.set_defaults(func=_demo)

    simulate = sub.add_parser("simulate", help="forward run of a site or a flux tower")
    simulate.add_argument("--site", help="built-in site: majadas, sodankyla or reusel")
    simulate.add_argument("--forcing", help="tower forcing: FLUXNET2015 ERAI .csv or "
                                            "PLUMBER2 Met .nc")
    simulate.add_argument("--lat", type=float, help="tower latitude [degree north]")
    simulate.add_argument("--lon", type=float, help="tower longitude [degree east]")
    simulate.add_argument("--pft", action="append",
                          help="PFT[:cover fraction], repeatable (tower runs)")
    simulate.add_argument("--soil", default="loam", help="soil class (tower runs)")
    simulate.add_argument("--utc-offset", type=float, default=None,
                          help="hours local standard time minus UTC of a FLUXNET CSV "
                               "(default round(lon / 15))")
    simulate.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    simulate.add_argument("--end", required=True, help="last day (included), YYYY-MM-DD")
    simulate.add_argument("--out", required=True, help="output Zarr store")
    simulate.add_argument("--seed", type=int, default=0, help="weather generator seed")
    simulate.add_argument("--spinup-years", type=int, default=2,
                          help="spin-up window in years (default 2, as TCCAS)")
    simulate.add_argument("--spinup-cycles", type=int, default=1,
                          help="recycling passes over the spin-up years (default 1)")
    simulate.set_defaults(func=_simulate)

    check = sub.add_parser("check-derivatives",
                           help="Taylor and dot-product tests of the whole model at a site")
    check.add_argument("--site", required=True, help="majadas or sodankyla")
    check.add_argument("--years", type=int, default=3, help="years from 2015 (default 3)")
    check.add_argument("--seed", type=int, default=None, help="seed of the directions "
                                                              "(default: fresh, printed)")
    check.add_argument("--json", action="store_true", help="print one JSON object last")
    check.set_defaults(func=_check_derivatives)

    bench = sub.add_parser("bench", help="measure performance (see BENCHMARKS.md)")
    bench.add_argument("--json", action="store_true", help="print one JSON object last")
    bench.add_argument("--suite", help="comma-separated suites: forward, derivatives, "
                       "footprint, ingest, assimilation (the default: all of these), and, "
                       "only when named, lapland-gradient (about 12 min) and majadas-twin "
                       "(the 2015-2021 twin experiment)")
    bench.set_defaults(func=_bench)

    ingest = sub.add_parser("ingest", help="read raw product files into a Zarr catalogue")
    add_config_arguments(ingest)
    ingest.add_argument("--raw", required=True, metavar="RAW_DIR",
                        help="folder searched for product files (TROPOSIF, SMOS, ERA5, ...)")
    ingest.add_argument("--out", required=True, metavar="CATALOGUE",
                        help="the catalogue (.zarr), created or merged into")
    ingest.add_argument("--strict", action="store_true",
                        help="fail on any bad file instead of ingesting the others")
    ingest.add_argument("--quiet", action="store_true", help="no progress bars")
    ingest.set_defaults(func=_ingest)

    synth = sub.add_parser("synth", help="write a synthetic twin world: truth.zarr and the raw "
                                         "product files (ERA5, land cover, TROPOSIF, SMOS, "
                                         "JRC-TIP, FLUXNET, CCI Biomass)")
    add_config_arguments(synth)
    synth.add_argument("--out", required=True, metavar="RAW_DIR",
                       help="output folder (replaced when it holds an earlier synth output)")
    synth.add_argument("--quiet", action="store_true", help="no progress lines")
    synth.set_defaults(func=_synth)

    inspect = sub.add_parser("inspect", help="recognise a product file and count its records")
    inspect.add_argument("file", help="a product file (TROPOSIF, SMOS L2/IC, JRC-TIP, CCI LC, "
                                      "CCI Biomass, ERA5, FLUXNET CSV, PLUMBER2 netCDF)")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(func=_inspect)
    assimilate = sub.add_parser("assimilate", help="variational assimilation of a catalogue "
                                                   "(L-BFGS-B, posterior uncertainty)")
    add_config_arguments(assimilate)
    assimilate.add_argument("--catalogue", required=True, help="catalogue Zarr store "
                                                               "(tccas ingest)")
    assimilate.add_argument("--out", required=True, help="posterior Zarr store")
    assimilate.add_argument("--resume", action="store_true",
                            help="continue an interrupted run from its checkpoint in --out")
    assimilate.add_argument("--in-process", action="store_true",
                            help="evaluate the blocks in this process instead of the "
                                 "configured Dask cluster")
    assimilate.set_defaults(func=_assimilate)

    report = sub.add_parser("uncertainty", help="tables and figures of a posterior store")
    report.add_argument("posterior", help="posterior Zarr store (tccas assimilate)")
    report.add_argument("--out", required=True, help="folder for CSV tables and PNG figures")
    report.add_argument("--leave-one-out", action="store_true",
                        help="also each stream left out in turn, from the same Jacobian")
    report.set_defaults(func=_uncertainty)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TccasInputError as error:
        print(f"tccas: error: {error}", file=sys.stderr)
        return 2


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s status."""
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
