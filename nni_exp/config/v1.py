"""NNI's v1 experiment config format, converted to the v2 format as NNI 3.0's ``nnictl create`` does.

A v1 config sets ``trainingServicePlatform`` (``authorName``, ``trial: {command, codeDir, gpuNum}``,
``maxExecDuration``, ``maxTrialNum``, ``searchSpacePath``, ``tuner: {builtinTunerName, classArgs}``,
``localConfig``, ``machineList``, ...). :func:`convert_v1` gives the v2 config that ``nnictl create``
builds from it: the same fields moved and renamed, the fields NNI 3.0 no longer supports dropped, and
the same configs refused: platforms it does not convert (``dlts``, ``hybrid``, ``adl``, ...; ``adl``
and Kubernetes platforms with ``reuse: false`` are run by NNI's legacy launcher, which nni-exp does
not have), multi-phase experiments, sections that are missing or are no mappings, incomplete custom
algorithms. Like ``nnictl create``, it leaves out (and lists) the fields it does not know.

Two deliberate differences, where ``nnictl create`` fails on a config it means to convert:
a remote machine's ``passphrase`` becomes ``sshPassphrase`` (NNI writes ``passphrase``, which the v2
schema rejects), and a FrameworkController task role's ``frameworkControllerCompletionPolicy`` is
converted (NNI fails with a ``KeyError`` unless the role also has ``frameworkAttemptCompletionPolicy``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Optional

from ..errors import ConfigError
from .base import describe_value

__all__ = ["V1Conversion", "is_v1", "convert_v1", "CONVERTED_PLATFORMS", "V1_ONLY_FIELDS"]

#: The v1 platforms ``nnictl create`` converts (``pai`` becomes ``openpai``).
CONVERTED_PLATFORMS = ("local", "remote", "pai", "aml", "kubeflow", "frameworkcontroller")

#: Top-level fields of the v1 format that v2 does not have, with what v2 has instead.
V1_ONLY_FIELDS: dict[str, str] = {
    "authorName": "no longer supported",
    "description": "no longer supported",
    "trainingServicePlatform": "v2: trainingService.platform",
    "maxExecDuration": "v2: maxExperimentDuration",
    "maxTrialNum": "v2: maxTrialNumber",
    "searchSpacePath": "v2: searchSpaceFile",
    "multiPhase": "no longer supported",
    "multiThread": "no longer supported",
    "logDir": "v2: experimentWorkingDirectory",
    "versionCheck": "no longer supported",
    "logCollection": "no longer supported",
    "trial": "v2: trialCommand, trialCodeDirectory, trialGpuNumber",
    "localConfig": "v2: trainingService",
    "remoteConfig": "v2: trainingService",
    "machineList": "v2: trainingService.machineList",
    "paiConfig": "v2: trainingService",
    "amlConfig": "v2: trainingService",
    "kubeflowConfig": "v2: trainingService",
    "frameworkcontrollerConfig": "v2: trainingService",
}

# Where v2 fields come from, for those a v1 config may lack (errors then name the v1 field).
_V1_NAMES = {
    "trialCommand": "trial.command",
    "trialCodeDirectory": "trial.codeDir",
    "trialGpuNumber": "trial.gpuNum",
    "maxExperimentDuration": "maxExecDuration",
    "maxTrialNumber": "maxTrialNum",
    "searchSpaceFile": "searchSpacePath",
    "searchSpace": "searchSpacePath",
    "experimentWorkingDirectory": "logDir",
    "trainingService.platform": "trainingServicePlatform",
    # fields a training service takes from the experiment when it does not set them
    "trainingService.trialCommand": "trial.command",
    "trainingService.trialCodeDirectory": "trial.codeDir",
    "trainingService.trialGpuNumber": "trial.gpuNum",
    "trainingService.nniManagerIp": "nniManagerIp",
    "trainingService.debug": "debug",
}


@dataclass
class V1Conversion:
    """The result of :func:`convert_v1`.

    ``config``: the v2 config (camelCase keys); ``renames``: v2 field path -> the v1 field path it
    comes from (to name the v1 field in errors); ``dropped``: v1 fields NNI 3.0 no longer supports
    (``nnictl create`` warns that it ignores them); ``unconverted``: v1 fields the conversion does not
    know (``nnictl create`` logs them as "not fully converted" and goes on without them).
    """

    config: dict[str, Any]
    renames: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    unconverted: list[str] = field(default_factory=list)

    def v1_path(self, path: str) -> Optional[str]:
        """The v1 field a v2 field path comes from (longest known prefix), or None."""
        for end in sorted(_boundaries(path), reverse=True):
            prefix = path[:end]
            if prefix in self.renames:
                return self.renames[prefix] + path[end:]
        return None


def _boundaries(path: str) -> list[int]:
    return [index for index, char in enumerate(path) if char in ".["] + [len(path)]


def is_v1(data: Mapping[str, Any]) -> bool:
    """Whether ``data`` (a config file's content) is a v1 config: it sets ``trainingServicePlatform``.

    As for ``nnictl create``, an empty or null ``trainingServicePlatform`` does not count.
    """
    return bool(data.get("trainingServicePlatform"))


def convert_v1(data: Mapping[str, Any]) -> V1Conversion:
    """The v2 config ``nnictl create`` makes of the v1 config ``data`` (which is left unchanged).

    Raises :class:`~nni_exp.errors.ConfigError` (``field``: the v1 field path) for a config that
    ``nnictl create`` refuses or fails on.
    """
    return _Converter().convert(copy.deepcopy(dict(data)))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _is_false(value: Any) -> bool:
    """``value != False`` in NNI's test, inverted: False, 0 and 0.0 are false."""
    return value is False or (type(value) in (int, float) and value == 0)


class _Converter:
    def __init__(self) -> None:
        self.renames: dict[str, str] = dict(_V1_NAMES)
        self.dropped: list[str] = []
        self.unconverted: list[str] = []

    # -- primitives ------------------------------------------------------------------------------

    def move(self, src: dict[str, Any], src_path: str, dst: dict[str, Any], dst_path: str, key: str,
             new_key: Optional[str] = None) -> None:
        """Move ``src[key]`` to ``dst[new_key]``; a null value is dropped (as NNI does)."""
        target = new_key or key
        if key in src:
            value = src.pop(key)
            if value is not None:
                dst[target] = value
                self.renames[_join(dst_path, target)] = _join(src_path, key)

    def drop(self, src: dict[str, Any], src_path: str, key: str) -> None:
        if key in src:
            src.pop(key)
            self.dropped.append(_join(src_path, key))

    def leftovers(self, src: dict[str, Any], src_path: str) -> None:
        self.unconverted.extend(_join(src_path, str(key)) for key in src)

    @staticmethod
    def reject(path: str, detail: str) -> ConfigError:
        return ConfigError(f"NNI v1 config: {path}: {detail}", path, detail)

    def mapping(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.reject(path, f"expected a mapping, got {describe_value(value)}")
        return value

    def required(self, src: dict[str, Any], src_path: str, key: str, why: str) -> Any:
        if src.get(key) is None:
            raise self.reject(_join(src_path, key), f"required field is missing ({why})")
        return src.pop(key)

    def required_mapping(self, src: dict[str, Any], src_path: str, key: str, why: str) -> dict[str, Any]:
        return self.mapping(self.required(src, src_path, key, why), _join(src_path, key))

    # -- the whole config ------------------------------------------------------------------------

    def convert(self, v1: dict[str, Any]) -> V1Conversion:
        platform = v1.pop("trainingServicePlatform")
        self.check_platform(platform, v1)
        v2: dict[str, Any] = {}

        self.drop(v1, "", "authorName")
        self.move(v1, "", v2, "", "experimentName")
        self.drop(v1, "", "description")
        self.move(v1, "", v2, "", "trialConcurrency")
        self.move(v1, "", v2, "", "maxExecDuration", "maxExperimentDuration")
        self.move(v1, "", v2, "", "maxTrialNum", "maxTrialNumber")
        self.move(v1, "", v2, "", "searchSpacePath", "searchSpaceFile")
        if v1.pop("multiPhase", None):
            raise self.reject("multiPhase", "multi-phase experiments are not supported since NNI 3.0")
        self.drop(v1, "", "multiThread")
        self.move(v1, "", v2, "", "nniManagerIp")
        self.move(v1, "", v2, "", "logDir", "experimentWorkingDirectory")
        self.move(v1, "", v2, "", "debug")
        self.drop(v1, "", "versionCheck")
        self.move(v1, "", v2, "", "logLevel")
        self.drop(v1, "", "logCollection")
        self.move(v1, "", v2, "", "useAnnotation")

        trial = self.mapping(v1.pop("trial"), "trial") if "trial" in v1 else {}
        self.move(trial, "trial", v2, "", "command", "trialCommand")
        self.move(trial, "trial", v2, "", "codeDir", "trialCodeDirectory")
        self.move(trial, "trial", v2, "", "gpuNum", "trialGpuNumber")

        for kind in ("tuner", "assessor", "advisor"):
            self.algorithm(v1, v2, kind)

        v2_platform = "openpai" if platform == "pai" else platform
        service: dict[str, Any] = {"platform": v2_platform}
        v2["trainingService"] = service
        getattr(self, f"service_{platform}")(v1, v2, trial, service)

        storage = v1.pop("sharedStorage", None)
        if storage:
            self.shared_storage(self.mapping(storage, "sharedStorage"), v2)

        self.leftovers(trial, "trial")
        self.leftovers(v1, "")
        return V1Conversion(v2, self.renames, self.dropped, self.unconverted)

    def check_platform(self, platform: Any, v1: dict[str, Any]) -> None:
        legacy = "is run by NNI's legacy launcher (nnictl create does not convert it), which nni-exp does not support"
        if platform == "adl":
            raise self.reject("trainingServicePlatform", f"platform 'adl' {legacy}; write a v2 config")
        if platform not in CONVERTED_PLATFORMS or not isinstance(platform, str):
            known = ", ".join(CONVERTED_PLATFORMS)
            raise self.reject(
                "trainingServicePlatform",
                f"NNI 3.0 cannot convert platform {describe_value(platform)} (it converts {known}); write a v2 config",
            )
        if platform in ("kubeflow", "frameworkcontroller"):
            section = v1.get(f"{platform}Config", {})
            self.mapping(section, f"{platform}Config")
            if _is_false(section.get("reuse")):
                raise self.reject(f"{platform}Config.reuse", f"a {platform} config with reuse false {legacy}")

    def algorithm(self, v1: dict[str, Any], v2: dict[str, Any], kind: str) -> None:
        algo = v1.pop(kind, None)
        if not algo:
            return
        algo = self.mapping(algo, kind)
        builtin_key = f"builtin{kind.title()}Name"
        name = algo.pop(builtin_key, None)
        if name is not None:
            converted: dict[str, Any] = {"name": name}
            self.renames[f"{kind}.name"] = f"{kind}.{builtin_key}"
        else:
            why = f"a custom {kind} needs codeDir, classFileName and className, a built-in one {builtin_key}"
            code_directory = self.required(algo, kind, "codeDir", why)
            file_name = self.required(algo, kind, "classFileName", why)
            if not isinstance(file_name, str) or not file_name.endswith(".py"):
                raise self.reject(
                    f"{kind}.classFileName", f"expected a Python file name (*.py), got {describe_value(file_name)}"
                )
            class_name = self.required(algo, kind, "className", why)
            if not isinstance(class_name, str):
                raise self.reject(f"{kind}.className", f"expected a string, got {describe_value(class_name)}")
            converted = {"className": f"{file_name[:-3]}.{class_name}", "codeDirectory": code_directory}
            self.renames[f"{kind}.className"] = f"{kind}.className"
            self.renames[f"{kind}.codeDirectory"] = f"{kind}.codeDir"
        if "classArgs" in algo:  # kept even when null, as NNI does
            converted["classArgs"] = algo.pop("classArgs")
            self.renames[f"{kind}.classArgs"] = f"{kind}.classArgs"
        v2[kind] = converted
        self.renames[kind] = kind
        self.drop(algo, kind, "includeIntermediateResults")
        self.move(algo, kind, v2, "", "gpuIndices", "tunerGpuIndices")
        self.leftovers(algo, kind)

    # -- training services -----------------------------------------------------------------------

    def list_of_mappings(self, items: Any, src: str, service: dict[str, Any],
                         key: str) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """``items`` (the v1 list at ``src``) as ``trainingService.<key>``: per item its v1 and v2 paths,
        the v1 mapping and the (empty, already listed) v2 mapping to fill."""
        if not isinstance(items, list):
            raise self.reject(src, f"expected a list of mappings, got {describe_value(items)}")
        service[key] = []
        self.renames[f"trainingService.{key}"] = src
        for index, item in enumerate(items):
            item_src, item_dst = f"{src}[{index}]", f"trainingService.{key}[{index}]"
            mapping = self.mapping(item, item_src)
            converted: dict[str, Any] = {}
            service[key].append(converted)
            self.renames[item_dst] = item_src
            yield item_src, item_dst, mapping, converted

    def section(self, v1: dict[str, Any], name: str, required_for: Optional[str] = None) -> dict[str, Any]:
        if required_for is not None and name not in v1:
            raise self.reject(name, f"required field is missing (for trainingServicePlatform {required_for})")
        section = self.mapping(v1.pop(name, {}), name)
        self.renames["trainingService"] = name
        return section

    def service_local(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                      service: dict[str, Any]) -> None:
        local = self.section(v1, "localConfig")
        self.move(local, "localConfig", service, "trainingService", "gpuIndices")
        self.move(local, "localConfig", service, "trainingService", "maxTrialNumPerGpu", "maxTrialNumberPerGpu")
        self.move(local, "localConfig", service, "trainingService", "useActiveGpu")
        self.leftovers(local, "localConfig")

    def service_remote(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                       service: dict[str, Any]) -> None:
        remote = self.section(v1, "remoteConfig")
        self.move(remote, "remoteConfig", service, "trainingService", "reuse", "reuseMode")
        self.leftovers(remote, "remoteConfig")
        if "machineList" not in v1:
            raise self.reject("machineList", "required field is missing (for trainingServicePlatform remote)")
        for src, dst, machine, converted in self.list_of_mappings(v1.pop("machineList"), "machineList", service,
                                                                  "machineList"):
            for old, new in (("ip", "host"), ("port", None), ("username", "user"), ("sshKeyPath", "sshKeyFile"),
                             ("passphrase", "sshPassphrase"), ("gpuIndices", None),
                             ("maxTrialNumPerGpu", "maxTrialNumberPerGpu"), ("useActiveGpu", None),
                             ("pythonPath", None), ("passwd", "password")):
                self.move(machine, src, converted, dst, old, new)
            self.leftovers(machine, src)

    def service_pai(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                    service: dict[str, Any]) -> None:
        for old, new in (("nniManagerNFSMountPath", "localStorageMountPoint"),
                         ("containerNFSMountPath", "containerStorageMountPoint"), ("cpuNum", "trialCpuNumber"),
                         ("memoryMB", "trialMemorySize"), ("image", "dockerImage"), ("virtualCluster", None),
                         ("paiStorageConfigName", "storageConfigName"), ("paiConfigPath", "openpaiConfigFile")):
            self.move(trial, "trial", service, "trainingService", old, new)
        pai = self.section(v1, "paiConfig", required_for="pai")
        self.move(pai, "paiConfig", service, "trainingService", "userName", "username")
        self.drop(pai, "paiConfig", "password")
        for old, new in (("token", None), ("host", None), ("reuse", "reuseMode"), ("gpuNum", "trialGpuNumber"),
                         ("cpuNum", "trialCpuNumber"), ("memoryMB", "trialMemorySize")):
            self.move(pai, "paiConfig", service, "trainingService", old, new)
        self.drop(pai, "paiConfig", "maxTrialNumPerGpu")
        self.drop(pai, "paiConfig", "useActiveGpu")
        self.leftovers(pai, "paiConfig")

    def service_aml(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                    service: dict[str, Any]) -> None:
        self.move(trial, "trial", service, "trainingService", "image", "dockerImage")
        aml = self.section(v1, "amlConfig")
        for old, new in (("subscriptionId", None), ("resourceGroup", None), ("workspaceName", None),
                         ("computeTarget", None), ("maxTrialNumPerGpu", "maxTrialNumberPerGpu")):
            self.move(aml, "amlConfig", service, "trainingService", old, new)
        self.drop(aml, "amlConfig", "useActiveGpu")
        self.leftovers(aml, "amlConfig")

    def service_kubeflow(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                         service: dict[str, Any]) -> None:
        kubeflow = self.section(v1, "kubeflowConfig", required_for="kubeflow")
        self.move(kubeflow, "kubeflowConfig", service, "trainingService", "operator")
        self.move(kubeflow, "kubeflowConfig", service, "trainingService", "apiVersion")
        self.k8s_storage(kubeflow, "kubeflowConfig", v2, service)
        self.leftovers(kubeflow, "kubeflowConfig")
        self.drop(trial, "trial", "nasMode")
        for role_name in ("worker", "ps", "master"):
            if role_name not in trial:
                continue
            src = f"trial.{role_name}"
            dst = f"trainingService.{role_name}"
            role = self.mapping(trial.pop(role_name), src)
            converted: dict[str, Any] = {}
            service[role_name] = converted
            self.renames[dst] = src
            self.move(role, src, converted, dst, "replicas")
            self.role_fields(role, src, converted, dst)
            if "trialCodeDirectory" not in v2:
                raise self.reject("trial.codeDir", f"required field is missing (for the kubeflow role {role_name})")
            converted["codeDirectory"] = v2["trialCodeDirectory"]
            self.leftovers(role, src)

    def service_frameworkcontroller(self, v1: dict[str, Any], v2: dict[str, Any], trial: dict[str, Any],
                                    service: dict[str, Any]) -> None:
        config_name = "frameworkcontrollerConfig"
        controller = self.section(v1, config_name, required_for="frameworkcontroller")
        self.move(controller, config_name, service, "trainingService", "serviceAccountName")
        self.move(controller, config_name, service, "trainingService", "reuse", "reuseMode")
        self.k8s_storage(controller, config_name, v2, service)
        self.leftovers(controller, config_name)
        self.drop(trial, "trial", "nasMode")
        for src, dst, role, converted in self.list_of_mappings(trial.pop("taskRoles", []), "trial.taskRoles", service,
                                                               "taskRoles"):
            self.move(role, src, converted, dst, "name")
            self.move(role, src, converted, dst, "taskNum", "taskNumber")
            self.completion_policy(role, src, converted, dst)
            self.role_fields(role, src, converted, dst)
            self.leftovers(role, src)
            if not v2.get("trialCommand"):  # NNI: the manager needs one
                if "command" not in converted:
                    raise self.reject(f"{src}.command", "required field is missing (no trial.command is set)")
                v2["trialCommand"] = converted["command"]

    def role_fields(self, role: dict[str, Any], src: str, converted: dict[str, Any], dst: str) -> None:
        for old, new in (("command", None), ("gpuNum", "gpuNumber"), ("cpuNum", "cpuNumber"),
                         ("memoryMB", "memorySize"), ("image", "dockerImage")):
            self.move(role, src, converted, dst, old, new)
        self.drop(role, src, "privateRegistryAuthPath")

    def completion_policy(self, role: dict[str, Any], src: str, converted: dict[str, Any], dst: str) -> None:
        v1_key, v2_key = "frameworkControllerCompletionPolicy", "frameworkAttemptCompletionPolicy"
        old_style = role.pop(v1_key, None)
        new_style = role.pop(v2_key, None)
        policy, key = (new_style, v2_key) if new_style else (old_style, v1_key)
        if not policy:
            return
        policy = self.mapping(policy, f"{src}.{key}")
        target: dict[str, Any] = {}
        converted[v2_key] = target
        self.renames[f"{dst}.{v2_key}"] = f"{src}.{key}"
        self.move(policy, f"{src}.{key}", target, f"{dst}.{v2_key}", "minFailedTaskCount")
        self.move(policy, f"{src}.{key}", target, f"{dst}.{v2_key}", "minSucceededTaskCount", "minSucceedTaskCount")
        self.leftovers(policy, f"{src}.{key}")

    def k8s_storage(self, section: dict[str, Any], path: str, v2: dict[str, Any], service: dict[str, Any]) -> None:
        storage = section.pop("storage", None)
        if storage is None:
            storage = "nfs" if "nfs" in section else "azureStorage"
        if storage == "nfs":
            why = "for NFS storage"
            nfs = self.required_mapping(section, path, "nfs", why)
            service["storage"] = {
                "storageType": "nfs",
                "server": self.required(nfs, f"{path}.nfs", "server", why),
                "path": self.required(nfs, f"{path}.nfs", "path", why),
            }
        elif storage == "azureStorage":
            why = "for Azure storage"
            key_vault = self.required_mapping(section, path, "keyVault", why)
            azure = self.required_mapping(section, path, "azureStorage", why)
            service["storage"] = {
                "storageType": "azureStorage",
                "azureAccount": self.required(azure, f"{path}.azureStorage", "accountName", why),
                "azureShare": self.required(azure, f"{path}.azureStorage", "azureShare", why),
                "keyVaultName": self.required(key_vault, f"{path}.keyVault", "vaultName", why),
                "keyVaultKey": self.required(key_vault, f"{path}.keyVault", "name", why),
            }
            self.drop(section, path, "uploadRetryCount")
        self.renames["trainingService.storage"] = f"{path}.storage"

    def shared_storage(self, storage: dict[str, Any], v2: dict[str, Any]) -> None:
        converted: dict[str, Any] = {}
        v2["sharedStorage"] = converted
        self.renames["sharedStorage"] = "sharedStorage"
        for key in ("storageType", "nfsServer", "exportedDirectory", "localMountPoint", "remoteMountPoint",
                    "localMounted", "storageAccountName", "storageAccountKey", "containerName"):
            self.move(storage, "sharedStorage", converted, "sharedStorage", key)
        self.leftovers(storage, "sharedStorage")
