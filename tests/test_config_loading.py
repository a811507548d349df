"""``load_config_file`` and ``ExperimentConfig.load``: every problem of a config file is one line in its terms.

A message names the file and the field as the YAML writes it (camelCase path, or the v1 field of a
converted v1 config), says what was expected in YAML words, and suggests the closest field for an
unknown one. Configs built in code keep NNI's messages (tests/test_config_vs_nni.py).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import tempfile
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nni_exp.config import (
    ConfigFileError,
    ExperimentConfig,
    LoadedConfig,
    UnknownFieldError,
    UnreadableConfigFileError,
    convert_v1,
    known_algorithms,
    load_config_file,
)
from nni_exp.config.base import _fields_of, describe_expected, describe_value
from nni_exp.config.known_algorithms import BUILTIN_ASSESSORS, BUILTIN_TUNERS
from nni_exp.config.loading import in_file_terms
from nni_exp.errors import ConfigError

from .config_samples import SPACE

BASE: dict[str, Any] = {
    "experimentName": "e",
    "searchSpaceFile": "space.json",
    "trialCommand": "python3 trial.py",
    "trialCodeDirectory": ".",
    "trialConcurrency": 2,
    "maxTrialNumber": 4,
    "maxExperimentDuration": "1h",
    "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
    "trainingService": {"platform": "local"},
}


@pytest.fixture(autouse=True)
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NNI_CONFIG_DIR", str(tmp_path / "nni-config"))  # NNI's algorithm registry
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "space.json").write_text(json.dumps(SPACE))
    (tmp_path / "code").mkdir()
    (tmp_path / "id_rsa").write_text("key")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(directory: Path, data: Any, name: str = "config.yml") -> Path:
    path = directory / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


def config_with(**changes: Any) -> dict[str, Any]:
    """BASE with top-level changes (a value of ``...`` deletes the key)."""
    data = {**BASE, **changes}
    return {key: value for key, value in data.items() if value is not ...}


def error_of(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}"), message
    return info.value


def test_a_valid_file_loads_with_no_notices(work: Path) -> None:
    loaded = load_config_file(write(work, BASE))
    assert isinstance(loaded, LoadedConfig) and loaded.notices == []
    assert loaded.config.json()["searchSpace"] == SPACE
    assert loaded.config.json() == ExperimentConfig(**{**BASE, "searchSpaceFile": str(work / "space.json")}).json()


# --- the config file itself ------------------------------------------------------------------


def test_missing_file(work: Path) -> None:
    error = error_of(work / "nosuch.yml")
    assert isinstance(error, UnreadableConfigFileError) and isinstance(error, OSError)
    assert str(error) == f"{work / 'nosuch.yml'}: cannot read the config file: No such file or directory"
    assert error.field is None and error.source == str(work / "nosuch.yml")


def test_directory_and_binary_files(work: Path) -> None:
    assert "cannot read the config file: Is a directory" in str(error_of(work / "code"))
    (work / "binary.yml").write_bytes(b"\xff\xfe\x00bad")
    assert "not a UTF-8 text file" in str(error_of(work / "binary.yml"))


def test_yaml_syntax_error_has_line_and_column(work: Path) -> None:
    path = write(work, "trialConcurrency: 2\ntuner:\n  name: [TPE\n")
    assert str(error_of(path)) == (
        f"{path}: the config file is not valid YAML: while parsing a flow sequence, "
        "expected ',' or ']', but got '<stream end>' (line 4, column 1)"
    )


@pytest.mark.parametrize(("content", "found"), [
    ("- a\n- b\n", 'holds ["a", "b"] (a list)'),
    ("just text\n", 'holds "just text" (a string)'),
    ("", "is empty"),
])
def test_a_file_without_a_mapping(work: Path, content: str, found: str) -> None:
    path = write(work, content)
    error = error_of(path)
    assert isinstance(error, ConfigFileError) and isinstance(error, TypeError)
    assert str(error) == f"{path}: the config file {found}; expected a mapping of config fields"


def test_non_string_keys(work: Path) -> None:
    error = error_of(write(work, "trialConcurrency: 2\n1: x\n"))
    assert str(error).endswith(": 1: field names must be strings, got 1 (an integer)")


# --- fields: names, expectations, suggestions -------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "detail"), [
    ({"trialConcurrency": "two"}, "trialConcurrency", 'expected an integer, got "two" (a string)'),
    ({"trialConcurrency": True}, "trialConcurrency", "expected an integer, got true (a boolean)"),
    ({"trialConcurrency": 0}, "trialConcurrency", "must be > 0, got 0"),
    ({"trialConcurrency": ...}, "trialConcurrency", "required field is missing"),
    ({"trialCommand": ...}, "trialCommand", "required field is missing"),
    ({"trialCommand": ["a"]}, "trialCommand", 'expected a string, got ["a"] (a list)'),
    ({"debug": "maybe"}, "debug", 'expected true or false, got "maybe" (a string)'),
    ({"experimentName": 5}, "experimentName", "expected a string, got 5 (an integer)"),
    ({"maxTrialNumber": 2.5}, "maxTrialNumber", "expected an integer, got 2.5 (a number)"),
    ({"maxExperimentDuration": "1 hour"}, "maxExperimentDuration",
     "expected a duration such as '1h', '30m' or '90s', or a number of seconds, got \"1 hour\" (a string)"),
    ({"maxTrialDuration": "0s"}, "maxTrialDuration", 'must be > 0, got "0s" (a string)'),
    ({"tunerGpuIndices": ["a"]}, "tunerGpuIndices",
     "expected a list of GPU indices such as [0, 1], one index, or a string such as '0,1', got [\"a\"] (a list)"),
    ({"tunerGpuIndices": "0,x"}, "tunerGpuIndices", "expected a list of GPU indices"),
    ({"tunerGpuIndices": [1, 1]}, "tunerGpuIndices", "a GPU index is given twice, got [1, 1]"),
    ({"logLevel": "verbose"}, "logLevel",
     'expected one of fatal, error, warning, info, debug, trace, got "verbose" (a string)'),
    ({"searchSpaceFile": 3}, "searchSpaceFile", "expected a path, got 3 (an integer)"),
    ({"searchSpaceFile": ..., "searchSpace": [1]}, "searchSpace",
     "expected a mapping of parameter names to {_type, _value}, got [1] (a list)"),
    ({"searchSpaceFile": ...}, "searchSpace", "a search space is required: set searchSpace or searchSpaceFile"),
    ({"tuner": "TPE"}, "tuner", 'expected a mapping, got "TPE" (a string)'),
    ({"tuner": {"name": "TPE", "classArgs": "x"}}, "tuner.classArgs", 'expected a mapping, got "x" (a string)'),
    ({"tuner": {"classArgs": {}}}, "tuner.name", "required field is missing (the name of a built-in algorithm"),
    ({"tuner": ...}, "tuner", "required field is missing"),
    ({"advisor": {"name": "Hyperband"}}, "advisor", "set tuner or advisor, not both"),
    ({"trainingService": "local"}, "trainingService",
     'expected a mapping or a list of mappings, got "local" (a string)'),
    ({"trainingService": {"platform": "locl"}}, "trainingService.platform",
     'unknown platform "locl" (a string); expected one of local, remote, openpai, aml, dlc, kubeflow, '
     "frameworkcontroller (did you mean 'local'?)"),
    ({"trainingService": {}}, "trainingService.platform", "required field is missing"),
    ({"trialGpuNumber": 1}, "trainingService.useActiveGpu", "must be set when trialGpuNumber is set"),
    ({"trainingService": {"platform": "local", "maxTrialNumberPerGpu": 2}}, "trainingService.maxTrialNumberPerGpu",
     "has no effect without trialGpuNumber"),
    ({"trainingService": {"platform": "remote", "machineList": "h"}}, "trainingService.machineList",
     'expected a list of mappings, got "h" (a string)'),
    ({"trainingService": {"platform": "remote", "machineList": [{"host": "h", "user": "u", "port": 0}]}},
     "trainingService.machineList[0].port", "must be in 1..65535, got 0"),
    ({"trainingService": {"platform": "remote", "machineList": [{"host": "h", "user": "u", "sshKeyFile": "k"}]}},
     "trainingService.machineList[0].sshKeyFile", "set password, or sshKeyFile to an existing key file"),
    ({"trainingService": {"platform": "kubeflow", "operator": "x", "apiVersion": "v1",
                          "storage": {"storageType": "nfs", "server": "s", "path": "/p"}}},
     "trainingService.operator", 'expected "tf-operator" or "pytorch-operator", got "x" (a string)'),
    ({"trainingService": {"platform": "openpai", "zzz": 1}}, "trainingService.zzz",
     "unknown field; known fields here: platform, trialCommand"),
    ({"trainingService": {"platform": "openpai", "memorySize": 1}}, "trainingService.memorySize",
     "unknown field (did you mean 'trialMemorySize'?)"),
    ({"trialCodeDirectory": "nosuchdir"}, "trialCodeDirectory", '"{work}/nosuchdir" is not a directory'),
    ({"trainingService": {"platform": "local", "trialCodeDirectory": "nosuchdir"}},
     "trainingService.trialCodeDirectory", '"{work}/nosuchdir" is not a directory'),
])
def test_field_errors_in_yaml_terms(work: Path, changes: dict[str, Any], field: str, detail: str) -> None:
    path = write(work, config_with(**changes))
    error = error_of(path)
    assert error.field == field
    detail = detail.replace("{work}", str(work))
    assert str(error).startswith(f"{path}: {field}: {detail}")
    assert error.source == str(path)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"trialConcurency": 3}, "trialConcurency", "unknown field (did you mean 'trialConcurrency'?)"),
    ({"TrialCommmand": "x"}, "TrialCommmand", "unknown field (did you mean 'trialCommand'?)"),
    ({"max_trial_numbr": 3}, "max_trial_numbr", "unknown field (did you mean 'maxTrialNumber'?)"),
    ({"tuner": {"name": "TPE", "classArg": {}}}, "tuner.classArg", "unknown field (did you mean 'classArgs'?)"),
    ({"trainingService": {"platform": "local", "useActivGpu": True}}, "trainingService.useActivGpu",
     "unknown field (did you mean 'useActiveGpu'?)"),
    ({"trainingService": {"platform": "remote", "machineList": [{"host": "h", "user": "u", "sshKeyPth": "k"}]}},
     "trainingService.machineList[0].sshKeyPth", "unknown field (did you mean 'sshKeyFile'?)"),
    ({"sharedStorage": {"storageType": "NFS", "nfsServr": "h"}}, "sharedStorage.nfsServr",
     "unknown field (did you mean 'nfsServer'?)"),
    ({"zzz": 1, "yyy": 2}, "zzz", "unknown field; also unknown here: 'yyy'; known fields here: experimentName, "),
    ({"maxExecDuration": "1h"}, "maxExecDuration",
     "unknown field: maxExecDuration belongs to NNI's v1 config format (v2: maxExperimentDuration); "
     "a v1 config is converted only when it sets trainingServicePlatform"),
    ({"trainingServicePlatform": None}, "trainingServicePlatform",
     "unknown field: trainingServicePlatform belongs to NNI's v1 config format (v2: trainingService.platform)"),
])
def test_unknown_fields_keep_the_spelling_and_get_a_suggestion(
    work: Path, changes: dict[str, Any], field: str, message: str
) -> None:
    path = write(work, config_with(**changes))
    error = error_of(path)
    assert isinstance(error, UnknownFieldError) and isinstance(error, AttributeError)
    assert error.field == field
    assert str(error).startswith(f"{path}: {field}: {message}")


def test_errors_are_restated_once(work: Path) -> None:
    error = error_of(write(work, config_with(trialConcurrency="x")))
    assert in_file_terms(error, "other.yml") is error
    restated = ConfigError("m", "f", "d").restated("new", "g", "s.yml")
    assert (str(restated), restated.field, restated.detail, restated.source) == ("new", "g", "d", "s.yml")


# --- search space file ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "content", "problem"), [
    ("space.yml", "x:\n  _type: choice\n  _value: [1, 2\ny: 3\n",
     "is not valid YAML: while parsing a flow sequence, expected ',' or ']', but got ':' (line 4, column 2)"),
    ("space.json", '{"x": {"_type": "choice",\n "_value": [1, 2]]}',
     "is not valid JSON: Expecting ',' delimiter (line 2, column 18)"),
    ("space.yml", "x: [1, 2]\n\tbad: tab\n", "is not valid YAML: "),
    ("space.yml", "", "is empty; expected a mapping of parameter names to {_type, _value}"),
    ("space.yml", "- 1\n- 2\n", "holds [1, 2] (a list); expected a mapping of parameter names"),
    ("space.txt", "just some words\n", 'holds "just some words" (a string); expected a mapping'),
])
def test_bad_search_space_files(work: Path, name: str, content: str, problem: str) -> None:
    (work / name).write_text(content)
    path = write(work, config_with(searchSpaceFile=name))
    error = error_of(path)
    assert error.field == "searchSpaceFile"
    assert str(error).startswith(f'{path}: searchSpaceFile: search space file "{work / name}" {problem}')
    assert "Mark object" not in str(error)


def test_unreadable_search_space_files(work: Path) -> None:
    message = str(error_of(write(work, config_with(searchSpaceFile="nosuch.json"))))
    assert message.endswith(f'searchSpaceFile: search space file "{work / "nosuch.json"}" cannot be read: '
                            "No such file or directory")
    (work / "space.bin").write_bytes(b"\x00\xff\xfe")
    message = str(error_of(write(work, config_with(searchSpaceFile="space.bin"))))
    assert message.endswith("cannot be read: not a UTF-8 text file (undecodable byte at offset 1)")
    message = str(error_of(write(work, config_with(searchSpaceFile="code"))))
    assert message.endswith("cannot be read: Is a directory")


def test_search_space_yaml_errors_in_code_show_no_object_address(work: Path) -> None:
    (work / "space.yml").write_text("x: [1\n")
    with pytest.raises(ConfigError) as info:
        ExperimentConfig(**{**BASE, "searchSpaceFile": "space.yml"}).validate()
    assert str(info.value).startswith(f'ExperimentConfig: Failed to load search space file "{work / "space.yml"}": '
                                      "ParserError(\"while parsing a flow sequence, expected ',' or ']'")
    assert "Mark object" not in str(info.value) and info.value.field == "search_space_file"


# --- annotation, algorithm names --------------------------------------------------------------


@pytest.mark.parametrize("changes", [{"useAnnotation": True}, {"useAnnotation": True, "searchSpaceFile": ...}])
def test_annotation_is_refused(work: Path, changes: dict[str, Any]) -> None:
    path = write(work, config_with(**changes))
    error = error_of(path)
    assert error.field == "useAnnotation"
    assert str(error).startswith(f"{path}: useAnnotation: annotation (a search space in comments of the trial "
                                 "code) is not supported since NNI 3.0")


def test_annotation_false_is_fine(work: Path) -> None:
    assert load_config_file(write(work, config_with(useAnnotation=False))).config.use_annotation is False


@pytest.mark.parametrize(("kind", "name", "suggestion", "listed"), [
    ("tuner", "TPEE", "TPE", ["Anneal", "Batch", "BOHB", "GridSearch", "Hyperband", "Random", "TPE_legacy"]),
    ("tuner", "Gridsearh", "GridSearch", ["TPE"]),
    ("assessor", "MedianStopper", "Medianstop", ["Curvefitting", "Medianstop"]),
    ("advisor", "HyperBandit", "Hyperband", ["BOHB", "Hyperband"]),
    ("tuner", "Zebra", None, ["TPE"]),
])
def test_unknown_algorithm_names(work: Path, kind: str, name: str, suggestion: Any, listed: list[str]) -> None:
    changes: dict[str, Any] = {kind: {"name": name}}
    if kind == "advisor":
        changes["tuner"] = ...
    path = write(work, config_with(**changes))
    error = error_of(path)
    assert error.field == f"{kind}.name"
    start = f"{path}: {kind}.name: unknown built-in {kind} '{name}'"
    if suggestion is not None:
        start += f" (did you mean '{suggestion}'?)"
    assert str(error).startswith(start + "; known names (")
    known = str(error).rpartition("): ")[2].split(", ")
    assert set(listed) <= set(known)
    assert ("Medianstop" in known) == (kind == "assessor")


@pytest.mark.parametrize("algorithms", [
    {"tuner": {"name": "tpe"}},
    {"tuner": {"name": "BatchTuner"}},
    {"tuner": {"name": "gptuner"}},
    {"tuner": ..., "advisor": {"name": "BOHB"}},
    {"assessor": {"name": "curvefitting"}},
    {"tuner": {"className": "my_tuner.NotChecked", "codeDirectory": "code"}},
    {"assessor": {"className": "my.Assessor", "codeDirectory": "code"}},
])
def test_known_names_any_case_aliases_and_custom_algorithms_load(work: Path, algorithms: dict[str, Any]) -> None:
    load_config_file(write(work, config_with(**algorithms)))


def test_names_registered_with_nnictl_algo_register_are_known(work: Path) -> None:
    pytest.importorskip("nni")
    registry = work / "nni-config" / "registered_algorithms.yml"
    registry.parent.mkdir()
    registry.write_text(yaml.safe_dump({"tuners": [
        {"builtinName": "MyRegisteredTuner", "className": "my_pkg.MyTuner", "source": "user"}
    ]}))
    path = write(work, config_with(tuner={"name": "myregisteredtuner"}))
    load_config_file(path)
    assert known_algorithms().source == "NNI's algorithm registry"
    error = error_of(write(work, config_with(tuner={"name": "MyRegisteredTunr"})))
    assert "(did you mean 'MyRegisteredTuner'?)" in str(error) and "MyRegisteredTuner, " in str(error)


def test_without_nni_the_own_list_is_used(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nni.tools.package_utils.config_manager", None)  # import fails
    known = known_algorithms()
    assert known.source == "NNI 3.0's built-in algorithms"
    assert known.find("tuner", "metistuner") == "Metis" and known.find("assessor", "TPE") is None
    error = error_of(write(work, config_with(tuner={"name": "Randm"})))
    assert "(did you mean 'Random'?); known names (NNI 3.0's built-in algorithms): Anneal, Batch, BOHB," in str(error)


def test_the_own_list_is_nnis_and_the_fakes() -> None:
    from fakes.search import KNOWN_ASSESSORS
    from fakes.tuners import BUILTIN_TUNERS as FAKE_TUNERS

    assert BUILTIN_TUNERS == FAKE_TUNERS
    assert tuple(BUILTIN_ASSESSORS) == KNOWN_ASSESSORS
    builtin_file = pytest.importorskip("nni.tools.package_utils.config_manager")._load_builtin_config
    metas = builtin_file()
    assert {m.name: (m.alias,) if m.alias else () for m in metas if m.algo_type == "tuner"} == BUILTIN_TUNERS
    assert {m.name: () for m in metas if m.algo_type == "assessor"} == BUILTIN_ASSESSORS


# --- v1 configs -------------------------------------------------------------------------------

V1 = {
    "authorName": "default",
    "experimentName": "example_mnist_pytorch",
    "trialConcurrency": 1,
    "maxExecDuration": "1h",
    "maxTrialNum": 10,
    "trainingServicePlatform": "local",
    "searchSpacePath": "space.json",
    "useAnnotation": False,
    "tuner": {"builtinTunerName": "TPE", "classArgs": {"optimize_mode": "maximize"}},
    "trial": {"command": "python3 mnist.py", "codeDir": ".", "gpuNum": 0},
}


def test_v1_conversion_without_nni() -> None:
    conversion = convert_v1(V1)
    assert conversion.config == {
        "experimentName": "example_mnist_pytorch",
        "trialConcurrency": 1,
        "maxExperimentDuration": "1h",
        "maxTrialNumber": 10,
        "searchSpaceFile": "space.json",
        "useAnnotation": False,
        "trialCommand": "python3 mnist.py",
        "trialCodeDirectory": ".",
        "trialGpuNumber": 0,
        "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        "trainingService": {"platform": "local"},
    }
    assert conversion.dropped == ["authorName"] and conversion.unconverted == []
    assert V1["trial"] == {"command": "python3 mnist.py", "codeDir": ".", "gpuNum": 0}  # input untouched


@pytest.mark.parametrize(("changes", "field", "detail"), [
    ({"trainingServicePlatform": "dlts"}, "trainingServicePlatform", 'NNI 3.0 cannot convert platform "dlts"'),
    ({"trainingServicePlatform": "adl"}, "trainingServicePlatform", "platform 'adl' is run by NNI's legacy launcher"),
    ({"multiPhase": True}, "multiPhase", "multi-phase experiments are not supported since NNI 3.0"),
    ({"trial": None}, "trial", "expected a mapping, got null"),
    ({"tuner": {"codeDir": "."}}, "tuner.classFileName", "required field is missing (a custom tuner needs codeDir"),
    ({"tuner": {"codeDir": ".", "classFileName": "t", "className": "T"}}, "tuner.classFileName",
     'expected a Python file name (*.py), got "t" (a string)'),
    ({"trainingServicePlatform": "remote"}, "machineList",
     "required field is missing (for trainingServicePlatform remote)"),
    ({"trainingServicePlatform": "pai"}, "paiConfig", "required field is missing (for trainingServicePlatform pai)"),
])
def test_v1_configs_nnictl_create_refuses(work: Path, changes: dict[str, Any], field: str, detail: str) -> None:
    path = write(work, {**V1, **changes})
    error = error_of(path)
    assert error.field == field
    assert str(error).startswith(f"{path} (NNI v1 format): {field}: {detail}")


def test_v1_config_loads_with_notices(work: Path) -> None:
    path = write(work, {**V1, "multiThread": True, "maxTrialDuration": "1h", "localConfig": {"foo": 1}})
    loaded = load_config_file(path)
    assert loaded.notices == [
        f"{path}: converted from NNI's v1 config format as 'nnictl create' converts it "
        "(the v2 format: https://nni.readthedocs.io/en/stable/reference/experiment_config.html)",
        f"{path}: ignored v1 fields that NNI 3.0 no longer supports: authorName, multiThread",
        f"{path}: ignored v1 fields that 'nnictl create' does not convert: localConfig.foo, maxTrialDuration",
    ]
    assert loaded.config.json()["maxExperimentDuration"] == "1h"
    assert loaded.config.json()["trialCodeDirectory"] == str(work)


@pytest.mark.parametrize(("changes", "field", "detail"), [
    ({"tuner": {"builtinTunerName": "TPEE"}}, "tuner.builtinTunerName", "unknown built-in tuner 'TPEE'"),
    ({"trial": {"command": "x", "codeDir": ".", "gpuNum": 1}}, "localConfig.useActiveGpu", "must be set when"),
    ({"trial": {"codeDir": "."}}, "trial.command", "required field is missing"),
    ({"trial": {"command": "x", "codeDir": "nosuchdir"}}, "trial.codeDir", "is not a directory"),
    ({"maxExecDuration": "1y"}, "maxExecDuration", "expected a duration such as '1h'"),
    ({"searchSpacePath": "nosuch.json"}, "searchSpacePath", "cannot be read: No such file or directory"),
    ({"searchSpacePath": None}, "searchSpacePath", "a search space is required"),
    ({"useAnnotation": True}, "useAnnotation", "annotation (a search space in comments of the trial code)"),
    ({"trainingServicePlatform": "remote", "nniManagerIp": "10.0.0.1",
      "machineList": [{"ip": "h", "username": "u", "sshKeyPath": "nokey"}]},
     "machineList[0].sshKeyPath", "set password, or sshKeyFile to an existing key file"),
    ({"trainingServicePlatform": "remote", "machineList": [{"ip": "h", "username": "u", "passwd": "p", "port": 0}],
      "nniManagerIp": "10.0.0.1"}, "machineList[0].port", "must be in 1..65535, got 0"),
])
def test_v1_errors_name_the_v1_field(work: Path, changes: dict[str, Any], field: str, detail: str) -> None:
    path = write(work, {**V1, **changes})
    error = error_of(path)
    assert error.field == field
    assert str(error).startswith(f"{path} (NNI v1 format): {field}: ") and detail in str(error)


# --- ExperimentConfig.load --------------------------------------------------------------------


def test_load_converts_a_v1_config_with_a_warning(work: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write(work, V1)
    with caplog.at_level(logging.WARNING, logger="nni_exp.config"):
        config = ExperimentConfig.load(path)
    assert config.json() == load_config_file(path).config.json()
    assert any("converted from NNI's v1 config format" in record.getMessage() for record in caplog.records)


def test_load_does_not_validate_but_validate_speaks_the_files_terms(work: Path) -> None:
    path = write(work, config_with(trialConcurrency="x", tuner={"name": "NotChecked"}))
    config = ExperimentConfig.load(path)  # as NNI: loading does not validate
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert str(info.value) == f'{path}: trialConcurrency: expected an integer, got "x" (a string)'
    config.trial_concurrency = 1
    config.validate()  # the tuner name is checked by load_config_file only
    with pytest.raises(UnknownFieldError, match=r"^.*config\.yml: tunr: unknown field \(did you mean 'tuner'\?\)$"):
        ExperimentConfig.load(write(work, config_with(tunr={})))


def test_load_missing_file_is_nnis_file_not_found(work: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ExperimentConfig.load(work / "nosuch.yml")


# --- wording helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(("hint", "name", "words"), [
    (int, None, "an integer"),
    (float, None, "a number"),
    (bool, None, "true or false"),
    (typing.Optional[str], None, "a string"),
    (typing.Union[Path, str, None], None, "a path"),
    (list[str], None, "a list of strings"),
    (list[int], None, "a list of integers"),
    (typing.Optional[dict[str, Any]], None, "a mapping"),
    (typing.Union[str, int], None, "a string or an integer"),
    (typing.Literal["hpo"], None, '"hpo"'),
    (typing.Literal["a", "b", "c"], None, '"a", "b" or "c"'),
    (Any, None, "any value"),
    (typing.Union[str, int, None], "max_trial_duration", "a duration such as '1h', '30m' or '90s', or a number of "
                                                         "seconds"),
    (typing.Union[str, int], "memory_size", "a size such as '4gb' or a number of megabytes"),
])
def test_describe_expected(hint: Any, name: Any, words: str) -> None:
    assert describe_expected(hint, name) == words


@pytest.mark.parametrize(("value", "words"), [
    (None, "null"),
    (True, "true (a boolean)"),
    (3, "3 (an integer)"),
    (2.5, "2.5 (a number)"),
    ("x", '"x" (a string)'),
    ([1, "a"], '[1, "a"] (a list)'),
    ({"a": 1}, '{"a": 1} (a mapping)'),
    ("y" * 100, '"' + "y" * 56 + "... (a string)"),
])
def test_describe_value(value: Any, words: str) -> None:
    assert describe_value(value) == words


def test_every_field_type_has_yaml_words() -> None:
    import nni_exp.config as configs

    classes = [cls for cls in vars(configs).values() if isinstance(cls, type) and hasattr(cls, "_canonicalize")]
    assert len(classes) > 15
    for cls in classes:
        for field in _fields_of(cls):
            words = describe_expected(field.hint, field.name)
            assert words and "another kind" not in words and "typing" not in words, (cls, field)


# --- property: whatever is wrong, the message is one line in the file's terms ---------------------

SNAKE_FIELDS = sorted({
    field.name
    for cls in [ExperimentConfig, *ExperimentConfig.__subclasses__()]
    for field in _fields_of(cls)
    if "_" in field.name
} | {"class_args", "class_name", "code_directory", "machine_list", "gpu_indices", "use_active_gpu",
     "max_trial_number_per_gpu", "ssh_key_file"})
PYTHONISMS = re.compile(r"typing\.|<class |NoneType|Optional\[|Union\[|dict\[|list\[|\bTrue\b|\bFalse\b|"
                        r"Mark object|Traceback|" + "|".join(rf"\b{name}\b" for name in SNAKE_FIELDS))

VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 70000), st.floats(-2, 2, allow_nan=False),
    st.text("abc019 .,:/-[]{}", max_size=8),
    st.lists(st.one_of(st.integers(-1, 3), st.text("ab", max_size=2)), max_size=3),
    st.dictionaries(st.sampled_from(["name", "platform", "x", "classArgs"]), st.text("ab", max_size=2), max_size=2),
)
PLACES = [("trialConcurrency",), ("trialCommand",), ("maxTrialNumber",), ("maxExperimentDuration",),
          ("tunerGpuIndices",), ("debug",), ("logLevel",), ("searchSpaceFile",), ("searchSpace",),
          ("useAnnotation",), ("trialGpuNumber",), ("tuner",), ("tuner", "name"), ("tuner", "classArgs"),
          ("tuner", "className"), ("assessor",), ("assessor", "name"), ("trainingService",),
          ("trainingService", "platform"), ("trainingService", "gpuIndices"), ("trainingService", "useActiveGpu"),
          ("trainingService", "machineList"), ("sharedStorage",), ("experimentType",), ("nniManagerIp",)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.sampled_from(PLACES), VALUES), min_size=1, max_size=3),
       unknown=st.one_of(st.none(), st.tuples(st.sampled_from(["", "tuner", "trainingService"]),
                                              st.text("abcdefgxyzKLM", min_size=1, max_size=10))))
def test_any_bad_config_gets_one_line_in_yaml_terms(work: Path, changes: list[Any], unknown: Any) -> None:
    data: dict[str, Any] = json.loads(json.dumps(BASE))
    for place, value in changes:
        target = data
        for key in place[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[place[-1]] = value
    if unknown is not None:
        section, key = unknown
        target = data if not section else data.get(section)
        if isinstance(target, dict):
            target[key] = 1
    with tempfile.TemporaryDirectory(dir=work) as directory:
        path = write(Path(directory), data)
        try:
            load_config_file(path)
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and message.startswith(f"{path}: "), message
            assert not PYTHONISMS.search(message.replace(str(path), "")), message
            assert error.field is None or not PYTHONISMS.search(error.field), error.field
            if isinstance(error, UnknownFieldError):
                assert error.field is not None and error.field.rpartition(".")[2] in error.keys


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.text(max_size=40), st.binary(max_size=20).map(lambda b: b.decode("latin-1"))),
       name=st.sampled_from(["space.yml", "space.json"]))
def test_any_search_space_file_loads_or_gets_one_line(work: Path, content: str, name: str) -> None:
    with tempfile.TemporaryDirectory(dir=work) as directory:
        (Path(directory) / name).write_text(content, encoding="utf-8")
        path = write(Path(directory), config_with(searchSpaceFile=name))
        try:
            loaded = load_config_file(path)
        except ConfigError as error:
            message = str(error)
            assert "\n" not in message and "Mark object" not in message, message
            assert error.field == "searchSpaceFile"
            assert message.startswith(f'{path}: searchSpaceFile: search space file "{Path(directory) / name}" ')
        else:
            assert isinstance(loaded.config.canonical_copy().search_space, dict)
