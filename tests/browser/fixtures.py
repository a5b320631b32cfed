"""Browser fixtures: Debian chromium driven by playwright against pytest-django's live server.

Registered once for the whole suite (``pytest_plugins`` in tests/conftest.py), so every
browser test, wherever it lives, shares the one session-wide playwright instance: a second
``sync_playwright()`` while the first is alive fails ("Sync API inside the asyncio loop").

``page`` is a fresh browser context on the live server (transactional database,
so the server thread sees the test's rows); ``log_in(username)`` signs in through
the real login page.
"""

import os

import pytest
from playwright.sync_api import sync_playwright

# Playwright's sync API keeps an event loop in this thread; the ORM calls the
# tests make between page steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pass12345"  # tests.factories.UserFactory's password


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, transactional_db, live_server):
    """Opens a fresh page in a context of its own (its own cookies: another user's session)."""
    contexts = []

    def new_page():
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


def log_in_on(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/login/" not in page.url, f"login failed for {username}"


@pytest.fixture
def log_in(page):
    return lambda username, password=PASSWORD: log_in_on(page, username, password)
