"""ConfigBase mechanics: keys, unknown fields, nested dicts, paths, load, json, copy and pickle."""

from __future__ import annotations

import copy
import json
import os
import pickle
from pathlib import Path
from typing import Any, Dict, List, Literal, Optional, Union

import pytest

from nni_exp.config import (
    MISSING,
    AlgorithmConfig,
    ConfigFileError,
    ExperimentConfig,
    LocalConfig,
    RemoteConfig,
    RemoteMachineConfig,
    UnknownFieldError,
)
from nni_exp.config.algorithm import _AlgorithmConfig
from nni_exp.config.base import ConfigBase, camel_case, is_missing, normalize_key, resolve_path, type_matches
from nni_exp.errors import ConfigError

from .config_samples import SPACE
from .config_samples import config_kwargs as minimal

# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["trial_concurrency", "trialConcurrency", "TRIALCONCURRENCY", "_trial_concurrency_"]
)
def test_every_spelling_of_a_key_hits_the_same_field(key: str) -> None:
    kwargs = minimal()
    del kwargs["trial_concurrency"]
    config = ExperimentConfig(**{**kwargs, key: 7})
    assert config.trial_concurrency == 7


def test_later_spelling_wins() -> None:
    config = ExperimentConfig(**minimal(trial_concurrency=1), trialConcurrency=3)
    assert config.trial_concurrency == 3


def test_helpers_for_names() -> None:
    assert normalize_key("_Trial_Concurrency_") == "trialconcurrency"
    assert camel_case("nni_manager_ip") == "nniManagerIp"
    assert camel_case("tuner_gpu_indices") == "tunerGpuIndices"
    assert camel_case("_debug_") == "debug"


def test_unknown_keys_are_named_after_normalization() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(**minimal(), foo_bar=1, Baz=2)
    assert str(info.value) == "ExperimentConfig does not have field(s) foobar, baz"
    assert info.value.names == ("foobar", "baz")
    assert info.value.field == "foobar"
    # compatible with the except clauses written for NNI (AttributeError) and for ConfigError
    assert isinstance(info.value, AttributeError)
    assert isinstance(info.value, ConfigError)
    assert isinstance(info.value, ValueError)


def test_missing_fields_get_defaults_or_missing() -> None:
    config = ExperimentConfig()
    assert config.trial_code_directory == "."
    assert config.experiment_working_directory == "~/nni-experiments"
    assert config.use_annotation is False
    assert is_missing(config.trial_concurrency)
    assert is_missing(config.training_service)
    assert repr(MISSING) == "MISSING"


# --- attribute guard ------------------------------------------------------------------------


def test_assigning_an_unknown_attribute_raises() -> None:
    config = ExperimentConfig(**minimal())
    with pytest.raises(UnknownFieldError, match="^ExperimentConfig does not have field trialConcurrency$"):
        config.trialConcurrency = 3
    assert not hasattr(config, "trialConcurrency")


def test_private_attributes_and_fields_can_be_assigned() -> None:
    config = ExperimentConfig(**minimal())
    config.max_trial_number = 5
    config._note = "private"
    assert config.max_trial_number == 5
    assert config._note == "private"  # type: ignore[attr-defined]


# --- nested configs -------------------------------------------------------------------------


def test_nested_dicts_become_configs() -> None:
    config = ExperimentConfig(
        **minimal(
            training_service={
                "platform": "remote",
                "machineList": [{"host": "h1", "user": "u", "password": "p"}, {"host": "h2", "user": "u"}],
            }
        )
    )
    service = config.training_service
    assert isinstance(service, RemoteConfig)
    assert [type(m) for m in service.machine_list] == [RemoteMachineConfig, RemoteMachineConfig]
    assert service.machine_list[1].host == "h2"
    assert service.machine_list[1].port == 22


def test_algorithm_dicts_become_the_union_class() -> None:
    config = ExperimentConfig(**minimal(tuner={"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}))
    assert type(config.tuner) is _AlgorithmConfig
    assert config.tuner.class_args == {"optimize_mode": "maximize"}


def test_config_objects_are_kept_as_given() -> None:
    tuner = AlgorithmConfig(name="TPE")
    service = LocalConfig(use_active_gpu=True)
    config = ExperimentConfig(**minimal(tuner=tuner, training_service=service))
    assert config.tuner is tuner
    assert config.training_service is service


def test_assigned_dicts_are_converted_too() -> None:
    config = ExperimentConfig(**minimal())
    config.tuner = {"name": "Anneal"}  # type: ignore[assignment]
    config.training_service = {"platform": "local", "useActiveGpu": True}  # type: ignore[assignment]
    assert isinstance(config.tuner, _AlgorithmConfig)
    assert isinstance(config.training_service, LocalConfig)
    assert config.json()["tuner"] == {"name": "Anneal"}


def test_a_bad_monomorphic_nested_dict_fails_at_construction_with_its_location() -> None:
    with pytest.raises(UnknownFieldError) as info:
        ExperimentConfig(
            **minimal(training_service={"platform": "remote", "machineList": [{"host": "h", "sshKey": "k"}]})
        )
    assert str(info.value) == "RemoteMachineConfig does not have field(s) sshkey"
    assert info.value.field == "training_service.machine_list[0].sshkey"


def test_a_bad_algorithm_dict_fails_only_on_validation() -> None:
    config = ExperimentConfig(**minimal(tuner={"name": "TPE", "foo": 1}))  # as NNI: no error yet
    assert config.tuner == {"name": "TPE", "foo": 1}
    with pytest.raises(UnknownFieldError, match=r"^_AlgorithmConfig does not have field\(s\) foo$") as info:
        config.validate()
    assert info.value.field == "tuner.foo"


def test_non_string_keys_in_a_nested_dict_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="keys must be strings"):
        ExperimentConfig(**minimal(training_service={"platform": "remote", "machineList": [{1: 2}]}))


# --- type checker ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "hint", "expected"),
    [
        (1, int, True),
        (True, int, False),
        ("1", int, False),
        (None, Optional[int], True),
        (1.5, Union[str, int, None], False),
        ("1h", Union[str, int, None], True),
        ([0, 1], list[int], True),
        ([0, "a"], list[int], False),
        ((0, 1), list[int], False),
        ({"a": 1}, dict[str, Any], True),
        ({1: 1}, dict[str, Any], False),
        ("hpo", Literal["hpo"], True),
        ("nas", Literal["hpo"], False),
        (Path("x"), Union[Path, str], True),
        (object(), Any, True),
        (2, float, True),
        (LocalConfig(), Optional[LocalConfig], True),
        ({}, Optional[LocalConfig], False),
    ],
)
def test_type_matches(value: Any, hint: Any, expected: bool) -> None:
    assert type_matches(value, hint) is expected


def test_type_mismatch_message_names_field_value_and_type() -> None:
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**minimal(trial_concurrency="2")).validate()
    assert str(info.value) == "ExperimentConfig: type of trial_concurrency ('2') is not <class 'int'>"
    assert info.value.field == "trial_concurrency"


def test_bool_is_not_an_int() -> None:  # NNI (typeguard) accepts True here; we do not
    with pytest.raises(ConfigError, match=r"type of trial_concurrency \(True\)"):
        ExperimentConfig(**minimal(trial_concurrency=True)).validate()


# --- paths ----------------------------------------------------------------------------------


def test_resolve_path(tmp_path: Path) -> None:
    assert resolve_path("a/../b", tmp_path) == os.path.realpath(tmp_path / "b")
    assert resolve_path("/abs", tmp_path) == os.path.realpath("/abs")
    assert resolve_path("~/x", tmp_path) == os.path.realpath(os.path.expanduser("~/x"))


def test_code_built_configs_resolve_against_the_cwd_of_canonicalization(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    config = ExperimentConfig(**minimal())
    monkeypatch.chdir(second)  # as NNI: the CWD at json() time counts
    assert config.json()["trialCodeDirectory"] == os.path.realpath(second)


def test_paths_become_absolute_strings_in_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "code").mkdir()
    config = ExperimentConfig(
        **minimal(trial_code_directory=Path("code"), experiment_working_directory="exps")
    )
    data = config.json()
    assert data["trialCodeDirectory"] == os.path.realpath(tmp_path / "code")
    assert data["trainingService"]["trialCodeDirectory"] == data["trialCodeDirectory"]
    assert data["experimentWorkingDirectory"] == os.path.realpath(tmp_path / "exps")
    assert config.trial_code_directory == Path("code")  # the original is untouched


# --- load -----------------------------------------------------------------------------------

NNICTL_YAML = """\
experimentName: mnist
searchSpaceFile: search_space.json
trialCommand: python3 mnist.py
trialCodeDirectory: .
trialGpuNumber: 0
trialConcurrency: 2
maxTrialNumber: 10
maxExperimentDuration: 1h
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: local
  useActiveGpu: false
"""


@pytest.fixture
def nnictl_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "exp"
    folder.mkdir()
    (folder / "config.yml").write_text(NNICTL_YAML)
    (folder / "search_space.json").write_text(json.dumps(SPACE))
    return folder


def test_load_nnictl_yaml_resolves_against_the_file_directory(
    nnictl_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = ExperimentConfig.load(nnictl_dir / "config.yml")
    data = config.json()
    real = os.path.realpath(nnictl_dir)
    assert data["searchSpaceFile"] == os.path.join(real, "search_space.json")
    assert data["searchSpace"] == SPACE
    assert data["trialCodeDirectory"] == real
    assert data["trialConcurrency"] == 2
    assert data["maxTrialNumber"] == 10
    assert data["maxExperimentDuration"] == "1h"
    assert data["tuner"] == {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}
    assert data["trainingService"] == {
        "platform": "local",
        "trialCommand": "python3 mnist.py",
        "trialCodeDirectory": real,
        "trialGpuNumber": 0,
        "debug": False,
        "useActiveGpu": False,
        "maxTrialNumberPerGpu": 1,
        "reuseMode": False,
    }


def test_load_json_file(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps(minimal(trial_code_directory="."), indent=2))
    config = ExperimentConfig.load(str(tmp_path / "config.json"))
    assert config.json()["trialCodeDirectory"] == os.path.realpath(tmp_path)


def test_load_resets_the_base_path_afterwards(
    nnictl_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ExperimentConfig.load(nnictl_dir / "config.yml")
    monkeypatch.chdir(tmp_path)
    assert ExperimentConfig(**minimal()).json()["trialCodeDirectory"] == os.path.realpath(tmp_path)


def test_load_a_failing_file_resets_the_base_path_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bad.yml").write_text("trialConcurrency: 1\nbogus: 2\n")
    with pytest.raises(UnknownFieldError, match="bogus"):
        ExperimentConfig.load(tmp_path / "bad.yml")
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    assert ExperimentConfig(**minimal()).json()["trialCodeDirectory"] == os.path.realpath(other)


@pytest.mark.parametrize("content", ["- a\n- b\n", "just a string\n", ""])
def test_load_a_non_mapping_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "config.yml"
    path.write_text(content)
    with pytest.raises(ConfigFileError, match="; expected a mapping of config fields$") as info:
        ExperimentConfig.load(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, TypeError)


def test_load_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "config.yml"
    path.write_text("trialConcurrency: [1\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        ExperimentConfig.load(path)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ExperimentConfig.load(tmp_path / "nope.yml")


# --- json / canonical copy ------------------------------------------------------------------


def test_json_is_camel_case_without_none_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = ExperimentConfig(**minimal(search_space={"a": None})).json()
    assert list(data) == [
        "experimentType",
        "searchSpace",
        "trialCommand",
        "trialCodeDirectory",
        "trialConcurrency",
        "useAnnotation",
        "debug",
        "logLevel",
        "experimentWorkingDirectory",
        "tuner",
        "trainingService",
    ]
    assert data["searchSpace"] == {"a": None}  # None inside plain dicts is data, kept
    assert data["useAnnotation"] is False
    json.dumps(data)  # serializable


def test_canonical_copy_leaves_the_original_alone() -> None:
    config = ExperimentConfig("local")
    config.trial_concurrency = 1
    config.search_space = SPACE
    config.trial_command = "x"
    assert config.tuner is not None
    config.tuner.name = "TPE"
    before = copy.deepcopy(config)
    canon = config.canonical_copy()
    assert config == before
    assert canon.log_level == "info"
    assert canon.assessor is None
    assert isinstance(canon.training_service, LocalConfig)
    assert canon.training_service.trial_command == "x"
    config.validate()  # returns None, raises nothing


def test_dicts_put_into_a_config_list_later_are_converted_by_canonical_copy() -> None:
    config = ExperimentConfig(**minimal(training_service=[{"platform": "local"}]))
    assert isinstance(config.training_service, list)
    config.training_service.append({"platform": "local", "trial_gpu_number": 0})  # type: ignore[arg-type]
    canon = config.canonical_copy()
    assert isinstance(canon.training_service, list) and isinstance(canon.training_service[1], LocalConfig)
    assert canon.training_service[1].trial_gpu_number == 0
    assert isinstance(config.training_service[1], dict)  # the original is left alone
    config.training_service.append({"platform": "local", "bogus": 1})  # type: ignore[arg-type]
    with pytest.raises(UnknownFieldError) as caught:
        config.canonical_copy()
    assert caught.value.field == "training_service[2].bogus"


def test_round_trip() -> None:
    config = ExperimentConfig(
        **minimal(max_trial_number=3, max_experiment_duration="1.5h", assessor={"name": "Medianstop"})
    )
    assert ExperimentConfig(**config.json()).json() == config.json()


# --- copy / pickle --------------------------------------------------------------------------


def test_deepcopy_and_pickle() -> None:
    config = ExperimentConfig("remote")
    config.training_service.machine_list = [RemoteMachineConfig(host="h", user="u")]  # type: ignore[union-attr]
    for clone in (copy.deepcopy(config), pickle.loads(pickle.dumps(config))):
        assert clone == config
        assert clone is not config
        assert clone.training_service is not config.training_service
        assert is_missing(clone.trial_concurrency)  # MISSING stays the singleton
        assert is_missing(clone.training_service.trial_command)  # type: ignore[union-attr]
        clone.trial_concurrency = 4  # the attribute guard still works on the clone
        with pytest.raises(UnknownFieldError):
            clone.bogus = 1


def _containers(value: Any) -> List[Any]:
    """Every list, dict and config object reachable from ``value`` (attributes of configs included), once each."""
    found: Dict[int, Any] = {}
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, dict, ConfigBase)) and id(item) not in found:
            found[id(item)] = item
            if isinstance(item, ConfigBase):
                stack.extend(vars(item).values())
            else:
                stack.extend(item.values() if isinstance(item, dict) else item)
    return list(found.values())


def test_deepcopy_shares_nothing_mutable_and_keeps_shared_values_shared() -> None:
    shared = {"_type": "choice", "_value": [1, [2, {"x": 3}]]}  # held by the config and by its tuner's config
    config = ExperimentConfig(**minimal(search_space={"a": shared},
                                        tuner={"name": "TPE", "class_args": {"optimize_mode": "maximize",
                                                                             "nested": [shared]}}))
    vars(config)["_note"] = {"kept": ["private"]}  # private attributes are copied as the fields are
    vars(config)["_itself"] = config
    clone = copy.deepcopy(config)
    assert clone == config
    assert vars(clone)["_note"] == {"kept": ["private"]} and clone._base_path == config._base_path
    assert vars(clone)["_itself"] is clone
    original_ids = {id(item) for item in _containers(config)}
    assert not [item for item in _containers(clone) if id(item) in original_ids]
    assert clone.tuner is not None and clone.search_space["a"] is clone.tuner.class_args["nested"][0]
    clone.search_space["a"]["_value"][1][1]["x"] = 4
    assert shared["_value"][1][1]["x"] == 3


def test_pickled_loaded_config_keeps_its_base_path(nnictl_dir: Path, tmp_path: Path) -> None:
    config = pickle.loads(pickle.dumps(ExperimentConfig.load(nnictl_dir / "config.yml")))
    assert config.json()["trialCodeDirectory"] == os.path.realpath(nnictl_dir)
