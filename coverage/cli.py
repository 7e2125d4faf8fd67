"""The ``covplan`` command line.

Subcommands: ``fetch``, ``score``, ``optimise``, ``hydrants``, ``map``, ``compare``, ``run``.
Errors are printed as one clear line (``--debug`` shows the full trace). Exit codes: 0 success,
2 bad input (scenario, arguments, a file path in the scenario that does not exist), 3 data
problem (a ``shared:`` data file missing, empty or corrupt data), 4 download needed but
offline, 5 optimisation infeasible (or no plan found in the time limit), 1 unexpected failure.
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback
import warnings
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from .errors import (CoverageError, CoverageWarning, DataError, InfeasibleError,
                     NetworkUnavailableError, NoPlanFoundError)

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_DATA, EXIT_OFFLINE, EXIT_INFEASIBLE = 0, 1, 2, 3, 4, 5


def _common(p: argparse.ArgumentParser, *, out: bool = True, out_required: bool = True) -> None:
    p.add_argument("scenario", help="scenario YAML file")
    if out:
        p.add_argument("--out", required=out_required, metavar="DIR",
                       help="output folder (replaced atomically)")


def _global_flags(p: argparse.ArgumentParser, default) -> None:
    """--quiet/--debug/--offline, before the command (defaults) or after it (``SUPPRESS``: a flag
    given there overrides, an absent one leaves the value from before the command)."""
    kw = {} if default is None else {"default": default}
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars or notes", **kw)
    p.add_argument("--debug", action="store_true", help="show the full trace on errors", **kw)
    p.add_argument("--offline", action="store_true",
                   help="never download: use local files and the download cache only", **kw)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="covplan",
        description="Fire and rescue station coverage planner: score plans against the 5-minute "
                    "standard, propose sites, find hydrant gaps, make reviewer maps.",
    )
    parser.add_argument("--version", action="version", version=f"covplan {__version__}")
    _global_flags(parser, None)
    flags = argparse.ArgumentParser(add_help=False)
    _global_flags(flags, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kw) -> argparse.ArgumentParser:
        """A subcommand; it also takes the global flags after its name."""
        return sub.add_parser(name, parents=[flags], **kw)

    p = command("fetch", help="download and cache the scenario's road network (online)")
    _common(p, out=False)

    p = command("score", help="score existing and planned stations")
    _common(p)

    p = command("optimise", aliases=["optimize"], help="propose new station sites")
    _common(p)
    p.add_argument("--model", choices=["lscp", "mclp", "backup", "pmedian"], default=None,
                   help="lscp: fewest new stations covering all; mclp: best N new for coverage; "
                        "backup: best N for double coverage; pmedian: best N for response time")
    p.add_argument("--new", type=int, default=None, metavar="N", help="number of new stations")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="solver time limit (s)")

    p = command("hydrants", help="hydrant gaps and proposed hydrant positions")
    _common(p)

    p = command("map", help="write the reviewer map (HTML, offline by default)")
    _common(p)
    p.add_argument("--online", action="store_true", help="load Leaflet and OSM tiles from the web")

    p = command("compare", help="compare two scenarios (or two result folders)")
    p.add_argument("a", help="scenario YAML or result folder")
    p.add_argument("b", help="scenario YAML or result folder")
    p.add_argument("--out", required=False, metavar="DIR", help="write compare.json/compare.md here")

    p = command("run", help="everything for a scenario: score, optimise, hydrants, map, report")
    _common(p)
    p.add_argument("--online-map", action="store_true", help="map loads Leaflet and tiles from the web")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    progress = not args.quiet and sys.stderr.isatty()
    handlers: dict[str, Callable[[argparse.Namespace, bool], int]] = {
        "fetch": _cmd_fetch, "score": _cmd_score, "optimise": _cmd_optimise,
        "optimize": _cmd_optimise, "hydrants": _cmd_hydrants, "map": _cmd_map,
        "compare": _cmd_compare, "run": _cmd_run,
    }
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore", CoverageWarning)
            else:
                warnings.simplefilter("always", CoverageWarning)
                warnings.showwarning = _show_warning
            if getattr(args, "out", None):
                from .report import check_out_folder

                # before any work: a run replaces the folder whole, compare writes into it
                check_out_folder(args.out, command=args.command)
            return handlers[args.command](args, progress)
    except KeyboardInterrupt:
        print("covplan: interrupted", file=sys.stderr)
        return 130
    except CoverageError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"covplan {args.command}: error: {exc}", file=sys.stderr)
        if isinstance(exc, NetworkUnavailableError):
            return EXIT_OFFLINE
        if isinstance(exc, (InfeasibleError, NoPlanFoundError)):
            return EXIT_INFEASIBLE
        if isinstance(exc, DataError):
            return EXIT_DATA
        return EXIT_INPUT
    except Exception as exc:  # an unexpected failure: one line, trace with --debug
        if args.debug:
            traceback.print_exc()
        print(f"covplan {args.command}: unexpected error: {type(exc).__name__}: {exc} "
              "(run again with --debug for the full trace)", file=sys.stderr)
        return EXIT_FAIL


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"covplan: warning: {message}", file=sys.stderr)


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def _prepare(args: argparse.Namespace, progress: bool):
    from .pipeline import prepare
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    return prepare(scenario, offline=args.offline, progress=progress)


def _cmd_fetch(args, progress) -> int:
    from .network import load_network
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    net = load_network(scenario.network["source"], speeds=dict(scenario.speeds), offline=args.offline)
    _note(args, f"network for {scenario.name!r}: {net.n_nodes} nodes, {net.n_edges} edges (cached)")
    from .pipeline import needs_osm_features

    # pois or stations from OSM; the siting rules' features too when the network is a download
    if needs_osm_features(scenario, rules=scenario.network.get("kind") in ("place", "bbox", "polygon")):
        from .osmfeatures import fire_stations, osm_features

        feats = osm_features(scenario.network["source"], offline=args.offline)
        _note(args, f"OSM features: {len(feats)} named places/POIs, {len(fire_stations(feats))} fire stations (cached)")
    return EXIT_OK


def _step(args, progress, make) -> int:
    """Prepare the scenario, build one command's outputs with ``make(prep)``, write, report."""
    from . import outputs

    prep = _prepare(args, progress)
    res = make(prep)
    outputs.write(args.out, res)
    _note(args, outputs.one_line(res))
    return EXIT_OK


def _cmd_score(args, progress) -> int:
    from . import outputs

    return _step(args, progress, lambda prep: outputs.score_outputs(prep, progress=progress))


def _cmd_optimise(args, progress) -> int:
    from . import outputs

    return _step(args, progress, lambda prep: outputs.optimise_outputs(
        prep, model=args.model, new=args.new, time_limit_s=args.time_limit, progress=progress))


def _cmd_hydrants(args, progress) -> int:
    from . import outputs

    return _step(args, progress, lambda prep: outputs.hydrant_outputs(prep, progress=progress))


def _cmd_map(args, progress) -> int:
    from . import outputs

    prep = _prepare(args, progress)
    res = outputs.score_outputs(prep, progress=progress)
    res = outputs.with_map(prep, res, offline=not args.online)
    outputs.write(args.out, res)
    _note(args, f"map written to {Path(args.out) / 'map.html'}")
    return EXIT_OK


def _cmd_run(args, progress) -> int:
    from . import outputs

    prep = _prepare(args, progress)
    res = outputs.run_all(prep, offline_map=not args.online_map, progress=progress)
    outputs.write(args.out, res)
    _note(args, outputs.one_line(res))
    _note(args, f"results in {args.out} (open {Path(args.out) / 'map.html'})")
    return EXIT_OK


def _load_summary(target: str, args, progress) -> dict:
    path = Path(target)
    if path.is_dir():
        return _read_summary_json(path, target)
    from . import outputs
    from .pipeline import prepare
    from .scenario import load_scenario

    prep = prepare(load_scenario(path), offline=args.offline, progress=progress)
    summary = dict(outputs.score_outputs(prep, progress=progress).summary)
    if prep.scenario.hydrants is not None:  # the hydrant figures, without proposing positions
        from .pipeline import hydrants_scenario

        summary["hydrants"] = hydrants_scenario(prep, progress=progress, propose=False).summary()
    return summary


def _read_summary_json(folder: Path, target: str) -> dict:
    """The summary.json of a result folder, as a dict; DataError when missing or malformed."""
    f = folder / "summary.json"
    if not f.is_file():
        raise DataError(f"result folder {target!r} has no summary.json: expected the --out folder of a covplan run")
    try:
        summary = json.loads(f.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DataError(f"{str(f)!r} is not valid JSON ({exc})") from None
    except OSError as exc:
        raise DataError(f"{str(f)!r} cannot be read ({exc.strerror or exc})") from None
    if not isinstance(summary, dict):
        kind = {list: "array", str: "string", bool: "boolean", int: "number", float: "number",
                type(None): "null"}.get(type(summary), type(summary).__name__)
        raise DataError(f"{str(f)!r} holds a JSON {kind} ({json.dumps(summary)[:40]}): "
                        "expected an object, the summary.json of a covplan run")
    return summary


def _cmd_compare(args, progress) -> int:
    from .compare import compare_markdown, compare_summaries, write_compare

    a = _load_summary(args.a, args, progress)
    b = _load_summary(args.b, args, progress)
    table = compare_summaries(a, b)
    md = compare_markdown(table)
    if args.out:
        write_compare(args.out, table, md)
    print(md)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
