"""Manifest writer processes for the manifest durability tests (no tests here).

``python tests/manifest_writers.py KIND HOME PREFIX START COUNT [PAUSE]`` adds the records
``<PREFIX><START>`` ... ``<PREFIX><START+COUNT-1>`` to the manifest in ``HOME`` one at a time and
prints each id (flushed) once its write returned, pausing ``PAUSE`` seconds (default 0) after each. ``KIND`` is ``ours``
(:class:`nni_exp.manifest_file.ManifestFile`, loaded from this checkout without importing the
rest of ``nni_exp``, so that a process starts in a few tens of milliseconds) or ``nnictl`` (NNI's
own ``nni.tools.nnictl.config_utils.Experiments``).
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

REPO_DIR = Path(__file__).resolve().parent.parent


def load_manifest_module() -> ModuleType:
    """``nni_exp/manifest_file.py`` of this checkout, as a stand-alone module."""
    spec = importlib.util.spec_from_file_location("manifest_file_standalone", REPO_DIR / "nni_exp" / "manifest_file.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Above Linux's highest possible pid (PID_MAX_LIMIT): no process can have it, so no clean-up that kills
#: the managers a manifest shows alive (``RealBackend.kill_running_managers``) can hit a real process.
NO_SUCH_PID = 4_194_305


def record(experiment_id: str) -> dict[str, Any]:
    """A record shaped like the ones NNI's launcher writes, of a stopped experiment."""
    return {"id": experiment_id, "port": 8080, "startTime": 1700000000000, "endTime": 1700000001000,
            "status": "STOPPED", "platform": "local", "experimentName": f"name of {experiment_id}",
            "tag": [], "pid": NO_SUCH_PID, "webuiUrl": ["http://127.0.0.1:8080"], "logDir": "/tmp/nni-experiments",
            "prefixUrl": None}


def main(argv: list[str]) -> None:
    kind, home, prefix, start, count = argv[0], argv[1], argv[2], int(argv[3]), int(argv[4])
    pause = float(argv[5]) if len(argv) > 5 else 0.0
    if kind == "ours":
        manifest = load_manifest_module().ManifestFile(home)
        add = manifest.add
    else:
        from nni.tools.nnictl.config_utils import Experiments

        experiments = Experiments(home)

        def add(item: dict[str, Any]) -> None:
            fields = {key: value for key, value in item.items() if key not in ("id", "experimentName")}
            experiments.add_experiment(item["id"], fields.pop("port"), fields.pop("startTime"),
                                       fields.pop("platform"), item["experimentName"], **fields)
    for index in range(start, start + count):
        experiment_id = f"{prefix}{index}"
        add(record(experiment_id))
        sys.stdout.write(experiment_id + "\n")
        sys.stdout.flush()
        time.sleep(pause)


if __name__ == "__main__":
    main(sys.argv[1:])
