"""Headless Chromium for the browser tests of the HTML figures (Debian's chromium and
chromedriver; `.ci/run` installs both)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def browser():
    """Headless Chromium from Debian's packages; never lets Selenium Manager download a driver."""
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false")
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        message = (
            f"browser test needs {', '.join(missing)}: apt-get install chromium chromium-driver"
        )
        if ci:
            pytest.fail(f"CI must run the browser test; {message}")
        pytest.skip(message)

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-extensions",
        "--window-size=1100,800",
    ):
        options.add_argument(arg)
    # An explicit driver path: Selenium skips Selenium Manager altogether.
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
