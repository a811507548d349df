"""A scenario run: steps performed on a target and recorded as a transcript.

A scenario calls the methods of :class:`Session` (``create``, ``start``, ``wait``, ``request``,
``call``, ``stop``, ``resume``, ``view`` ...). Each one performs its step on the target and appends a
JSON-able record of it to :attr:`Session.steps`: what was done (with ids and paths replaced by
placeholders) and what came back, normalized (:mod:`tests.scenarios.normalize`). A step may be
*named*; :meth:`Session.__getitem__` then gives its raw result, for the scenario tests' assertions.

The same records replay: :meth:`Session.execute` performs a recorded step (resolving placeholders
such as ``<trial:0>`` to this run's ids) and returns the new record, which :func:`compare_steps`
compares with the recorded one. That is how ``tests/test_transcript_replay.py`` replays transcripts
of the real manager on the in-memory fake, and how the scenario tests compare every target with them.

Trial ids are numbered in submission order, as the sessions learn them from ``/trial-jobs`` answers
(every wait polls it), so ``<trial:k>`` is the same trial on every target.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from nni_exp import Experiment

from .behaviours import TrialBehaviour
from .conditions import Condition, Snapshot
from .normalize import IMPORTED_DATA_KEY, Normalizer, shape
from .targets import RawAnswer, Target, TargetKind

__all__ = [
    "Session",
    "ScenarioError",
    "WaitResult",
    "Profile",
    "Config",
    "FIXES",
    "Fix",
    "compare_steps",
    "TRANSCRIPT_FORMAT",
]

TRANSCRIPT_FORMAT = 1
_PLACEHOLDER = re.compile(r"<(?:trial|exp):[^>]+>")


class ScenarioError(AssertionError):
    """A scenario could not proceed (a wait timed out, a step failed unexpectedly)."""


@dataclass
class WaitResult:
    """What a wait saw: the distinct statuses in order, and the last snapshot."""

    statuses: List[str]
    snapshot: Snapshot

    @property
    def counts(self) -> Dict[str, int]:
        """Trials per status at the end of the wait."""
        return self.snapshot.counts()


@dataclass(frozen=True)
class Profile:
    """A request body: the experiment's current profile (``GET /experiment``) with ``params`` changed,
    as NNI's client builds its ``PUT /experiment`` bodies."""

    params: Dict[str, Any]


@dataclass(frozen=True)
class Config:
    """A request body: the experiment's config as ``POST /experiment`` sends it."""


@dataclass(frozen=True)
class Fix:
    """What the fakes answer where the README documents a deliberate fix of the real manager.

    ``status``: the HTTP status; ``error``: a substring of the ``{"error": ...}`` message.
    """

    status: int
    error: str
    row: str


#: The deliberate fixes of the README, by name; a step marked ``fix=<name>`` is compared with this on
#: the fakes and with the recorded answer on the real manager.
FIXES: Dict[str, Fix] = {
    "unknown-update-type": Fix(400, "unknown update_type", "PUT /experiment with an unknown update_type"),
    "search-space-before-tuner": Fix(409, "tuner has not been setup", "PUT SEARCH_SPACE before the tuner connected"),
    "import-data-before-tuner": Fix(409, "tuner has not been setup",
                                    "POST /experiment/import-data before the tuner connected"),
    "unknown-trial-get": Fix(404, "not found", "GET /trial-jobs/<unknown>"),
    "unknown-trial-delete": Fix(404, "not found", "DELETE /trial-jobs/<unknown>"),
    "metadata-without-record": Fix(404, "no manifest record", "GET /experiment-metadata without a manifest record"),
    "unknown-route": Fix(404, "no such route", "GET of an unknown API route"),
    "malformed-json": Fix(400, "malformed JSON body", "malformed JSON body"),
    "import-data-not-list": Fix(400, "must be a list", "POST /experiment/import-data with a non-list"),
    "concurrency-not-number": Fix(400, "must be a number", "PUT TRIAL_CONCURRENCY with a non-number"),
}


class Session:
    """One run of one scenario on one target (see the module docstring)."""

    def __init__(self, kind: TargetKind, scenario: str, behaviour: TrialBehaviour,
                 time_scale: Optional[float] = None, exact: bool = False, real_trials: bool = False) -> None:
        self.scenario = scenario
        self.behaviour = behaviour
        self.exact = exact
        self.target: Target = kind.open(scenario, behaviour, time_scale, real_trials=real_trials)
        self.steps: List[Dict[str, Any]] = []
        self.results: Dict[str, Any] = {}
        self.experiments: Dict[str, Experiment] = {}
        self.ports: Dict[str, int] = {}
        self.trial_ids: List[str] = []
        self.norm = Normalizer(exact=exact)
        self.norm.add_path(str(self.target.directory), "<root>")
        self.norm.add_path(sys.executable, "<python>")
        self._forgotten: Optional[Dict[str, Any]] = None

    def __repr__(self) -> str:
        return f"<Session {self.scenario} on {self.target.name}: {len(self.steps)} steps>"

    def __getitem__(self, name: str) -> Any:
        """The raw result of the step called ``name``."""
        return self.results[name]

    # ------------------------------------------------------------------ names and ids

    def port(self, key: str) -> int:
        """The port called ``key`` (``P0``, ``P1`` ...), chosen on first use."""
        if key not in self.ports:
            self.ports[key] = self.target.free_port()
        return self.ports[key]

    def trial_id(self, index: int) -> str:
        """The id of trial ``index`` (submission order)."""
        if index >= len(self.trial_ids):
            running = [key for key, experiment in self.experiments.items() if experiment.port is not None]
            if running:
                self._poll(running[-1])
        if index >= len(self.trial_ids):
            raise ScenarioError(f"trial {index} has not been seen (known: {len(self.trial_ids)} trials)")
        return self.trial_ids[index]

    def exp(self, key: str) -> Experiment:
        """The experiment called ``key``."""
        return self.experiments[key]

    def _learn_trials(self, jobs: Any) -> None:
        if not isinstance(jobs, list):
            return
        for job in jobs:
            if isinstance(job, dict) and isinstance(job.get("trialJobId"), str) \
                    and job["trialJobId"] not in self.trial_ids:
                self.norm.add_id(job["trialJobId"], f"<trial:{len(self.trial_ids)}>")
                self.trial_ids.append(job["trialJobId"])

    def _learn_experiment(self, key: str, experiment: Experiment) -> None:
        """Keep ``experiment`` as ``key``; its id shows as ``<exp:key>`` (or as the placeholder of the
        experiment it reopens)."""
        self.experiments[key] = experiment
        self.norm.add_id(experiment.id, f"<exp:{key}>")

    def resolve(self, value: Any) -> Any:
        """``value`` with placeholders (``<trial:0>``, ``<exp:A>``) replaced by this run's ids."""
        if isinstance(value, str):
            if not _PLACEHOLDER.search(value):
                return value
            mapping = self.norm.placeholders()

            def replace(match: re.Match[str]) -> str:
                placeholder = match.group(0)
                if placeholder not in mapping and placeholder.startswith("<trial:"):
                    self.trial_id(int(placeholder[7:-1]))
                    mapping.update(self.norm.placeholders())
                return mapping.get(placeholder, placeholder)

            return _PLACEHOLDER.sub(replace, value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        return value

    # ------------------------------------------------------------------ recording

    def _record(self, step: Dict[str, Any], result: Dict[str, Any], raw: Any) -> Dict[str, Any]:
        step["result"] = result
        self.steps.append(step)
        name = step.get("name")
        if name:
            if name in self.results:
                raise ScenarioError(f"two steps are called {name!r}")
            self.results[name] = raw
        return step

    @staticmethod
    def _step(op: str, name: Optional[str], **fields: Any) -> Dict[str, Any]:
        step: Dict[str, Any] = {"op": op}
        if name:
            step["name"] = name
        step.update({k: v for k, v in fields.items() if v is not None})
        return step

    def transcript(self) -> Dict[str, Any]:
        """The run as a JSON-able transcript (the format of ``tests/transcripts/data/*.json``)."""
        transcript = {
            "format": TRANSCRIPT_FORMAT,
            "scenario": self.scenario,
            "behaviour": self.behaviour.name,
            "steps": copy.deepcopy(self.steps),
        }
        if self.exact:
            transcript["exact_values"] = True
        return transcript

    # ------------------------------------------------------------------ experiments

    def create(self, exp: str, *, name: Optional[str] = None, experiment_id: Optional[str] = None,
               **config: Any) -> Experiment:
        """A new experiment ``exp`` on this machine, with the target's config and ``config`` overrides
        (or, with ``experiment_id``, ``Experiment(None, id=experiment_id)``)."""
        return self.execute(self._step("create", name, exp=exp, id=experiment_id, config=config or None))["raw"]

    def reopen(self, exp: str, source: str, *, name: Optional[str] = None) -> Experiment:
        """A new ``Experiment(None, id=<source's id>)`` object ``exp`` (for resume / view)."""
        return self.execute(self._step("reopen", name, exp=exp, source=source))["raw"]

    def start(self, exp: str, port: str = "P0", *, url_prefix: Optional[str] = None,
              name: Optional[str] = None) -> Optional[BaseException]:
        """``exp.start(port)``; the error raised, if any, is returned (and recorded by type)."""
        return self.execute(self._step("start", name, exp=exp, port=port, url_prefix=url_prefix))["raw"]

    def run(self, exp: str, port: str = "P0", *, url_prefix: Optional[str] = None,
            name: Optional[str] = None) -> Any:
        """``exp.run(port)``: its return value (or the error raised)."""
        return self.execute(self._step("run", name, exp=exp, port=port, url_prefix=url_prefix))["raw"]

    def stop(self, exp: str, *, name: Optional[str] = None) -> Any:
        """``exp.stop()``."""
        return self.execute(self._step("stop", name, exp=exp))["raw"]

    def resume(self, exp: str, port: str, *, name: Optional[str] = None) -> Any:
        """``exp.resume(port, wait_completion=False)``."""
        return self.execute(self._step("resume", name, exp=exp, port=port))["raw"]

    def view(self, exp: str, port: str, *, name: Optional[str] = None) -> Any:
        """``exp.view(port, non_blocking=True)``."""
        return self.execute(self._step("view", name, exp=exp, port=port))["raw"]

    def connect(self, exp: str, port: str, *, name: Optional[str] = None) -> Any:
        """``Experiment.connect(port)``, kept as ``exp`` when it works."""
        return self.execute(self._step("connect", name, exp=exp, port=port))["raw"]

    def call(self, exp: str, method: str, *args: Any, name: Optional[str] = None, compare: str = "exact") -> Any:
        """``exp.<method>(*args)``: its return value, or the error it raised."""
        step = self._step("call", name, exp=exp, method=method, args=[self._arg(a) for a in args], compare=compare)
        return self.execute(step)["raw"]

    def _arg(self, value: Any) -> Any:
        return self.norm.text(value) if isinstance(value, str) else value

    # ------------------------------------------------------------------ REST

    def request(self, exp: str, method: str, path: str, body: Any = None, *, text: Optional[str] = None,
                name: Optional[str] = None, compare: str = "exact", fix: Optional[str] = None,
                racy: bool = False, timeout: Optional[float] = None, port: Optional[str] = None,
                url_prefix: Any = "default") -> RawAnswer:
        """Send one raw HTTP request to ``exp``'s manager (its port and URL prefix by default).

        ``body``: JSON, a :class:`Profile` or :class:`Config`; ``text``: a raw body. ``compare``: how
        a replay compares the answer (``exact``, ``sorted``, ``shape``, ``status``); ``fix``: the README
        row where the fakes answer differently by design (a :data:`FIXES` key); ``racy``: the answer
        depends on timing on real-time targets. ``timeout``: real seconds (for requests the real
        manager never answers).
        """
        if fix is not None and fix not in FIXES:
            raise ValueError(f"unknown fix {fix!r}")
        encoded: Optional[Dict[str, Any]] = None
        if isinstance(body, Profile):
            encoded = {"profile": body.params}
        elif isinstance(body, Config):
            encoded = {"config": True}
        elif body is not None:
            encoded = {"json": body}
        elif text is not None:
            encoded = {"text": text}
        step = self._step("request", name, exp=exp, method=method, path=self.norm.text(path), body=encoded,
                          compare=compare, fix=fix, racy=racy or None, timeout=timeout, port=port,
                          url_prefix=None if url_prefix == "default" else {"value": url_prefix})
        return self.execute(step)["raw"]

    def _request_target(self, step: Dict[str, Any]) -> Tuple[int, Optional[str]]:
        experiment = self.experiments.get(step["exp"])
        if step.get("port"):
            port = self.port(step["port"])
        else:
            if experiment is None or experiment.port is None:
                raise ScenarioError(f"experiment {step['exp']} is not running")
            port = experiment.port
        if "url_prefix" in step:
            prefix = step["url_prefix"]["value"]
        else:
            prefix = experiment.url_prefix if experiment is not None else None
        return port, (prefix.strip("/") or None) if prefix else None

    # ------------------------------------------------------------------ waiting and time

    def wait(self, exp: str, condition: Condition, timeout: float = 60.0, *, name: Optional[str] = None) -> WaitResult:
        """Poll ``exp`` until ``condition`` holds (at most ``timeout`` scenario seconds)."""
        return self.execute(self._step("wait", name, exp=exp, until=condition.to_json(), timeout=timeout))["raw"]

    def hold(self, seconds: float, *, name: Optional[str] = None) -> None:
        """Let ``seconds`` scenario seconds pass."""
        self.execute(self._step("hold", name, seconds=seconds))

    def _poll(self, exp: str, with_metrics: bool = False) -> Snapshot:
        experiment = self.experiments[exp]
        backend = self.target.backend
        port = experiment.port
        if port is None:
            raise ScenarioError(f"experiment {exp} is not running")
        prefix = (experiment.url_prefix or "").strip("/") or None
        status = backend.request("GET", port, "/check-status", url_prefix=prefix)["status"]
        jobs = backend.request("GET", port, "/trial-jobs", url_prefix=prefix) or []
        self._learn_trials(jobs)
        metrics = (backend.request("GET", port, "/metric-data", url_prefix=prefix) or []) if with_metrics else []
        return Snapshot(str(status), tuple(jobs), tuple(metrics))

    # ------------------------------------------------------------------ manifest

    def manifest(self, exp: str, *, name: Optional[str] = None) -> Any:
        """``exp``'s manifest record as stored (None when there is none)."""
        return self.execute(self._step("manifest", name, exp=exp))["raw"]

    def dispatcher_log(self, exp: str, *, name: Optional[str] = None) -> List[str]:
        """``exp``'s ``dispatcher.log`` so far: one line per entry, without timestamps and traceback
        frames (an exception keeps its last line)."""
        return self.execute(self._step("dispatcher_log", name, exp=exp))["raw"]  # type: ignore[no-any-return]

    def forget_record(self, exp: str, *, name: Optional[str] = None) -> None:
        """Remove ``exp``'s manifest record (restore it with :meth:`restore_record`)."""
        self.execute(self._step("forget_record", name, exp=exp))

    def restore_record(self, exp: str, *, name: Optional[str] = None) -> None:
        """Put back the record removed by :meth:`forget_record`."""
        self.execute(self._step("restore_record", name, exp=exp))

    # ------------------------------------------------------------------ execution

    def execute(self, step: Dict[str, Any]) -> Dict[str, Any]:
        """Perform ``step`` (a record without ``result``) and record it; the record, plus its raw
        result under ``"raw"`` (not part of the transcript)."""
        step = {k: v for k, v in step.items() if k != "result"}
        handler = getattr(self, f"_do_{step['op']}")
        result, raw = handler(step)
        record = self._record(step, result, raw)
        return {**record, "raw": raw}

    def _do_create(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        if step.get("id"):
            experiment = self.target.experiment(None, step["id"])
        else:
            experiment = self.target.experiment(self.target.config(**step.get("config", {})))
        self._learn_experiment(step["exp"], experiment)
        return {}, experiment

    def _do_reopen(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.target.experiment(None, self.experiments[step["source"]].id)
        self._learn_experiment(step["exp"], experiment)
        return {}, experiment

    def _lifecycle(self, step: Dict[str, Any], action: Any) -> Tuple[Dict[str, Any], Any]:
        try:
            value = action()
        except Exception as error:  # noqa: BLE001 - recorded by type
            return {"error": type(error).__name__}, error
        return {"value": self._plain(value)}, value

    def _do_start(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.experiments[step["exp"]]
        if step.get("url_prefix"):
            experiment.url_prefix = step["url_prefix"]
        return self._lifecycle(step, lambda: experiment.start(self.port(step["port"])))

    def _do_run(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.experiments[step["exp"]]
        if step.get("url_prefix"):
            experiment.url_prefix = step["url_prefix"]
        return self._lifecycle(step, lambda: experiment.run(self.port(step["port"])))

    def _do_stop(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        return self._lifecycle(step, self.experiments[step["exp"]].stop)

    def _do_resume(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.experiments[step["exp"]]
        return self._lifecycle(step, lambda: experiment.resume(self.port(step["port"]), wait_completion=False))

    def _do_view(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.experiments[step["exp"]]
        result, raw = self._lifecycle(step, lambda: experiment.view(self.port(step["port"]), non_blocking=True))
        if "value" in result:
            result["value"] = "<experiment>"
        return result, raw

    def _do_connect(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        port = self.port(step["port"])
        try:
            experiment = Experiment.connect(port, backend=self.target.backend)
        except Exception as error:  # noqa: BLE001 - recorded by type
            return {"error": type(error).__name__}, error
        self._learn_experiment(step["exp"], experiment)
        return {"value": self.norm.text(experiment.id)}, experiment

    def _do_call(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment = self.experiments[step["exp"]]
        args = self.resolve(step.get("args", []))
        result, raw = self._lifecycle(step, lambda: getattr(experiment, step["method"])(*args))
        if step["method"] == "list_trial_jobs" and isinstance(raw, list):
            self._learn_trials([{"trialJobId": job.trialJobId} for job in raw])
        if "value" in result:
            result["value"] = self.norm.value(result["value"])
            result["shape"] = shape(result["value"])
        return result, raw

    @staticmethod
    def _plain(value: Any) -> Any:
        """Results of the client API as JSON-able data (dataclasses as dicts)."""
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: Session._plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [Session._plain(item) for item in value]
        if isinstance(value, dict):
            return {str(k): Session._plain(v) for k, v in value.items()}
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        return f"<{type(value).__name__}>"

    def _do_request(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        port, prefix = self._request_target(step)
        method = step["method"]
        path = self.resolve(step["path"])
        text: Optional[str] = None
        body = step.get("body")
        if body is not None:
            if "profile" in body:
                profile = self.target.backend.request("GET", port, "/experiment", url_prefix=prefix)
                profile["params"].update(self.resolve(body["profile"]))
                text = json.dumps(profile)
            elif "config" in body:
                config = self.experiments[step["exp"]].config
                assert config is not None
                text = json.dumps(config.canonical_copy().json())
            elif "json" in body:
                text = json.dumps(self.resolve(body["json"]))
            else:
                text = body["text"]
        timeout = step.get("timeout") or 20.0
        answer = self.target.raw(port, method, path, text, url_prefix=prefix, timeout=timeout)
        if method == "GET" and path.split("?")[0].rstrip("/").lower().endswith("/trial-jobs"):
            self._learn_trials(answer.json())
        return self._answer_record(answer, path), answer

    def _answer_record(self, answer: RawAnswer, path: str) -> Dict[str, Any]:
        if answer.timed_out:
            return {"timeout": True}
        if answer.unreachable:
            return {"unreachable": True}
        key = IMPORTED_DATA_KEY if path.split("?")[0].rstrip("/").lower().endswith("/imported-data") else None
        decoded = answer.json() if "json" in answer.content_type else None
        kind = "empty" if not answer.text else ("json" if decoded is not None or answer.text.strip() in (
            "null", "[]", "{}") else "text")
        result: Dict[str, Any] = {
            "status": answer.status,
            "content_type": answer.content_type.replace(" ", "").lower(),
            "kind": kind,
            "body": self.norm.body(answer.text, answer.content_type, key) if answer.text else "",
        }
        result["shape"] = shape(decoded, key) if kind == "json" else kind
        return result

    def _do_wait(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        condition = Condition.from_json(step["until"])
        statuses: List[str] = []
        last: List[Snapshot] = []

        def check() -> bool:
            snapshot = self._poll(step["exp"], condition.needs_metrics)
            last[:] = [snapshot]
            if not statuses or statuses[-1] != snapshot.status:
                statuses.append(snapshot.status)
            return condition.check(snapshot)

        if not self.target.wait_until(check, step["timeout"]):
            seen = " -> ".join(statuses)
            counts = last[0].counts() if last else {}
            raise ScenarioError(f"{self.scenario} on {self.target.name}: timed out after {step['timeout']:g} s "
                                f"waiting for {condition} (statuses {seen}; trials {counts})")
        result = WaitResult(statuses, last[0])
        return {"statuses": statuses, "counts": result.counts}, result

    def _do_hold(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        self.target.sleep(step["seconds"])
        return {}, None

    def _do_manifest(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        record = self.target.manifest().get(self.experiments[step["exp"]].id)
        return {"value": self.norm.value(record)}, record

    def _do_dispatcher_log(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        lines = dispatcher_log_lines(self.target.dispatcher_log(self.experiments[step["exp"]]))
        lines = [self.norm.text(line) for line in lines]
        return {"value": lines}, lines

    def _do_forget_record(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        experiment_id = self.experiments[step["exp"]].id
        record = self.target.manifest().get(experiment_id)
        self._forgotten = record
        self.target.remove_record(experiment_id)
        return {}, record

    def _do_restore_record(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        record = self._forgotten
        if record is not None:
            self.target.add_record(record)
        return {}, record

    # ------------------------------------------------------------------ cleanup

    def close(self) -> None:
        """Stop every experiment of the run, then kill whatever the machine still runs."""
        try:
            for experiment in self.experiments.values():
                try:
                    experiment.stop()
                except Exception:  # noqa: BLE001 - the machine's cleanup below kills leftovers
                    pass
        finally:
            self.target.close()


# ---------------------------------------------------------------------- comparison


_LOG_STAMP = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] ")


def dispatcher_log_lines(text: str) -> List[str]:
    """A ``dispatcher.log`` made comparable: entries without their timestamps; of a traceback only
    its last line (``ValueError: ...``), the frames differ between processes."""
    lines: List[str] = []
    in_traceback = False
    for line in text.splitlines():
        if _LOG_STAMP.match(line):
            lines.append(_LOG_STAMP.sub("", line))
            in_traceback = False
        elif line.startswith("Traceback (most recent call last):"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            lines.append(line)
    return lines


def compare_steps(recorded: Dict[str, Any], actual: Dict[str, Any], *, target: str) -> List[str]:
    """Differences between a recorded step and the same step performed on ``target``.

    On the fakes (``fake``, ``server``) a step marked ``fix`` is checked against :data:`FIXES`
    instead of the recorded answer. On real-time targets a step marked ``racy`` is only checked for
    its HTTP status.
    """
    where = f"step {recorded.get('name') or recorded['op']} ({_describe(recorded)})"
    problems: List[str] = []
    if recorded["op"] != actual["op"]:
        return [f"{where}: the scenario changed: {recorded['op']} != {actual['op']}"]
    expected, got = recorded.get("result", {}), actual.get("result", {})
    op = recorded["op"]
    if op == "request":
        fix = recorded.get("fix")
        if fix and target != "nni":
            return _check_fix(where, FIXES[fix], got)
        if recorded.get("racy") and target != "fake":
            return _diff(where, "status", expected.get("status"), got.get("status"))
        return _compare_answers(where, recorded.get("compare", "exact"), expected, got)
    if op == "call":
        if "error" in expected or "error" in got:
            return _diff(where, "error", expected.get("error"), got.get("error"))
        if recorded.get("compare") == "shape":
            return _diff(where, "shape", expected.get("shape"), got.get("shape"))
        return _diff(where, "value", expected.get("value"), got.get("value"))
    if op == "wait":
        if not _same_statuses(expected.get("statuses") or [], got.get("statuses") or []):
            problems += _diff(where, "statuses", expected.get("statuses"), got.get("statuses"))
        problems += _diff(where, "trial counts", expected.get("counts"), got.get("counts"))
        return problems
    return _diff(where, "result", expected, got)


def _same_statuses(expected: List[str], got: List[str]) -> bool:
    """Equal sequences, or equal but for a first status that one side's first poll did not catch
    (a wait that starts right after an update may first see the old status, or already the new one)."""
    return expected == got or expected[1:] == got or expected == got[1:]


def _describe(step: Dict[str, Any]) -> str:
    if step["op"] == "request":
        return f"{step['method']} {step['path']}"
    if step["op"] == "call":
        return f"{step['method']}({', '.join(map(str, step.get('args', [])))})"
    if step["op"] == "wait":
        return str(Condition.from_json(step["until"]))
    return step.get("exp", "")


def _diff(where: str, what: str, expected: Any, got: Any) -> List[str]:
    if expected == got:
        return []
    recorded, actual = json.dumps(expected), json.dumps(got)
    start = 0
    if max(len(recorded), len(actual)) > _SHOWN:  # show where they start to differ
        first = next((i for i, (a, b) in enumerate(zip(recorded, actual)) if a != b), min(len(recorded), len(actual)))
        start = max(first - _SHOWN // 3, 0)
    where_shown = f" (from character {start})" if start else ""
    return [f"{where}: {what} differs{where_shown}:\n    recorded: {recorded[start:start + _SHOWN]}\n    actual:   "
            f"{actual[start:start + _SHOWN]}"]


#: How many characters of two differing values a report shows.
_SHOWN = 600


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _compare_answers(where: str, mode: str, expected: Dict[str, Any], got: Dict[str, Any]) -> List[str]:
    for flag in ("timeout", "unreachable"):
        if expected.get(flag) or got.get(flag):
            return _diff(where, flag, expected.get(flag, False), got.get(flag, False))
    problems = _diff(where, "HTTP status", expected.get("status"), got.get("status"))
    problems += _diff(where, "content type", expected.get("content_type"), got.get("content_type"))
    problems += _diff(where, "body kind", expected.get("kind"), got.get("kind"))
    if mode == "status" or problems:
        return problems
    if mode == "sorted" and isinstance(expected.get("shape"), list) and isinstance(got.get("shape"), list):
        problems += _diff(where, "shape (any order)", sorted(expected["shape"], key=_sort_key),
                          sorted(got["shape"], key=_sort_key))
    else:
        # dicts compare equal in any key order: compare the key order explicitly
        problems += _diff(where, "shape", expected.get("shape"), got.get("shape"))
        if not problems and json.dumps(expected.get("shape")) != json.dumps(got.get("shape")):
            problems += _diff(where, "key order", json.dumps(expected.get("shape")), json.dumps(got.get("shape")))
    if mode == "exact":
        problems += _diff(where, "body", _without_text_length(expected.get("body")),
                          _without_text_length(got.get("body")))
    elif mode == "sorted":
        body, other = expected.get("body"), got.get("body")
        if isinstance(body, list) and isinstance(other, list):
            problems += _diff(where, "body (any order)", sorted(body, key=_sort_key), sorted(other, key=_sort_key))
        else:
            problems += _diff(where, "body", body, other)
    return problems


_LONG_TEXT = re.compile(r"^<text of \d+ characters starting (.*)>$", re.DOTALL)


def _without_text_length(body: Any) -> Any:
    """A long text body compared by its start only: its length varies with the machine (the real
    manager's HTML error pages carry stack traces with the install path)."""
    if isinstance(body, str):
        match = _LONG_TEXT.match(body)
        if match:
            return f"<text starting {match.group(1)}>"
    return body


def _check_fix(where: str, fix: Fix, got: Dict[str, Any]) -> List[str]:
    body = got.get("body")
    message = body.get("error", "") if isinstance(body, dict) else ""
    problems = _diff(where, f"HTTP status (deliberate fix: {fix.row})", fix.status, got.get("status"))
    if fix.error not in str(message):
        problems.append(f"{where}: the fake's error should mention {fix.error!r}, got {body!r}")
    if got.get("content_type") != "application/json;charset=utf-8":
        problems.append(f"{where}: the fake's error should be JSON, got {got.get('content_type')!r}")
    return problems
