"""The report page: summary first, each measurement counted once, filters that hide rows,
anchors that resolve, figures shown from the report folder. The page is built by the report
step from hand-made sections and records; the browser part runs in headless Chromium."""

from __future__ import annotations

import json
import re

import pytest
from headless import browser

from rnnatlas.report.html import Assets
from rnnatlas.step import make_job, run_job


def _record(paper, name, verdict, kind="claim", alias_of=None, checkable=("paper",)):
    return {"id": f"{paper}.{name}", "paper": paper, "kind": kind, "alias_of": alias_of,
            "what": f"{name} of {paper}", "paper_value": 1, "value": 1, "tolerance": None,
            "unit": "", "verdict": verdict, "scale": "ci", "checkable_at": list(checkable),
            "detail": "", "source": "[text]"}  # fmt: skip


RECORDS = {
    "alpha": [
        _record("alpha", "a1", "reproduced"),
        _record("alpha", "a2", "reproduced", alias_of="alpha.a1"),  # the same measurement
        _record("alpha", "a3", "inconclusive", checkable=("ci", "paper")),
        _record("alpha", "count", "reproduced", kind="check"),
    ],
    "beta": [
        _record("beta", "b1", "not reproduced"),
        _record("beta", "b2", "not checked at this scale"),
    ],
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    page_dir = root / "results" / "report"
    png = root / "results" / "figures" / "alpha" / "curve.png"
    png.parent.mkdir(parents=True)
    # a 1x1 PNG (the smallest valid file) and its SVG
    png.write_bytes(bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    ))  # fmt: skip
    png.with_suffix(".svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    inputs = {"claims": [], "sections": []}
    for paper, records in RECORDS.items():
        folder = page_dir / paper
        folder.mkdir(parents=True)
        (folder / "claims.json").write_text(json.dumps(records))
        shown = Assets(folder / "figures", page_dir)
        body = shown.figure(png, "a curve", "results/x.parquet") if paper == "alpha" else "text"
        (folder / "section.html").write_text(
            f"<section id='{paper}'>\n<h2>Paper {paper} — long title</h2>\n{body}\n</section>\n"
        )
        inputs["claims"].append(folder / "claims.json")
        inputs["sections"].append(folder / "section.html")
    # one recorded run (reproductions/<name>/): it judged alpha.a1 otherwise, and lacks beta
    recorded = root / "reproductions" / "long-run"
    recorded.mkdir(parents=True)
    (recorded / "claims.json").write_text(json.dumps([
        {**RECORDS["alpha"][0], "verdict": "not reproduced"}, RECORDS["alpha"][3]
    ]))  # fmt: skip
    (recorded / "manifest.json").write_text(json.dumps({
        "commit": "abcdef0123456789", "finished": "2026-12-02T19:00:00", "wall_seconds": 5400.0
    }))  # fmt: skip
    inputs["records"] = [recorded / "claims.json", recorded / "manifest.json"]
    out = {"html": page_dir / "index.html", "claims": page_dir / "claims.json"}
    run_job(make_job("report", inputs, out, params={"scale": "ci"}))
    return page_dir


def test_the_summary_counts_claims_once_and_checks_apart(report):
    page = (report / "index.html").read_text()
    summary = page[page.index('id="summary"') : page.index("<h3>Recorded runs")]
    cells = re.findall(r"<td class='num'>(\d+)</td>", summary)
    # rows alpha, beta, all; columns reproduced, not reproduced, inconclusive, not checked, total
    assert cells == ["1", "0", "1", "0", "2", "0", "1", "0", "1", "2", "1", "1", "1", "1", "4"]
    assert "1 record(s) repeat a measurement" in summary and "1 (1 reproduced)" in summary


def test_recorded_verdicts_stand_beside_the_live_ones(report):
    page = (report / "index.html").read_text()
    row = {
        claim: re.search(rf"<tr id='claim-{re.escape(claim)}'.*?</tr>", page).group(0)
        for claim in ("alpha.a1", "beta.b1")
    }
    # live verdict, then the recorded run's, labelled with its name and short commit
    assert "<td class='ok'>reproduced</td><td class='recorded'>long-run @abcdef0: <span " \
        "class='bad'>not reproduced</span></td>" in row["alpha.a1"]  # fmt: skip
    assert "long-run @abcdef0: <span class='skip'>not in this run</span>" in row["beta.b1"]
    runs = page[page.index("<h3>Recorded runs") : page.index('id="claims"')]
    # the run's row: 90 min; 1 reproduced (the check), 1 not reproduced, 0, 0
    assert re.findall(r"<td class='num'>([^<]+)</td>", runs) == ["90 min", "1", "1", "0", "0"]


def test_figures_live_in_the_report_folder_not_the_page(report):
    page = (report / "index.html").read_text()
    assert "data:image" not in page
    assert "<img src='alpha/figures/alpha/curve.png'" in page
    assert "drawn from <code>results/x.parquet</code>" in page
    assert (report / "alpha" / "figures" / "alpha" / "curve.svg").exists()


def test_filters_hide_rows_and_anchors_resolve(report):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser()
    try:
        driver.get((report / "index.html").as_uri())
        rows = driver.find_elements(By.CSS_SELECTOR, "#claims-table tbody tr")
        assert len(rows) == 6 and all(r.is_displayed() for r in rows)
        Select(driver.find_element(By.CSS_SELECTOR, "select[data-key='paper']")).select_by_value(
            "beta"
        )
        visible = [r.get_attribute("id") for r in rows if r.is_displayed()]
        assert visible == ["claim-beta.b1", "claim-beta.b2"]
        assert driver.find_element(By.ID, "claims-shown").text == "2"
        Select(driver.find_element(By.CSS_SELECTOR, "select[data-key='paper']")).select_by_value("")
        Select(
            driver.find_element(By.CSS_SELECTOR, "select[data-key='checkable']")
        ).select_by_value("ci")
        visible = [r.get_attribute("id") for r in rows if r.is_displayed()]
        assert visible == ["claim-alpha.a3"]
        # every in-page link of the contents and the summary names an element of the page
        links = driver.find_elements(By.CSS_SELECTOR, "a[href^='#']")
        targets = {link.get_attribute("href").split("#", 1)[1] for link in links}
        assert {"summary", "claims", "alpha", "beta"} <= targets
        for target in targets:
            assert driver.find_elements(By.ID, target), target
        image = driver.find_element(By.CSS_SELECTOR, "figure img")
        assert driver.execute_script("return arguments[0].naturalWidth", image) == 1
    finally:
        driver.quit()
