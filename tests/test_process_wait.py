"""``nni_exp.real.process._wait_child``: ``Popen.wait(timeout)`` that wakes up at the child's exit
(through a pidfd where Linux has one), with Popen's results: the exit code, the negative signal number,
None on timeout, and the code again once reaped."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from nni_exp.real import process


def _child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


@pytest.mark.parametrize("pidfd", [True, False], ids=["pidfd", "popen-poll"])
def test_exit_codes_timeouts_and_reaped_children(pidfd: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not pidfd:
        monkeypatch.delattr(process.os, "pidfd_open", raising=False)
    exits = _child("import sys; sys.exit(3)")
    assert process._wait_child(exits, 30) == 3
    assert process._wait_child(exits, 30) == 3  # reaped: the code is remembered
    assert process._wait_child(exits, None) == 3
    sleeper = _child("import time; time.sleep(60)")
    try:
        assert process._wait_child(sleeper, 0.05) is None
        assert sleeper.poll() is None  # a timeout leaves it running
        sleeper.send_signal(signal.SIGTERM)
        assert process._wait_child(sleeper, 30) == -signal.SIGTERM
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_zero_timeout_looks_once_and_a_huge_one_waits() -> None:
    sleeper = _child("import time; time.sleep(60)")
    try:
        assert process._wait_child(sleeper, 0) is None
        assert process._wait_child(sleeper, -1) is None
        sleeper.terminate()
        assert process._wait_child(sleeper, 10.0**12) == -signal.SIGTERM  # beyond what poll() takes
    finally:
        sleeper.kill()
        sleeper.wait()
    assert process._wait_child(sleeper, 0) == -signal.SIGTERM
