"""Item 4 of issue 8 on NNI 3.0's manager: a bad trial id is refused before anything is sent.

Before the fix, ``kill_trial_job(f"{trial}#x")`` canceled ``trial`` (the ``#`` cut the URL),
``get_trial_job("#")`` raised a bare TypeError and ``get_job_metrics("#")`` returned every trial's
metrics. The same calls on the fakes: ``tests/test_trial_ids.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nni_exp import Experiment
from nni_exp.errors import InvalidTrialIdError, TrialNotFoundError
from nni_exp.real import RealBackend

from .conftest import free_port, make_config, wait_for

pytestmark = pytest.mark.real_nni
pytest.importorskip("nni_node")


def test_bad_trial_ids_on_the_real_manager(tmp_path: Path, backend: RealBackend) -> None:
    exp = Experiment(make_config(tmp_path, trials=1, concurrency=1, sleep=60), backend=backend)
    try:
        exp.run(port=free_port(), wait_completion=False)
        jobs = wait_for(lambda: [j for j in exp.list_trial_jobs() if j.status == "RUNNING"], message="a running trial")
        trial_id = jobs[0].trialJobId
        with pytest.raises(InvalidTrialIdError, match=repr(f"{trial_id}#x")):
            exp.kill_trial_job(f"{trial_id}#x")
        for bad in ("#", ".", "\n", "a/b", "%zz"):
            for call in (exp.get_trial_job, exp.kill_trial_job, exp.get_job_metrics):
                with pytest.raises(InvalidTrialIdError, match="trial_job_id must be an NNI trial job id"):
                    call(bad)
        with pytest.raises(TrialNotFoundError):
            exp.get_trial_job("doesnotexist")
        assert set(exp.get_job_metrics(trial_id)) <= {trial_id}
        exp.backend.clock.sleep(1.5)  # three ticks of the manager: a cancel would show by now
        assert exp.get_trial_job(trial_id).status == "RUNNING"
    finally:
        exp.stop()
