"""Config values shared by the config tests."""

from __future__ import annotations

from typing import Any, Dict

SPACE = {"x": {"_type": "choice", "_value": [1, 2]}}

OPENPAI = {
    "platform": "openpai",
    "host": "pai.example.com",
    "username": "u",
    "token": "t",
    "trialCpuNumber": 1,
    "trialMemorySize": "1gb",
    "storageConfigName": "s",
    "virtualCluster": None,
    "localStorageMountPoint": "code",
    "containerStorageMountPoint": "/mnt",
}

FRAMEWORK_ROLE = {
    "name": "worker",
    "taskNumber": 1,
    "command": "c",
    "gpuNumber": 0,
    "cpuNumber": 1,
    "memorySize": 1024,
    "frameworkAttemptCompletionPolicy": {"minFailedTaskCount": 1, "minSucceedTaskCount": 1},
}

#: An override value that deletes the key.
DROP = ...


def config_kwargs(**overrides: Any) -> Dict[str, Any]:
    """Keyword arguments of a small valid local config, with ``overrides`` (``DROP`` deletes a key)."""
    kwargs: Dict[str, Any] = {
        "trial_concurrency": 2,
        "search_space": SPACE,
        "trial_command": "python t.py",
        "tuner": {"name": "Random"},
        "training_service": {"platform": "local"},
    }
    kwargs.update(overrides)
    return {key: value for key, value in kwargs.items() if value is not DROP}
