"""The dashboard in a real headless Chromium, served by ``drift-monitor dashboard`` as a user starts it.

Chromium is Debian's package (``make test`` installs it); Playwright drives it through
``executable_path``, never with downloaded browsers. A screenshot of every page is saved in the test's
temporary directory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright

from monitor.db import Alert
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dashboard_server(dashboard_db: DashboardData, tmp_path: Path) -> Iterator[str]:
    """``drift-monitor dashboard --port P`` in a subprocess, polled until it answers."""
    port = _free_port()
    executable = Path(sys.executable).parent / "drift-monitor"
    environment = {**os.environ, "DRIFT_MONITOR_DATABASE_URL": dashboard_db.url}
    log_path = tmp_path / "dashboard.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(executable), "dashboard", "--port", str(port)],
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


def _settle(page: Page, title: str) -> None:
    """Wait for the page's title and for the script run to finish (charts drawn)."""
    page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000, polling=200
    )
    page.wait_for_timeout(700)


def test_every_page_renders_and_an_alert_is_acknowledged(
    dashboard_server: str, dashboard_db: DashboardData, tmp_path: Path
) -> None:
    if not CHROMIUM.is_file():
        pytest.fail("Debian's chromium is required: apt-get update && apt-get install -y chromium (make test does it)")
    hostile_id = add_hostile_response(dashboard_db.db)
    with dashboard_db.db.session() as session:
        # The form preselects the newest open alert (the table is newest first).
        target = session.scalar(
            sa.select(Alert.id)
            .where(Alert.acknowledged_at.is_(None))
            .order_by(Alert.created_at.desc(), Alert.id.desc())
            .limit(1)
        )
    assert target is not None

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # Tall: Streamlit scrolls inside its own container, so a full-page shot is the viewport.
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            for slug, title in PAGES:
                page.goto(f"{dashboard_server}/{slug}")
                _settle(page, title)
                assert page.locator('[data-testid="stException"]').count() == 0, f"{slug} raised"
                page.screenshot(path=str(tmp_path / f"{slug}.png"), full_page=True)

            # Model text in a real browser: the literal characters, no link, no injected element.
            page.goto(f"{dashboard_server}/review?response={hostile_id}")
            _settle(page, "Review")
            code_blocks = page.locator('[data-testid="stCode"]').filter(has_text=HOSTILE_TEXT)
            assert code_blocks.count() >= 2, "raw response and final answer, as code blocks"
            assert code_blocks.first.is_visible()
            assert HOSTILE_TEXT in code_blocks.first.inner_text()
            assert page.locator('a[href="http://x"]').count() == 0
            assert page.locator("img[src='x']").count() == 0
            page.screenshot(path=str(tmp_path / "review-hostile.png"), full_page=True)

            page.goto(f"{dashboard_server}/alerts")
            _settle(page, "Alerts")
            page.get_by_label("Your name").fill("Playwright Reviewer")
            page.get_by_label("Comment").fill("seen in the browser")
            page.get_by_role("button", name="Acknowledge").click()
            page.get_by_text(f"Alert #{target} acknowledged.").wait_for(timeout=60_000)
            page.screenshot(path=str(tmp_path / "alerts-acknowledged.png"), full_page=True)
        finally:
            browser.close()

    with dashboard_db.db.session() as session:
        alert = session.get(Alert, target)
        assert alert is not None
        assert alert.acknowledged_by == "Playwright Reviewer"
        assert alert.ack_comment == "seen in the browser"
        assert alert.acknowledged_at is not None
    for slug, _ in PAGES:
        assert (tmp_path / f"{slug}.png").stat().st_size > 10_000, f"{slug} screenshot is blank"
