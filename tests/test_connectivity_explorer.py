"""Connectivity explorer HTML: self-contained, escapes its data, and in headless Chromium hovering
or clicking a character colours the earlier ones by the expected shade and lists the top words;
switching model changes both.

Runs in headless Chromium (Debian's `chromium` and `chromium-driver`); skipped without them,
except under CI, which must run it.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from headless import browser

from rnnatlas.figures.connectivity_explorer import write_explorer

TEXT = "ab cd ef"  # 8 characters, a space at 2 and 5
N = len(TEXT)


def _connectivity(scale: float, seed: int) -> np.ndarray:
    """Hand-made lower-triangular matrices with a few rows of known shades."""
    conn = np.tril(np.random.default_rng(seed).uniform(0.1, 1.0, (N, N)))
    conn[5, :6] = [1.0, 2.0, 4.0, 0.0, 3.0, 8.0]  # row 5 / 8: 0.125, 0.25, 0.5, 0, 0.375, 1
    conn[4, :5] = [5.0, 0.0, 1.0, 10.0, 2.5]  # row 4 / 10: 0.5, 0, 0.1, 1, 0.25
    return conn * scale


def _top(model: str) -> list[list[tuple[str, float]]]:
    return [[(f"{model}w{t}a", 0.5), (f"{model}w{t}b", 0.25), (f"{model}w{t}c", 0.125)]
            for t in range(N)]  # fmt: skip


MODELS = {
    "gru": {"connectivity": _connectivity(3.0, 0), "top_words": _top("gru")},
    "lstm": {"connectivity": _connectivity(0.01, 1), "top_words": _top("lstm")},
    "nlstm": {"connectivity": _connectivity(7.0, 2), "top_words": _top("nlstm")},
}
# the LSTM's row 4 differs from the GRU's: switching model must change the colours
MODELS["lstm"]["connectivity"][4, :5] = [0.0, 0.02, 0.01, 0.005, 0.04]  # / 0.04


def expected_rgb(value: float) -> np.ndarray:
    """matplotlib's Greens at `value`, in 0..255 (an independent reference for the page's scale)."""
    return np.array(matplotlib.colormaps["Greens"](value)[:3]) * 255


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    return write_explorer(tmp_path_factory.mktemp("explorer") / "explorer.html", TEXT, MODELS)


def test_html_is_self_contained(page):
    html = page.read_text()
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 2, scripts  # the JSON data and the code
    assert not any("src=" in tag for tag in scripts), scripts
    assert "http://" not in html and "https://" not in html
    assert "<link" not in html and "@import" not in html
    assert not list(page.parent.glob(".*.tmp"))  # the atomic write left nothing behind


def test_data_is_escaped(tmp_path):
    evil = "</script><img src=x onerror=alert(1)>"
    models = {evil: {"connectivity": np.eye(3), "top_words": [[(evil, 1.0)]] * 3}}
    out = write_explorer(tmp_path / "e.html", "a<b", models, title=f"t {evil}")
    html = out.read_text()
    assert "<img" not in html
    assert html.count("</script>") == 2  # only the page's own two blocks close
    assert '<span class="char" data-t="1">&lt;</span>' in html


def test_bad_input_fails_fast(tmp_path):
    good, out = MODELS["gru"], tmp_path / "x.html"
    with pytest.raises(ValueError, match=r"expected \(8, 8\)"):
        write_explorer(out, TEXT, {"gru": {**good, "connectivity": np.ones((7, 7))}})
    with pytest.raises(ValueError, match="one list of \\(word, probability\\) pairs per character"):
        write_explorer(out, TEXT, {"gru": {**good, "top_words": good["top_words"][:-1]}})
    with pytest.raises(ValueError, match=r"lacks \['top_words'\]"):
        write_explorer(out, TEXT, {"gru": {"connectivity": good["connectivity"]}})
    with pytest.raises(ValueError, match="not in \\[0, 1\\]"):
        bad = [[("w", 1.5)]] * N
        write_explorer(out, TEXT, {"gru": {**good, "top_words": bad}})
    assert not list(tmp_path.iterdir())  # nothing written, not even a temporary file


def _rgb(driver, element) -> np.ndarray:
    css = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", element)
    match = re.fullmatch(r"rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)", css)
    assert match, css
    if match.group(4) == "0":
        return np.array([np.nan] * 3)  # transparent: not coloured
    return np.array([float(match.group(i)) for i in (1, 2, 3)])


def _check_row(driver, chars, conn: np.ndarray, t_out: int) -> None:
    """Characters 0..t_out shaded by conn[t_out, t] / max; later ones not coloured."""
    row = conn[t_out, : t_out + 1]
    for t in range(N):
        colour = _rgb(driver, chars[t])
        if t > t_out:
            assert np.isnan(colour).all(), (t, colour)
        else:
            np.testing.assert_allclose(colour, expected_rgb(row[t] / row.max()), atol=3,
                                       err_msg=f"character {t}")  # fmt: skip


def _check_panel(driver, model: str, t_out: int) -> None:
    from selenium.webdriver.common.by import By

    items = driver.find_elements(By.CSS_SELECTOR, "#predictions li")
    got = [
        (i.find_element(By.CLASS_NAME, "word").text, i.find_element(By.CLASS_NAME, "prob").text)
        for i in items
    ]
    assert got == [(f"{model}w{t_out}a", "50.0%"), (f"{model}w{t_out}b", "25.0%"),
                   (f"{model}w{t_out}c", "12.5%")]  # fmt: skip
    prefix = driver.find_element(By.ID, "prefix").get_attribute("textContent")
    assert prefix == TEXT[: t_out + 1]


def test_hover_click_and_switch_model(page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    try:
        driver.get(page.resolve().as_uri())
        WebDriverWait(driver, 20).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#predictions li")
        )
        chars = driver.find_elements(By.CSS_SELECTOR, "#text .char")
        assert "".join(c.get_attribute("textContent") for c in chars) == TEXT
        gru, lstm = MODELS["gru"]["connectivity"], MODELS["lstm"]["connectivity"]

        # opens on the last character, GRU first
        _check_row(driver, chars, gru, N - 1)
        _check_panel(driver, "gru", N - 1)

        # hover character 5: 0..5 recoloured by row 5 (0.5 at character 2), 6 and 7 uncoloured
        before = _rgb(driver, chars[2])
        ActionChains(driver).move_to_element(chars[5]).perform()
        _check_row(driver, chars, gru, 5)
        _check_panel(driver, "gru", 5)
        assert np.abs(_rgb(driver, chars[2]) - before).max() > 10  # the shade changed

        # click character 4 (pins it), then switch to the LSTM: row 4 of the LSTM's matrix
        chars[4].click()
        _check_row(driver, chars, gru, 4)
        driver.find_element(By.XPATH, "//div[@id='models']/button[text()='LSTM']").click()
        _check_row(driver, chars, lstm, 4)
        _check_panel(driver, "lstm", 4)
        pressed = driver.find_elements(By.CSS_SELECTOR, "#models button[aria-pressed='true']")
        assert [b.text for b in pressed] == ["LSTM"]
        # GRU and LSTM disagree on character 3 of row 4 (1.0 vs 0.125): a visible difference
        assert not np.allclose(expected_rgb(1.0), expected_rgb(0.125), atol=30)
    finally:
        driver.quit()
