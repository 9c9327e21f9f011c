"""HTML of the report: the page (summary, contents, the filterable claims table, the sections)
and the figures each section shows.

The report is a folder: index.html (small: text, tables and a little script) and, per paper,
the figures, animations and interactive pages it shows, copied beside it by :class:`Assets`, so
the folder moves or zips as a whole and works offline. Knows no paper: each paper's section
module builds its own HTML with these pieces.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from rnnatlas.report.claims import (
    CHECK,
    CLAIM,
    INCONCLUSIVE,
    NOT_CHECKED,
    NOT_REPRODUCED,
    REPRODUCED,
    VERDICTS,
    headline,
)
from rnnatlas.report.records import RecordedRun

VERDICT_CLASS = {REPRODUCED: "ok", NOT_REPRODUCED: "bad", INCONCLUSIVE: "open", NOT_CHECKED: "skip"}

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;
line-height:1.45}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2em}
table{border-collapse:collapse;font-size:13px;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.open{color:#9a6700;font-weight:600}.skip{color:#888}.detail{color:#555;font-size:12px}
td.num,th.num{text-align:right}.wide{overflow-x:auto}
table.claims td:nth-child(3){min-width:16em}table.claims td:nth-child(11){min-width:22em}
table.claims td.recorded{font-size:12px;white-space:nowrap}
nav.toc{background:#f6f8fa;border:1px solid #ddd;padding:.5em 1em;margin:1em 0}
nav.toc a{margin-right:1.2em}
.filters label{margin-right:1em;font-size:13px}.filters select{margin-left:.3em}
figure{display:inline-block;vertical-align:top;width:360px;margin:.6em 1em .6em 0}
figure img{width:100%;border:1px solid #eee}figcaption{color:#555;font-size:12px}
.grid{display:block}
"""

FILTER_SCRIPT = """
(function () {
  var table = document.getElementById('claims-table');
  var selects = document.querySelectorAll('.filters select');
  var shown = document.getElementById('claims-shown');
  function apply() {
    var want = {};
    selects.forEach(function (s) { want[s.dataset.key] = s.value; });
    var count = 0;
    table.querySelectorAll('tbody tr').forEach(function (row) {
      var ok = Object.keys(want).every(function (key) {
        if (!want[key]) { return true; }
        return (' ' + row.dataset[key] + ' ').indexOf(' ' + want[key] + ' ') >= 0;
      });
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = count;
  }
  selects.forEach(function (s) { s.addEventListener('change', apply); });
  apply();
})();
"""


def pick(files: Iterable, tail: str) -> Path:
    """The one file among a rule's declared `files` whose path ends with `tail`.

    Sections look their figures up this way: every path is named once, in the rule.
    """
    matches = [Path(f) for f in files if ("/" + Path(f).as_posix()).endswith("/" + tail)]
    if len(matches) != 1:
        found = "none" if not matches else ", ".join(map(str, matches))
        raise FileNotFoundError(f"the report needs one declared file ending in {tail!r}: {found}")
    return matches[0]


class Assets:
    """The files one section shows or links, copied into `folder` (inside the report folder
    `page_dir`) and linked relative to the page.

    A file keeps its path below the last "figures" folder of its source (results/figures/csl/
    rssviz/esn_outputs.png -> FOLDER/csl/rssviz/esn_outputs.png).
    """

    def __init__(self, folder: str | Path, page_dir: str | Path):
        self.folder, self.page_dir = Path(folder), Path(page_dir)
        self.folder.mkdir(parents=True, exist_ok=True)

    def link(self, path: str | Path) -> str:
        """Copy `path` into the section's folder; its href from the page."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: a file the report shows is missing")
        parts = path.parts
        below = parts[len(parts) - parts[::-1].index("figures") :] if "figures" in parts else ()
        target = self.folder.joinpath(*(below or (path.name,)))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        return html.escape(os.path.relpath(target, self.page_dir))

    def figure(
        self,
        path: str | Path,
        title: str,
        table: str | None = None,
        extra_link: str | Path | None = None,
    ) -> str:
        """A thumbnail of the PNG `path` linking to it and to its SVG beside it, captioned with
        the table it is drawn from (`table`) and a link to `extra_link` when it exists."""
        path = Path(path)
        png = self.link(path)
        links = [f"<a href='{png}'>PNG</a>"]
        if path.with_suffix(".svg").exists():
            links.append(f"<a href='{self.link(path.with_suffix('.svg'))}'>SVG</a>")
        if extra_link is not None and Path(extra_link).exists():
            suffix = Path(extra_link).suffix[1:]
            links.append(f"<a href='{self.link(extra_link)}'>{html.escape(suffix)}</a>")
        source = f"; drawn from <code>{html.escape(table)}</code>" if table else ""
        return (
            f"<figure><a href='{png}'><img src='{png}' alt='{html.escape(title)}' "
            f"loading='lazy'></a><figcaption>{html.escape(title)} ({', '.join(links)}){source}"
            "</figcaption></figure>"
        )

    def animation(self, path: str | Path, title: str) -> str:
        """An animated GIF, shown from the report folder."""
        gif = self.link(path)
        return (
            f"<figure><a href='{gif}'><img src='{gif}' alt='{html.escape(title)}' "
            f"loading='lazy'></a><figcaption>{html.escape(title)} (animated GIF)</figcaption>"
            "</figure>"
        )


def fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return html.escape(str(value))


def recorded_cell(claim_id: str, recorded: Sequence[RecordedRun]) -> str:
    """The verdicts recorded runs gave this claim, each labelled with its run and commit."""
    lines = []
    for run in recorded:
        verdict = run.verdicts.get(claim_id)
        text = verdict or "not in this run"
        style = VERDICT_CLASS[verdict] if verdict else "skip"
        lines.append(f"{html.escape(run.label)}: <span class='{style}'>{text}</span>")
    return f"<td class='recorded'>{'<br>'.join(lines) or '–'}</td>"


def claims_table(claims: Sequence[Mapping], recorded: Sequence[RecordedRun] = ()) -> str:
    """Every record, one row each, with the verdicts of the recorded runs beside the live one;
    data attributes drive the page's filters."""
    rows = []
    for c in claims:
        verdict, kind = c["verdict"], c.get("kind", CLAIM)
        alias = c.get("alias_of")
        alias_note = f"<br><i>same measurement as {html.escape(alias)}</i>" if alias else ""
        attributes = (
            f"data-paper='{html.escape(c.get('section', ''))}' data-verdict='{verdict}' "
            f"data-kind='{kind}' data-checkable='{html.escape(' '.join(c['checkable_at']))}'"
        )
        rows.append(
            f"<tr id='claim-{html.escape(c['id'])}' {attributes}>"
            f"<td><code>{html.escape(c['id'])}</code></td>"
            f"<td>{kind}</td>"
            f"<td>{html.escape(c['what'])}</td>"
            f"<td>{fmt(c['paper_value'])}</td>"
            f"<td>{fmt(c['value'])}</td>"
            f"<td>{fmt(c['tolerance'])}</td>"
            f"<td>{html.escape(c['unit'])}</td>"
            f"<td class='{VERDICT_CLASS[verdict]}'>{verdict}</td>"
            + recorded_cell(c["id"], recorded)
            + f"<td>{html.escape(', '.join(c['checkable_at']))}</td>"
            f"<td class='detail'>{html.escape(c['detail'])}{alias_note}<br>"
            f"<i>{html.escape(c['source'])}</i></td>"
            "</tr>"
        )
    head = (
        "<thead><tr><th>id</th><th>kind</th><th>what</th><th>paper</th><th>ours</th>"
        "<th>±tol</th><th>unit</th><th>verdict</th><th>recorded runs</th><th>checkable at</th>"
        "<th>detail / source</th></tr></thead>"
    )
    return f"<table class='claims' id='claims-table'>{head}<tbody>{''.join(rows)}</tbody></table>"


def _filters(claims: Sequence[Mapping], sections: Sequence[tuple[str, str]]) -> str:
    def select(key: str, label: str, options: Sequence[tuple[str, str]]) -> str:
        items = "".join(
            f"<option value='{html.escape(v)}'>{html.escape(t)}</option>" for v, t in options
        )
        return (
            f"<label>{label}<select data-key='{key}'><option value=''>all</option>{items}"
            "</select></label>"
        )

    scales = sorted({s for c in claims for s in c["checkable_at"]})
    return (
        "<p class='filters'>"
        + select("paper", "paper", [(name, name) for name, _ in sections])
        + select("verdict", "verdict", [(v, v) for v in VERDICTS])
        + select("kind", "kind", [(CLAIM, "claim"), (CHECK, "check")])
        + select("checkable", "checkable at", [(s, s) for s in scales])
        + f" <span class='sub'><span id='claims-shown'>{len(claims)}</span> of {len(claims)} "
        "shown</span></p>"
    )


def summary_table(claims: Sequence[Mapping], sections: Sequence[tuple[str, str]]) -> str:
    """Claims by paper and verdict (each measurement once), then the checks."""
    head = "".join(f"<th class='num {VERDICT_CLASS[v]}'>{v}</th>" for v in VERDICTS)
    rows = []
    for name, title in [*sections, ("", "all papers")]:
        records = [c for c in claims if not name or c.get("section") == name]
        counts = headline(records)["claims"]
        label = f"<a href='#{html.escape(name)}'>{html.escape(title)}</a>" if name else "<b>all</b>"
        cells = "".join(f"<td class='num'>{counts[v]}</td>" for v in VERDICTS)
        rows.append(f"<tr><td>{label}</td>{cells}<td class='num'>{sum(counts.values())}</td></tr>")
    checks = headline(claims)["checks"]
    aliases = sum(1 for c in claims if c.get("kind") == CLAIM and c.get("alias_of"))
    check_text = ", ".join(f"{n} {v}" for v, n in checks.items() if n)
    return (
        f"<table class='summary'><thead><tr><th>paper (claims)</th>{head}<th class='num'>total"
        f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p>Claims are statements or numbers the papers make; each measurement is counted "
        f"once ({aliases} record(s) repeat a measurement another counts and are left out). "
        f"Checks — our own cross-checks and counts that hold by construction — are apart: "
        f"{sum(checks.values())} ({check_text or 'none'}).</p>"
    )


def recorded_table(recorded: Sequence[RecordedRun]) -> str:
    """One row per recorded run (reproductions/<name>/): commit, end, wall time, claim counts."""
    if not recorded:
        return ""
    head = "".join(f"<th class='num {VERDICT_CLASS[v]}'>{v}</th>" for v in VERDICTS)
    rows = []
    for run in recorded:
        counts = {v: sum(verdict == v for verdict in run.verdicts.values()) for v in VERDICTS}
        cells = "".join(f"<td class='num'>{counts[v]}</td>" for v in VERDICTS)
        rows.append(
            f"<tr><td><code>{html.escape(run.name)}</code></td><td><code>{run.commit[:7]}"
            f"</code></td><td>{html.escape(run.finished[:16])}</td>"
            f"<td class='num'>{run.wall_seconds / 60:.0f} min</td>{cells}</tr>"
        )
    return (
        "<h3>Recorded runs</h3><p>Longer runs than this one, kept in the repository under "
        "<code>reproductions/</code> with their command, machine and package versions; the "
        "claims table shows their verdicts beside this run's. Records, claims and checks "
        "alike:</p><table class='summary'><thead><tr><th>run</th><th>commit</th>"
        f"<th>finished</th><th class='num'>wall</th>{head}</tr></thead><tbody>{''.join(rows)}"
        "</tbody></table>"
    )


def section_heading(section_html: str) -> tuple[str, str]:
    """(id, title) of a section written by rnnatlas.report.section.write_section."""
    found = re.search(r"<section id='([^']+)'>\s*<h2>(.*?)</h2>", section_html, re.S)
    if found is None:
        raise ValueError("a report section lacks its <section id=...><h2>title</h2> opening")
    return found.group(1), html.unescape(found.group(2))


def page(
    scale: str,
    sections: Sequence[str],
    claims: Sequence[Mapping],
    recorded: Sequence[RecordedRun] = (),
) -> str:
    """The report: summary, contents, the claims table with its filters, then every paper's
    section in registry order."""
    headings = [section_heading(s) for s in sections]
    toc = "".join(
        f"<a href='#{html.escape(i)}'>{html.escape(t.split(' — ')[0])}</a>" for i, t in headings
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>rnnatlas report</title>
<style>{STYLE}</style></head><body>
<h1>rnnatlas report</h1>
<p class="sub">scale: <b>{html.escape(scale)}</b> — every number below was computed by
this run; the paper's value sits beside it with a verdict: reproduced, not reproduced,
inconclusive (the difference is inside its uncertainty) or not checked at this scale.</p>
<nav class="toc"><a href="#summary">Summary</a><a href="#claims">Claims</a>{toc}</nav>
<section id="summary"><h2>Summary</h2>
{summary_table(claims, headings)}
{recorded_table(recorded)}
</section>
<section id="claims"><h2>Claims and checks</h2>
{_filters(claims, headings)}
<div class="wide">{claims_table(claims, recorded)}</div>
<p class="sub">claims.json beside this file holds the same records.</p>
</section>
{"".join(sections)}
<script>{FILTER_SCRIPT}</script>
</body></html>
"""
