"""Differential tests: NNI v1 configs through ``nnictl create`` (NNI 3.0) and through ``load_config_file``.

``nnictl create`` runs for real (``nni.tools.nnictl.launcher.create_experiment``) with only the
experiment start and NNI's legacy launcher replaced by recorders. For each v1 config the test
compares: whether both accept it; the v2 config NNI's converter (``convert.to_v2``) gives against
:func:`~nni_exp.config.convert_v1`; the canonical v2 JSON (``config.json()``) of both; the fields both
say they ignore. The configs follow NNI's v1 examples (mnist-pytorch with TPE, with the Medianstop
assessor, local with GPUs, remote, OpenPAI, AML, Kubeflow, FrameworkController, annotation...).
"""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from nni_exp.config import convert_v1, load_config_file
from nni_exp.errors import ConfigError

pytest.importorskip("nni", reason="the differential test runs NNI 3.0's nnictl create")
launcher = pytest.importorskip("nni.tools.nnictl.launcher", reason="needs NNI 3.0's nnictl")
nni_convert = pytest.importorskip("nni.experiment.config.convert")
nni_config_utils = pytest.importorskip("nni.experiment.config.utils")

pytestmark = [pytest.mark.real_nni, pytest.mark.filterwarnings("ignore:SSH password will be exposed")]

SPACE = {"lr": {"_type": "choice", "_value": [0.1, 0.01]}}

MNIST = """\
authorName: default
experimentName: example_mnist_pytorch
trialConcurrency: 1
maxExecDuration: 1h
maxTrialNum: 10
#choice: local, remote, pai
trainingServicePlatform: local
searchSpacePath: search_space.json
#choice: true, false
useAnnotation: false
tuner:
  #choice: TPE, Random, Anneal, Evolution, BatchTuner, MetisTuner, GPTuner
  builtinTunerName: TPE
  classArgs:
    #choice: maximize, minimize
    optimize_mode: maximize
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
"""

ALGORITHM_AND_TRIAL = """\
tuner:
  builtinTunerName: TPE
  classArgs:
    optimize_mode: maximize
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
"""

HEAD = """\
authorName: default
experimentName: example
trialConcurrency: 2
maxExecDuration: 2h
maxTrialNum: 20
searchSpacePath: search_space.json
useAnnotation: false
"""

# v1 configs that both convert and accept
ACCEPTED: dict[str, str] = {
    "mnist_pytorch_tpe": MNIST,
    "mnist_pytorch_medianstop": MNIST + """\
assessor:
  #choice: Medianstop, Curvefitting
  builtinAssessorName: Medianstop
  classArgs:
    optimize_mode: maximize
""",
    "local_gpus": HEAD.replace("useAnnotation", "trainingServicePlatform: local\nuseAnnotation") + """\
tuner:
  builtinTunerName: GPTuner
  classArgs:
    optimize_mode: minimize
  gpuIndices: '1'
trial:
  command: python3 main.py
  codeDir: .
  gpuNum: 1
localConfig:
  gpuIndices: '0,1'
  maxTrialNumPerGpu: 2
  useActiveGpu: false
""",
    "remote_machines": HEAD + """\
trainingServicePlatform: remote
nniManagerIp: 10.0.0.1
remoteConfig:
  reuse: true
machineList:
  - ip: 10.1.1.1
    port: 22
    username: bob
    sshKeyPath: id_rsa
    gpuIndices: 0,1
  - ip: 10.1.1.2
    username: alice
    passwd: secret
    pythonPath: /opt/conda/bin
""" + ALGORITHM_AND_TRIAL,
    "advisor_hyperband": HEAD.replace("useAnnotation", "trainingServicePlatform: local\nuseAnnotation") + """\
advisor:
  builtinAdvisorName: Hyperband
  classArgs:
    optimize_mode: maximize
    R: 60
    eta: 3
trial:
  command: python3 mnist.py --epochs 10
  codeDir: .
""",
    "custom_tuner": HEAD.replace("useAnnotation", "trainingServicePlatform: local\nuseAnnotation") + """\
tuner:
  codeDir: tuner
  classFileName: my_tuner.py
  className: MyTuner
  classArgs:
    optimize_mode: maximize
trial:
  command: python3 trial.py
  codeDir: .
""",
    "dropped_and_unknown_fields": MNIST + """\
description: fields nnictl create ignores
multiThread: true
multiPhase: false
versionCheck: false
logCollection: none
logDir: experiments
logLevel: debug
debug: true
maxTrialDuration: 10m
unknownTopLevel: 1
localConfig:
  useActiveGpu: true
  somethingElse: 1
""",
    "openpai": HEAD + """\
trainingServicePlatform: pai
nniManagerIp: 10.0.0.1
tuner:
  builtinTunerName: Random
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
  cpuNum: 1
  memoryMB: 8196
  image: msranni/nni:latest
  virtualCluster: default
  nniManagerNFSMountPath: nfs
  containerNFSMountPath: /mnt/data/nni
  paiStorageConfigName: confignfs-data
paiConfig:
  userName: user
  token: token
  host: 10.1.1.1
  reuse: true
""",
    "aml": HEAD + """\
trainingServicePlatform: aml
nniManagerIp: 10.0.0.1
tuner:
  builtinTunerName: TPE
trial:
  command: python3 mnist.py
  codeDir: .
  image: msranni/nni
  gpuNum: 1
amlConfig:
  subscriptionId: sub
  resourceGroup: group
  workspaceName: ws
  computeTarget: gpu-cluster
""",
    "kubeflow_nfs": HEAD + """\
trainingServicePlatform: kubeflow
nniManagerIp: 10.0.0.1
tuner:
  builtinTunerName: TPE
trial:
  codeDir: .
  worker:
    replicas: 2
    command: python3 dist_mnist.py
    gpuNum: 1
    cpuNum: 1
    memoryMB: 8192
    image: msranni/nni:latest
  ps:
    replicas: 1
    command: python3 dist_mnist.py
    gpuNum: 0
    cpuNum: 1
    memoryMB: 8192
    image: msranni/nni:latest
kubeflowConfig:
  operator: tf-operator
  apiVersion: v1
  storage: nfs
  nfs:
    server: 10.10.10.10
    path: /var/nfs/general
""",
    "kubeflow_azure": HEAD + """\
trainingServicePlatform: kubeflow
nniManagerIp: 10.0.0.1
tuner:
  builtinTunerName: TPE
trial:
  codeDir: .
  worker:
    replicas: 1
    command: python3 main.py
    gpuNum: 0
    cpuNum: 1
    memoryMB: 2048
    image: msranni/nni:latest
kubeflowConfig:
  operator: pytorch-operator
  apiVersion: v1
  keyVault:
    vaultName: vault
    name: key
  azureStorage:
    accountName: account
    azureShare: share
  uploadRetryCount: 3
""",
    "frameworkcontroller_attempt_policy": HEAD + """\
trainingServicePlatform: frameworkcontroller
nniManagerIp: 10.0.0.1
tuner:
  builtinTunerName: TPE
trial:
  codeDir: .
  taskRoles:
    - name: worker
      taskNum: 1
      command: python3 mnist.py
      gpuNum: 0
      cpuNum: 1
      memoryMB: 8192
      image: msranni/nni:latest
      frameworkAttemptCompletionPolicy:
        minFailedTaskCount: 1
        minSucceededTaskCount: 1
frameworkcontrollerConfig:
  serviceAccountName: frameworkbarrier
  storage: nfs
  nfs:
    server: 10.10.10.10
    path: /var/nfs/general
""",
    "shared_storage_nfs": MNIST + """\
sharedStorage:
  storageType: NFS
  localMountPoint: nfs
  remoteMountPoint: /tmp/nfs
  localMounted: nnimount
  nfsServer: 10.0.0.2
  exportedDirectory: /exports
""",
}

# v1 configs that nnictl create refuses (or whose conversion the v2 schema refuses), and so do we
REFUSED: dict[str, str] = {
    "annotation": MNIST.replace("searchSpacePath: search_space.json\n", "").replace(
        "useAnnotation: false", "useAnnotation: true"
    ),
    "multi_phase": MNIST + "multiPhase: true\n",
    "platform_dlts": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: dlts"),
    "platform_hybrid": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: hybrid"),
    "platform_not_a_string": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: 3"),
    "remote_without_machine_list": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: remote"),
    "remote_machine_list_null": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: remote")
    + "machineList:\n",
    "remote_machine_not_a_mapping": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: remote")
    + "machineList: [10.1.1.1]\n",
    "pai_without_pai_config": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: pai"),
    "kubeflow_without_config": MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: kubeflow"),
    "kubeflow_nfs_missing": HEAD + "trainingServicePlatform: kubeflow\ntrial:\n  codeDir: .\n"
    "kubeflowConfig:\n  operator: tf-operator\n  apiVersion: v1\n  storage: nfs\n",
    "kubeflow_role_without_code_dir": HEAD + "trainingServicePlatform: kubeflow\ntuner:\n  builtinTunerName: TPE\n"
    "trial:\n  worker:\n    replicas: 1\n    command: c\n"
    "kubeflowConfig:\n  operator: tf-operator\n  apiVersion: v1\n  nfs:\n    server: s\n    path: /p\n",
    "custom_tuner_not_a_py_file": MNIST.replace(
        "  builtinTunerName: TPE\n", "  codeDir: tuner\n  classFileName: my_tuner\n  className: MyTuner\n"
    ),
    "custom_tuner_without_code_dir": MNIST.replace(
        "  builtinTunerName: TPE\n", "  classFileName: my_tuner.py\n  className: MyTuner\n"
    ),
    "custom_tuner_without_class_name": MNIST.replace(
        "  builtinTunerName: TPE\n", "  codeDir: tuner\n  classFileName: my_tuner.py\n"
    ),
    "tuner_not_a_mapping": MNIST.replace(
        "tuner:\n  #choice: TPE, Random, Anneal, Evolution, BatchTuner, MetisTuner, GPTuner\n  builtinTunerName: TPE\n"
        "  classArgs:\n    #choice: maximize, minimize\n    optimize_mode: maximize\n",
        "tuner: [TPE]\n",
    ),
    "trial_null": MNIST.replace("trial:\n  command: python3 mnist.py\n  codeDir: .\n  gpuNum: 0\n", "trial:\n"),
    "local_config_null": MNIST + "localConfig:\n",
    "code_dir_missing": MNIST.replace("codeDir: .", "codeDir: nosuchdir"),
    "search_space_path_missing": MNIST.replace("search_space.json", "nosuch.json"),
    "trial_concurrency_not_a_number": MNIST.replace("trialConcurrency: 1", "trialConcurrency: one"),
    "max_exec_duration_bad_unit": MNIST.replace("maxExecDuration: 1h", "maxExecDuration: 1y"),
    "gpu_without_use_active_gpu": MNIST.replace("gpuNum: 0", "gpuNum: 1"),
    "no_command": MNIST.replace("  command: python3 mnist.py\n", ""),
}

# Where we deliberately differ: (v1 config, NNI's outcome, the start of our outcome).
DIVERGENCES: dict[str, tuple[str, str, str]] = {
    # NNI moves `passphrase` unrenamed, which its v2 schema rejects; we convert it to sshPassphrase
    "remote_passphrase": (
        ACCEPTED["remote_machines"].replace("    sshKeyPath: id_rsa\n", "    sshKeyPath: id_rsa\n    passphrase: pw\n"),
        "error: AttributeError: RemoteMachineConfig does not have field(s) passphrase",
        "v2",
    ),
    # NNI reads the role's frameworkAttemptCompletionPolicy after moving the v1 policy: KeyError
    "frameworkcontroller_v1_policy": (
        ACCEPTED["frameworkcontroller_attempt_policy"].replace(
            "frameworkAttemptCompletionPolicy", "frameworkControllerCompletionPolicy"
        ),
        "error: SystemExit: 1",
        "v2",
    ),
    # nnictl create hands these to NNI's legacy (v1) launcher, which nni-exp does not have
    "platform_adl": (
        MNIST.replace("trainingServicePlatform: local", "trainingServicePlatform: adl"),
        "legacy launcher",
        "refused: trainingServicePlatform: platform 'adl' is run by NNI's legacy launcher",
    ),
    "kubeflow_reuse_false": (
        ACCEPTED["kubeflow_nfs"] + "  reuse: false\n",
        "legacy launcher",
        "refused: kubeflowConfig.reuse: a kubeflow config with reuse false is run by NNI's legacy launcher",
    ),
    # nnictl create does not check built-in names (NNI's dispatcher fails at start); we do
    "unknown_tuner_name": (
        MNIST.replace("builtinTunerName: TPE", "builtinTunerName: TPEE"),
        "v2",
        "refused: tuner.builtinTunerName: unknown built-in tuner 'TPEE' (did you mean 'TPE'?)",
    ),
}


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NNI_CONFIG_DIR", str(tmp_path / "nni-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    (work / "tuner").mkdir(parents=True)
    (work / "tuner" / "my_tuner.py").write_text("class MyTuner:\n    pass\n")
    (work / "nfs").mkdir()
    (work / "experiments").mkdir()
    (work / "id_rsa").write_text("key")
    (work / "search_space.json").write_text(json.dumps(SPACE))
    monkeypatch.chdir(tmp_path)  # relative paths must resolve against the config file's directory
    return work


class _Started(Exception):
    """Raised by the recording Experiment: nnictl create got as far as starting the experiment."""


class _Legacy(Exception):
    """Raised in place of NNI's legacy launcher."""


@dataclass
class NniOutcome:
    kind: str  # "v2" (experiment started), "legacy" or "error"
    detail: str = ""
    converted: Optional[dict[str, Any]] = None  # what convert.to_v2 returned
    json: Optional[dict[str, Any]] = None
    dropped: set[str] = field(default_factory=set)
    unconverted: set[str] = field(default_factory=set)


def nnictl_create(path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> NniOutcome:
    """Run NNI 3.0's ``nnictl create --config path`` up to the experiment's start."""
    outcome = NniOutcome("error")
    real_to_v2 = nni_convert.to_v2

    def to_v2(v1: dict[str, Any]) -> Any:
        outcome.converted = real_to_v2(v1)
        return outcome.converted

    class RecordingExperiment:
        def __init__(self, config: Any) -> None:
            self.config = config

        def start(self, *args: Any, **kwargs: Any) -> None:
            raise _Started(self.config)

    def legacy(args: Any) -> None:
        raise _Legacy()

    # nnictl create leaves its base path set when the converted config fails to construct: the next
    # run would fail on NNI's `assert _current_base_path is None`
    monkeypatch.setattr(nni_config_utils.internal, "_current_base_path", None)
    monkeypatch.setattr(nni_convert, "to_v2", to_v2)
    monkeypatch.setattr(launcher, "Experiment", RecordingExperiment)
    monkeypatch.setattr(launcher.legacy_launcher, "create_experiment", legacy)
    args = argparse.Namespace(config=str(path), port=8080, debug=False, url_prefix=None, foreground=False)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nni"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            launcher.create_experiment(args)
        except _Started as started:
            try:
                outcome.json = started.args[0].json()
                outcome.kind = "v2"
            except Exception as error:  # noqa: BLE001 - NNI refuses the converted config
                outcome.detail = f"{type(error).__name__}: {error}"
        except _Legacy:
            outcome.kind = "legacy"
        except BaseException as error:  # noqa: BLE001 - SystemExit, or a crash of nnictl
            outcome.detail = f"{type(error).__name__}: {error}"
    for record in caplog.records:
        if record.name != nni_convert.__name__:
            continue
        if record.levelno == logging.WARNING and "no longer supported" in record.getMessage():
            outcome.dropped.add(record.getMessage().split('"')[1])
        elif record.levelno == logging.ERROR and record.args:
            # logging keeps a single mapping argument as record.args itself
            leftover = record.args[-1] if isinstance(record.args, tuple) else record.args
            if isinstance(leftover, dict):
                outcome.unconverted.update(str(key) for key in leftover)
    return outcome


def ours(path: Path) -> tuple[str, Any]:
    """('v2', json) or ('refused', message) for load_config_file."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            loaded = load_config_file(path)
            return "v2", loaded.config.json()
        except ConfigError as error:
            return "refused", str(error)


def write(workdir: Path, text: str) -> Path:
    path = workdir / "config.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted_v1_configs_convert_as_nnictl_create(
    text: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(workdir, text)
    nni = nnictl_create(path, monkeypatch, caplog)
    assert nni.kind == "v2", nni.detail
    conversion = convert_v1(yaml.safe_load(text))
    assert conversion.config == nni.converted
    assert ours(path) == ("v2", nni.json)
    assert {name.rpartition(".")[2] for name in conversion.dropped} == nni.dropped
    assert {name.split(".")[1] if "." in name else name for name in conversion.unconverted} == nni.unconverted


@pytest.mark.parametrize("text", REFUSED.values(), ids=REFUSED.keys())
def test_refused_v1_configs_are_refused_by_both(
    text: str, workdir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(workdir, text)
    nni = nnictl_create(path, monkeypatch, caplog)
    assert nni.kind == "error", nni
    kind, message = ours(path)
    assert kind == "refused"
    assert "\n" not in message and message.startswith(f"{path} (NNI v1 format): ")
    if nni.converted is not None:
        # NNI converted it, then refused the result: we convert it the same, or refuse it already
        # (NNI converts some malformed sections into nothing, e.g. a machine that is a string)
        try:
            assert convert_v1(yaml.safe_load(text)).config == nni.converted
        except ConfigError as error:
            assert error.field and error.field in message


@pytest.mark.parametrize(("text", "nni_outcome", "our_outcome"), DIVERGENCES.values(), ids=DIVERGENCES.keys())
def test_known_divergences(
    text: str,
    nni_outcome: str,
    our_outcome: str,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    path = write(workdir, text)
    nni = nnictl_create(path, monkeypatch, caplog)
    shown = {"v2": "v2", "legacy": "legacy launcher"}.get(nni.kind, f"error: {nni.detail}")
    assert shown.startswith(nni_outcome)
    kind, result = ours(path)
    if our_outcome == "v2":
        assert kind == "v2", result
    else:
        assert f"{kind}: {result}".replace(f"{path} (NNI v1 format): ", "").startswith(our_outcome)


def test_divergent_conversions_are_what_nni_meant() -> None:
    remote = convert_v1(yaml.safe_load(DIVERGENCES["remote_passphrase"][0])).config
    assert remote["trainingService"]["machineList"][0]["sshPassphrase"] == "pw"
    controller = convert_v1(yaml.safe_load(DIVERGENCES["frameworkcontroller_v1_policy"][0])).config
    policy = controller["trainingService"]["taskRoles"][0]["frameworkAttemptCompletionPolicy"]
    assert policy == {"minFailedTaskCount": 1, "minSucceedTaskCount": 1}
    reference = convert_v1(yaml.safe_load(ACCEPTED["frameworkcontroller_attempt_policy"])).config
    assert controller == reference


# --- property: random v1 configs convert as NNI's converter converts them --------------------------

ANY = st.one_of(st.none(), st.booleans(), st.integers(-2, 5), st.text("ab1.", max_size=4))
SET = st.one_of(st.booleans(), st.integers(0, 3), st.text("ab", min_size=1, max_size=3))  # never null


def sections(required: dict[str, Any], optional: dict[str, Any]) -> Any:
    return st.fixed_dictionaries(required, optional=optional)


ROLE = sections({}, {k: ANY for k in ("replicas", "command", "gpuNum", "cpuNum", "memoryMB", "image",
                                      "privateRegistryAuthPath", "extra")})
BUILTIN = {"classArgs": st.one_of(st.none(), st.dictionaries(st.text("xy", max_size=2), ANY, max_size=2)),
           "gpuIndices": ANY, "includeIntermediateResults": ANY, "extra": ANY}


def algorithm(kind: str) -> Any:
    name_key = f"builtin{kind.title()}Name"
    builtin = sections({name_key: st.one_of(st.none(), SET)}, BUILTIN)
    custom = sections({}, {"codeDir": SET, "classFileName": st.sampled_from(["my.py", "my", "a.b.py"]),
                           "className": st.text("AB", min_size=1, max_size=2), **BUILTIN})
    return st.one_of(st.just({}), builtin, custom)


V1_CONFIGS = st.fixed_dictionaries(
    {"trainingServicePlatform": st.sampled_from(["local", "remote", "pai", "aml", "kubeflow", "dlts", "hybrid"])},
    optional={
        **{key: ANY for key in ("authorName", "experimentName", "description", "trialConcurrency",
                                "maxExecDuration", "maxTrialNum", "searchSpacePath", "multiPhase", "multiThread",
                                "nniManagerIp", "logDir", "debug", "versionCheck", "logLevel", "logCollection",
                                "useAnnotation", "maxTrialDuration", "extra")},
        "trial": sections({}, {**{k: ANY for k in ("command", "codeDir", "gpuNum", "cpuNum", "memoryMB", "image",
                                                  "nniManagerNFSMountPath", "containerNFSMountPath", "virtualCluster",
                                                  "paiStorageConfigName", "paiConfigPath", "nasMode", "extra")},
                               "worker": ROLE, "ps": ROLE}),
        "tuner": algorithm("tuner"),
        "assessor": algorithm("assessor"),
        "advisor": algorithm("advisor"),
        "localConfig": sections({}, {k: ANY for k in ("gpuIndices", "maxTrialNumPerGpu", "useActiveGpu", "x")}),
        "remoteConfig": sections({}, {"reuse": ANY, "x": ANY}),
        "machineList": st.lists(sections({}, {k: ANY for k in ("ip", "port", "username", "sshKeyPath", "gpuIndices",
                                                              "maxTrialNumPerGpu", "useActiveGpu", "pythonPath",
                                                              "passwd", "x")}), max_size=2),
        "paiConfig": sections({}, {k: ANY for k in ("userName", "password", "token", "host", "reuse", "gpuNum",
                                                    "cpuNum", "memoryMB", "maxTrialNumPerGpu", "useActiveGpu")}),
        "amlConfig": sections({}, {k: ANY for k in ("subscriptionId", "resourceGroup", "workspaceName",
                                                    "computeTarget", "maxTrialNumPerGpu", "useActiveGpu")}),
        "kubeflowConfig": sections({}, {
            "operator": ANY, "apiVersion": ANY, "storage": st.sampled_from(["nfs", "azureStorage", "pvc"]),
            "nfs": sections({}, {"server": SET, "path": SET}),
            "keyVault": sections({}, {"vaultName": SET, "name": SET}),
            "azureStorage": sections({}, {"accountName": SET, "azureShare": SET}),
            "uploadRetryCount": ANY,
        }),
        "sharedStorage": st.one_of(st.just({}), sections({}, {k: ANY for k in (
            "storageType", "nfsServer", "exportedDirectory", "localMountPoint", "remoteMountPoint", "localMounted",
            "storageAccountName", "storageAccountKey", "containerName", "x")})),
    },
)


@settings(max_examples=300, deadline=None)
@given(v1=V1_CONFIGS)
def test_random_v1_configs_convert_as_nnis_converter(v1: dict[str, Any]) -> None:
    logging.disable(logging.CRITICAL)  # NNI logs every field it ignores
    try:
        expected: Any = nni_convert.to_v2(v1)
    except Exception as error:  # noqa: BLE001 - NNI's converter refuses with whatever it raises
        expected = error
    finally:
        logging.disable(logging.NOTSET)
    try:
        result: Any = convert_v1(v1).config
    except ConfigError as error:
        result = error
    if isinstance(expected, Exception):
        assert isinstance(result, ConfigError), (expected, result)
        assert "\n" not in str(result) and result.field
    else:
        assert result == expected
