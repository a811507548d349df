"""The README's examples run as written.

* Python blocks: plain blocks are executed, test blocks (``def test_...``) run under pytest with the
  plugin, exactly as written (their imports included).
* Shell blocks: the first command (install and run the main job) runs in a fresh copy of the
  repository and a fresh venv; the second (the whole test suite) cannot run inside the suite, so it is
  checked to be the command ``.ci/run`` runs; every other block runs line by line with ``nni-exp`` of
  this environment on ``PATH`` (``nni-exp fake-manager`` lines run until they answer, then get
  SIGINT, on a free port and a temporary directory).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import pytest

from fakes import FakeManager

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"


@pytest.fixture(scope="module", autouse=True)
def _search_imported_before_pytester() -> None:
    """Import NNI's search (and numpy) for good, before ``pytester`` snapshots ``sys.modules``.

    ``pytester`` forgets the modules imported during a test, and numpy cannot be imported twice in
    a process: a README block that runs the fake with NNI's search, after another one did, would fail.
    """
    FakeManager().prepare_search()


def python_blocks() -> List[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_examples():
    assert len(python_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, pytester):
    block = python_blocks()[index]
    if re.search(r"^def test_", block, flags=re.MULTILINE):
        pytester.makepyfile(test_readme_block=block)
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=len(re.findall(r"^def test_", block, flags=re.MULTILINE)))
    else:
        namespace: dict = {}
        exec(compile(block, f"README block {index}", "exec"), namespace)  # noqa: S102
        assert namespace, "the block defined nothing"


# ---------------------------------------------------------------------------------------------- shell


def bash_blocks() -> List[str]:
    return re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)


def command_lines(block: str) -> List[str]:
    return [line.strip() for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_readme_starts_with_the_two_commands():
    text = README.read_text()
    first_screen = text[:text.index("---")]
    assert first_screen.count("```bash") == 2
    assert len(bash_blocks()) >= 4


def _shell_environment(tmp_path: Path, with_our_bin: bool) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTEST_", "NNI_EXP_", "VIRTUAL_ENV", "PYTHON"))}
    env["HOME"] = str(tmp_path / "home")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    path = [entry for entry in env.get("PATH", "").split(os.pathsep) if Path(sys.executable).parent != Path(entry)]
    if with_our_bin:
        path.insert(0, str(Path(sys.executable).parent))
    env["PATH"] = os.pathsep.join(path)
    return env


def _fresh_copy(destination: Path) -> Path:
    """The repository's files (tracked and new, not ignored) as a fresh clone would have them."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def test_first_command_in_a_fresh_copy_and_venv(tmp_path):
    """The README's first command, as written, where nothing is installed: a fresh venv, real trials."""
    command = bash_blocks()[0].strip()
    copy = _fresh_copy(tmp_path / "clone")
    done = subprocess.run(["bash", "-c", command], cwd=copy, env=_shell_environment(tmp_path, with_our_bin=False),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "nni-exp's fake NNI manager: each trial runs `python3 trial.py`" in done.stdout
    assert re.search(r"^Best \(maximize\): trial \w+ metric ", done.stdout, flags=re.MULTILINE), done.stdout
    assert done.stdout.count(" SUCCEEDED ") == 12
    assert not list((copy / ".venv").glob("lib/python*/site-packages/nni")), "a fresh install has no nni"
    logs = list((tmp_path / "home" / "nni-experiments").glob("*/environments/local-env/trials/*/trial.log"))
    assert len(logs) == 12  # trial.py really ran, 12 times


def test_second_command_is_what_ci_runs():
    """The whole suite cannot run inside itself: the README's test command must be the one ``.ci/run`` runs."""
    readme_command = bash_blocks()[1].strip().split("&&")[-1].strip()
    ci_lines = command_lines((REPO / ".ci" / "run").read_text())
    assert ci_lines[-1] == readme_command
    extras = re.search(r"pip install -e '\.\[([a-z,]+)\]'", bash_blocks()[1]).group(1).split(",")
    ci_extras = re.search(r"pip install --quiet -e '\.\[([a-z,]+)\]'", (REPO / ".ci" / "run").read_text())
    assert ci_extras is not None and set(extras) <= set(ci_extras.group(1).split(","))


def _other_lines() -> List[str]:
    return [line for block in bash_blocks()[2:] for line in command_lines(block)]


@pytest.mark.parametrize("line", _other_lines())
def test_shell_line_runs(line, tmp_path):
    env = _shell_environment(tmp_path, with_our_bin=True)
    words = shlex.split(line)
    if words[:2] == ["nni-exp", "fake-manager"]:
        _run_server_line(words, env, tmp_path)
        return
    done = subprocess.run(["bash", "-c", line], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Experiment " in done.stdout and ": DONE" in done.stdout


def _run_server_line(words: List[str], env: dict, tmp_path: Path) -> None:
    import requests

    from nni_exp.testing.backends import free_port

    port = free_port()
    words = [str(port) if previous == "--port" else str(tmp_path / "demo") if previous == "--experiments-directory"
             else word for previous, word in zip([""] + words, words)]
    process = subprocess.Popen(words, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/api/v1/nni/check-status", timeout=2)
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "the fake manager did not answer in 30 s"
            time.sleep(0.05)
        assert answer.json() == {"status": "INITIALIZED", "errors": []}
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.communicate()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
