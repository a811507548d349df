"""NNI's own web UI, rendered by a real browser against the fake manager server.

The fake manager server is launched as nni-exp launches the real manager (``RealBackend`` with
``python -m fakes.server`` as the manager command) and runs an experiment with three finished and
three running trials; headless Chromium (``--dump-dom``) then loads the Overview page (``/oview``) and
the trials table (``/detail``), and the rendered DOM must show the experiment id and the trial ids
that NNI's UI fetched from the fake's REST API.

Needs ``nni`` (the web UI's files) and Chromium (``apt-get install chromium``): skipped without them,
a failure instead under ``NNI_EXP_REQUIRE_REAL=1`` (the test is marked ``real_nni``). Chromium runs in
its own session with its own ``HOME``; at the end its whole process group is killed, and any process
still carrying that ``HOME`` (crash handlers start their own sessions) fails the test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable, Optional

import psutil
import pytest

from fakes.webui import installed_static_directory
from nni_exp import Experiment
from nni_exp.testing.backends import free_port, kill_leftover_managers, make_server_backend

from .conftest import make_config

pytestmark = pytest.mark.real_nni

#: Executable names of Chromium, first found wins.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Real seconds a page may take to render, and a wait for the experiment, at most.
PAGE_TIMEOUT = 90.0
WAIT = 30.0
TRIAL = "tests.test_fake_server_helpers:webui_trial"


def chromium_executable() -> Optional[str]:
    """The first Chromium found on ``PATH``, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium() -> str:
    found = chromium_executable()
    if found is None:
        pytest.skip(f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}); "
                    "install it with: apt-get install -y chromium")
    if installed_static_directory() is None:
        pytest.skip("NNI's web UI is not installed (nni_node/static): pip install nni==3.0")
    return found


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def processes_with_home(home: Path) -> list[psutil.Process]:
    """The live processes whose environment has ``HOME=home`` (Chromium and everything it started)."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.status() != psutil.STATUS_ZOMBIE and process.environ().get("HOME") == str(home):
                found.append(process)
        except psutil.Error:
            continue
    return found


def stop_chromium(process: subprocess.Popen[bytes], home: Path) -> list[str]:
    """Kill Chromium's process group and wait for every process of its ``HOME`` to end; the ones that
    outlived that (then killed one by one) are returned, described."""
    try:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the group id is its pid
    except ProcessLookupError:
        pass
    process.wait(timeout=10)
    _, alive = psutil.wait_procs(processes_with_home(home), timeout=10)
    orphans = []
    for leftover in alive:
        try:
            orphans.append(f"{leftover.pid}: {' '.join(leftover.cmdline())[:100]}")
            leftover.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(alive, timeout=5)
    return orphans


def dump_dom(chromium: str, url: str, profile: Path) -> str:
    """The DOM of ``url`` after NNI's UI rendered it (10 s of the page's virtual time)."""
    home = profile / "home"
    home.mkdir(parents=True)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"))
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-crash-reporter", "--disable-breakpad", f"--user-data-dir={profile / 'data'}",
               "--virtual-time-budget=10000", "--dump-dom", url]
    stdout, stderr = profile / "dom.html", profile / "chromium.stderr"
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env,
                                   start_new_session=True)
    try:
        process.wait(timeout=PAGE_TIMEOUT)
        finished = True
    except subprocess.TimeoutExpired:
        finished = False
    orphans = stop_chromium(process, home)
    assert not orphans, f"Chromium processes outlived its process group: {orphans}"
    if not finished:
        pytest.fail(f"Chromium did not render {url} in {PAGE_TIMEOUT:g} s: {stderr.read_text()[-2000:]}")
    assert process.returncode == 0, f"Chromium exited {process.returncode}: {stderr.read_text()[-2000:]}"
    return stdout.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def experiment(tmp_path: Path) -> Iterator[Experiment]:
    """An experiment on the fake manager server (time scale 10): 6 trials, 3 at a time; the first three
    end after a virtual second, the others run for an hour."""
    backend = make_server_backend(tmp_path / "home", trial=TRIAL, seed=5, time_scale=10.0, search="own")
    config = make_config(trial_concurrency=3, max_trial_number=6, experiment_name="webui-browser",
                         experiment_working_directory=str(tmp_path / "experiments"))
    exp = Experiment(config, backend=backend)
    try:
        exp.start(free_port())
        yield exp
    finally:
        exp.stop()
        kill_leftover_managers(backend)
        backend.close()


def test_nnis_web_ui_shows_the_fake_experiment(chromium: str, experiment: Experiment, tmp_path: Path) -> None:
    def three_done_three_running() -> Optional[dict[str, list[str]]]:
        by_status: dict[str, list[str]] = {}
        for job in experiment.list_trial_jobs():
            by_status.setdefault(job.status, []).append(job.trialJobId)
        ready = len(by_status.get("SUCCEEDED", [])) == 3 and len(by_status.get("RUNNING", [])) == 3
        return by_status if ready else None

    trials = wait_for(three_done_three_running, "3 SUCCEEDED and 3 RUNNING trials")
    base = f"http://127.0.0.1:{experiment.port}"

    overview = dump_dom(chromium, base + "/oview", tmp_path / "chromium-oview")
    assert "Neural Network Intelligence" in overview
    assert experiment.id in overview, "the Overview page does not show the experiment id"
    assert "webui-browser" in overview, "the Overview page does not show the experiment name"
    missing = [trial for trial in trials["SUCCEEDED"] if trial not in overview]
    assert not missing, f"the Overview's top trials lack the finished trials {missing}"

    detail = dump_dom(chromium, base + "/detail", tmp_path / "chromium-detail")
    missing = [trial for status in ("SUCCEEDED", "RUNNING") for trial in trials[status] if trial not in detail]
    assert not missing, f"the trials table lacks the trials {missing}"
    assert experiment.get_status() in ("RUNNING", "NO_MORE_TRIAL")  # the UI saw a running experiment
