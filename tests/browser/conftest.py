"""Browser tests of the dashboard: headless Debian Chromium driven by selenium.

`make test` installs Chromium, chromedriver and axe-core when missing
(`infra/browser.py`). The tests run against `workers.serve` and a real
`workers.scheduler` process, with shorter retry schedules so that a payment that fails
every attempt, or a webhook that keeps failing, is final within seconds. Both are
package-scoped: they stop before the other suites run, which expect no scheduler
draining their payments.
Every test writes screenshots under build/screenshots/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib import db
from chalicelib.services import operator_keys
from infra import browser as browser_deps
from tests.support import ROOT, LiveServer, start_server, stop_server

SCREENSHOTS = ROOT / "build" / "screenshots"
# Faster schedules for the processes these tests start (the stage's are 1-8 s and
# 1, 2, 4, 8, 16 s): a payment that always fails is FAILED in ~10 s, a webhook in ~3 s.
FAST_ENV = {"RETRY_CAP_S": "2", "WEBHOOK_RETRY_SCHEDULE_S": "[1, 1]"}
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
]


class Scheduler:
    """`python -m workers.scheduler` as a process that a test can pause and resume."""

    def __init__(self, log_dir: Path) -> None:
        self.log_path = log_dir / "scheduler.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        if self.process is not None and self.process.poll() is None:
            return
        env = {**os.environ, "STAGE": "test", **FAST_ENV}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workers.scheduler", "--stage", "test"],
            cwd=ROOT,
            env=env,
            stdout=open(self.log_path, "ab"),
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="package")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(tmp_path_factory.mktemp("dashboard-server"), extra_env=FAST_ENV)
    yield server
    stop_server(server)


@pytest.fixture(scope="package")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scheduler]:
    sched = Scheduler(tmp_path_factory.mktemp("scheduler"))
    sched.start()
    yield sched
    sched.stop()


@pytest.fixture(scope="package")
def driver() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser_deps.ensure_chromium()
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager reach the network
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = str(browser_deps.CHROMIUM)
        for flag in [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        chrome = webdriver.Chrome(service=Service(str(browser_deps.CHROMEDRIVER)), options=options)
        chrome.set_script_timeout(30)
        yield chrome
        chrome.quit()


@pytest.fixture
def operator_key() -> str:
    with db.transaction() as conn:
        return operator_keys.create_operator_key(conn, "Browser test operator").operator_key


class Page:
    """The dashboard in the browser, with the waits and checks the tests share."""

    def __init__(self, driver: Any, base_url: str, test_name: str) -> None:
        self.driver = driver
        self.base_url = base_url
        self.test_name = test_name

    @property
    def url(self) -> str:
        return f"{self.base_url}/dashboard"

    def sign_in(self, api_key: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        self.driver.get(self.url + "#/signin")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(self.url + "#/signin")
        field = self.wait(lambda d: d.find_element(By.ID, "api-key"))
        field.send_keys(api_key, Keys.ENTER)
        self.wait(
            lambda d: d.execute_script("return location.hash") in ("#/payments", "#/operator")
        )

    def go(self, hash_route: str) -> None:
        self.driver.execute_script("location.hash = arguments[0]", hash_route)

    def wait(self, condition: Callable[[Any], Any], timeout: float = 30) -> Any:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.1,
            ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
        ).until(condition)

    def text(self, css: str) -> str:
        from selenium.webdriver.common.by import By

        return str(self.driver.find_element(By.CSS_SELECTOR, css).text)

    def wait_text(self, css: str, predicate: Callable[[str], bool], timeout: float = 30) -> str:
        return str(self.wait(lambda d: (t := self.text(css)) and predicate(t) and t, timeout))

    def click(self, css: str) -> None:
        from selenium.webdriver.common.by import By

        self.wait(lambda d: d.find_element(By.CSS_SELECTOR, css).is_displayed())
        self.driver.find_element(By.CSS_SELECTOR, css).click()

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        # The whole page, not only the window: grow the window to the page's height.
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1280, max(800, min(int(height) + 200, 4000)))
        try:
            self.driver.save_screenshot(str(path))
        finally:
            self.driver.set_window_size(1280, 1000)
        return path

    def axe_violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical violations on the page as it is now."""
        self.driver.execute_script(browser_deps.ensure_axe_core().read_text())
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations"
            ".map((v) => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length}))))"
            ".catch((e) => done([{id: 'axe-error', impact: 'critical', help: String(e)}]));"
        )
        return [v for v in found if v["impact"] in ("serious", "critical")]

    def console_errors(self) -> list[str]:
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
        ]


@pytest.fixture
def page(
    driver: Any, dashboard_server: LiveServer, scheduler: Scheduler, request: pytest.FixtureRequest
) -> Page:
    return Page(driver, dashboard_server.base_url, request.node.name)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """On a failure, keep a screenshot and the DOM of the page as it was."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and isinstance(page, Page):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.driver.save_screenshot(str(SCREENSHOTS / f"FAILED-{item.name}.png"))
        (SCREENSHOTS / f"FAILED-{item.name}.html").write_text(
            page.driver.execute_script("return document.documentElement.outerHTML")
        )
    return report
