"""The real trials of ``benchmarks/perf_table.py``'s query rows report, through nni-exp's stand-in ``nni``
over NNI 3.0's HTTP trial channel, what the fake's trials report: 5 intermediate results and a final one."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nni_exp import Experiment, TrialJob, TrialMetricData, TrialResult
from nni_exp import data as decoders
from nni_exp.real import RealBackend
from nni_exp.testing.backends import free_port

from .conftest import wait_for

pytestmark = pytest.mark.real_nni

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import perf_table  # noqa: E402  (benchmarks/ is no package)


def test_the_benchmark_real_trials_report_five_intermediate_results_and_a_final_one(
        tmp_path: Path, backend: RealBackend) -> None:
    command = perf_table.reporting_trial_command(tmp_path)
    config = perf_table.config(2, 1, directory=str(tmp_path), command=command)
    with Experiment(config, backend=backend) as exp:
        exp.start(free_port())
        wait_for(lambda: exp.get_status() == "DONE", timeout=60)
        jobs = exp.list_trial_jobs()
        metrics = exp.get_job_metrics()
        assert len(jobs) == 2 and {job.status for job in jobs} == {"SUCCEEDED"}
        for job in jobs:
            x = job.hyperParameters[0].parameters["x"]
            reported = metrics[job.trialJobId]
            # NNI 3.0 may list a trial's metrics reported back to back out of order (seen: sequence 4 second)
            periodical = sorted((m for m in reported if m.type == "PERIODICAL"), key=lambda m: m.sequence)
            final = [m for m in reported if m.type == "FINAL"]
            assert len(reported) == 6 and [m.sequence for m in periodical] == list(range(5))
            assert [m.data for m in periodical] == pytest.approx([x * step for step in range(5)])
            assert len(final) == 1 and final[0].data == pytest.approx(x)
            assert job.finalMetricData[0].data == pytest.approx(x)
        # the records are built by nni_exp.data's decoders: on NNI 3.0's own answers they give what the
        # keyword calls (NNI's client's way) give
        for path, decoder, cls in (("/trial-jobs", decoders.trial_job, TrialJob),
                                   ("/metric-data", decoders.metric_data, TrialMetricData),
                                   ("/export-data", decoders.trial_result, TrialResult)):
            answer = exp._request("GET", path)
            assert answer and [decoder(item) for item in answer] == [cls(**item) for item in answer]
            assert [list(vars(decoder(item)).items()) for item in answer] == \
                [list(vars(cls(**item)).items()) for item in answer]
