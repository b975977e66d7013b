"""What every browser test shares: Debian's chromium (never a downloaded browser),
its launch arguments, and the axe check of a page. The session fixture that hands
the arguments to pytest-playwright is in tests/conftest.py."""

import shutil

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

CHROMIUM = shutil.which("chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def assert_accessible(page: Page) -> None:
    """axe finds no violation on the page as it is now."""
    results = Axe().run(page)
    assert results.violations_count == 0, results.generate_report()
