"""HTML of the report: figures inlined, the claims table, the page that holds the sections.

Knows no paper: each paper's section module builds its own HTML with these pieces.
"""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rnnatlas.report.claims import NOT_CHECKED, NOT_REPRODUCED, REPRODUCED

VERDICT_CLASS = {REPRODUCED: "ok", NOT_REPRODUCED: "bad", NOT_CHECKED: "skip"}

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222;line-height:1.45}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.skip{color:#888}.detail{color:#555;font-size:12px}img{max-width:100%;margin:.5em 0}
.counts span{margin-right:1.5em}figure{margin:1.5em 0}figcaption{color:#555;font-size:13px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 1.5em}.grid figure{margin:.8em 0}
"""


def img(path: Path, alt: str) -> str:
    """An <img> with the PNG or GIF inlined (the report is one self-contained file)."""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    mime = "image/gif" if Path(path).suffix == ".gif" else "image/png"
    return f'<img src="data:{mime};base64,{data}" alt="{html.escape(alt)}">'


def pick(files: Iterable, tail: str) -> Path:
    """The one file among a rule's declared `files` whose path ends with `tail`.

    Sections look their figures up this way: every path is named once, in the rule.
    """
    matches = [Path(f) for f in files if ("/" + Path(f).as_posix()).endswith("/" + tail)]
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(map(str, matches))
        raise FileNotFoundError(f"the report needs one declared file ending in {tail!r}: {found}")
    return matches[0]


def rel(path: Path, report_dir: Path) -> str:
    """A link to `path` from a page in `report_dir`."""
    return html.escape(os.path.relpath(path, report_dir))


def figure(path: Path, title: str, report_dir: Path, extra_link: Path | None = None) -> str:
    """A figure (PNG inlined) with links to its SVG beside it and to `extra_link`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: a figure of the report is missing")
    links = [f"<a href='{rel(path.with_suffix('.svg'), report_dir)}'>SVG</a>"]
    if extra_link is not None and Path(extra_link).exists():
        extra_link = Path(extra_link)
        links.append(f"<a href='{rel(extra_link, report_dir)}'>{extra_link.suffix[1:]}</a>")
    return (
        f"<figure>{img(path, title)}<figcaption>{html.escape(title)} "
        f"({', '.join(links)})</figcaption></figure>"
    )


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def claims_table(claims: Sequence[Mapping]) -> str:
    rows = []
    for c in claims:
        verdict = c["verdict"]
        rows.append(
            "<tr>"
            f"<td><code>{html.escape(c['id'])}</code></td>"
            f"<td>{html.escape(c['what'])}</td>"
            f"<td>{fmt(c['paper_value'])}</td>"
            f"<td>{fmt(c['value'])}</td>"
            f"<td>{fmt(c['tolerance'])}</td>"
            f"<td>{html.escape(c['unit'])}</td>"
            f"<td class='{VERDICT_CLASS[verdict]}'>{verdict}</td>"
            f"<td>{html.escape(c['scale'])}</td>"
            f"<td>{html.escape(', '.join(c['checkable_at']))}</td>"
            f"<td class='detail'>{html.escape(c['detail'])}<br>"
            f"<i>{html.escape(c['source'])}</i></td>"
            "</tr>"
        )
    head = (
        "<tr><th>claim</th><th>what</th><th>paper</th><th>ours</th><th>±tol</th><th>unit</th>"
        "<th>verdict</th><th>scale</th><th>checkable at</th><th>detail / source</th></tr>"
    )
    return f"<table class='claims'>{head}{''.join(rows)}</table>"


def page(scale: str, sections: Sequence[str], claims: Sequence[Mapping]) -> str:
    """The report: verdict counts, every paper's section in registry order, the claims table."""
    counts = {v: sum(c["verdict"] == v for c in claims) for v in VERDICT_CLASS}
    summary = "".join(f"<span class='{VERDICT_CLASS[v]}'>{n} {v}</span>" for v, n in counts.items())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rnnatlas report</title>
<style>{STYLE}</style></head><body>
<h1>rnnatlas report</h1>
<p class="sub">scale: <b>{html.escape(scale)}</b> — every number below was computed by
this run; the paper's value sits beside it with a verdict.</p>
<p class="counts">{summary}</p>
{"".join(sections)}
<h2>Claims</h2>
{claims_table(claims)}
<p class="sub">claims.json beside this file holds the same table.</p>
</body></html>
"""
