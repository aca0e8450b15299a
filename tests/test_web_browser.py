"""End to end in a real browser: Playwright drives Debian's Chromium against a real uvicorn
server. A reviewer signs in, claims an item with the keyboard, decides it with a reason, and the
requester then downloads the released answer through the API.

Set MATCHGATE_SCREENSHOTS=docs/images to refresh the README's screenshots."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from matchgate.api import create_app
from matchgate.examples import example_path
from matchgate.master.generate import generate
from matchgate.master.load import load_master
from matchgate.service import Services
from matchgate.settings import Settings
from matchgate.users import add_user
from matchgate.worker import Worker

CHROMIUM = "/usr/bin/chromium"
AGENCY = "Immigration enforcement agency"
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

playwright_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Debian's chromium is not installed (.ci/run installs it)")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    work = tmp_path_factory.mktemp("web")
    population = generate(work / "data", taxpayers=2000, requests=300, seed=23)
    settings = Settings(home=work / "home")
    load_master(population.master_path, settings.resolved_match_store())
    services = Services.open(settings)
    services.load_agreement(example_path("agreement.toml"))
    tokens = {"requester": add_user(services.store, name="analyst", role="requester",
                                    agency=AGENCY),
              "reviewer": add_user(services.store, name="reviewer", role="reviewer")}
    port = _free_port()
    config = uvicorn.Config(create_app(settings, services=services), host="127.0.0.1",
                            port=port, log_level="warning", access_log=False)
    app_server = uvicorn.Server(config)
    thread = threading.Thread(target=app_server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if app_server.started:
            break
        time.sleep(0.1)
    auth = {"Authorization": f"Bearer {tokens['requester']}"}
    r = httpx.post(f"{base}/api/v1/batches", headers=auth, files={
        "file": ("requests.csv", population.requests_path.read_bytes(), "text/csv"),
        "manifest": ("manifest.toml", population.manifest_path.read_bytes(), "application/toml")})
    assert r.status_code == 202, r.text
    assert Worker(services, name="w1").run_once() == r.json()["batch_id"]
    yield base, tokens | {"batch_id": r.json()["batch_id"]}
    app_server.should_exit = True
    thread.join(timeout=10)
    services.store.close()


def _shot(page: object, name: str) -> None:
    folder = os.environ.get("MATCHGATE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)  # type: ignore[attr-defined]


def test_reviewer_decides_and_requester_downloads_the_released_answer(
        server: tuple[str, dict[str, str]]) -> None:
    base, tokens = server
    batch_id = tokens["batch_id"]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/")
        assert "/web/login" in page.url
        page.fill("#token", "mg_not_a_token")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").is_visible()
        page.fill("#token", tokens["reviewer"])
        page.click("button[type=submit]")
        page.wait_for_url("**/web/reviews**")
        _shot(page, "review-queue.png")
        first = page.locator("a.item").first
        request_id = first.inner_text().strip()
        first.click()
        page.wait_for_selector("#claim")
        with page.expect_navigation():
            page.keyboard.press("c")  # claim with the keyboard shortcut
        assert "claimed" in page.content().lower()
        page.fill("#reason", "the evidence does not single out this taxpayer")
        _shot(page, "review-page.png")
        page.locator("#reason").blur()
        with page.expect_navigation():
            page.keyboard.press("d")  # deny with the keyboard shortcut
        assert "denied" in page.content().lower()
        browser.close()
    r = httpx.get(f"{base}/api/v1/batches/{batch_id}/responses",
                  headers={"Authorization": f"Bearer {tokens['requester']}"},
                  params={"format": "json"})
    assert r.status_code == 200, r.text
    answers = {a["request_id"]: a for a in r.json()["rows"]}
    assert answers[request_id]["code"] == "DENIED"
    assert answers[request_id]["reason"] == "review_denied"
    assert not any(v for k, v in answers[request_id].items() if k.startswith("disclosed_"))


def test_a_requester_cannot_open_the_review_pages(server: tuple[str, dict[str, str]]) -> None:
    base, tokens = server
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page()
        page.goto(f"{base}/web/login")
        page.fill("#token", tokens["requester"])
        page.click("button[type=submit]")
        response = page.goto(f"{base}/web/reviews")
        assert response is not None and response.status == 403
        browser.close()
