"""The search seam (``fakes.search``) without ``nni``: the tuner command protocol, the simulated dispatcher
process (two workers, crashes, exit, kill) and nni-exp's own samplers behind it."""

from __future__ import annotations

import contextlib
import json
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeManager
from fakes.search import (
    SEARCH_IMPLEMENTATIONS,
    DispatcherLog,
    SearchRequest,
    SearchStartError,
    SearchUnavailableError,
    commands,
    open_search,
    resolve_implementation,
)
from fakes.search import nni_runtime as runtime_module
from fakes.search.own import OwnDispatcher, pack_parameters
from fakes.search.process import DispatcherProcess, SearchInfo
from fakes.tuners import NoMoreTrials, RandomTuner
from nni_exp import Experiment
from nni_exp.errors import ExperimentStalledError

from .conftest import make_config, three_second_trial

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}}


class Recorder:
    """Collects what a dispatcher sends back."""

    def __init__(self) -> None:
        self.sent: List[Tuple[str, str]] = []

    def __call__(self, command: str, content: str) -> None:
        self.sent.append((command, content))

    def commands(self) -> List[str]:
        return [command for command, _ in self.sent]

    def parameters(self) -> List[Any]:
        return [json.loads(content) for command, content in self.sent if command == commands.NEW_TRIAL_JOB]


class ListTuner:
    """Hands out the given parameter sets, then NoMoreTrials; records what it is told."""

    def __init__(self, suggestions: List[Dict[str, Any]]) -> None:
        self.suggestions = list(suggestions)
        self.results: List[Tuple[int, Any, Any]] = []
        self.imported: List[Any] = []
        self.ended: List[Tuple[Any, bool]] = []
        self.spaces: List[Any] = []

    def update_search_space(self, search_space: Dict[str, Any]) -> None:
        self.spaces.append(search_space)

    def generate_parameters(self, parameter_id: int) -> Dict[str, Any]:
        if not self.suggestions:
            raise NoMoreTrials("list exhausted")
        return self.suggestions.pop(0)

    def receive_trial_result(self, parameter_id: int, parameters: Dict[str, Any], value: Any) -> None:
        self.results.append((parameter_id, parameters, value))

    def import_data(self, data: List[Dict[str, Any]]) -> None:
        self.imported.append(data)

    def trial_end(self, parameter_id: Any, success: bool) -> None:
        self.ended.append((parameter_id, success))


def own(tuner: Any, fail_after: Optional[int] = None) -> Tuple[OwnDispatcher, Recorder]:
    recorder = Recorder()
    log = DispatcherLog(lambda: 1_800_000_000.0)
    return OwnDispatcher(tuner, recorder, log, SearchInfo("own", "test"), fail_after=fail_after), recorder


def metric(parameter_id: Any, value: Any, kind: str = "FINAL", trial: str = "abcde", sequence: int = 0) -> str:
    return json.dumps({"parameter_id": parameter_id, "trial_job_id": trial, "type": kind, "sequence": sequence,
                       "value": json.dumps(value)})


# ---------------------------------------------------------------------- the protocol, own dispatcher


def test_initialize_then_parameter_ids_are_consumed_even_when_the_tuner_runs_out() -> None:
    tuner = ListTuner([{"x": 1}, {"x": 2}, {"x": 3}])
    dispatcher, sent = own(tuner)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    assert sent.sent == [(commands.INITIALIZED, "")]
    assert tuner.spaces == [SPACE]
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "2")
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "2")  # one left, then NO for the batch
    assert sent.commands() == ["ID", "TR", "TR", "TR", "NO"]
    assert [(p["parameter_id"], p["parameters"]) for p in sent.parameters()] == [(0, {"x": 1}), (1, {"x": 2}),
                                                                                (2, {"x": 3})]
    assert json.loads(sent.sent[-1][1]) == {"parameter_id": 2, "parameter_source": "algorithm", "parameters": "",
                                            "parameter_index": 0}
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")  # ids 2 and 3 were spent by the last request
    assert json.loads(sent.sent[-1][1])["parameter_id"] == 4
    assert sent.sent[1][1] == pack_parameters(0, {"x": 1}) == (
        '{"parameter_id": 0, "parameter_source": "algorithm", "parameters": {"x": 1}, "parameter_index": 0}')


def test_results_go_to_the_tuner_except_customized_and_unknown_trials() -> None:
    tuner = ListTuner([{"x": 1}])
    dispatcher, _ = own(tuner)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    dispatcher.deliver(commands.REPORT_METRIC_DATA, metric(0, 0.25, "PERIODICAL"))
    dispatcher.deliver(commands.REPORT_METRIC_DATA, metric(0, {"default": 0.5, "loss": 2}))
    dispatcher.deliver(commands.REPORT_METRIC_DATA, metric(None, 0.9))  # a customized trial
    dispatcher.deliver(commands.REPORT_METRIC_DATA, metric(7, 0.9))  # never generated
    assert tuner.results == [(0, {"x": 1}, {"default": 0.5, "loss": 2})]
    dispatcher.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": "abcde", "event": "FAILED",
                                                        "hyper_params": pack_parameters(0, {"x": 1})}))
    assert tuner.ended == [(0, False)]


class Keeping(DispatcherProcess):
    """A dispatcher that keeps every decoded command (as NNI's keeps the ids of ended trials)."""

    def __init__(self) -> None:
        super().__init__(Recorder(), DispatcherLog(lambda: 0.0), SearchInfo("own", "keeping"))
        self.kept: List[Any] = []

    def _decode(self, command: str, content: str) -> Any:
        return json.loads(content)

    def _process(self, command: str, data: Any) -> None:
        self.kept.append(data)


def test_the_dispatcher_keeps_the_managers_own_trial_id_strings() -> None:
    ids = {trial_id: trial_id for trial_id in ("abcde", "Fgh12")}
    process = Keeping()
    process.same_trial_id = lambda text: ids.get(text, text)
    process.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": "abc" + "de", "event": "SUCCEEDED"}))
    process.deliver(commands.REPORT_METRIC_DATA, json.dumps({"trial_job_id": "Fgh12", "type": "FINAL"}))
    process.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": "zzzzz", "event": "FAILED"}))  # unknown: kept
    process.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": 5}))  # not a string: left alone
    process.deliver(commands.REQUEST_TRIAL_JOBS, "2")
    assert process.kept[0]["trial_job_id"] is ids["abcde"] and process.kept[1]["trial_job_id"] is ids["Fgh12"]
    assert process.kept[2:] == [{"trial_job_id": "zzzzz", "event": "FAILED"}, {"trial_job_id": 5}, 2]
    assert process.received == [commands.TRIAL_END, commands.REPORT_METRIC_DATA, commands.TRIAL_END,
                                commands.TRIAL_END, commands.REQUEST_TRIAL_JOBS]


def test_the_fake_hands_its_dispatcher_the_stores_trial_ids() -> None:
    fake = FakeManager(three_second_trial, seed=1, search="own")
    with Experiment(make_config(max_trial_number=2), backend=fake) as exp:
        assert exp.run(8080) is True
        manager = fake.manager_at(8080)
        assert manager.search is not None
        for job in exp.list_trial_jobs():
            equal = "".join(list(job.trialJobId))  # a new string
            stores = manager.store.same_trial_id(equal)
            assert stores == equal and stores is not equal and manager.search.same_trial_id(equal) is stores
        assert manager.search.same_trial_id("nope0") == "nope0"


def test_resume_continues_after_the_largest_resumed_id_and_imports_their_results() -> None:
    tuner = ListTuner([{"x": 9}])
    dispatcher, sent = own(tuner)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    dispatcher.deliver(commands.IMPORT_DATA, json.dumps([{"parameter": {"x": 1}, "value": "0.5", "trialJobId": "a"},
                                                         {"parameter": {"x": 2}, "value": {"default": 1}}]))
    assert tuner.imported == [[{"parameter": {"x": 1}, "value": 0.5, "trialJobId": "a"},
                               {"parameter": {"x": 2}, "value": {"default": 1}}]]
    resumed = [{"parameter_id": 3, "parameter_source": "resumed", "parameters": {"x": 3}, "parameter_index": 0},
               {"parameter_id": None, "parameter_source": "resumed", "parameters": {"x": 4}}]
    dispatcher.deliver(commands.ADD_CUSTOMIZED_TRIAL_JOB, json.dumps(resumed))
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    assert sent.parameters()[0]["parameter_id"] == 4
    dispatcher.deliver(commands.REPORT_METRIC_DATA, metric(3, 0.7))  # a resumed trial: imported, not a result
    assert tuner.imported[-1] == [{"parameter": {"x": 3}, "value": 0.7}]
    assert tuner.results == []
    dispatcher.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": "b", "event": "SUCCEEDED",
                                                        "hyper_params": json.dumps(resumed[0])}))
    assert tuner.ended == []  # the end of a resumed trial is not the tuner's business


def test_resume_without_resumed_trials_starts_at_id_one() -> None:
    """NNI's dispatcher counts from the largest resumed id, 0 when there is none: ids restart at 1."""
    dispatcher, sent = own(ListTuner([{"x": 1}]))
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    dispatcher.deliver(commands.ADD_CUSTOMIZED_TRIAL_JOB, "[]")
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    assert sent.parameters()[0]["parameter_id"] == 1


def test_a_raising_worker_stops_and_the_process_exits_at_the_next_command() -> None:
    class Raising(ListTuner):
        def generate_parameters(self, parameter_id: int) -> Dict[str, Any]:
            raise ZeroDivisionError("division in the tuner")

    tuner = Raising([])
    dispatcher, sent = own(tuner)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    assert dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    assert dispatcher.alive and dispatcher.failure == "ZeroDivisionError: division in the tuner"
    assert sent.commands() == ["ID"]  # nothing for the failed request, and no error to the manager
    # the assessor's worker is still alive: the next command is still handled, then the process exits
    dispatcher.deliver(commands.TRIAL_END, json.dumps({"trial_job_id": "a", "event": "SUCCEEDED",
                                                        "hyper_params": pack_parameters(0, {"x": 1})}))
    assert tuner.ended == [(0, True)]
    assert dispatcher.state == "exited" and not dispatcher.alive
    assert dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1") is False
    lines = dispatcher.log.text.splitlines()
    assert "ERROR (nni.runtime.msg_dispatcher_base/Thread-1 (command_queue_worker)) division in the tuner" in lines[2]
    assert "ZeroDivisionError: division in the tuner" in lines
    assert lines[-2].endswith("INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher exiting...")
    assert lines[-1].endswith("INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher terminiated")


def test_a_dead_worker_drops_its_commands_and_the_other_worker_goes_on() -> None:
    class BadEnd(ListTuner):
        def trial_end(self, parameter_id: Any, success: bool) -> None:
            raise KeyError("trial end")

    tuner = BadEnd([{"x": 1}, {"x": 2}])
    dispatcher, sent = own(tuner)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    end = json.dumps({"trial_job_id": "a", "event": "SUCCEEDED", "hyper_params": pack_parameters(0, {"x": 1})})
    dispatcher.deliver(commands.TRIAL_END, end)  # the assessor's worker dies
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")  # the default worker handles it, then exit
    assert sent.commands() == ["ID", "TR"] and dispatcher.state == "exited"


def test_terminate_ends_the_process_and_kill_silences_it() -> None:
    dispatcher, sent = own(ListTuner([{"x": 1}]))
    dispatcher.deliver(commands.TERMINATE, "")
    assert dispatcher.state == "exited" and dispatcher.failure is None
    killed, _ = own(ListTuner([{"x": 1}]))
    killed.kill()
    assert killed.state == "killed" and killed.deliver(commands.INITIALIZE, json.dumps(SPACE)) is False


def test_the_tuner_error_fault_raises_in_the_worker() -> None:
    dispatcher, sent = own(ListTuner([{"x": 1}, {"x": 2}, {"x": 3}]), fail_after=2)
    dispatcher.deliver(commands.INITIALIZE, json.dumps(SPACE))
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    dispatcher.deliver(commands.REQUEST_TRIAL_JOBS, "1")
    assert dispatcher.parameters_sent == 2
    assert dispatcher.failure == "InjectedTunerError: injected fault: tuner crashed after 2 parameter set(s)"


def test_a_command_that_cannot_be_decoded_is_an_error_report() -> None:
    dispatcher, sent = own(ListTuner([]))
    dispatcher.deliver(commands.INITIALIZE, "{not json")
    assert sent.commands() == [commands.ERROR] and "JSONDecodeError" in sent.sent[0][1]
    assert dispatcher.state == "exited"


@given(st.text(min_size=1, max_size=4))
def test_commands_outside_the_protocol_are_refused(command: str) -> None:
    dispatcher, sent = own(ListTuner([]))
    if command in commands.TO_DISPATCHER:
        return
    with pytest.raises(ValueError, match="is not a command of the manager"):
        dispatcher.deliver(command, "")
    with pytest.raises(ValueError, match="is not a command of a dispatcher"):
        dispatcher.send(command if command not in commands.FROM_DISPATCHER else "??", "")


def test_the_base_class_needs_an_implementation() -> None:
    process = DispatcherProcess(Recorder(), DispatcherLog(lambda: 0.0), SearchInfo("own", "none"))
    process.deliver(commands.INITIALIZE, "{}")  # _decode is not implemented: a main-loop failure
    assert process.state == "exited" and process.failure is not None


# ---------------------------------------------------------------------- choosing the implementation


def test_search_settings() -> None:
    assert resolve_implementation("own") == "own"
    assert resolve_implementation("auto") in ("nni", "own")
    with pytest.raises(ValueError, match="search must be one of auto, nni, own"):
        resolve_implementation("tpe")
    assert SEARCH_IMPLEMENTATIONS == ("auto", "nni", "own")


def test_nni_asked_for_where_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime_module, "_checked", True)
    monkeypatch.setattr(runtime_module, "_missing", "nni is not installed")
    assert resolve_implementation("auto") == "own"
    with pytest.raises(SearchUnavailableError, match=r'search="nni" needs NNI 3.0 in this process \(nni is not'):
        resolve_implementation("nni")
    with pytest.raises(SearchUnavailableError):
        FakeManager(search="nni")
    assert FakeManager(search="auto").search == "own"


@given(st.one_of(st.text(max_size=8), st.integers(), st.none(), st.lists(st.just("own"), max_size=1)))
@settings(max_examples=40)
def test_fake_manager_refuses_bad_search_values(value: Any) -> None:
    if value in SEARCH_IMPLEMENTATIONS:
        return
    with pytest.raises(ValueError, match="search must be one of 'auto', 'nni', 'own', got"):
        FakeManager(search=value)


def own_search(tuner: Optional[Dict[str, Any]], assessor: Optional[Dict[str, Any]] = None,
               override: Any = None) -> DispatcherProcess:
    return open_search(SearchRequest(tuner=tuner, assessor=assessor), emit=Recorder(),
                       log=DispatcherLog(lambda: 0.0), implementation="own", override=override, seed=3)


def test_own_samplers_say_what_they_approximate() -> None:
    exact = own_search({"name": "GridSearch"})
    assert exact.info.implementation == "own" and exact.info.approximations == ()
    assert exact.info.describe() == "search: nni-exp's own samplers (tuner GridSearch)"
    tpe = own_search({"name": "tpe", "classArgs": {"optimize_mode": "maximize"}}, {"name": "Medianstop"})
    assert tpe.info.approximations == ("tuner TPE is approximated by random sampling",
                                       "assessor Medianstop is ignored (no early stopping)")
    assert "approximated: tuner TPE is approximated by random sampling; assessor Medianstop" in tpe.info.describe()
    custom = own_search({"className": "my.Tuner", "codeDirectory": "/code"})
    assert custom.info.approximations == (
        "custom tuner my.Tuner (from /code) is not imported without nni: random sampling",)
    assert isinstance(own_search({"name": "Random"}, override=RandomTuner(seed=1)), OwnDispatcher)


@pytest.mark.parametrize("tuner, assessor, message", [
    ({"name": "tpee"}, None, "Builtin name is not found: tpee"),
    ({"name": "Random", "classArgs": {"nonsense": 1}}, None, "unexpected classArgs nonsense"),
    (None, None, "the experiment has no tuner"),
    ({"name": "Random"}, {"name": "Medianstopp"}, "Builtin name is not found: medianstopp"),
])
def test_own_samplers_fail_where_nni_would(tuner: Any, assessor: Any, message: str) -> None:
    with pytest.raises(SearchStartError, match=message) as raised:
        own_search(tuner, assessor)
    assert "ERROR (nni.main/MainThread) " in raised.value.log.text


def test_own_samplers_refuse_a_bad_override() -> None:
    with pytest.raises(TypeError, match="tuner override must be a Tuner or a callable, got int"):
        own_search({"name": "Random"}, override=42)


# ---------------------------------------------------------------------- through the fake manager


@contextlib.contextmanager
def started_with_own_search(tuner_name: str) -> Iterator[Any]:
    """The simulated manager of an experiment started with ``tuner_name`` and ``search="own"``."""
    fake = FakeManager(three_second_trial, seed=1, search="own")
    config = make_config()
    config.tuner.name = tuner_name
    with Experiment(config, backend=fake) as exp:
        exp.start(8080)
        yield fake.manager_at(8080)


def test_the_fake_logs_which_implementation_runs_the_search() -> None:
    with started_with_own_search("Evolution") as manager:
        assert manager.search is not None and manager.search.info.implementation == "own"
        assert ("search: nni-exp's own samplers (tuner Evolution); approximated: tuner Evolution is approximated "
                "by random sampling") in manager.log_lines[0]


def test_own_search_runs_an_experiment_to_the_end() -> None:
    fake = FakeManager(three_second_trial, seed=1, search="own")
    with Experiment(make_config(max_trial_number=6), backend=fake) as exp:
        assert exp.run(8080) is True
        jobs = exp.list_trial_jobs()
        assert sorted(job.hyperParameters[0].parameter_id for job in jobs) == list(range(6))
        received = fake.manager_at(8080).search
        assert received is not None
        sent = received.received
        assert sent[0] == commands.INITIALIZE and sent.count(commands.TRIAL_END) == 6
        assert sent.count(commands.REPORT_METRIC_DATA) == 6


def test_a_raising_own_tuner_stalls_the_experiment_as_nni_does() -> None:
    fake = FakeManager(three_second_trial, seed=1, search="own", tuner=lambda i, space, rng: 1 / 0)
    with Experiment(make_config(), backend=fake) as exp:
        with pytest.raises(ExperimentStalledError, match="ZeroDivisionError: division by zero"):
            exp.run(8080)
        assert exp.get_status() == "RUNNING" and exp.list_trial_jobs() == []


def test_stall_detection_can_be_switched_off_and_is_validated() -> None:
    fake = FakeManager(three_second_trial, seed=1, search="own", tuner=lambda i, space, rng: 1 / 0,
                       stall_after=None)
    with Experiment(make_config(), backend=fake) as exp:
        exp.start(8080)
        for _ in range(2000):  # 10,000 virtual seconds of waiting: no error
            fake.clock.sleep(5)
        assert exp.get_status() == "RUNNING"
    for bad in (0, -1, "1", True, float("nan")):
        with pytest.raises(ValueError, match="stall_after must be a number of seconds > 0 or None"):
            FakeManager(stall_after=bad)


def test_the_manager_says_which_search_failed_to_start() -> None:
    with started_with_own_search("NoSuchTuner") as manager:
        assert manager.search is None and manager.search_info is not None
        assert manager.search_info.implementation == "own" and manager.search_info.tuner == "NoSuchTuner"
        assert "RuntimeError: Builtin name is not found: nosuchtuner" in manager.dispatcher_log.text
