"""One paper's part of the report: its claims checked, its HTML section, written together."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from rnnatlas.io import atomic_path, write_json
from rnnatlas.report.claims import Claim, check_all


def write_section(
    name: str,
    title: str,
    claims: Sequence[Claim],
    config: Mapping,
    tables: object,
    presets: Mapping[str, Mapping],
    body: str,
    claims_path: Path,
    html_path: Path,
) -> list[dict]:
    """Check `claims` on `tables`, write them to `claims_path` and the section to `html_path`."""
    records = check_all(claims, config, tables, presets)
    write_json(claims_path, records)
    section = (
        f"<section id='{html.escape(name)}'>\n<h2>{html.escape(title)}</h2>\n{body}\n</section>\n"
    )
    with atomic_path(html_path) as tmp:
        tmp.write_text(section)
    return records
