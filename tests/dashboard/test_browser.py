"""The dashboard in a real headless Chromium, served by ``drift-monitor dashboard`` as a user starts it.

Chromium is Debian's package (``make test`` installs it); Playwright drives it through
``executable_path``, never with downloaded browsers. A screenshot of every page is saved in the test's
temporary directory (and copied to ``$DM_DASHBOARD_SCREENSHOTS`` when set).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, sync_playwright

from monitor.db import Alert, ChangeEvent, ReviewerLabel
from tests.dashboard._fill import HOSTILE_TEXT, add_hostile_response
from tests.dashboard.conftest import DashboardData

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = [
    ("overview", "Overview"),
    ("revisions", "Revisions"),
    ("identity", "Identity"),
    ("reasoning", "Reasoning"),
    ("compare", "Compare"),
    ("alerts", "Alerts"),
    ("review", "Review"),
]


SCREENSHOTS_ENV = "DM_DASHBOARD_SCREENSHOTS"
"""Set to a folder to keep a copy of the screenshots (they are always written to the test's tmp_path)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serve(url: str, log_path: Path, *options: str) -> Iterator[str]:
    """``drift-monitor dashboard --port P [options]`` in a subprocess, polled until it answers."""
    port = _free_port()
    executable = Path(sys.executable).parent / "drift-monitor"
    environment = {**os.environ, "DRIFT_MONITOR_DATABASE_URL": url}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(executable), "dashboard", "--port", str(port), *options],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if process.poll() is not None:
                    pytest.fail(f"the dashboard exited with {process.returncode}:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"the dashboard did not answer within 90 s:\n{log_path.read_text()}")
                time.sleep(0.3)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def _browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail("Debian's chromium is required: apt-get update && apt-get install -y chromium (make test does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser: Browser, **context: Any) -> Page:
    # Tall: Streamlit scrolls inside its own container, so a full-page shot is the viewport.
    return browser.new_context(
        viewport={"width": 1400, "height": 2400}, timezone_id="Europe/Berlin", **context
    ).new_page()


def _settle(page: Page, title: str) -> None:
    """Wait for the page's title and for the script run to finish (charts drawn)."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=200
    )
    page.wait_for_timeout(700)


def _shot(page: Page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get(SCREENSHOTS_ENV)
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, Path(keep) / name)
    return path


def test_every_page_is_a_bookmark_read_only_by_default(filled_db: DashboardData, tmp_path: Path) -> None:
    hostile_id = add_hostile_response(filled_db.db)
    with _serve(filled_db.url, tmp_path / "dashboard.log") as base, _browser() as browser:
        page = _page(browser)
        # The root opens the Overview at its own path, and every page's path opens that page.
        page.goto(base)
        _settle(page, "Overview")
        assert page.url == f"{base}/overview"
        for slug, title in PAGES:
            page.goto(f"{base}/{slug}")
            _settle(page, title)
            assert page.url.split("?")[0] == f"{base}/{slug}", f"/{slug} was redirected"
            assert page.get_by_text("Page not found").count() == 0, f"/{slug} is not a bookmark"
            assert page.locator('[data-testid="stException"]').count() == 0, f"{slug} raised"
            assert _shot(page, tmp_path, f"{slug}.png").stat().st_size > 10_000, f"{slug} screenshot is blank"

        # Read-only without a reviewer identity: no form that writes, and the sidebar says so.
        page.goto(f"{base}/alerts")
        _settle(page, "Alerts")
        page.get_by_text("Read-only: no reviewer identity is configured").wait_for(timeout=30_000)
        assert page.get_by_role("button", name="Acknowledge").count() == 0
        assert page.get_by_label("Your name (unverified)").count() == 0
        _shot(page, tmp_path, "alerts-read-only.png")

        # Model text in a real browser: the literal characters, no link, no injected element.
        page.goto(f"{base}/review?response={hostile_id}")
        _settle(page, "Review")
        code_blocks = page.locator('[data-testid="stCode"]').filter(has_text=HOSTILE_TEXT)
        code_blocks.nth(1).wait_for(timeout=60_000)  # drawn after the title under load
        assert code_blocks.count() >= 2, "raw response and final answer, as code blocks"
        assert code_blocks.first.is_visible()
        assert HOSTILE_TEXT in code_blocks.first.inner_text()
        assert page.locator('a[href="http://x"]').count() == 0
        assert page.locator("img[src='x']").count() == 0
        assert page.get_by_role("button", name="Save correction").count() == 0, "read-only"
        _shot(page, tmp_path, "review-hostile.png")
    with filled_db.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).where(Alert.acknowledged_at.is_not(None))) == 1, (
            "the filler's one acknowledged alert, nothing more"
        )


def test_the_proxy_header_names_the_reviewer_on_every_write(filled_db: DashboardData, tmp_path: Path) -> None:
    with filled_db.db.session() as session:
        # The form preselects the newest open alert (the table is newest first).
        target = session.scalar(
            sa.select(Alert.id)
            .where(Alert.acknowledged_at.is_(None))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
            .limit(1)
        )
    assert target is not None
    options = ("--user-header", "X-Forwarded-Email")
    with _serve(filled_db.url, tmp_path / "dashboard.log", *options) as base, _browser() as browser:
        # What oauth2-proxy adds to every request it forwards, the page's and its websocket's.
        page = _page(browser, extra_http_headers={"X-Forwarded-Email": "ada@example.org"})
        page.goto(f"{base}/alerts")
        _settle(page, "Alerts")
        page.get_by_text("Reviewer: ada@example.org (from the proxy)").wait_for(timeout=30_000)
        assert page.get_by_label("Your name (unverified)").count() == 0, "nothing to type"
        page.get_by_label("Comment").fill("seen in the browser")
        page.get_by_role("button", name="Acknowledge").click()
        page.get_by_text(f"Alert #{target} acknowledged.").wait_for(timeout=60_000)
        _shot(page, tmp_path, "alerts-acknowledged-by-header.png")

        page.goto(f"{base}/review")
        _settle(page, "Review")
        response_id = int(page.get_by_role("heading", name="Response ").first.inner_text().split()[-1])
        page.get_by_label("Comment").fill("relabelled in the browser")
        page.get_by_role("button", name="Save correction").click()
        page.get_by_text(f"Saved: response {response_id} is").wait_for(timeout=60_000)

        # The same server, a request without the header (not through the proxy): read-only.
        stranger = _page(browser)
        stranger.goto(f"{base}/alerts")
        _settle(stranger, "Alerts")
        stranger.get_by_text("the request carries no X-Forwarded-Email header").wait_for(timeout=30_000)
        assert stranger.get_by_role("button", name="Acknowledge").count() == 0

    with filled_db.db.session() as session:
        alert = session.get(Alert, target)
        assert alert is not None
        assert (alert.acknowledged_by, alert.ack_comment) == ("ada@example.org", "seen in the browser")
        assert alert.acknowledged_at is not None
        label = session.scalars(sa.select(ReviewerLabel).where(ReviewerLabel.response_id == response_id)).all()[-1]
        assert (label.reviewer, label.comment) == ("ada@example.org", "relabelled in the browser")


def test_the_demo_template_change_reads_as_a_diff(dashboard_db: DashboardData, tmp_path: Path) -> None:
    with dashboard_db.db.session() as session:
        events = session.scalars(sa.select(ChangeEvent).order_by(ChangeEvent.id)).all()
    template = next(e for e in events if "chat_template_changed" in (e.kinds or []))
    assert os.environ.get("DRIFT_MONITOR_CONFIG"), "the server inherits the demo's config (the model's name)"
    with _serve(dashboard_db.url, tmp_path / "dashboard.log") as base, _browser() as browser:
        page = _page(browser)
        page.goto(f"{base}/overview")
        _settle(page, "Overview")
        # Tables draw on a canvas; their cells and headers are also in the page as an accessible grid.
        grid = page.locator('[data-testid="stDataFrame"]').first
        grid.get_by_role("gridcell", name="SmolLM2 demo", include_hidden=True).first.wait_for(
            state="attached", timeout=30_000
        )
        headers = grid.get_by_role("columnheader", include_hidden=True).all_text_contents()
        assert {"model", "repository", "expected identity", "head commit"} <= {h.strip() for h in headers}, headers
        assert not [h for h in headers if "_" in h], headers
        _shot(page, tmp_path, "overview-names-and-labels.png")

        page.goto(f"{base}/revisions?revision={template.to_sha}")
        _settle(page, "Revisions")
        page.get_by_text("What changed inside the small files").wait_for(timeout=30_000)
        page.locator('[data-testid="stMarkdown"]').filter(has_text="chat_template.jinja").first.wait_for(timeout=30_000)
        # The diff grid is drawn after its heading; under load that can take a few seconds more.
        changed = page.get_by_role("gridcell", name="changed", include_hidden=True)
        changed.first.wait_for(state="attached", timeout=30_000)
        assert changed.count() >= 1, "the diff grid marks the changed lines"
        page.get_by_text("Comparison of this revision").wait_for(timeout=30_000)
        page.get_by_text("chat_template.jinja as a unified diff").click()
        diff = page.locator('[data-testid="stCode"]').filter(has_text="ChatGPT")
        diff.first.wait_for(timeout=30_000)
        assert "+" in diff.first.inner_text() and "-" in diff.first.inner_text()
        page.get_by_text("What changed inside the small files").scroll_into_view_if_needed()
        _shot(page, tmp_path, "revisions-template-diff.png")

        # The revision's links open its comparison and its alerts, as bookmarks of their own.
        page.get_by_text("Alerts about this revision").click()
        _settle(page, "Alerts")
        assert page.url.startswith(f"{base}/alerts?revision={template.to_sha}")
        page.get_by_text(f"Alerts about revision {template.to_sha[:12]}").wait_for(timeout=30_000)
