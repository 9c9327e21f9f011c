"""`rnnatlas ...`: what a person runs by hand. The pipeline's rules do not use it: they reach
their step functions through Snakemake's `script:` (rnnatlas.step)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rnnatlas", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser(
        "check-config",
        help="validate config files (merged in order, as --configfile does): the schema and "
        "every paper's cross-checks",
    )
    p.add_argument("files", type=Path, nargs="+")
    p = sub.add_parser(
        "check-states",
        help="validate a states Parquet file: the schema, one row per (sequence, step) with steps "
        "0..T-1, finite state values",
    )
    p.add_argument("path", type=Path)
    p = sub.add_parser(
        "garcia-import",
        help="read a hiddenStatesVis JSON (Garcia et al.'s viewer data) into a states file, a "
        "projection table and the views table",
    )
    p.add_argument("path", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder for the three tables")
    p = sub.add_parser(
        "record",
        help="keep a finished run's claims, command, machine, package versions and wall time per "
        "rule under reproductions/NAME (the report shows its verdicts beside the live ones)",
    )
    p.add_argument("name", help="the record's folder under reproductions/, e.g. the preset")
    p.add_argument("--preset", required=True, help="the preset file the run used")
    p.add_argument("--command", required=True, help="the command that ran, as typed")
    p.add_argument(
        "--log", type=Path, action="append", required=True,
        help="Snakemake's output of the run (repeat for each invocation of a resumed run)",
    )  # fmt: skip
    p.add_argument("--run", type=Path, default=Path("."), help="the run's checkout (default: .)")
    p.add_argument("--claims", type=Path, help="default: RUN/results/report/claims.json")
    p.add_argument("--out", type=Path, help="default: ./reproductions/NAME")
    p.add_argument("--note", default="", help="conditions a reader should know (shared machine)")
    return parser


def run(args: argparse.Namespace) -> None:
    if args.step == "check-config":
        from rnnatlas.papers.registry import load_config

        load_config(args.files)
        print("configuration valid:", ", ".join(map(str, args.files)))
    elif args.step == "check-states":
        from rnnatlas.states import check_values, metadata

        checked = check_values(args.path)
        rows = next(iter(checked.values()))
        print(f"{args.path}: valid states file; {rows:,} rows; states {', '.join(checked)}")
        print(f"metadata: {metadata(args.path)}")
    elif args.step == "garcia-import":
        from rnnatlas.papers.garcia.interop import import_views

        written = import_views(args.path, args.out)
        print(f"{args.path}: {', '.join(str(p) for p in written)}")
    elif args.step == "record":
        from rnnatlas.report.records import RECORDS_DIR, write_record

        out = args.out or Path(RECORDS_DIR) / args.name
        claims = args.claims or args.run / "results" / "report" / "claims.json"
        manifest = write_record(
            out, args.run, claims, args.log, args.command, args.preset, note=args.note
        )
        print(f"{out}: {manifest['jobs']} jobs, {manifest['wall_seconds'] / 60:.1f} min, "
              f"claims {manifest['headline']['claims']}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        run(args)
    except (ValueError, OSError) as err:  # OSError: unreadable paths (a folder, no permission)
        # Expected user errors: one clear line, no traceback.
        print(f"rnnatlas {args.step}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
