"""Browser tests: Debian's Chromium driven by Playwright (never a downloaded browser)."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: while Playwright runs, its event loop lives in this thread, and Django refuses
    ORM calls from a thread with a running loop unless DJANGO_ALLOW_ASYNC_UNSAFE is set. Both are
    confined to the browser-test modules; no other test or subprocess sees them."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
    if saved is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(live_server):
    """Each browser test starts with empty rate-limit counters. They live in the cache table, which
    the flush between transactional tests does not empty (it is not a model), so without this the
    logins of earlier browser tests in the same worker count against the per-IP login limit."""
    from django.core.cache import cache

    cache.clear()
