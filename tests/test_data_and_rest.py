"""Wire decoding (nni_exp.data), REST answer rules (nni_exp.rest), ids and durations."""

from __future__ import annotations

import json

import pytest
import requests

from nni_exp import TrialHyperParameters, TrialJob, TrialMetricData, TrialResult
from nni_exp.durations import parse_duration
from nni_exp.errors import (
    InvalidResponseError,
    ManagerError,
    ReadonlyExperimentError,
    TrialLimitReachedError,
    TrialNotFoundError,
    UnknownUpdateTypeError,
)
from nni_exp.ids import check_experiment_id, generate_experiment_id, is_valid_experiment_id
from nni_exp.rest import build_url, decode_answer, error_for_answer, strip_prefix

# A /trial-jobs item exactly as NNI 3.0's manager sent it (real_manager_observed.md §3).
WIRE_JOB = {
    "trialJobId": "iT3pc", "status": "SUCCEEDED",
    "hyperParameters": ['{"parameter_id":0,"parameter_source":"algorithm","parameters":{"x":0.77,"y":2},'
                        '"parameter_index":0}'],
    "startTime": 1795815262871, "logPath": "/w/e/environments/local-env/trials/iT3pc", "sequenceId": 0,
    "envId": "local-env", "endTime": 1795815272223,
    "finalMetricData": [{"timestamp": 1795815267808, "trialJobId": "iT3pc", "parameterId": "0", "type": "FINAL",
                         "sequence": 0, "data": '"{\\"default\\": 0.5, \\"other\\": 1}"'}],
}


def test_trial_job_decodes_nested_json_as_nni_does():
    job = TrialJob(**WIRE_JOB)
    assert job.hyperParameters == [TrialHyperParameters(0, "algorithm", {"x": 0.77, "y": 2}, 0)]
    metric = job.finalMetricData[0]
    assert metric.data == {"default": 0.5, "other": 1} and metric.parameterId == "0"
    assert (job.stderrPath, job.message) == ("", "--")  # client defaults, as NNI's


def test_trial_job_defaults_and_required_fields():
    job = TrialJob(trialJobId="a", status="RUNNING", startTime=1, sequenceId=0)
    assert (job.endTime, job.hyperParameters, job.finalMetricData, job.logPath) == (-1, [], [], "")
    with pytest.raises(TypeError):
        TrialJob(trialJobId="a", status="RUNNING")  # type: ignore[call-arg]


def test_metric_and_result_decoding():
    metric = TrialMetricData(timestamp=1, trialJobId="a", parameterId="3", type="PERIODICAL", sequence=2,
                             data='"0.7739560485559633"')
    assert metric.data == 0.7739560485559633
    assert TrialResult(parameter={"x": 1}, value="2.0", trialJobId="a").value == 2.0
    assert TrialResult(parameter={}, value='{"default": 0.5}', trialJobId="a").value == {"default": 0.5}
    with pytest.raises(json.JSONDecodeError):
        TrialMetricData(timestamp=1, trialJobId="a", parameterId="3", type="FINAL", sequence=0, data="0.5x")


def test_customized_trial_hyper_parameters_decode():
    hyper = json.loads('{"parameter_id":null,"parameter_source":"customized","parameters":{"x":0.25}}')
    assert TrialHyperParameters(**hyper).parameter_index is None


def test_build_url_and_prefix():
    assert build_url(8080, "/check-status") == "http://localhost:8080/api/v1/nni/check-status"
    assert build_url(8080, "trial-jobs?status=RUNNING", "pre") == \
        "http://localhost:8080/pre/api/v1/nni/trial-jobs?status=RUNNING"
    assert strip_prefix("/a/b/") == "a/b" and strip_prefix("/") is None and strip_prefix(None) is None


def test_decode_answer_follows_nni_client_rules():
    url = "http://localhost:1/api/v1/nni/x"
    assert decode_answer("GET", url, 200, '{"a": 1}') == {"a": 1}
    assert decode_answer("GET", url, 200, "") is None
    assert decode_answer("PUT", url, 200, '{"a": 1}') is None
    assert decode_answer("DELETE", url, 200, "[]") is None
    with pytest.raises(InvalidResponseError, match="INITIALIZING") as info:
        decode_answer("GET", url, 200, "INITIALIZING")
    assert isinstance(info.value, requests.exceptions.JSONDecodeError)


@pytest.mark.parametrize("method,path,status,body,error_type", [
    ("PUT", "/experiment?update_type=X", 500,
     '{"error":"Error: can not update experiment profile in readonly mode!"}', ReadonlyExperimentError),
    ("POST", "/trial-jobs", 500, '{"error":"reach maxTrialNum"}', TrialLimitReachedError),
    ("DELETE", "/trial-jobs/abcde", 500,
     '{"error":"Cannot set properties of undefined (setting \'isEarlyStopped\')"}', TrialNotFoundError),
    ("GET", "/trial-jobs/abcde", 404, '{"error":"trial job not found"}', TrialNotFoundError),
    ("PUT", "/experiment", 400, '{"error":"unknown update_type"}', UnknownUpdateTypeError),
    ("GET", "/trial-file/a/b", 500, '{"error":"ENOENT"}', ManagerError),
    ("POST", "/nothing", 404, "Not Found", ManagerError),
])
def test_error_classification(method, path, status, body, error_type):
    url = "http://localhost:1/api/v1/nni" + path
    error = error_for_answer(method, url, status, body)
    assert type(error) is error_type
    assert isinstance(error, requests.HTTPError) and error.status_code == status
    with pytest.raises(error_type):
        decode_answer(method, url, status, body)


def test_ids():
    assert is_valid_experiment_id("a" * 32) and not is_valid_experiment_id("a" * 33)
    assert not is_valid_experiment_id(None) and not is_valid_experiment_id(12)
    assert check_experiment_id("ok_id-1") == "ok_id-1"
    generated = generate_experiment_id()
    assert is_valid_experiment_id(generated) and len(set(generated)) == 8


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("1.5h", 5400), ("2d", 172800), ("10M", 600),
                                          ("0.5s", 1), (30, 30), (2.2, 3)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad,message", [("10", "Bad unit"), ("1x", "Bad unit"), ("abch", "Bad number"),
                                         ("nanh", "Bad number"), (True, "Bad duration"), (None, "Bad duration")])
def test_parse_duration_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(bad)  # type: ignore[arg-type]
