"""One paper's part of the report: its claims checked, its HTML section, written together."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from rnnatlas.io import atomic_path, write_json
from rnnatlas.report.claims import Claim, check_all
from rnnatlas.report.html import Assets
from rnnatlas.step import Job


def page_dir(job: Job) -> Path:
    """The folder of the report page (`params.page`) the section is assembled into: its links
    are relative to it."""
    return Path(job.params.page).parent


def assets(job: Job) -> Assets:
    """Where the section's figures are copied (`output.figures`, inside the report folder)."""
    return Assets(job.output.figures, page_dir(job))


def write_section(job: Job, claims: Sequence[Claim], tables: object, body: str) -> list[dict]:
    """Rule <paper>_section's outputs: `claims` checked on `tables` (with the presets of
    `params.presets` for `checkable_at`) to `output.claims`, and `body` under the paper's title
    (`params.title`) to `output.html`."""
    records = check_all(claims, job.params.config, tables, job.params.presets)
    write_json(job.output.claims, records)
    name = job.rule.removesuffix("_section")
    title = html.escape(job.params.title)
    section = f"<section id='{html.escape(name)}'>\n<h2>{title}</h2>\n{body}\n</section>\n"
    with atomic_path(job.output.html) as tmp:
        tmp.write_text(section)
    return records
