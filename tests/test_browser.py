"""The student notebooks in JupyterLab in a real (headless) Chromium: they run, plots and widgets render.

Skipped where Chromium or Playwright is missing, except on CI (``CI=true``), where that is a failure.
Uses the system Chromium (Debian's ``chromium`` package); never downloads a browser. Each notebook is
copied to a temporary folder served by JupyterLab on 127.0.0.1 (a free port, a random token), run cell by
cell in small mode (until the first graded cell and what it must show), then checked; a screenshot is saved in
the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.instructor.limits import CELL_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

# What each notebook must show in the browser (by number; a missing notebook is a failure).
EXPECTATIONS = [
    ("01", {"plot": True}),
    ("03", {"widget": True}),
    ("04", {"widget": True}),
    ("widget_demo", {"plot": True, "widget": True}),  # tests/browser/: proves the widget check itself
]
WIDGET = ".jupyter-widgets.widget-slider, .jupyter-widgets.widget-inline-hbox, .jupyter-widgets.widget-box"
WIDGET_AS_TEXT = ("IntSlider(", "FloatSlider(", "Dropdown(", "VBox(", "HBox(", "Error displaying widget",
                  "Loading widget...")

pytestmark = pytest.mark.browser


def notebook_for(key: str) -> Path | None:
    if key == "widget_demo":
        return ROOT / "tests" / "browser" / "widget_demo.ipynb"
    found = sorted((ROOT / "notebooks").glob(f"{key}-*/{key}-*.ipynb"))
    return found[0] if found else None


def browser_or_skip():
    """Playwright's ``sync_playwright``, or skip (fail on CI) when it or Chromium is missing."""
    problems = []
    if not (Path(CHROMIUM).exists() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        problems.append("the playwright package is not installed (pip install playwright)")
    if problems:
        message = "browser test: " + "; ".join(problems)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the browser test must run)")
        pytest.skip(message)
    return sync_playwright


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a temporary folder: ``(url, token, folder)``."""
    browser_or_skip()
    from helpers.config import data_dir, keras_home
    from helpers.instructor.runner import python_first_path

    folder = tmp_path_factory.mktemp("lab")
    home = tmp_path_factory.mktemp("home")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, HOME=str(home), COURSE_MODE="small", KERAS_HOME=str(keras_home().resolve()),
               COURSE_DATA_DIR=str(data_dir().resolve()), TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               PATH=python_first_path())
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        env.pop(name, None)
    # Render every cell (JupyterLab 4 only renders the visible ones by default), so all outputs are in the page.
    settings = home / ".jupyter" / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    log = open(folder.parent / f"{folder.name}-jupyterlab.log", "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"] + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                    json.load(response)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    log.flush()
                    raise RuntimeError("JupyterLab did not start:\n"
                                       + Path(log.name).read_text()[-3000:]) from None
                time.sleep(1)
        yield url, token, folder
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


FIND_PANEL = """
    const app = window.jupyterapp;
    const panel = app && Array.from(app.shell.widgets('main')).find(
        (w) => w.context && w.context.path === name && w.content && w.content.model);
"""

RUN_CELL = """async ([name, index]) => {""" + FIND_PANEL + """
    app.shell.activateById(panel.id);
    await panel.sessionContext.ready;
    const notebook = panel.content;
    const model = notebook.model.cells.get(index);
    const meta = (model.getMetadata && model.getMetadata('nbgrader')) || {};
    const info = {index, type: model.type, grade_id: meta.grade_id || null,
                  graded: !!(meta.grade || meta.solution), errors: [], executed: false};
    if (model.type !== 'code' || !model.sharedModel.getSource().trim()) { return info; }
    notebook.activeCellIndex = index;
    notebook.deselectAll();
    await app.commands.execute('notebook:run-cell');
    info.executed = model.executionCount !== null;
    for (const output of model.outputs.toJSON()) {
        if (output.output_type === 'error') { info.errors.push(output.ename + ': ' + output.evalue); }
    }
    return info;
}"""

CELL_COUNT = "(name) => {" + FIND_PANEL + " return panel.content.model.cells.length; }"
KERNEL_READY = """(name) => {""" + FIND_PANEL + """
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return !!(session && session.kernel && session.kernel.connectionStatus === 'connected'
              && panel.content.model && panel.content.model.cells.length > 0);
}"""


def run_in_browser(url: str, token: str, name: str, screenshot: Path, expect: dict) -> dict:
    """Open ``name`` in JupyterLab, run its cells, check ``expect``; return what was seen.

    Cells run one by one until the first graded cell has run and what ``expect`` asks for is shown (every cell,
    in a notebook without graded cells): what comes after is not checked, and in 04 it is the measured grid.
    """
    sync_playwright = browser_or_skip()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(CELL_TIMEOUT_S * 1000)
            page.goto(f"{url}/lab/tree/{name}?token={token}")
            page.wait_for_function(KERNEL_READY, arg=name, timeout=180_000)
            images = page.locator(".jp-OutputArea-output.jp-RenderedImage img")
            widgets = page.locator(f".jp-OutputArea-output {WIDGET}")

            def plots() -> int:
                return sum(1 for i in range(images.count())
                           if images.nth(i).evaluate("(img) => img.complete && img.naturalWidth > 0"))

            def shown() -> bool:
                return (not expect.get("plot") or plots() > 0) and (not expect.get("widget") or widgets.count() > 0)

            cells = []
            for index in range(page.evaluate(CELL_COUNT, name)):
                cells.append(page.evaluate(RUN_CELL, [name, index]))
                if any(c["graded"] for c in cells) and shown():
                    break  # past the first graded cell, and what must be shown is: the rest is not checked
            page.wait_for_timeout(2000)  # let the last outputs render
            seen = {"cells": cells, "plots": plots(), "widgets": widgets.count(), "widget_text": []}
            texts = page.locator(".jp-OutputArea-output").all_inner_texts()
            seen["widget_text"] = [t[:80] for t in texts if any(marker in t for marker in WIDGET_AS_TEXT)]
            target = widgets.first if expect.get("widget") and seen["widgets"] else images.first
            if seen["widgets"] or seen["plots"]:
                target.scroll_into_view_if_needed()
            page.screenshot(path=str(screenshot))
            return seen
        finally:
            browser.close()


@pytest.mark.parametrize("key", [k for k, _ in EXPECTATIONS])
def test_every_expected_notebook_exists(key):
    """Checked without a browser too: a notebook missing from notebooks/ is a failure, never a skip."""
    path = notebook_for(key)
    assert path is not None and path.is_file(), (
        f"no notebook notebooks/{key}-*/{key}-*.ipynb: generate the release with "
        f"`nbgrader generate_assignment {key}-NAME --force`, or drop {key!r} from EXPECTATIONS")


@pytest.mark.parametrize("key, expect", EXPECTATIONS, ids=[k for k, _ in EXPECTATIONS])
def test_notebook_in_jupyterlab(key, expect, lab, tmp_path):
    path = notebook_for(key)
    if path is None:
        pytest.fail(f"no notebook notebooks/{key}-*/{key}-*.ipynb: generate the release with "
                    f"`nbgrader generate_assignment {key}-NAME --force`, or drop {key!r} from EXPECTATIONS")
    url, token, folder = lab
    shutil.copy(path, folder / path.name)  # JupyterLab may save it: never the repository's copy
    screenshot = tmp_path / f"{path.stem}.png"
    seen = run_in_browser(url, token, path.name, screenshot, expect)

    cells = seen["cells"]
    first_graded = next((c["index"] for c in cells if c["graded"]), len(cells))
    before = [c for c in cells if c["index"] < first_graded and c["type"] == "code"]
    not_run = [c["index"] for c in before if not c["executed"]]
    errors = [(c["index"], c["errors"]) for c in before if c["errors"]]
    assert not errors, f"{path.name}: error output before the first graded cell: {errors}"
    assert not not_run, f"{path.name}: cells {not_run} before the first graded cell did not run"
    if expect.get("plot"):
        assert seen["plots"] > 0, f"{path.name}: no plot image was shown"
    if expect.get("widget"):
        assert seen["widgets"] > 0, f"{path.name}: no rendered ipywidgets widget"
        assert not seen["widget_text"], f"{path.name}: widgets shown as text: {seen['widget_text']}"
    assert screenshot.exists() and screenshot.stat().st_size > 10_000
    print(f"screenshot: {screenshot}")
