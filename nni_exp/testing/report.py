"""What an experiment looked like when a test failed: status, trials and the manager's last log lines.

:func:`describe` turns the objects a test used (a fake manager, an ``Experiment``, a fake server,
a real manager) into a text block; the plugin appends it to the report of a failed test as the
section ``nni-exp: experiment state``. It never raises: whatever cannot be read is said so.

For a fake manager every simulated manager process it ever spawned is shown, running or not (an
:class:`~nni_exp.testing.faults.InstrumentedFakeManager` remembers them), read directly from the
simulation, so faults do not hide anything. For a real or server backend the experiment is asked
over REST (2 s timeout) and the log is read from ``<dir>/<id>/log/nnimanager.log``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

__all__ = ["describe", "describe_fake", "describe_experiment", "describe_manifest", "trial_table", "LOG_LINES",
           "MAX_TRIALS"]

#: Manager log lines shown per experiment.
LOG_LINES = 15
#: Trials shown per experiment (the last ones are dropped beyond).
MAX_TRIALS = 40
_CELL = 60
_TIMEOUT = 2.0
_STAMP = re.compile(r"^\[(\d+)\]")


def describe(objects: Iterable[Any]) -> str:
    """One text block for all ``objects`` (duplicates and objects already covered are skipped)."""
    from fakes import FakeManager
    from nni_exp.experiment import Experiment

    from .server import FakeServer

    fakes: List[Any] = []
    experiments: List[Any] = []
    manifests: List[Any] = []
    seen: set[int] = set()
    for obj in objects:
        if isinstance(obj, FakeServer):
            obj = obj.manager
        backend = getattr(obj, "backend", None)
        if isinstance(obj, Experiment) and isinstance(backend, FakeManager):
            obj = backend
        elif backend is not None and not isinstance(obj, Experiment):
            obj = backend  # a RealManager
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, FakeManager):
            fakes.append(obj)
        elif isinstance(obj, Experiment):
            experiments.append(obj)
        elif hasattr(obj, "manifest_file"):  # a RealBackend
            manifests.append(obj)
    blocks = [_safely(describe_fake, fake) for fake in fakes]
    blocks += [_safely(describe_experiment, experiment) for experiment in experiments]
    described = {experiment.id for experiment in experiments}
    blocks += [_safely(lambda backend: describe_manifest(backend, described), backend) for backend in manifests]
    return "\n\n".join(block for block in blocks if block)


def _safely(function: Any, obj: Any) -> str:
    try:
        return str(function(obj))
    except Exception as error:  # noqa: BLE001 - a report must never fail the run
        return f"{obj!r}: cannot describe it ({type(error).__name__}: {error})"


# ---------------------------------------------------------------------- fake manager


def describe_fake(fake: Any) -> str:
    """Every simulated manager of ``fake`` (a :class:`fakes.FakeManager`): status, trials, log tail."""
    from fakes import router

    managers = list(getattr(fake, "spawned", []))
    for port in fake.ports:
        manager = fake.manager_at(port)
        if manager not in managers:
            managers.append(manager)
    faults = getattr(fake, "faults", None)
    head = (f"fake manager (seed={fake.seed}, virtual clock at {fake.clock.monotonic():g} s"
            f"{f', faults: {_faults_text(faults)}' if faults else ''}): "
            f"{len(managers)} manager process(es) spawned")
    blocks = [head]
    for manager in managers:
        prefix = f"/{manager.args.url_prefix}" if manager.args.url_prefix else ""
        answer = router.handle(manager, "GET", f"{prefix}{router.API_ROOT}/trial-jobs")
        jobs = answer.json() if answer.status == 200 else []
        state = "running" if manager.alive else "exited"
        errors = f" (errors: {'; '.join(manager.errors)})" if manager.errors else ""
        lines = [f"experiment {manager.args.experiment_id} on port {manager.args.port} "
                 f"[{manager.args.action}, process {state}]: status {manager.status}{errors}"]
        lines.append(_indent(trial_table(jobs)))
        origin_ms = (fake.clock.time() - fake.clock.monotonic()) * 1000
        lines.append(_indent(_log_tail([_virtual_time(line, origin_ms) for line in manager.log_lines])))
        dispatcher = _dispatcher_tail(manager)
        if dispatcher:
            lines.append(_indent(dispatcher))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _dispatcher_tail(manager: Any) -> str:
    """The search's implementation and the end of its ``dispatcher.log`` (tracebacks kept whole)."""
    search = getattr(manager, "search", None)
    entries = list(getattr(getattr(manager, "dispatcher_log", None), "entries", []))
    if search is None and not entries:
        return ""
    head = [search.info.describe()] if search is not None else []
    if search is not None and search.failure:
        head.append(f"the tuner (dispatcher) stopped after an exception: {search.failure}")
    tail = entries[-LOG_LINES:]
    body = [f"last {len(tail)} dispatcher log entr{'y' if len(tail) == 1 else 'ies'}:",
            *("  " + line for entry in tail for line in entry.splitlines())] if tail else []
    return "\n".join(head + body)


def _virtual_time(line: str, origin_ms: float) -> str:
    """``[1795817422379] INFO ...`` (epoch milliseconds) → ``[t=6.5s] INFO ...`` (virtual seconds
    since the fake manager was created)."""
    match = _STAMP.match(line)
    if match is None:
        return line
    seconds = max(0.0, round((int(match.group(1)) - origin_ms) / 1000, 2)) + 0.0
    return f"[t={seconds:g}s]{line[match.end():]}"


def _faults_text(faults: Any) -> str:
    parts = []
    for name in ("unreachable", "port_in_use", "initializing_polls", "tuner_error", "crash_after", "fail_requests"):
        value = getattr(faults, name, None)
        if value not in (None, False, 0, ()):
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


# ---------------------------------------------------------------------- any backend, over REST


def describe_experiment(experiment: Any) -> str:
    """An :class:`~nni_exp.Experiment` on any backend, asked over its backend's REST calls."""
    backend = experiment.backend
    head = f"experiment {experiment.id} on the {backend.name} backend"
    if experiment.port is None:
        lines = [f"{head}: not running"]
    else:
        lines = [f"{head}, port {experiment.port}: status {_query_status(experiment)}"]
        try:
            jobs = backend.request("GET", experiment.port, "/trial-jobs", url_prefix=experiment.url_prefix,
                                   timeout=_TIMEOUT)
            lines.append(_indent(trial_table(jobs or [])))
        except Exception as error:  # noqa: BLE001
            lines.append(f"  trials: cannot be read ({type(error).__name__}: {error})")
    log_file = _log_file(experiment)
    if log_file is not None and log_file.exists():
        text = log_file.read_text(encoding="utf-8", errors="replace")
        lines.append(_indent(_log_tail(text.splitlines(), str(log_file))))
    return "\n".join(lines)


def describe_manifest(backend: Any, skip: Iterable[str] = ()) -> str:
    """The experiments of a ``RealBackend``'s manifest (except the ids in ``skip``): manifest status,
    and for a manager still running its REST status and trials; each with its log tail."""
    skipped = set(skip)
    blocks = []
    for experiment_id, record in backend.manifest_file.read().items():
        if experiment_id in skipped:
            continue
        port = record.get("port")
        lines = [f"experiment {experiment_id} in the manifest of {backend.manifest_file.path}: "
                 f"status {record.get('status')}, port {port}"]
        if isinstance(port, int) and record.get("status") not in ("STOPPED", "STOPPING"):
            try:
                jobs = backend.request("GET", port, "/trial-jobs", url_prefix=record.get("prefixUrl"),
                                       timeout=_TIMEOUT)
                lines.append(_indent(trial_table(jobs or [])))
            except Exception as error:  # noqa: BLE001
                lines.append(f"  trials: cannot be read ({type(error).__name__}: {error})")
        log_dir = record.get("logDir")
        if isinstance(log_dir, str):
            log_file = Path(log_dir) / experiment_id / "log" / "nnimanager.log"
            if log_file.exists():
                text = log_file.read_text(encoding="utf-8", errors="replace")
                lines.append(_indent(_log_tail(text.splitlines(), str(log_file))))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _query_status(experiment: Any) -> str:
    try:
        answer = experiment.backend.request("GET", experiment.port, "/check-status",
                                            url_prefix=experiment.url_prefix, timeout=_TIMEOUT)
    except Exception as error:  # noqa: BLE001
        return f"unknown ({type(error).__name__}: {error})"
    status = str(answer.get("status")) if isinstance(answer, dict) else repr(answer)
    errors = answer.get("errors") if isinstance(answer, dict) else None
    return f"{status} (errors: {'; '.join(map(str, errors))})" if errors else status


def _log_file(experiment: Any) -> Optional[Path]:
    config = experiment.config
    if config is None:
        return None
    try:
        directory = Path(str(config.canonical_copy().experiment_working_directory))
    except Exception:  # noqa: BLE001
        return None
    return directory / experiment.id / "log" / "nnimanager.log"


# ---------------------------------------------------------------------- formatting


def trial_table(jobs: Sequence[Dict[str, Any]]) -> str:
    """A text table of trial jobs as ``GET /trial-jobs`` returns them: id, status, params, final metric."""
    if not jobs:
        return "trials: none"
    rows = [("id", "status", "params", "final metric")]
    for job in list(jobs)[:MAX_TRIALS]:
        rows.append((str(job.get("trialJobId", "?")), str(job.get("status", "?")),
                     _cell(_parameters(job)), _cell(_final_metric(job))))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"trials ({len(jobs)}):"]
    for row in rows:
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3])
    if len(jobs) > MAX_TRIALS:
        lines.append(f"... {len(jobs) - MAX_TRIALS} more trial(s)")
    return "\n".join(line.rstrip() for line in lines)


def _parameters(job: Dict[str, Any]) -> str:
    hyper = job.get("hyperParameters") or []
    if not hyper:
        return "-"
    try:
        decoded = json.loads(hyper[-1]) if isinstance(hyper[-1], str) else hyper[-1]
        params = decoded.get("parameters", decoded) if isinstance(decoded, dict) else decoded
        return json.dumps(params, sort_keys=True)
    except (TypeError, ValueError):
        return str(hyper[-1])


def _final_metric(job: Dict[str, Any]) -> str:
    finals = job.get("finalMetricData") or []
    if not finals:
        return "-"
    value: Any = finals[-1].get("data") if isinstance(finals[-1], dict) else finals[-1]
    for _ in range(2):  # the manager encodes metric data twice
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                break
    return json.dumps(value) if not isinstance(value, str) else value


def _cell(text: str) -> str:
    return text if len(text) <= _CELL else text[:_CELL - 3] + "..."


def _log_tail(lines: Sequence[str], source: str = "") -> str:
    if not lines:
        return "manager log: empty"
    tail = list(lines)[-LOG_LINES:]
    where = f" ({source})" if source else ""
    return "\n".join([f"last {len(tail)} manager log line(s){where}:", *(f"  {line}" for line in tail)])


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else line for line in text.splitlines())
