"""Start and stop a manager through a backend: NNI's launch sequence, written once for every backend.

Start: refuse busy ports, spawn the manager, wait until ``/check-status`` answers JSON, add the
manifest record, then ``POST /experiment`` with the canonical config. Any failure kills the spawned
process before the error propagates.

Stop: ``DELETE /experiment``, wait for the process to exit, and kill it (with its children) if it
does not exit in time.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from .backend import Backend, ManagerArgs, ManagerProcess, RunMode
from .errors import ManagerStartError, NniExpError, PortInUseError
from .rest import strip_prefix

__all__ = ["start_manager", "stop_manager", "wait_until_ready", "manager_mode", "manifest_record"]

_logger = logging.getLogger("nni_exp.launcher")

#: Platforms whose manager also listens on port + 1 (except when only viewing).
_SECOND_PORT_MODES = {"hybrid", "remote", "openpai", "kubeflow", "frameworkcontroller", "adl"}
#: Seconds between two readiness probes while a manager starts.
_READY_PROBE_INTERVAL = 0.05


def manager_mode(config_json: Dict[str, Any]) -> str:
    """The manager's ``--mode``: the training service platform, or ``hybrid`` for a list."""
    service = config_json.get("trainingService")
    if isinstance(service, list):
        return "hybrid"
    if isinstance(service, dict) and isinstance(service.get("platform"), str):
        return str(service["platform"])
    raise ValueError("config has no training service platform")


def manifest_record(args: ManagerArgs, start_time_ms: int, pid: int, experiment_name: Optional[str],
                    tags: Optional[List[str]] = None) -> Dict[str, Any]:
    """A new manifest record, with NNI's keys in NNI's order."""
    return {
        "id": args.experiment_id,
        "port": args.port,
        "startTime": start_time_ms,
        "endTime": "N/A",
        "status": "INITIALIZED",
        "platform": args.mode,
        "experimentName": experiment_name,
        "tag": list(tags or []),
        "pid": pid,
        "webuiUrl": [],
        "logDir": args.experiments_directory,
        "prefixUrl": args.url_prefix,
    }


def start_manager(backend: Backend, args: ManagerArgs, config_json: Dict[str, Any], run_mode: RunMode,
                  experiment_name: Optional[str] = None) -> ManagerProcess:
    """Run NNI's launch sequence on ``backend`` and return the ready manager process."""
    ports = [args.port]
    if args.action != "view" and args.mode in _SECOND_PORT_MODES:
        ports.append(args.port + 1)
    for port in ports:
        if not backend.is_port_idle(port):
            raise PortInUseError(port)
    _logger.info("Creating experiment, Experiment ID: %s", args.experiment_id)
    process = backend.spawn_manager(args, run_mode)
    start_time_ms = int(backend.clock.time() * 1000)
    try:
        wait_until_ready(backend, process, args.port, args.url_prefix)
        backend.manifest.add(manifest_record(args, start_time_ms, process.pid, experiment_name))
        backend.request("POST", args.port, "/experiment", config_json, url_prefix=args.url_prefix)
    except BaseException:
        process.kill()
        raise
    return process


def wait_until_ready(backend: Backend, process: ManagerProcess, port: int, url_prefix: Optional[str],
                     timeout: Optional[float] = None) -> None:
    """Poll ``/check-status`` until it answers JSON.

    Raises :class:`ManagerStartError` (with the manager's stderr tail) if the process exits first
    or does not answer within ``timeout`` (default: the backend's ``startup_timeout``).
    """
    clock = backend.clock
    budget = backend.startup_timeout if timeout is None else timeout
    deadline = clock.monotonic() + budget
    last_error: Optional[BaseException] = None
    while True:
        try:
            backend.request("GET", port, "/check-status", url_prefix=strip_prefix(url_prefix), timeout=2.0)
            return
        except (NniExpError, OSError) as error:  # not listening yet, or still INITIALIZING (not JSON)
            last_error = error
        if not process.is_alive():
            code = process.wait(0)
            raise ManagerStartError(f"NNI manager exited with code {code} during start-up", process.log_tail())
        if clock.monotonic() >= deadline:
            raise ManagerStartError(
                f"NNI manager did not answer on port {port} within {budget:g} s (last error: {last_error})",
                process.log_tail(),
            )
        clock.sleep(_READY_PROBE_INTERVAL)


def stop_manager(backend: Backend, process: ManagerProcess, port: Optional[int], url_prefix: Optional[str],
                 timeout: float = 30.0) -> None:
    """Ask the manager to shut down, wait up to ``timeout`` seconds, then kill what is left."""
    if port is not None and process.is_alive():
        try:
            backend.request("DELETE", port, "/experiment", url_prefix=strip_prefix(url_prefix))
        except (NniExpError, OSError) as error:
            _logger.warning("Cannot gracefully stop experiment (%s), killing the NNI manager", error)
            process.kill()
            return
    if process.wait(timeout) is None:
        _logger.warning("NNI manager did not exit within %g s, killing it", timeout)
    process.kill()
