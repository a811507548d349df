"""NNI's own dispatcher and algorithms in-process (``fakes.search`` with ``nni``): isolation between
experiments, reproducibility, logging, custom code, the serializer, and the failures NNI has.

Needs ``nni==3.0`` (marked ``real_nni``: under ``NNI_EXP_REQUIRE_REAL=1`` a skip is a failure)."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakes import FakeManager
from fakes.search import DispatcherLog, SearchRequest, SearchStartError, commands, open_search
from fakes.search.nni_runtime import PROCESS_GLOBALS, nni_missing_reason, runtime
from fakes.search.nni_serializer import is_plain, make_serializer
from fakes.tuners import RandomTuner
from nni_exp import Experiment
from nni_exp.errors import ExperimentStalledError

from .conftest import make_config, three_second_trial

pytestmark = [
    pytest.mark.real_nni,
    pytest.mark.skipif(nni_missing_reason() is not None, reason=f"NNI's algorithms: {nni_missing_reason()}"),
]

SPACE = {"x": {"_type": "uniform", "_value": [0, 1]}, "y": {"_type": "uniform", "_value": [0, 1]}}


def params_of(experiment: Experiment) -> List[Dict[str, Any]]:
    return [job.hyperParameters[0].parameters for job in experiment.list_trial_jobs()]


def run_to_end(fake: FakeManager, port: int = 8080, **overrides: Any) -> List[Dict[str, Any]]:
    with Experiment(make_config(**overrides), backend=fake) as exp:
        assert exp.run(port) is True
        return params_of(exp)


# ---------------------------------------------------------------------- the serializer


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.booleans())
def test_the_fast_serializer_writes_what_nni_writes(value: Any, sort_keys: bool) -> None:
    from nni.common.serializer import dump

    ours = make_serializer()
    kwargs = {"sort_keys": True} if sort_keys else {}
    assert ours.dump(value, **kwargs) == dump(value, **kwargs)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_the_fast_serializer_reads_what_nni_reads(value: Any) -> None:
    from nni.common.serializer import dump, load

    ours = make_serializer()
    text = dump(value)
    mine, theirs = ours.load(text), load(text)
    assert json.dumps(mine) == json.dumps(theirs)  # NaN-safe equality, types included
    assert type(mine) is type(theirs)


def test_the_serializer_leaves_what_is_not_plain_json_to_nni() -> None:
    import numpy

    warnings: List[str] = []
    ours = make_serializer(warnings.append)
    assert not is_plain({"x": numpy.float64(0.5)}) and not is_plain({1: 2}) and not is_plain({"__ndarray__": 1})
    assert ours.dump({"x": numpy.int64(3)}) == '{"x": 3}'
    assert warnings and "numpy scalar serialization is experimental" in warnings[0]
    assert ours.load('{"a": 1} # a comment') == {"a": 1}  # json-tricks strips comments
    decoded = ours.load(ours.dump({"s": {1, 2}}))
    assert decoded == {"s": {1, 2}}


# ---------------------------------------------------------------------- per-process state


def test_the_process_globals_cover_every_global_statement_of_nnis_dispatcher_path() -> None:
    """NNI's dispatcher process keeps state in module globals; every one it rebinds is in the table."""
    for module_name, names in PROCESS_GLOBALS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # BOHB without ConfigSpace
        tree = ast.parse(inspect.getsource(module))
        rebound = {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}
        mutable = {target.id for node in tree.body if isinstance(node, ast.Assign)
                   for target in node.targets if isinstance(target, ast.Name)
                   and isinstance(node.value, (ast.Dict, ast.Set, ast.Call)) and target.id.startswith("_")
                   and not target.id.startswith("__") and target.id != "_logger"}
        assert rebound | mutable <= set(names), (module_name, sorted((rebound | mutable) - set(names)))


def test_experiments_in_one_process_do_not_share_nnis_globals() -> None:
    """Two experiments interleaved: each counts parameter ids from 0 and gets the sequence it gets alone."""
    import nni.runtime.msg_dispatcher as dispatcher_module

    # What a fresh process has (an experiment of an earlier test may still own the modules now).
    before = (0, {})
    alone = run_to_end(FakeManager(three_second_trial, seed=5), max_trial_number=6)
    fake = FakeManager(three_second_trial, seed=5)
    first = Experiment(make_config(max_trial_number=6), backend=fake)
    second = Experiment(make_config(max_trial_number=6), backend=fake)
    first.start(8080)
    second.start(8081)
    assert first.wait_completion() and second.wait_completion()
    for experiment in (first, second):
        assert sorted(job.hyperParameters[0].parameter_id for job in experiment.list_trial_jobs()) == list(range(6))
    assert params_of(first) == alone  # the first manager spawned draws the first seed, as alone
    first.stop()
    second.stop()
    assert (dispatcher_module._next_parameter_id, dispatcher_module._trial_params) == before


def test_resume_starts_a_new_dispatcher_that_recovers_the_parameter_ids() -> None:
    def slow(params: Dict[str, Any], trial: Any) -> float:
        trial.sleep(30)
        return float(params["x"])

    fake = FakeManager(slow, seed=2)
    exp = Experiment(make_config(max_trial_number=4), backend=fake)
    exp.start(8080)
    fake.advance(10)  # trials 0 and 1 running
    exp.stop()
    resumed = Experiment(None, exp.id, backend=fake)
    resumed.resume(8080, wait_completion=False)
    assert resumed.wait_completion() is True
    ids = [job.hyperParameters[0].parameter_id for job in resumed.list_trial_jobs()]
    assert sorted(ids) == [0, 1, 2, 3]  # the resumed dispatcher continues after the largest resumed id
    sent = fake.manager_at(8080).search.received
    assert sent[:4] == [commands.INITIALIZE, commands.IMPORT_DATA, commands.ADD_CUSTOMIZED_TRIAL_JOB,
                        commands.REQUEST_TRIAL_JOBS]
    resumed.stop()


def test_unseeded_algorithms_are_reproducible_under_a_seeded_fake() -> None:
    def evolution(seed: Any) -> List[Dict[str, Any]]:
        return run_to_end(FakeManager(three_second_trial, seed=seed), search_space=SPACE, trial_concurrency=1,
                          max_trial_number=6, tuner={"name": "Evolution", "class_args": {"population_size": 2}})

    first = evolution(11)
    assert evolution(11) == first
    assert evolution(12) != first
    assert evolution(None) != evolution(None)  # as NNI: no seed, a new stream every time
    # population of 2: the later trials are mutations of a parent (one parameter re-drawn)
    for later in first[2:]:
        assert any(sum(later[key] != parent[key] for key in SPACE) <= 1 for parent in first[: first.index(later)])


def test_a_classargs_seed_gives_nnis_own_numbers() -> None:
    from nni.algorithms.hpo.random_tuner import RandomTuner as NniRandom

    nni_tuner = NniRandom(seed=42)
    nni_tuner.update_search_space({"x": {"_type": "uniform", "_value": [0, 1]}})
    expected = [nni_tuner.generate_parameters(i) for i in range(4)]
    assert run_to_end(FakeManager(three_second_trial, seed=99), trial_concurrency=1,
                      tuner={"name": "Random", "class_args": {"seed": 42}}) == expected


def test_the_global_random_state_of_this_process_is_left_alone() -> None:
    import random

    import numpy

    random.seed(3)
    numpy.random.seed(3)
    expected = (random.random(), numpy.random.random())
    random.seed(3)
    numpy.random.seed(3)
    run_to_end(FakeManager(three_second_trial, seed=1), search_space=SPACE, max_trial_number=6,
               tuner={"name": "Evolution", "class_args": {"population_size": 2}})
    assert (random.random(), numpy.random.random()) == expected
    assert numpy.random.RandomState is importlib.import_module("numpy.random.mtrand").RandomState


# ---------------------------------------------------------------------- logging


def test_dispatcher_logs_go_to_the_experiments_log_only(capsys: pytest.CaptureFixture[str],
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    root_handlers = list(logging.getLogger().handlers)
    fake = FakeManager(three_second_trial, seed=1)
    with Experiment(make_config(tuner={"name": "TPE", "class_args": {"seed": 7}}), backend=fake) as exp:
        exp.run(8080)
        log = fake.manager_at(8080).dispatcher_log.text
    assert "INFO (nni.tuner.tpe/MainThread) Using random seed 7" in log
    assert "INFO (nni.runtime.msg_dispatcher_base/MainThread) Dispatcher started" in log
    assert "Using random seed" not in capsys.readouterr().out
    assert not [record for record in caplog.records if record.name.startswith("nni.")]
    assert logging.getLogger().handlers == root_handlers


# ---------------------------------------------------------------------- custom algorithms


TUNER_TEMPLATE = textwrap.dedent("""\
    from nni.tuner import Tuner

    class ConstantTuner(Tuner):
        def update_search_space(self, space):
            pass

        def generate_parameters(self, parameter_id, **kwargs):
            return {{"x": {value}}}

        def receive_trial_result(self, *args, **kwargs):
            pass
""")


def test_custom_tuners_are_imported_per_experiment(tmp_path: Path) -> None:
    """Same module name in two directories: each experiment imports its own, as a new process would;
    ``sys.path`` and ``sys.modules`` are left as they were."""
    directories = []
    for value in (0.25, 0.75):
        directory = tmp_path / f"code{value}"
        directory.mkdir()
        (directory / "constant_tuner.py").write_text(TUNER_TEMPLATE.format(value=value))
        directories.append(directory)
    path_before = list(sys.path)
    fake = FakeManager(three_second_trial, seed=1)
    seen = []
    for directory in directories:
        tuner = {"class_name": "constant_tuner.ConstantTuner", "code_directory": str(directory)}
        seen.append({p["x"] for p in run_to_end(fake, tuner=tuner, max_trial_number=2)})
    assert seen == [{0.25}, {0.75}]
    assert sys.path == path_before and "constant_tuner" not in sys.modules


def test_an_nni_tuner_object_and_an_own_tuner_both_plug_into_nnis_dispatcher() -> None:
    from nni.algorithms.hpo.gridsearch_tuner import GridSearchTuner as NniGrid

    grid = {"x": {"_type": "choice", "_value": [0.1, 0.2, 0.3]}}
    with_nni_object = run_to_end(FakeManager(three_second_trial, seed=1, tuner=NniGrid()), search_space=grid,
                                 trial_concurrency=1, max_trial_number=3)
    assert with_nni_object == [{"x": 0.1}, {"x": 0.2}, {"x": 0.3}]
    fake = FakeManager(three_second_trial, seed=1, tuner=RandomTuner(seed=4))
    assert len(run_to_end(fake, assessor={"name": "Medianstop"})) == 4
    assert fake.search == "nni"


# ---------------------------------------------------------------------- assessors and advisors


def test_medianstop_stops_trials_as_the_real_manager_shows_them() -> None:
    """Batch x = 0.5, 0.9, 0.1, 0.7 with Medianstop: #2 is killed after its first report and ends
    USER_CANCELED, with no final result and out of the export data (see the ``medianstop`` scenario)."""

    def paced(params: Dict[str, Any], trial: Any) -> float:
        trial.sleep(2.5)
        for step in range(3):
            trial.report_intermediate_result(params["x"] * (step + 1) / 10)
            trial.sleep(1)
        return float(params["x"])

    space = {"p": {"_type": "choice", "_value": [{"x": 0.5}, {"x": 0.9}, {"x": 0.1}, {"x": 0.7}]}}
    fake = FakeManager(paced, seed=1)
    with Experiment(make_config(search_space=space, tuner={"name": "Batch"}, trial_concurrency=1,
                                assessor={"name": "Medianstop", "class_args": {"start_step": 1}}),
                    backend=fake) as exp:
        assert exp.run(8080) is True
        jobs = exp.list_trial_jobs()
        assert [job.status for job in jobs] == ["SUCCEEDED", "SUCCEEDED", "USER_CANCELED", "SUCCEEDED"]
        stopped = exp.get_job_metrics(jobs[2].trialJobId)[jobs[2].trialJobId]
        assert [(m.type, m.data) for m in stopped] == [("PERIODICAL", 0.01)]
        assert sorted(r.value for r in exp.export_data()) == [0.5, 0.7, 0.9]


def test_hyperband_sends_string_ids_and_budgets_then_crashes_as_nni_3_0() -> None:
    fake = FakeManager(three_second_trial, seed=1)
    config = make_config(tuner={"name": "Hyperband", "class_args": {"R": 3, "eta": 3}}, trial_concurrency=1,
                         max_trial_number=6)
    with Experiment(config, backend=fake) as exp:
        with pytest.raises(ExperimentStalledError, match="TypeError: '<=' not supported between instances of 'str'"):
            exp.run(8080)
        jobs = fake.request("GET", 8080, "/trial-jobs")
        packed = json.loads(jobs[0]["hyperParameters"][0])
        assert packed["parameter_id"] == "0-1_0_0" and "parameter_index" not in packed
        assert packed["parameters"]["TRIAL_BUDGET"] == 1
        assert len(jobs) == 1 and exp.get_status() == "RUNNING"


@pytest.mark.parametrize("tuner, message", [
    ({"name": "TPEE"}, "RuntimeError: Builtin name is not found: tpee"),
    ({"name": "Random", "classArgs": {"seed": 1, "bad": 2}}, "unexpected keyword argument 'bad'"),
    ({"name": "TPE", "classArgs": {"optimize_mode": "maximise"}}, "'maximise' is not a valid OptimizeMode"),
    ({"className": "nosuch.Tuner", "codeDirectory": "/tmp"}, "No module named 'nosuch'"),
])
def test_algorithms_nni_cannot_create(tuner: Dict[str, Any], message: str) -> None:
    with pytest.raises(SearchStartError, match=message) as raised:
        open_search(SearchRequest(tuner=tuner), emit=lambda command, content: None,
                    log=DispatcherLog(lambda: 0.0), implementation="nni")
    assert "ERROR (nni.main/MainThread)" in raised.value.log.text


def test_the_runtime_is_one_per_process() -> None:
    assert runtime() is runtime()


def test_registered_algorithms_are_resolved_as_nni_resolves_them(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``nnictl algo register`` writes the user's registry; the fake re-reads it when it changes."""
    from nni.tools.package_utils.common import AlgoMeta
    from nni.tools.package_utils.config_manager import register_algo_meta, unregister_algo_meta

    code = tmp_path / "code"
    code.mkdir()
    (code / "constant_tuner.py").write_text(TUNER_TEMPLATE.format(value=0.5))
    monkeypatch.setenv("NNI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.syspath_prepend(str(code))

    def start(name: str) -> Any:
        return open_search(SearchRequest(tuner={"name": name}), emit=lambda command, content: None,
                           log=DispatcherLog(lambda: 0.0), implementation="nni")

    with pytest.raises(SearchStartError, match="Builtin name is not found: constant"):
        start("Constant")
    register_algo_meta(AlgoMeta("Constant", None, "constant_tuner.ConstantTuner", True, None, None, "tuner",
                                False, False, None))
    assert type(start("constant").algorithms["tuner"]).__name__ == "ConstantTuner"
    unregister_algo_meta("Constant")
    with pytest.raises(SearchStartError, match="Builtin name is not found: constant"):
        start("Constant")
