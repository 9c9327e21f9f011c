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
