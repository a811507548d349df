"""Differential tests: our configs against NNI 3.0's ``nni.experiment.config`` on the same inputs.

Each case builds a config with both implementations and compares ``json()`` output, or the error:
same message (and our error is an instance of NNI's exception type), NNI's message kept as the
tail of ours (we prefix the field), or NNI's bare ``AssertionError`` replaced by a ConfigError
naming the field.
"""

from __future__ import annotations

import json
import types
import warnings
from pathlib import Path
from typing import Any, Callable

import pytest

import nni_exp.config as ours
from nni_exp.errors import ConfigError

from .config_samples import DROP, FRAMEWORK_ROLE, OPENPAI, SPACE
from .config_samples import config_kwargs as kw

pytest.importorskip("nni")
theirs = pytest.importorskip("nni.experiment.config")
theirs_utils = pytest.importorskip("nni.experiment.config.utils")

pytestmark = [pytest.mark.real_nni, pytest.mark.filterwarnings("ignore:SSH password will be exposed")]

IP = {"nni_manager_ip": "10.0.0.1"}
MACHINE = {"host": "h", "user": "u", "password": "p"}
NFS = {"storageType": "nfs", "server": "s", "path": "/p"}
ROLE = FRAMEWORK_ROLE


VALID: dict[str, dict[str, Any]] = {
    "typical": kw(),
    "camel_case_keys": {
        "trialConcurrency": 2,
        "searchSpace": {},
        "trialCommand": "x",
        "trialCodeDirectory": "code",
        "tuner": {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}},
        "trainingService": {"platform": "local"},
        "maxTrialNumber": 10,
        "maxExperimentDuration": "1h",
        "experimentName": "e",
    },
    "search_space_file_json": kw(search_space=DROP, search_space_file="space.json"),
    "search_space_file_yaml_wins": kw(search_space_file="space.yml"),
    "many_fields": kw(
        trial_gpu_number=0,
        max_trial_duration="1.5h",
        max_experiment_duration=90,
        nni_manager_ip="1.2.3.4",
        debug=True,
        tuner_gpu_indices="0,1",
        assessor={"name": "Medianstop"},
        experiment_working_directory="exps",
    ),
    "durations": kw(max_trial_duration="90s", max_experiment_duration="2d"),
    "log_level_trace": kw(log_level="trace"),
    "annotation": kw(use_annotation=True, search_space=DROP),
    "advisor_folded": kw(tuner=DROP, advisor={"name": "Hyperband"}),
    "custom_tuner": kw(tuner={"className": "my.Tuner", "codeDirectory": "code", "classArgs": {}}),
    "local_gpus": kw(
        trial_gpu_number=2,
        training_service={
            "platform": "local",
            "useActiveGpu": False,
            "maxTrialNumberPerGpu": 2,
            "gpuIndices": "0,1",
        },
    ),
    "service_overrides": kw(
        training_service={
            "platform": "local",
            "trialCommand": "python other.py",
            "trialCodeDirectory": "code",
        }
    ),
    "none_inside_data": kw(search_space={"a": None}, tuner={"name": "TPE", "classArgs": {"a": None}}),
    "remote_password": kw(training_service={"platform": "remote", "machineList": [MACHINE]}, **IP),
    "remote_key": kw(
        training_service={
            "platform": "remote",
            "machineList": [{"host": "h", "user": "u", "sshKeyFile": "id_rsa", "gpuIndices": 1}],
        },
        **IP,
    ),
    "hybrid": kw(
        training_service=[{"platform": "local"}, {"platform": "remote", "machineList": [MACHINE]}], **IP
    ),
    "nfs_shared_storage": kw(
        shared_storage={
            "storageType": "NFS",
            "localMountPoint": "code",
            "remoteMountPoint": "/x",
            "localMounted": "nnimount",
            "nfsServer": "h",
            "exportedDirectory": "/e",
        }
    ),
    "aml": kw(
        training_service={
            "platform": "aml",
            "subscriptionId": "s",
            "resourceGroup": "r",
            "workspaceName": "w",
            "computeTarget": "c",
        },
        **IP,
    ),
    "dlc": kw(
        training_service={
            "platform": "dlc",
            "image": "i",
            "podCount": 1,
            "ecsSpec": "e",
            "region": "r",
            "workspaceId": "w",
            "nasDataSourceId": "n",
            "accessKeyId": "a",
            "accessKeySecret": "s",
            "localStorageMountPoint": "l",
            "containerStorageMountPoint": "c",
        },
        **IP,
    ),
    "openpai": kw(trial_gpu_number=0, training_service=OPENPAI, **IP),
    "kubeflow": kw(
        training_service={
            "platform": "kubeflow",
            "operator": "tf-operator",
            "apiVersion": "v1",
            "storage": NFS,
            "worker": {
                "replicas": 1,
                "command": "c",
                "cpuNumber": 1,
                "memorySize": "1g",
                "codeDirectory": ".",
            },
        },
        **IP,
    ),
    "frameworkcontroller": kw(
        trial_command=None,
        training_service={
            "platform": "frameworkcontroller",
            "serviceAccountName": None,
            "taskRoles": [ROLE],
            "storage": {
                "storageType": "azureStorage",
                "azureAccount": "a",
                "azureShare": "s",
                "keyVaultName": "k",
                "keyVaultKey": "v",
            },
        },
        **IP,
    ),
}

# NNI raised ValueError / AttributeError: same message, and ours is an instance of NNI's type.
SAME_ERROR: dict[str, dict[str, Any]] = {
    "trial_concurrency_str": kw(trial_concurrency="2"),
    "trial_concurrency_float": kw(trial_concurrency=1.5),
    "trial_concurrency_missing": kw(trial_concurrency=DROP),
    "duration_float": kw(max_trial_duration=1.5),
    "experiment_type_nas": kw(experiment_type="nas"),
    "no_tuner": kw(tuner=DROP),
    "no_search_space": kw(search_space=DROP),
    "annotation_and_space": kw(use_annotation=True),
    "no_trial_command": kw(trial_command=DROP),
    "code_dir_missing": kw(trial_code_directory="nosuchdir"),
    "search_space_file_missing": kw(search_space_file="nosuch.json"),
    "custom_code_dir_missing": kw(tuner={"className": "my.Tuner", "codeDirectory": "nosuch"}),
    "tuner_unknown_key": kw(tuner={"name": "TPE", "foo": 1}),
    "top_unknown_key": kw(foo_bar=1),
    "service_unknown_key": kw(training_service={"platform": "local", "fooBar": 1}),
    "role_unknown_key": kw(
        training_service={
            "platform": "frameworkcontroller",
            "storage": NFS,
            "serviceAccountName": None,
            "taskRoles": [{"name": "w", "bogus": 1}],
        },
        **IP,
    ),
    "gpu_without_use_active_gpu": kw(trial_gpu_number=1),
    "per_gpu_without_gpu": kw(training_service={"platform": "local", "maxTrialNumberPerGpu": 2}),
    "remote_empty": kw(training_service={"platform": "remote", "machineList": []}, **IP),
    "remote_no_key": kw(
        training_service={
            "platform": "remote",
            "machineList": [{"host": "h", "user": "u", "sshKeyFile": "nokey"}],
        },
        **IP,
    ),
    "remote_per_gpu": kw(
        training_service={"platform": "remote", "machineList": [{**MACHINE, "maxTrialNumberPerGpu": 2}]}, **IP
    ),
    "remote_no_host": kw(
        training_service={"platform": "remote", "machineList": [{"user": "u", "password": "p"}]}, **IP
    ),
    "shared_storage_missing": kw(shared_storage={"storageType": "NFS"}),
    "aml_missing": kw(training_service={"platform": "aml"}, **IP),
    "openpai_no_gpu": kw(training_service=OPENPAI, **IP),
    "openpai_both_configs": kw(
        trial_gpu_number=0,
        training_service={**OPENPAI, "openpaiConfig": {}, "openpaiConfigFile": "space.json"},
        **IP,
    ),
    "k8s_storage_type": kw(
        training_service={
            "platform": "kubeflow",
            "operator": "tf-operator",
            "apiVersion": "v1",
            "storage": {"storageType": "s3"},
        },
        **IP,
    ),
}

# NNI raised ValueError; we keep its message after a "<Class>: <field>: " prefix.
PREFIXED_ERROR: dict[str, dict[str, Any]] = {
    "duration_no_unit": kw(max_trial_duration="10"),
    "duration_bad_unit": kw(max_experiment_duration="1x"),
    "tuner_gpu_duplicate": kw(tuner_gpu_indices=[0, 0]),
    "tuner_gpu_negative": kw(tuner_gpu_indices=-1),
    "local_gpu_duplicate": kw(training_service={"platform": "local", "gpuIndices": [1, 1]}),
}

# NNI raised a bare AssertionError (or one with a message); ours is a ConfigError naming the field.
ASSERTION_REPLACED: dict[str, tuple[dict[str, Any], str]] = {
    "trial_concurrency_zero": (kw(trial_concurrency=0), "trial_concurrency"),
    "max_trial_number_zero": (kw(max_trial_number=0), "max_trial_number"),
    "experiment_duration_zero": (kw(max_experiment_duration="0s"), "max_experiment_duration"),
    "trial_duration_zero": (kw(max_trial_duration=0), "max_trial_duration"),
    "log_level_unknown": (kw(log_level="verbose"), "log_level"),
    "advisor_and_tuner": (kw(advisor={"name": "Hyperband"}), "advisor"),
    "custom_and_builtin": (
        kw(tuner={"className": "m.T", "name": "TPE", "codeDirectory": "code"}),
        "tuner.name",
    ),
    "custom_without_code_dir": (kw(tuner={"className": "m.T"}), "tuner.code_directory"),
    "trial_gpu_negative": (kw(trial_gpu_number=-1), "training_service.trial_gpu_number"),
    "remote_port_zero": (
        kw(training_service={"platform": "remote", "machineList": [{**MACHINE, "port": 0}]}, **IP),
        "training_service.machine_list[0].port",
    ),
    "kubeflow_operator": (
        kw(
            training_service={
                "platform": "kubeflow",
                "operator": "x-operator",
                "apiVersion": "v1",
                "storage": NFS,
            },
            **IP,
        ),
        "training_service.operator",
    ),
    "k8s_nfs_with_azure": (
        kw(
            training_service={
                "platform": "kubeflow",
                "operator": "tf-operator",
                "apiVersion": "v1",
                "storage": {"storageType": "nfs", "azureAccount": "a"},
            },
            **IP,
        ),
        "training_service.storage.azure_account",
    ),
}


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NNI_CONFIG_DIR", str(tmp_path / "nni-config"))  # NNI copies a file there
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    (work / "code").mkdir(parents=True)
    (work / "id_rsa").write_text("key")
    (work / "space.json").write_text(json.dumps(SPACE))
    (work / "space.yml").write_text("x:\n  _type: choice\n  _value: [1, 2]\n")
    monkeypatch.chdir(work)
    return work


def outcome(module: types.ModuleType, build: Callable[[types.ModuleType], Any]) -> tuple[str, Any]:
    """('json', dict) or ('error', exception) for building and validating with ``module``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "json", build(module).json()
        except Exception as error:  # noqa: BLE001 - the error is what we compare
            return "error", error


def from_kwargs(kwargs: dict[str, Any]) -> Callable[[types.ModuleType], Any]:
    return lambda module: module.ExperimentConfig(**kwargs)


@pytest.mark.parametrize("kwargs", VALID.values(), ids=VALID.keys())
def test_same_json(kwargs: dict[str, Any]) -> None:
    kind, expected = outcome(theirs, from_kwargs(kwargs))
    assert kind == "json", expected
    assert outcome(ours, from_kwargs(kwargs)) == ("json", expected)
    assert ours.ExperimentConfig(**expected).json() == expected  # round trip of NNI's output


@pytest.mark.parametrize("kwargs", SAME_ERROR.values(), ids=SAME_ERROR.keys())
def test_same_error(kwargs: dict[str, Any]) -> None:
    kind, expected = outcome(theirs, from_kwargs(kwargs))
    assert kind == "error" and isinstance(expected, (ValueError, AttributeError)), expected
    kind, error = outcome(ours, from_kwargs(kwargs))
    assert kind == "error"
    assert isinstance(error, ConfigError)
    assert isinstance(error, type(expected))
    assert str(error) == str(expected)
    assert error.field


@pytest.mark.parametrize("kwargs", PREFIXED_ERROR.values(), ids=PREFIXED_ERROR.keys())
def test_nni_message_kept_after_field_prefix(kwargs: dict[str, Any]) -> None:
    kind, expected = outcome(theirs, from_kwargs(kwargs))
    assert kind == "error" and type(expected) is ValueError, expected
    kind, error = outcome(ours, from_kwargs(kwargs))
    assert isinstance(error, ConfigError)
    assert str(error).endswith(": " + str(expected))
    assert error.field is not None and error.field.split(".")[-1] in str(error)


@pytest.mark.parametrize(("kwargs", "field"), ASSERTION_REPLACED.values(), ids=ASSERTION_REPLACED.keys())
def test_assertions_become_config_errors(kwargs: dict[str, Any], field: str) -> None:
    kind, expected = outcome(theirs, from_kwargs(kwargs))
    assert kind == "error" and type(expected) is AssertionError, expected
    kind, error = outcome(ours, from_kwargs(kwargs))
    assert isinstance(error, ConfigError)
    assert error.field == field
    assert field.split(".")[-1].split("[")[0] in str(error)


def test_platform_construction_matches() -> None:
    def build(module: types.ModuleType) -> Any:
        config = module.ExperimentConfig("local")
        config.trial_concurrency = 3
        config.search_space = SPACE
        config.trial_command = "python t.py"
        config.tuner.name = "TPE"
        config.tuner.class_args["optimize_mode"] = "minimize"
        config.training_service.use_active_gpu = True
        return config

    kind, expected = outcome(theirs, build)
    assert kind == "json"
    assert outcome(ours, build) == ("json", expected)


def test_unknown_platform_name_matches() -> None:
    with pytest.raises(ValueError) as expected:
        theirs.ExperimentConfig("nosuch")
    with pytest.raises(ConfigError) as error:
        ours.ExperimentConfig("nosuch")
    assert str(error.value) == str(expected.value)


def test_object_construction_matches() -> None:
    def build(module: types.ModuleType) -> Any:
        return module.ExperimentConfig(
            **kw(
                tuner=module.CustomAlgorithmConfig(class_name="my.Tuner", class_args={"a": 1}),
                assessor=module.AlgorithmConfig(name="Curvefitting"),
                training_service=module.RemoteConfig(
                    machine_list=[module.RemoteMachineConfig(host="h", user="u", ssh_key_file="id_rsa")]
                ),
                shared_storage=module.AzureBlobConfig(
                    local_mount_point="code",
                    remote_mount_point="/r",
                    local_mounted="usermount",
                    storage_account_name="acc",
                    container_name="c",
                ),
                **IP,
            )
        )

    kind, expected = outcome(theirs, build)
    assert kind == "json"
    assert outcome(ours, build) == ("json", expected)


NNICTL_YAML = """\
searchSpaceFile: space.json
trialCommand: python3 mnist.py
trialCodeDirectory: code
trialConcurrency: 2
maxTrialNumber: 10
tuner:
  name: TPE
  classArgs:
    optimize_mode: maximize
trainingService:
  platform: local
"""


def test_load_matches(workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / "config.yml").write_text(NNICTL_YAML)
    monkeypatch.chdir(tmp_path)  # relative paths resolve against the file's directory in both
    expected = theirs.ExperimentConfig.load(str(workdir / "config.yml")).json()
    assert ours.ExperimentConfig.load(workdir / "config.yml").json() == expected
    assert expected["trialCodeDirectory"] == str((workdir / "code").resolve())


def test_non_dict_file_error_types_match(workdir: Path) -> None:
    (workdir / "list.yml").write_text("- 1\n- 2\n")
    with pytest.raises(TypeError):
        theirs.ExperimentConfig.load(str(workdir / "list.yml"))
    with pytest.raises(TypeError):  # ours is also a ConfigError; NNI's text has a typo ("Conent")
        ours.ExperimentConfig.load(workdir / "list.yml")


def test_diff_matches() -> None:
    def configs(module: types.ModuleType) -> tuple[Any, Any]:
        return module.ExperimentConfig(**kw()), module.ExperimentConfig(
            **kw(trial_concurrency=5, max_trial_number=9)
        )

    expected = theirs_utils.diff(*configs(theirs), "Current", "Loaded")
    assert expected != ""
    assert ours.diff(*configs(ours), "Current", "Loaded") == expected


# Where NNI crashes or is wrong, we deliberately differ: (kwargs, NNI's outcome, our message).
DIVERGENCES: dict[str, tuple[dict[str, Any], str, str]] = {
    "unknown_platform_dict": (
        kw(training_service={"platform": "nosuch"}),
        "AttributeError: 'dict' object has no attribute 'platform'",
        "Bad training service platform: nosuch",
    ),
    "no_training_service": (
        kw(training_service=DROP),
        "AttributeError: '_MISSING_TYPE' object has no attribute 'platform'",
        "ExperimentConfig: training_service is not set",
    ),
    "hybrid_without_manager_ip": (
        kw(training_service=[{"platform": "local"}, {"platform": "local"}]),
        "AttributeError: 'list' object has no attribute 'platform'",
        "",  # valid for us: only the nni_manager_ip warning, per non-local service
    ),
    "tuner_not_a_dict": (
        kw(tuner="TPE"),
        "AttributeError: 'str' object has no attribute 'name'",
        "ExperimentConfig: type of tuner ('TPE') is not",
    ),
    "bool_as_int": (kw(trial_concurrency=True), "json", "ExperimentConfig: type of trial_concurrency (True)"),
    "list_items_all_checked": (
        kw(tuner_gpu_indices=[0, "a"]),
        "TypeError: '<' not supported between instances of 'str' and 'int'",
        "ExperimentConfig: type of tuner_gpu_indices ([0, 'a'])",
    ),
    "openpai_message_interpolated": (
        kw(trial_gpu_number=0, training_service={**OPENPAI, "localStorageMountPoint": "nosuch"}, **IP),
        'ValueError: OpenpaiConfig: local_storage_mount_point "(self.local_storage_mount_point)"',
        'OpenpaiConfig: local_storage_mount_point "/',
    ),
    "shared_storage_unknown_key": (
        kw(shared_storage={"storageType": "NFS", "foo": 1}),
        "ValueError: ExperimentConfig: type of shared_storage ({'storageType': 'NFS', 'foo': 1}) is not",
        "SharedStorageConfig does not have field(s) foo",
    ),
}


@pytest.mark.parametrize(("kwargs", "nni", "message"), DIVERGENCES.values(), ids=DIVERGENCES.keys())
def test_known_divergences(kwargs: dict[str, Any], nni: str, message: str) -> None:
    kind, expected = outcome(theirs, from_kwargs(kwargs))
    assert (kind if kind == "json" else f"{type(expected).__name__}: {expected}").startswith(nni)
    kind, result = outcome(ours, from_kwargs(kwargs))
    if message:
        assert kind == "error" and isinstance(result, ConfigError)
        assert str(result).startswith(message)
    else:
        assert kind == "json"


def test_dicts_assigned_after_construction() -> None:
    def build(module: types.ModuleType) -> Any:
        config = module.ExperimentConfig(**kw())
        config.tuner = {"name": "Anneal"}
        config.training_service = {"platform": "local"}
        return config

    kind, error = outcome(theirs, build)  # NNI keeps the dicts and crashes
    assert kind == "error" and isinstance(error, AttributeError)
    kind, data = outcome(ours, build)  # we convert them, as at construction
    assert kind == "json"
    assert data["tuner"] == {"name": "Anneal"}
    assert data["trainingService"]["platform"] == "local"


def test_k8s_nfs_config_class() -> None:
    def build(module: types.ModuleType) -> Any:
        service = {"platform": "kubeflow", "operator": "tf-operator", "apiVersion": "v1"}
        storage = module.K8sNfsConfig(server="s", path="/p")
        return module.ExperimentConfig(**kw(training_service={**service, "storage": storage}, **IP))

    kind, error = outcome(theirs, build)  # NNI's subclass declares `storage`, not a storage_type default
    assert kind == "error" and str(error) == "K8sNfsConfig: storage_type is not set"
    kind, data = outcome(ours, build)
    assert kind == "json"
    assert data["trainingService"]["storage"] == {"storageType": "nfs", "server": "s", "path": "/p"}
