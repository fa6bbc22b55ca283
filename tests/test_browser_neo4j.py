"""The analyst's real experience: headless Chromium drives the Neo4j Browser the server serves.

Debian's Chromium (``make browser-deps``) driven by Python playwright; playwright never
downloads a browser of its own. The test connects, plays the project's guide from
``sybilgraph guide serve``, loads the GraSS style from the guide, and runs the top-campaigns
query from the guide's runnable blocks, then checks the result frame and saves screenshots.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

import handmade_graph
from pipelines import attribution, browser_guide

expect = pytest.importorskip("playwright.sync_api").expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.neo4j]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_in_editor(page, text: str) -> None:
    page.click("#monaco-main-editor")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.keyboard.press("Control+Enter")


def _wait_for_params(page, shown: str, attempts: int = 20) -> None:
    for _ in range(attempts):
        _run_in_editor(page, ":params")
        try:
            expect(page.locator('[data-testid="frame"]').first).to_contain_text(shown, timeout=2_000)
            return
        except AssertionError:
            continue
    raise AssertionError(f":params never showed {shown}")


def _run_runnable(page, block) -> None:
    """Click a guide block (it lands in the editor) and run it, as an analyst does."""
    block.click()
    page.click("#monaco-main-editor")
    page.keyboard.press("Control+Enter")


@pytest.fixture()
def browser_page(tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make browser-deps)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1400, "height": 1100},
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_analyst_plays_the_guide_and_runs_top_campaigns(neo4j_server, browser_page, tmp_path: Path) -> None:
    if neo4j_server.instance is None:
        pytest.skip("NEO4J_URI points at an external server: its Browser address is unknown")
    driver = neo4j_server.driver
    handmade_graph.build_graph(driver)
    attribution.run_attribution(driver)
    guide_port = _free_port()
    guide_server = browser_guide.start_guide_server(guide_port)
    page = browser_page
    try:
        page.goto(f"http://127.0.0.1:{neo4j_server.instance.http_port}/browser/")
        page.wait_for_selector('[data-testid="username"]', timeout=60_000)
        page.select_option('[data-testid="bolt-scheme-select"]', "bolt://")
        page.fill('[data-testid="boltaddress"]', neo4j_server.uri.split("://", 1)[1])
        page.fill('[data-testid="username"]', neo4j_server.user)
        page.fill('[data-testid="password"]', neo4j_server.password)
        page.click('[data-testid="connect"]')
        page.wait_for_selector("text=You are connected as user", timeout=60_000)

        _run_in_editor(page, browser_guide.play_command(guide_port))
        page.locator('[data-testid="frame"]', has_text="find the campaigns").first.wait_for(timeout=30_000)
        # the guide's frame is the one with slides (its text changes with the slide shown)
        guide = page.locator('[data-testid="frame"]').filter(has=page.locator('[data-testid="nextSlide"]')).first
        page.screenshot(path=str(tmp_path / "guide.png"))

        _run_runnable(page, guide.locator("pre.runnable", has_text=":style").first)
        page.locator('[data-testid="frame"]', has_text="node.Organization").first.wait_for(timeout=20_000)

        guide.locator('[data-testid="nextSlide"]').click()
        slide = guide.locator("pre.runnable", has_text=":param limit")
        slide.wait_for(timeout=10_000)
        _run_runnable(page, slide)
        # both :param lines are evaluated by the server one after the other; ask ":params"
        # (newest frame on top) until both are set
        _wait_for_params(page, '"min_campaign_score": 0.5')
        _run_runnable(page, guide.locator("pre.runnable", has_text="ORDER BY exchanges DESC").first)

        result = page.locator('[data-testid="frame"]', has_text="attribution_confidence").first
        expect(result).to_contain_text("Halcyon Research", timeout=60_000)
        result.screenshot(path=str(tmp_path / "top_campaigns.png"))
        page.screenshot(path=str(tmp_path / "browser.png"))
        text = result.inner_text()
        assert "ent-camp" in text and "Halcyon Research" in text and "ent-frag" in text
        assert "ERROR" not in text
    except BaseException:
        page.screenshot(path=str(tmp_path / "failure.png"))  # what the analyst would have seen
        raise
    finally:
        guide_server.shutdown()
    assert (tmp_path / "top_campaigns.png").stat().st_size > 10_000
