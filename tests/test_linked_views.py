"""The linked-views explorer (Garcia et al.'s views in one page): self-contained, escaped, and in
headless Chromium: hovering a projection point makes its step current in the text, the heatmap and
the bars; the filters mark the words after (or before) an event."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from headless import browser

from rnnatlas.analysis.trajectories import views_table
from rnnatlas.figures.linked_views import linked_views_html

TOKENS = {0: ["a", "good", "film", "</script>"], 1: ["the", "plot", "fails", "badly", "."]}


def _views():
    index = pd.DataFrame(
        [(s, t, w) for s, words in TOKENS.items() for t, w in enumerate(words)],
        columns=["sequence_id", "t", "token"],
    )
    rng = np.random.default_rng(0)
    states = rng.normal(size=(len(index), 4))
    states[6] += 40.0  # sequence 1, step 2 ("fails") jumps far: the largest distance
    p = np.array([0.5, 0.7, 0.8, 0.9, 0.5, 0.45, 0.1, 0.05, 0.05])  # P(positive)
    ep = np.column_stack([1 - p, p])
    targets = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0])
    views = views_table(index, states, ep, ["negative", "positive"], targets=targets)
    # points on a diagonal, far apart, so a hover finds exactly one
    projection = index[["sequence_id", "t"]].assign(x=np.arange(9.0), y=np.arange(9.0))
    return views, projection


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    views, projection = _views()
    out = tmp_path_factory.mktemp("linked") / "explorer.html"
    return linked_views_html(views, projection, out, "test <views>"), views


def test_the_page_is_self_contained_and_escaped(page):
    path, _ = page
    text = path.read_text()
    assert "http://" not in text and "https://" not in text and "<link" not in text
    assert len(re.findall(r"<script[^>]*>", text)) == 2 and text.count("</script>") == 2
    assert "test &lt;views&gt;" in text


def test_bad_tables_are_refused(tmp_path):
    views, projection = _views()
    with pytest.raises(ValueError, match="lacks \\['distance'\\]"):
        linked_views_html(views.drop(columns="distance"), projection, tmp_path / "x.html", "t")
    assert not list(tmp_path.iterdir())


def test_hover_links_every_view_and_filters_mark_words(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    path, views = page
    driver = browser()
    try:
        driver.get(path.resolve().as_uri())
        body = driver.find_element(By.TAG_NAME, "body")
        assert body.get_attribute("data-sequence") == "0"
        words = [s.text for s in driver.find_elements(By.CSS_SELECTOR, "#text span")]
        assert words == TOKENS[0]  # "</script>" arrived as text, not markup
        # hover the point of row 6: sequence 1, step 2 ("fails")
        canvas = driver.find_element(By.ID, "projection")
        x, y = driver.execute_script("return window.linkedViews.screenPoint(6)")
        size = canvas.size
        ActionChains(driver).move_to_element_with_offset(
            canvas, int(x - size["width"] / 2), int(y - size["height"] / 2)
        ).perform()
        assert body.get_attribute("data-sequence") == "1" and body.get_attribute("data-step") == "2"
        current = driver.find_elements(By.CSS_SELECTOR, "#text span.current")
        assert [s.text for s in current] == ["fails"]
        assert driver.find_element(By.ID, "heatmap").get_attribute("data-current") == "2"
        assert driver.find_element(By.ID, "bars").get_attribute("data-current") == "2"
        assert driver.find_element(By.ID, "projection").get_attribute("data-current") == "6"
        active = driver.find_elements(By.CSS_SELECTOR, "tr.sequence.active")
        assert [r.get_attribute("data-sequence") for r in active] == ["1"]

        def marked():
            return [s.text for s in driver.find_elements(By.CSS_SELECTOR, "#text span.flagged")]

        assert marked() == []
        driver.find_element(By.CSS_SELECTOR, "input[value='distance_jump']").click()
        sequence = views[views["sequence_id"] == 1].reset_index(drop=True)
        jumps = sequence.loc[sequence["distance_jump"], "token"].tolist()
        assert marked() == jumps and "fails" in jumps
        Select(driver.find_element(By.ID, "side")).select_by_value("before")
        before = [sequence["token"][i - 1] for i in sequence.index[sequence["distance_jump"]]]
        assert marked() == before
    finally:
        driver.quit()
