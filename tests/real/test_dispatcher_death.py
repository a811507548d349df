"""The real NNI 3.0 manager when its dispatcher process dies, against the fake's ``tuner_dies`` fault.

Measured here, and reproduced by ``InstrumentedFakeManager(faults={"tuner_dies": ...})``: the manager
notices the lost connection, keeps the experiment RUNNING for 30 seconds (its channel waits for a
reconnection), then goes to ERROR with "Dispatcher stream error, tuner may have crashed.".
"""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest

from nni_exp import Experiment
from nni_exp.real import RealBackend
from nni_exp.testing import InstrumentedFakeManager

from .conftest import free_port, make_config, wait_for

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")

CRASH_MESSAGE = "Dispatcher stream error, tuner may have crashed."


def dispatcher_processes(experiment: Experiment) -> list:
    """The ``python -m nni --exp_params ...`` process (and its shell) of the experiment's manager."""
    assert experiment._proc is not None
    manager = psutil.Process(experiment._proc.pid)
    return [child for child in manager.children(recursive=True) if "--exp_params" in " ".join(child.cmdline())]


def test_a_killed_dispatcher_puts_the_real_manager_in_error_30_s_later(backend: RealBackend, tmp_path: Path) -> None:
    config = make_config(tmp_path, trials=10, concurrency=1, sleep=1.0)
    with Experiment(config, backend=backend) as exp:
        exp.start(free_port())
        wait_for(lambda: exp.list_trial_jobs(), timeout=30, message="a first trial")
        for process in dispatcher_processes(exp):
            process.kill()
        killed = time.monotonic()
        wait_for(lambda: exp.get_status() == "ERROR", timeout=60, interval=0.5, message="ERROR")
        waited = time.monotonic() - killed
        assert 25 <= waited <= 40, waited
        assert backend.request("GET", exp.port, "/check-status") == {"status": "ERROR", "errors": [CRASH_MESSAGE]}


def test_the_fake_fault_gives_the_same(tmp_path: Path) -> None:
    fake = InstrumentedFakeManager(seed=1, faults={"tuner_dies": 8})
    with Experiment(make_config(tmp_path, trials=10, concurrency=1), backend=fake) as exp:
        exp.start(8080)
        fake.advance(8 + 29.9)
        assert exp.get_status() == "RUNNING"
        fake.advance(0.2)
        assert fake.request("GET", 8080, "/check-status") == {"status": "ERROR", "errors": [CRASH_MESSAGE]}
