"""Each route of the fake manager's router: status codes, JSON shapes and error envelopes, as the real
NNI 3.0 manager answers (``shared/reference/real_manager_observed.md`` §3-4)."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

import pytest

from fakes import FakeManager
from fakes.router import NNI_VERSION, route_table
from nni_exp import Experiment

from .conftest import make_config

API = "/api/v1/nni"


def reporting_trial(params: dict, trial: Any) -> Any:
    trial.sleep(1)
    trial.report_intermediate_result(0.5)
    trial.sleep(1)
    return {"default": 0.5, "other": 1} if trial.sequence_id == 0 else params["x"] * 2


@pytest.fixture
def done() -> Any:
    fake = FakeManager(reporting_trial, seed=11)
    exp = Experiment(make_config(), backend=fake)
    exp.run(8080)
    yield fake, exp
    exp.stop()


def get(fake: FakeManager, path: str) -> Any:
    answer = fake.handle(8080, "GET", API + path)
    assert answer.status == 200, answer.body
    assert answer.content_type == "application/json; charset=utf-8"
    return json.loads(answer.body)


def test_every_real_route_is_served():
    routes = {(method, pattern) for method, pattern in route_table()}
    expected = [("GET", "/version"), ("GET", "/check-status"), ("GET", "/experiment"), ("PUT", "/experiment"),
                ("POST", "/experiment"), ("DELETE", "/experiment"), ("GET", "/experiment-metadata"),
                ("GET", "/experiments-info"), ("POST", "/experiment/import-data"),
                ("GET", "/experiment/imported-data"), ("PUT", "/experiment/cluster-metadata"),
                ("GET", "/job-statistics"), ("GET", "/trial-jobs"), ("GET", "/trial-jobs/"), ("POST", "/trial-jobs"),
                ("DELETE", "/trial-jobs/"), ("GET", "/metric-data"), ("GET", "/metric-data-range/"),
                ("GET", "/metric-data-latest"), ("GET", "/trial-file/"), ("GET", "/export-data"),
                ("GET", "/tensorboard-tasks"), ("DELETE", "/tensorboard-tasks"), ("POST", "/tensorboard"),
                ("GET", "/tensorboard/"), ("PUT", "/tensorboard/"), ("DELETE", "/tensorboard/")]
    for method, path in expected:
        assert any(m == method and p.startswith("^" + path) for m, p in routes), (method, path)


def test_version_is_raw_text_under_a_json_content_type(done):
    fake, _ = done
    answer = fake.handle(8080, "GET", API + "/version")
    assert (answer.status, answer.body, answer.content_type) == (200, NNI_VERSION, "application/json; charset=utf-8")


def test_check_status_and_profile_shapes(done):
    fake, exp = done
    assert get(fake, "/check-status") == {"status": "DONE", "errors": []}
    profile = get(fake, "/experiment")
    assert list(profile) == ["params", "id", "execDuration", "logDir", "startTime", "endTime", "nextSequenceId",
                             "revision"]
    assert profile["logDir"] == f"{profile['params']['experimentWorkingDirectory']}/{exp.id}"
    assert all(isinstance(profile[k], int) for k in ("execDuration", "startTime", "endTime", "revision"))


def test_trial_job_shapes(done):
    fake, _ = done
    jobs = get(fake, "/trial-jobs")
    assert list(jobs[0]) == ["trialJobId", "status", "hyperParameters", "startTime", "logPath", "sequenceId",
                             "envId", "endTime", "finalMetricData"]
    first = jobs[0]
    assert first["envId"] == "local-env" and first["logPath"].endswith(f"/environments/local-env/trials/"
                                                                       f"{first['trialJobId']}")
    assert isinstance(first["hyperParameters"][0], str)  # each element is JSON text
    hyper = json.loads(first["hyperParameters"][0])
    assert list(hyper) == ["parameter_id", "parameter_source", "parameters", "parameter_index"]
    final = first["finalMetricData"][0]
    assert final["data"] == '"{\\"default\\": 0.5, \\"other\\": 1}"'  # encoded twice, Python spacing inside
    assert final["parameterId"] == "0" and final["type"] == "FINAL" and final["sequence"] == 0
    assert get(fake, f"/trial-jobs/{first['trialJobId']}") == first
    assert get(fake, "/trial-jobs?status=SUCCEEDED") == jobs
    assert get(fake, "/trial-jobs?status=NOPE") == []


def test_metric_routes(done):
    fake, _ = done
    metrics = get(fake, "/metric-data")
    assert [m["type"] for m in metrics].count("FINAL") == 4
    assert list(metrics[0]) == ["timestamp", "trialJobId", "parameterId", "type", "sequence", "data"]
    assert metrics[0]["data"] == '"0.5"'
    one = metrics[0]["trialJobId"]
    assert get(fake, f"/metric-data/{one}") == [m for m in metrics if m["trialJobId"] == one]
    assert get(fake, "/metric-data?type=FINAL") == [m for m in metrics if m["type"] == "FINAL"]
    assert get(fake, f"/metric-data/{one}?type=PERIODICAL") == [
        m for m in metrics if m["trialJobId"] == one and m["type"] == "PERIODICAL"]
    assert get(fake, "/metric-data/doesnotexist") == []
    latest = get(fake, "/metric-data-latest/")
    assert [m["type"] for m in latest] == ["FINAL"] * 4 + ["PERIODICAL"] * 4
    jobs = get(fake, "/trial-jobs")
    seq1 = next(j["trialJobId"] for j in jobs if j["sequenceId"] == 1)
    assert {m["trialJobId"] for m in get(fake, "/metric-data-range/1/1")} == {seq1}
    assert len(get(fake, "/metric-data-range/0/3")) == len(metrics)
    assert get(fake, "/metric-data-range/3/1") == [] and get(fake, "/metric-data-range/a/b") == []


def test_statistics_export_and_manifest_routes(done):
    fake, exp = done
    assert get(fake, "/job-statistics") == [{"trialJobStatus": "SUCCEEDED", "trialJobNumber": 4}]
    exported = get(fake, "/export-data")
    assert list(exported[0]) == ["parameter", "value", "trialJobId"]
    assert all(isinstance(item["value"], str) for item in exported)  # JSON text, decoded by the client
    assert json.loads(exported[0]["value"]) == {"default": 0.5, "other": 1}
    metadata = get(fake, "/experiment-metadata")
    assert list(metadata) == ["id", "port", "startTime", "endTime", "status", "platform", "experimentName", "tag",
                              "pid", "webuiUrl", "logDir", "prefixUrl"]
    assert get(fake, "/experiments-info") == [metadata]
    assert get(fake, "/experiment/imported-data") == []
    assert get(fake, "/tensorboard-tasks") == []


def test_trial_file_route(done):
    fake, _ = done
    trial_id = get(fake, "/trial-jobs")[0]["trialJobId"]
    for name, expected in (("stdout", "stdout is empty."), ("stderr", "stderr is empty.")):
        answer = fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/{name}")
        assert (answer.status, answer.body, answer.content_type) == (200, expected, "text/plain; charset=utf-8")
    log = fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/trial.log")
    assert (log.status, log.content_type) == (200, "text/plain; charset=utf-8")
    # NNI's trial runtime connects first, and says so
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "
                        r"INFO \(nni\.runtime\.trial_command_channel\.v3/MainThread\) "
                        rf"Connect to trial command channel http://localhost:8080/env/local-env/{trial_id}\n", log.body)
    missing = fake.handle(8080, "GET", f"{API}/trial-file/nope1/trial.log")
    assert missing.status == 500 and json.loads(missing.body)["error"].startswith("ENOENT: no such file")
    unknown_name = fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/model.bin")
    assert unknown_name.status == 500


def test_trial_log_lines_are_printed_lines():
    def chatty(params: dict, trial: Any) -> float:
        trial.log("epoch 1 done")
        trial.sleep(1)
        return 1.0

    fake = FakeManager(chatty, seed=1)
    exp = Experiment(make_config(max_trial_number=1), backend=fake)
    exp.run()
    trial_id = exp.list_trial_jobs()[0].trialJobId
    assert fake.handle(8080, "GET", f"{API}/trial-file/{trial_id}/trial.log").body.endswith(" PRINT epoch 1 done\n")
    exp.stop()


def test_trial_log_is_written_as_the_trial_runs():
    def slow_printer(params: dict, trial: Any) -> float:
        trial.log("start")
        trial.sleep(100)
        trial.log("two\nlines")
        trial.sleep(100)
        return 1.0

    fake = FakeManager(slow_printer, seed=1)
    exp = Experiment(make_config(max_trial_number=1), backend=fake)
    exp.start(8080)
    fake.advance(50)
    (job,) = exp.list_trial_jobs()
    started = job.startTime / 1000

    def printed() -> list:
        body = fake.handle(8080, "GET", f"{API}/trial-file/{job.trialJobId}/trial.log").body
        return [line for line in body.splitlines() if " PRINT " in line]

    assert [line.split(" PRINT ")[1] for line in printed()] == ["start"]
    fake.advance(100)
    lines = printed()
    assert [line.split(" PRINT ")[1] for line in lines] == ["start", "two", "lines"]
    stamp = datetime.datetime.strptime(lines[1][1:20], "%Y-%m-%d %H:%M:%S").timestamp()
    assert abs(stamp - (started + 100)) <= 1  # printed 100 virtual seconds after the start
    exp.stop()


def test_tensorboard_routes(done):
    fake, _ = done
    for method in ("GET", "PUT", "DELETE"):
        answer = fake.handle(8080, method, f"{API}/tensorboard/doesnotexist")
        assert (answer.status, json.loads(answer.body)) == (500, {"error": "Tensorboard task not found"})
    assert fake.handle(8080, "POST", f"{API}/tensorboard", "{}").status == 400
    assert fake.handle(8080, "DELETE", f"{API}/tensorboard-tasks").status == 200


def test_paths_are_case_insensitive_and_allow_a_trailing_slash(done):
    fake, _ = done
    assert fake.handle(8080, "GET", "/API/V1/NNI/CHECK-STATUS").status == 200
    assert fake.handle(8080, "GET", API + "/check-status/").status == 200


def test_unknown_routes(done):
    fake, _ = done
    answer = fake.handle(8080, "GET", API + "/nothing-here")
    assert answer.status == 404 and "no such route" in json.loads(answer.body)["error"]
    for method in ("POST", "PUT", "DELETE"):
        answer = fake.handle(8080, method, API + "/nothing-here")
        assert (answer.status, answer.body) == (404, "Not Found")
    assert fake.handle(8080, "GET", "/elsewhere").status == 404


def test_unknown_trial_ids(done):
    fake, _ = done
    for method in ("GET", "DELETE"):
        answer = fake.handle(8080, method, API + "/trial-jobs/doesnotexist")
        assert answer.status == 404 and "'doesnotexist' not found" in json.loads(answer.body)["error"]


def test_bad_bodies_and_update_types(done):
    fake, exp = done
    malformed = fake.handle(8080, "PUT", API + "/experiment?update_type=MAX_TRIAL_NUM", "{not json")
    assert malformed.status == 400 and "malformed JSON body" in json.loads(malformed.body)["error"]
    profile = json.dumps(exp.get_experiment_profile())
    for target in ("/experiment", "/experiment?update_type=BOGUS"):
        answer = fake.handle(8080, "PUT", API + target, profile)
        assert answer.status == 400 and "unknown update_type" in json.loads(answer.body)["error"]
    no_params = fake.handle(8080, "PUT", API + "/experiment?update_type=MAX_TRIAL_NUM", "{}")
    assert no_params.status == 400 and "'params'" in json.loads(no_params.body)["error"]
    bad_trial = fake.handle(8080, "POST", API + "/trial-jobs", "[1, 2]")
    assert bad_trial.status == 400
    bad_concurrency = dict(json.loads(profile))
    bad_concurrency["params"]["trialConcurrency"] = "many"
    answer = fake.handle(8080, "PUT", API + "/experiment?update_type=TRIAL_CONCURRENCY", json.dumps(bad_concurrency))
    assert answer.status == 400 and "trialConcurrency must be a number" in answer.body


def test_url_prefix():
    fake = FakeManager(reporting_trial, seed=1)
    exp = Experiment(make_config(), backend=fake)
    exp.url_prefix = "/myprefix/"
    assert exp.run() is True  # every client call goes through the prefix
    assert fake.handle(8080, "GET", "/myprefix/api/v1/nni/check-status").status == 200
    outside = fake.handle(8080, "GET", "/api/v1/nni/check-status")
    assert (outside.status, outside.body) == (404, 'Outside prefix "/myprefix"')
    assert fake.manifest.records()[exp.id]["prefixUrl"] == "myprefix"
    exp.stop()


def test_post_experiment_twice_keeps_the_experiment(done):
    fake, exp = done
    answer = fake.handle(8080, "POST", API + "/experiment", json.dumps(exp.config.json()))
    assert json.loads(answer.body) == {"experiment_id": exp.id}
    assert get(fake, "/check-status")["status"] == "DONE"


def test_delete_experiment_answers_then_exits(done):
    fake, exp = done
    answer = fake.handle(8080, "DELETE", API + "/experiment")
    assert (answer.status, answer.body) == (200, "")
    assert fake.ports == []
    assert fake.manifest.records()[exp.id]["status"] == "STOPPED"


def test_empty_answers_have_no_charset(done):
    """NNI's REST handler presets ``Content-Type: application/json``; Express adds ``; charset=utf-8``
    only when it sends a string, so the empty answers (import-data, updates, kills) have none. Found by
    the differential runs (``tests/differential``, the import-data action of an early generator's seed
    1003)."""
    fake, exp = done
    profile = json.dumps(exp.get_experiment_profile())
    trial = exp.list_trial_jobs()[0].trialJobId
    answers = [fake.handle(8080, "POST", API + "/experiment/import-data", '[{"parameter": {"x": 0.5}, "value": 1}]'),
               fake.handle(8080, "PUT", API + "/experiment?update_type=MAX_TRIAL_NUM", profile),
               fake.handle(8080, "DELETE", API + f"/trial-jobs/{trial}")]
    assert [(answer.status, answer.body, answer.content_type) for answer in answers] == \
        [(200, "", "application/json")] * 3
    assert fake.handle(8080, "GET", API + "/experiment/imported-data").content_type == \
        "application/json; charset=utf-8"
