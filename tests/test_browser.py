"""The real-browser test: the app in headless Chromium, from a cold start.

It starts ``streamlit run app.py`` on localhost with an empty result store, presses
"Compute what is missing" for a small split, waits for the background job, then opens
every page listed in the sidebar. Each page must finish rendering with no exception and
no error box, and the core pages must draw their charts. Screenshots are saved to
``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A small split, set through the URL as a user's shared link would.
QUERY = urlencode(
    {
        "split_members": 300,
        "split_nonmembers": 200,
        "split_shadow_members": 200,
        "split_shadow_nonmembers": 150,
        "split_reference": 150,
    }
)
PAGES_WITH_CHARTS = {"", "importance", "membership"}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright")
    port = _free_port()
    env = {
        **os.environ,
        "VALUERISK_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "VALUERISK_THREADS": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=localhost",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start within 60 s")
    yield base
    os.killpg(process.pid, 15)
    process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def _settle(page, timeout: float = 90) -> None:
    """Wait until the script has finished running and no skeleton remains."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        idle = page.locator('[data-test-script-state="notRunning"]').count() > 0
        connected = page.locator('[data-test-connection-state="CONNECTED"]').count()
        skeletons = page.locator('[data-testid="stSkeleton"]').count()
        if idle and connected and not skeletons:
            page.wait_for_timeout(750)  # charts draw after the script ends
            return
    raise AssertionError("the page did not finish rendering")


def _problems(page) -> list[str]:
    boxes = page.locator(
        '[data-testid="stException"], [data-testid="stAlertContentError"]'
    )
    return [boxes.nth(i).inner_text()[:300] for i in range(boxes.count())]


def test_every_page_renders_from_a_cold_start(server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/?{QUERY}")
    _settle(page)
    assert not _problems(page)

    # Cold start: compute everything for this spec as a background job.
    page.get_by_role("button", name="Compute what is missing").click()
    page.get_by_role("button", name="Cancel").wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "00-job-running.png")
    page.get_by_role("button", name="Cancel").wait_for(
        state="detached", timeout=300_000
    )
    _settle(page)
    assert not _problems(page)

    # Every page the sidebar lists.
    links = page.locator('[data-testid="stSidebarNav"] a')
    paths = [
        links.nth(i).get_attribute("href").split("?")[0].rstrip("/").split("/")[-1]
        for i in range(links.count())
    ]
    paths = ["" if p == server.split("/")[-1] else p for p in paths]
    assert {"importance", "membership", "gallery"} <= set(paths)
    for number, path in enumerate(paths, start=1):
        page.goto(f"{server}/{path}?{QUERY}")
        _settle(page)
        page.screenshot(
            path=ARTIFACTS / f"{number:02d}-{path or 'findings'}.png", full_page=True
        )
        assert not _problems(page), (path, _problems(page))
        if path in PAGES_WITH_CHARTS:
            drawn = page.locator(
                '[data-testid="stVegaLiteChart"] canvas, '
                '[data-testid="stVegaLiteChart"] svg'
            )
            assert drawn.count() > 0, f"no chart drawn on {path or 'findings'}"
    page.close()
