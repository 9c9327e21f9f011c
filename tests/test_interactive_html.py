"""Interactive RSSviz HTML: self-contained, renders every point, hovering shows the sentence.

Runs in headless Chromium (Debian's `chromium` and `chromium-driver`); skipped without them,
except under CI, which must run it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from headless import browser

from rnnatlas.figures.interactive import rssviz_html

SENTENCES = [
    "BEGIN the cup is red END",
    "BEGIN the glass is on the left of the spoon END",
    "BEGIN the cup is red and the bowl is blue END",
]
POINTS = "g.mark-symbol.role-mark path"  # the scatter's marks; legend symbols have another role


def _clause(words: list[str], t: int) -> str:
    if t < 0:
        return "initial state"
    if t == len(words) - 2:  # the last word read (END)
        return "final word"
    read = words[1 : t + 2]
    if "and" not in read:
        return "first clause"
    return "and" if read[-1] == "and" else "second clause"


def _embedding() -> pd.DataFrame:
    """Hand-made frame: one point per state, laid on a grid so no two points overlap."""
    rows = []
    for sid, sentence in enumerate(SENTENCES):
        words = sentence.split()
        for t in range(-1, len(words) - 1):  # t = -1: initial state, before any word is read
            i = len(rows)
            rows.append(
                {
                    "x": float(i % 7),
                    "y": float(i // 7),
                    "sequence_id": sid,
                    "t": t,
                    "token": words[t + 1],
                    "sentence": sentence,
                    "clause": _clause(words, t),
                    "out_red": 0.1 * (i % 12),  # an output activation: ignored by the chart
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[pd.DataFrame, Path]:
    """The frame and its HTML, written once for both tests (writing takes a second or two)."""
    frame = _embedding()
    out = rssviz_html(frame, tmp_path_factory.mktemp("rssviz") / "rssviz.html", title="CSL states")
    return frame, out


def test_html_is_self_contained(page):
    html = page[1].read_text()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts, "no script at all"
    assert not any("src=" in tag for tag in scripts), scripts
    assert '<script src="http' not in html
    assert "https://cdn" not in html
    assert '"renderer": "svg"' in html
    assert "out_red" not in html  # columns the chart does not use stay out of the file


def test_hover_shows_sentence_and_word(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    frame, out = page
    target = frame[frame["token"] == "bowl"].iloc[0]  # a word that occurs once

    driver = browser()
    try:
        driver.get(out.resolve().as_uri())
        wait = WebDriverWait(driver, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, POINTS)) >= len(frame))
        assert len(driver.find_elements(By.CSS_SELECTOR, POINTS)) == len(frame)

        # Vega's SVG renderer binds each mark's scenegraph item to its element (`__data__`):
        # pick the path whose datum is the target row, then hover it like a user would.
        mark = driver.execute_script(
            "const [sel, sid, t] = arguments;"
            "return [...document.querySelectorAll(sel)].find("
            "  p => p.__data__ && p.__data__.datum.sequence_id === sid"
            "       && p.__data__.datum.t === t);",
            POINTS,
            int(target["sequence_id"]),
            int(target["t"]),
        )
        assert mark is not None, "no mark carries the target row"
        ActionChains(driver).move_to_element(mark).perform()

        tooltip = wait.until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "#vg-tooltip-element.visible"))
        )
        wait.until(lambda d: target["sentence"] in tooltip.text)
        text = tooltip.text
        assert target["sentence"] in text
        assert re.search(r"word\W+bowl\b", text), text
        assert re.search(rf"position\W+{target['t']}\b", text), text
    finally:
        driver.quit()
