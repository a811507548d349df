"""Algorithm, training-service and shared-storage configs: fields, defaults and rules (spec 1.7-1.9)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from nni_exp.config import (
    AlgorithmConfig,
    AmlConfig,
    AzureBlobConfig,
    CustomAlgorithmConfig,
    DlcConfig,
    ExperimentConfig,
    FrameworkControllerConfig,
    K8sNfsConfig,
    K8sStorageConfig,
    KubeflowConfig,
    KubeflowRoleConfig,
    LocalConfig,
    NfsConfig,
    OpenpaiConfig,
    RemoteConfig,
    RemoteMachineConfig,
    SharedStorageConfig,
    TrainingServiceConfig,
)
from nni_exp.config.training_services import training_service_config
from nni_exp.errors import ConfigError

from .config_samples import FRAMEWORK_ROLE, OPENPAI, SPACE


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "code").mkdir()
    (tmp_path / "id_rsa").write_text("key")
    return tmp_path


def make(service: Any = None, **overrides: Any) -> ExperimentConfig:
    kwargs: dict[str, Any] = {
        "trial_concurrency": 1,
        "search_space": SPACE,
        "trial_command": "python t.py",
        "tuner": {"name": "Random"},
        "training_service": service if service is not None else {"platform": "local"},
        "nni_manager_ip": "10.0.0.1",
    }
    kwargs.update(overrides)
    return ExperimentConfig(**kwargs)


def invalid(config: ExperimentConfig, field: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConfigError) as info:
            config.validate()
    assert info.value.field == field
    return str(info.value)


# --- algorithms -----------------------------------------------------------------------------


def test_builtin_algorithm_json() -> None:
    assert make(tuner=AlgorithmConfig(name="TPE")).json()["tuner"] == {"name": "TPE"}
    assert make(tuner=AlgorithmConfig(name="TPE", class_args={})).json()["tuner"] == {
        "name": "TPE",
        "classArgs": {},
    }


def test_custom_algorithm_json(in_tmp: Path) -> None:
    tuner = CustomAlgorithmConfig(class_name="my_tuner.MyTuner", class_args={"a": 1})
    assert make(tuner=tuner).json()["tuner"] == {
        "className": "my_tuner.MyTuner",
        "codeDirectory": os.path.realpath(in_tmp),  # default '.'
        "classArgs": {"a": 1},
    }


def test_custom_algorithm_code_directory_not_a_directory(in_tmp: Path) -> None:
    tuner = CustomAlgorithmConfig(class_name="m.T", code_directory="nosuch")
    message = invalid(make(tuner=tuner), "tuner.code_directory")
    assert (
        message
        == f'CustomAlgorithmConfig: code_directory "{os.path.realpath(in_tmp / "nosuch")}" is not a directory'
    )


def test_custom_algorithm_from_a_dict_needs_code_directory() -> None:
    message = invalid(make(tuner={"className": "m.T"}), "tuner.code_directory")
    assert message == "_AlgorithmConfig: code_directory must be set for a custom algorithm"


@pytest.mark.parametrize(
    ("tuner", "field", "text"),
    [
        ({"name": "TPE", "className": "m.T", "codeDirectory": "code"}, "tuner.name", "must not both be set"),
        ({"className": "", "codeDirectory": "code"}, "tuner.class_name", "class_name must not be empty"),
        ({"name": ""}, "tuner.name", "name must be set"),
        ({}, "tuner.name", "name must be set"),
        ({"name": "TPE", "codeDirectory": "code"}, "tuner.code_directory", "must not be set for a built-in"),
        (AlgorithmConfig(), "tuner.name", "AlgorithmConfig: name is not set"),
        (CustomAlgorithmConfig(), "tuner.class_name", "CustomAlgorithmConfig: class_name is not set"),
    ],
)
def test_algorithm_rules(tuner: Any, field: str, text: str) -> None:
    assert text in invalid(make(tuner=tuner), field)


def test_assessor_rules_are_located_under_assessor() -> None:
    assert "name must be set" in invalid(make(assessor={"classArgs": {}}), "assessor.name")


# --- training service base ------------------------------------------------------------------


def test_platform_registry() -> None:
    expected = {
        "local": LocalConfig,
        "remote": RemoteConfig,
        "openpai": OpenpaiConfig,
        "aml": AmlConfig,
        "dlc": DlcConfig,
        "kubeflow": KubeflowConfig,
        "frameworkcontroller": FrameworkControllerConfig,
    }
    for platform, cls in expected.items():
        service = training_service_config(platform)
        assert type(service) is cls
        assert service.platform == platform
        assert isinstance(service, TrainingServiceConfig)


def test_standalone_service_reports_missing_shortcuts() -> None:
    with pytest.raises(ConfigError, match="^LocalConfig: trial_command is not set$"):
        LocalConfig().validate()


def test_service_config_validates_standalone_when_complete(in_tmp: Path) -> None:
    service = LocalConfig(
        trial_command="x",
        trial_code_directory="code",
        trial_gpu_number=None,
        nni_manager_ip="1.2.3.4",
        debug=False,
    )
    data = service.json()
    assert data["trialCodeDirectory"] == os.path.realpath(in_tmp / "code")
    assert "nniManagerIp" not in data  # local drops it


@pytest.mark.parametrize("value", [-1, -5])
def test_trial_gpu_number_negative(value: int) -> None:
    message = invalid(make(trial_gpu_number=value), "training_service.trial_gpu_number")
    assert message == f"LocalConfig: trial_gpu_number must be >= 0, got {value}"


# --- local ----------------------------------------------------------------------------------


def test_local_defaults_and_gpu_json() -> None:
    service = {"platform": "local", "useActiveGpu": False, "maxTrialNumberPerGpu": 2, "gpuIndices": "0,1"}
    data = make(service, trial_gpu_number=2).json()["trainingService"]
    assert data == {
        "platform": "local",
        "trialCommand": "python t.py",
        "trialCodeDirectory": os.path.realpath("."),
        "trialGpuNumber": 2,
        "debug": False,
        "useActiveGpu": False,
        "maxTrialNumberPerGpu": 2,
        "gpuIndices": [0, 1],
        "reuseMode": False,
    }


def test_local_trial_gpu_number_zero_is_emitted() -> None:
    assert make(trial_gpu_number=0).json()["trainingService"]["trialGpuNumber"] == 0


def test_local_gpu_needs_use_active_gpu() -> None:
    message = invalid(make(trial_gpu_number=1), "training_service.use_active_gpu")
    assert message.startswith("LocalConfig: please set use_active_gpu to True if your system has GUI")


def test_local_max_trial_number_per_gpu_needs_gpus() -> None:
    message = invalid(
        make({"platform": "local", "maxTrialNumberPerGpu": 2}), "training_service.max_trial_number_per_gpu"
    )
    assert message == "LocalConfig: max_trial_number_per_gpu does not work without trial_gpu_number"


@pytest.mark.parametrize(("indices", "problem"), [([1, 1], "Duplication"), ("-1", "Negative")])
def test_local_gpu_indices_rules(indices: Any, problem: str) -> None:
    message = invalid(make({"platform": "local", "gpuIndices": indices}), "training_service.gpu_indices")
    assert message.startswith(f"LocalConfig: gpu_indices: {problem} detected in GPU indices")


# --- remote ---------------------------------------------------------------------------------


def remote(*machines: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"platform": "remote", "machineList": list(machines), **fields}


def test_remote_json_with_key_file(in_tmp: Path) -> None:
    data = make(remote({"host": "h", "user": "u", "sshKeyFile": "id_rsa", "gpuIndices": 1})).json()
    machine = data["trainingService"]["machineList"][0]
    assert machine == {
        "host": "h",
        "port": 22,
        "user": "u",
        "sshKeyFile": os.path.realpath(in_tmp / "id_rsa"),
        "useActiveGpu": False,
        "maxTrialNumberPerGpu": 1,
        "gpuIndices": [1],
    }
    assert data["trainingService"]["nniManagerIp"] == "10.0.0.1"  # copied from the top level


def test_remote_password_drops_key_file_and_warns() -> None:
    with pytest.warns(UserWarning, match="SSH password will be exposed"):
        machine = make(remote({"host": "h", "user": "u", "password": "p"})).json()["trainingService"][
            "machineList"
        ][0]
    assert machine["password"] == "p"
    assert "sshKeyFile" not in machine


def test_remote_needs_password_or_key_file(in_tmp: Path) -> None:
    message = invalid(
        make(remote({"host": "h", "user": "u", "sshKeyFile": "nokey"})),
        "training_service.machine_list[0].ssh_key_file",
    )
    assert message == (
        f'RemoteMachineConfig: You must either provide password or a valid SSH key file "{in_tmp / "nokey"}"'
    )


def test_remote_empty_machine_list() -> None:
    message = invalid(make(remote()), "training_service.machine_list")
    assert message == "RemoteConfig: must provide at least one machine in machine_list"


@pytest.mark.parametrize("port", [0, 65536])
def test_remote_port_range(port: int) -> None:
    message = invalid(
        make(remote({"host": "h", "user": "u", "password": "p", "port": port})),
        "training_service.machine_list[0].port",
    )
    assert message == f"RemoteMachineConfig: port must be in 1..65535, got {port}"


def test_remote_max_trial_number_per_gpu() -> None:
    machine = {"host": "h", "user": "u", "password": "p", "maxTrialNumberPerGpu": 0}
    message = invalid(
        make(remote(machine), trial_gpu_number=1), "training_service.machine_list[0].max_trial_number_per_gpu"
    )
    assert message == "RemoteMachineConfig: max_trial_number_per_gpu must be > 0, got 0"
    machine["maxTrialNumberPerGpu"] = 2
    message = invalid(make(remote(machine)), "training_service.machine_list")
    assert message == "RemoteConfig: max_trial_number_per_gpu does not work without trial_gpu_number"


def test_remote_machine_missing_field() -> None:
    message = invalid(make(remote({"user": "u", "password": "p"})), "training_service.machine_list[0].host")
    assert message == "RemoteMachineConfig: host is not set"


def test_remote_machine_objects() -> None:
    service = RemoteConfig(machine_list=[RemoteMachineConfig(host="h", user="u", ssh_key_file="id_rsa")])
    assert make(service).json()["trainingService"]["machineList"][0]["host"] == "h"


# --- openpai / aml / dlc --------------------------------------------------------------------



def test_openpai_json(in_tmp: Path) -> None:
    data = make(dict(OPENPAI), trial_gpu_number=0).json()["trainingService"]
    assert data["host"] == "https://pai.example.com"
    assert data["dockerImage"] == "msranni/nni:latest"
    assert data["reuseMode"] is True
    assert data["localStorageMountPoint"] == os.path.realpath(in_tmp / "code")
    assert "virtualCluster" not in data
    assert (
        make({**OPENPAI, "host": "http://pai"}, trial_gpu_number=0).json()["trainingService"]["host"]
        == "http://pai"
    )


def test_openpai_rules(in_tmp: Path) -> None:
    assert (
        invalid(make(dict(OPENPAI)), "training_service.trial_gpu_number")
        == "OpenpaiConfig: trial_gpu_number is not set"
    )
    message = invalid(
        make({**OPENPAI, "localStorageMountPoint": "nosuch"}, trial_gpu_number=0),
        "training_service.local_storage_mount_point",
    )
    assert message == f'OpenpaiConfig: local_storage_mount_point "{in_tmp / "nosuch"}" is not a directory'
    both = {**OPENPAI, "openpaiConfig": {}, "openpaiConfigFile": "id_rsa"}
    message = invalid(make(both, trial_gpu_number=0), "training_service.openpai_config")
    assert message == "openpai_config and openpai_config_file can only be set one"
    message = invalid(
        make({**OPENPAI, "openpaiConfigFile": "code"}, trial_gpu_number=0),
        "training_service.openpai_config_file",
    )
    assert message == f'OpenpaiConfig: openpai_config_file "{in_tmp / "code"}" is not a file'


def test_openpai_and_frameworkcontroller_optional_fields_round_trip() -> None:
    # NNI requires virtual_cluster / service_account_name although None is valid and json() omits it
    config = make(dict(OPENPAI), trial_gpu_number=0)
    data = config.json()
    assert "virtualCluster" not in data["trainingService"]
    assert ExperimentConfig(**data).json() == data
    service = FrameworkControllerConfig(storage=K8sNfsConfig(server="s", path="/p"), task_roles=[])
    data = make(service).json()
    assert "serviceAccountName" not in data["trainingService"]
    assert ExperimentConfig(**data).json() == data


def test_aml_json_and_missing_fields() -> None:
    aml = {
        "platform": "aml",
        "subscriptionId": "s",
        "resourceGroup": "r",
        "workspaceName": "w",
        "computeTarget": "c",
    }
    data = make(aml).json()["trainingService"]
    assert data["dockerImage"] == "msranni/nni:latest"
    assert data["maxTrialNumberPerGpu"] == 1
    assert (
        invalid(make({"platform": "aml"}), "training_service.subscription_id")
        == "AmlConfig: subscription_id is not set"
    )


def test_dlc_defaults() -> None:
    dlc = DlcConfig(
        image="i",
        pod_count=1,
        ecs_spec="e",
        region="r",
        workspace_id="w",
        nas_data_source_id="n",
        access_key_id="a",
        access_key_secret="s",
        local_storage_mount_point="l",
        container_storage_mount_point="c",
    )
    data = make(dlc).json()["trainingService"]
    assert (data["type"], data["jobType"], data["localStorageMountPoint"]) == ("Worker", "TFJob", "l")
    assert "ossDataSourceId" not in data


# --- kubernetes -----------------------------------------------------------------------------

NFS = {"storageType": "nfs", "server": "s", "path": "/p"}
ROLE = {"replicas": 1, "command": "python t.py", "cpuNumber": 1, "memorySize": "1g", "codeDirectory": "."}


def test_kubeflow_json() -> None:
    service = {
        "platform": "kubeflow",
        "operator": "tf-operator",
        "apiVersion": "v1",
        "storage": NFS,
        "worker": ROLE,
    }
    config = make(service)
    assert isinstance(config.training_service, KubeflowConfig)
    assert type(config.training_service.storage) is K8sStorageConfig
    assert isinstance(config.training_service.worker, KubeflowRoleConfig)
    data = config.json()["trainingService"]
    assert data["storage"] == NFS
    assert data["worker"] == {**ROLE, "gpuNumber": 0, "dockerImage": "msranni/nni:latest"}
    assert (data["reuseMode"], data["namespace"]) == (True, "default")


def test_kubeflow_without_trial_command_gets_empty_strings() -> None:
    service = KubeflowConfig(
        operator="pytorch-operator", api_version="v1", storage=K8sNfsConfig(server="s", path="/p")
    )
    data = make(service, trial_command=None).json()["trainingService"]
    assert data["trialCommand"] == ""
    service.trial_code_directory = None  # type: ignore[assignment]
    assert make(service).json()["trainingService"]["trialCodeDirectory"] == ""
    assert data["storage"] == {"storageType": "nfs", "server": "s", "path": "/p"}


def test_kubeflow_operator_rule() -> None:
    service = {"platform": "kubeflow", "operator": "mpi-operator", "apiVersion": "v1", "storage": NFS}
    message = invalid(make(service), "training_service.operator")
    assert (
        message == "KubeflowConfig: operator must be 'tf-operator' or 'pytorch-operator', got 'mpi-operator'"
    )


@pytest.mark.parametrize(
    ("storage", "field", "message"),
    [
        (
            {"storageType": "s3"},
            "storage_type",
            'Kubernetes storage_type ("s3") must either be "azureStorage" or "nfs"',
        ),
        (
            {"storageType": "nfs", "azureAccount": "a"},
            "azure_account",
            "K8sStorageConfig: azure_account must not be set when storage_type is 'nfs'",
        ),
        (
            {"storageType": "azureStorage", "server": "s"},
            "server",
            "K8sStorageConfig: server must not be set when storage_type is 'azureStorage'",
        ),
    ],
)
def test_k8s_storage_rules(storage: dict[str, Any], field: str, message: str) -> None:
    service = {"platform": "kubeflow", "operator": "tf-operator", "apiVersion": "v1", "storage": storage}
    assert invalid(make(service), f"training_service.storage.{field}") == message


def test_k8s_storage_unknown_key_is_reported_on_validation() -> None:
    service = {
        "platform": "kubeflow",
        "operator": "tf-operator",
        "apiVersion": "v1",
        "storage": {**NFS, "bogus": 1},
    }
    config = make(service)
    assert config.training_service.storage == {**NFS, "bogus": 1}  # type: ignore[union-attr]
    assert (
        invalid(config, "training_service.storage.bogus") == "K8sStorageConfig does not have field(s) bogus"
    )


def test_frameworkcontroller_json_and_nested_location() -> None:
    role = dict(FRAMEWORK_ROLE)
    service = {
        "platform": "frameworkcontroller",
        "storage": NFS,
        "serviceAccountName": None,
        "taskRoles": [role],
    }
    data = make(service, trial_command=None).json()["trainingService"]
    assert data["trialCommand"] == ""
    assert data["taskRoles"] == [{**role, "dockerImage": "msranni/nni:latest"}]
    role_without_policy = {k: v for k, v in role.items() if k != "frameworkAttemptCompletionPolicy"}
    message = invalid(
        make({**service, "taskRoles": [role, role_without_policy]}),
        "training_service.task_roles[1].framework_attempt_completion_policy",
    )
    assert message == "FrameworkControllerRoleConfig: framework_attempt_completion_policy is not set"


# --- shared storage -------------------------------------------------------------------------


def test_shared_storage_from_dict_and_objects(in_tmp: Path) -> None:
    nfs = {
        "storageType": "NFS",
        "localMountPoint": "code",
        "remoteMountPoint": "/r",
        "localMounted": "nnimount",
        "nfsServer": "h",
        "exportedDirectory": "/e",
    }
    config = make(shared_storage=nfs)
    assert type(config.shared_storage) is SharedStorageConfig
    assert config.json()["sharedStorage"] == {**nfs, "localMountPoint": os.path.realpath(in_tmp / "code")}
    obj = NfsConfig(
        local_mount_point="code",
        remote_mount_point="/r",
        local_mounted="nnimount",
        nfs_server="h",
        exported_directory="/e",
    )
    assert make(shared_storage=obj).json()["sharedStorage"] == config.json()["sharedStorage"]
    blob = AzureBlobConfig(
        local_mount_point="code",
        remote_mount_point="/r",
        local_mounted="usermount",
        storage_account_name="acc",
        container_name="c",
    )
    assert make(shared_storage=blob).json()["sharedStorage"]["storageType"] == "AzureBlob"


def test_shared_storage_missing_fields() -> None:
    message = invalid(
        make(shared_storage=NfsConfig(local_mount_point="code")), "shared_storage.remote_mount_point"
    )
    assert message == "NfsConfig: remote_mount_point is not set"
