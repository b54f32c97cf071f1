"""The web page in a real browser: Debian's headless Chromium driven by Playwright (never Playwright's
own browser downloads) against `quarry serve` started as a user starts it, on loopback, over the
sample corpus in the session's embedded PostgreSQL, with a key made by `quarry keys create`.

Without Chromium the tests skip, saying why; in CI (CI=true) that is a failure instead, since
.ci/run installs the browser.
"""

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from quarry.agent.components import Components
from tests.support.cli_env import quarry_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "bench" / "out" / "screenshots"
CHROMIUM = os.environ.get("QUARRY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HOSTILE = """---
title: "Zebracanary <img src=x onerror=window.__pwned=1> notes"
author: Mallory Markup
domain: engineering
published_at: 2024-05-01T09:00:00Z
access: [public]
---
# Zebracanary protocol

The zebracanary protocol <script>window.__pwned = 1</script> rotates the <b>canary</b> keys every Tuesday
<img src=x onerror="window.__pwned = 1"> and pages the on-call engineer when a rotation fails.
"""


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Debian's chromium)")
    pytest.skip(f"{reason} (apt-get install chromium, or set QUARRY_CHROMIUM to its path)")


@dataclass(frozen=True)
class Served:
    url: str
    key: str
    env: dict[str, str]


@pytest.fixture(scope="module")
def served(sample_components: Components, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`quarry serve --port 0` over the sample corpus (plus one document full of markup), and a key."""
    home = tmp_path_factory.mktemp("served")
    hostile = home / "corpus" / "zebracanary.md"
    hostile.parent.mkdir()
    hostile.write_text(HOSTILE)
    assert sample_components.ingestor.ingest_paths([hostile.parent]).ingested == 1
    settings = sample_components.settings
    env = quarry_env(
        QUARRY_DATABASE_URL=settings.database.url or "",
        QUARRY_DATABASE__SCHEMA_NAME=settings.database.schema_name,
        QUARRY_DATA_DIR=str(home / "data"),
        QUARRY_CACHE__ENABLED="false",  # the tests repeat questions and mean to watch them researched
    )
    keys = ["keys", "create", "--principal", "web-user", "--groups", "public", "--json"]
    made = subprocess.run(
        [sys.executable, "-m", "quarry.agent.cli.main", *keys],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = json.loads(made.stdout)["key"]
    server = subprocess.Popen(
        [sys.executable, "-m", "quarry.agent.cli.main", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with server:  # closes its pipe and waits for it on the way out
        lines: queue.Queue[str | None] = queue.Queue()
        drain = threading.Thread(target=_drain, args=(server, lines), daemon=True)
        drain.start()
        try:
            yield Served(_wait_for_url(lines), key, env)
        finally:
            server.terminate()
            server.wait(timeout=120)
            drain.join(timeout=60)


def _drain(server: "subprocess.Popen[str]", lines: "queue.Queue[str | None]") -> None:
    """Keep reading the server's log so it never blocks on a full pipe."""
    assert server.stderr is not None
    for line in server.stderr:
        lines.put(line)
    lines.put(None)


def _wait_for_url(lines: "queue.Queue[str | None]") -> str:
    """The address uvicorn reports once start-up (model, database, engine) is complete."""
    seen: list[str] = []
    while True:
        line = lines.get(timeout=300)
        if line is None:
            raise RuntimeError("quarry serve exited before it was up:\n" + "".join(seen))
        seen.append(line)
        if "Uvicorn running on " in line:
            return line.split("Uvicorn running on ", 1)[1].split()[0]


@pytest.fixture(scope="module")
def browser() -> Iterator["Browser"]:
    if not Path(CHROMIUM).is_file():
        _no_browser(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _no_browser("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: "Browser", served: Served) -> Iterator["Page"]:
    """A fresh tab (its own session storage) at the web page, failing the test on any script error."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.goto(served.url + "/")
    yield tab
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[[Any, str], Path]:
    """Save a screenshot in the test's tmp dir and copy it to bench/out/screenshots/ (gitignored)."""
    folder = tmp_path / "screenshots"
    folder.mkdir()

    def take(page: Any, name: str, *, full_page: bool = True) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / path.name)
        return path

    return take
