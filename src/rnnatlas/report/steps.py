"""The report's own rule: every registered paper's section and claims, assembled."""

from __future__ import annotations

from pathlib import Path

from rnnatlas.io import atomic_path, read_json, write_json
from rnnatlas.report.html import page
from rnnatlas.report.records import read_records
from rnnatlas.step import Job


def report(job: Job) -> None:
    """Rule report: results/report/index.html and claims.json from the papers' sections."""
    if len(job.input.claims) != len(job.input.sections):
        raise ValueError("rule report: one claims.json and one section.html per paper")
    claims = []
    for path in job.input.claims:
        # results/report/<paper>/claims.json: the section a record belongs to, for the filters
        records = read_json(path, "its paper's <paper>_section rule writes it")
        claims += [{**record, "section": path.parent.name} for record in records]
    sections = [path.read_text() for path in job.input.sections]
    # reproductions/<name>/{claims,manifest}.json: the runs recorded in the repository
    records = job.input.get("records") or []
    recorded = read_records(dict.fromkeys(Path(p).parent for p in records))
    write_json(job.output.claims, claims)
    with atomic_path(job.output.html) as tmp:
        tmp.write_text(page(job.params.scale, sections, claims, recorded))
