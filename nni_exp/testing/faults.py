"""Fault injection for the fake manager: :class:`FaultPlan` and :class:`InstrumentedFakeManager`.

A test asks for faults with ``@pytest.mark.nni_fake(faults={...})`` (or builds
``InstrumentedFakeManager(faults={...})`` itself). The faults, all optional:

``unreachable: True``
    Every REST call fails as if nothing listened on the port: the backend raises
    :class:`~nni_exp.errors.ManagerUnreachableError` (fakeredis' ``connected=False``); over HTTP
    (``nni_fake_server``) the connection is closed without an answer. ``Experiment.start()``
    therefore ends in :class:`~nni_exp.errors.ManagerStartError` after the start-up timeout (free on
    the virtual clock).
``port_in_use: True``
    Every port looks busy: ``Experiment.start()`` raises :class:`~nni_exp.errors.PortInUseError`.
``initializing_polls: N``
    The first ``N`` ``GET /check-status`` of each manager answer the bare text ``INITIALIZING``
    (not JSON), as the real manager does while it starts; a client must retry.
``tuner_error: True | N``
    The tuner raises when asked for parameters once it has produced ``N`` sets (``True``: 0, at
    the first request); the configured tuner (or the ``tuner=`` override) produces those first sets.
    As with NNI 3.0, the dispatcher logs the traceback and stops: the experiment stays ``RUNNING``
    with ``errors: []``, trials already started run to their end, no new trial starts (a client
    waiting for the end gets :class:`~nni_exp.errors.ExperimentStalledError` from the fake, where
    the real manager would keep it waiting).
``tuner_dies: SECONDS``
    The dispatcher process dies (as by SIGKILL) ``SECONDS`` virtual seconds after the experiment
    started. As with NNI 3.0, the manager notices the lost connection and, 30 seconds later, goes to
    ``ERROR`` with "Dispatcher stream error, tuner may have crashed."; a dispatcher that dies before
    it connected ends the start-up with "Tuner did not connect in 10 seconds".
``crash_after: SECONDS``
    Each manager process dies (as by SIGKILL, without its shutdown) ``SECONDS`` virtual seconds
    after it was spawned: its port closes and its manifest record reads STOPPED.
``fail_requests: {"METHOD /path": outcome, ...}``
    Matching REST calls fail. The key is a method (or ``*``) and a path relative to
    ``/api/v1/nni``, matched case-insensitively with shell wildcards (``"GET /trial-jobs*"``,
    ``"* /experiment"``), query string ignored. The outcome is an HTTP status (400-599; the error
    is the one the real backend raises for that status, e.g. a
    :class:`~nni_exp.errors.ManagerError` that is a ``requests.HTTPError``), ``"timeout"``
    (:class:`~nni_exp.errors.ManagerTimeoutError`; over HTTP the request is held unanswered until
    the client gives up or the test ends) or ``"unreachable"``.

Faults apply only to what goes through the backend protocol (``request``, ``handle``,
``is_port_idle``, spawned dispatchers and processes); :meth:`InstrumentedFakeManager.faults_suspended`
switches them off for a while (the plugin starts ``nni_fake_server``'s experiment that way).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union
from urllib.parse import unquote, urlsplit

from fakes import FakeManager, FakeProcess
from fakes.router import API_ROOT, RouterResponse
from fakes.simulator import SimulatedManager
from nni_exp.backend import ManagerArgs, RunMode
from nni_exp.errors import ManagerTimeoutError, ManagerUnreachableError
from nni_exp.rest import build_url, decode_answer, strip_prefix

__all__ = ["FaultPlan", "InstrumentedFakeManager", "FaultTimeout", "KNOWN_FAULTS", "INITIALIZING_TEXT"]

#: Names accepted in a faults mapping.
KNOWN_FAULTS = ("unreachable", "port_in_use", "initializing_polls", "tuner_error", "tuner_dies", "crash_after",
                "fail_requests")
#: What the real manager answers to ``GET /check-status`` while it starts.
INITIALIZING_TEXT = "INITIALIZING"
_TEXT = "text/plain; charset=utf-8"
_JSON = "application/json; charset=utf-8"
_OUTCOME_WORDS = ("timeout", "unreachable")

Outcome = Union[int, str]


class FaultTimeout(Exception):
    """Raised by :meth:`InstrumentedFakeManager.handle` for a request that must never be answered."""


@dataclass(frozen=True)
class FaultPlan:
    """A validated set of faults (see the module docstring); ``bool(plan)`` is False for none."""

    unreachable: bool = False
    port_in_use: bool = False
    initializing_polls: int = 0
    tuner_error: Optional[int] = None
    tuner_dies: Optional[float] = None
    crash_after: Optional[float] = None
    fail_requests: Tuple[Tuple[str, str, Outcome], ...] = field(default=())

    @classmethod
    def parse(cls, faults: Union[FaultPlan, Mapping[str, Any], None]) -> FaultPlan:
        """A plan from a mapping (``None`` or ``{}``: no fault); ``ValueError``/``TypeError`` when invalid."""
        if faults is None:
            return cls()
        if isinstance(faults, FaultPlan):
            return faults
        if not isinstance(faults, Mapping):
            raise TypeError(f"faults must be a dict, got {type(faults).__name__}")
        unknown = sorted(set(faults) - set(KNOWN_FAULTS))
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(map(repr, unknown))}; known: {', '.join(KNOWN_FAULTS)}")
        return cls(
            unreachable=_flag(faults, "unreachable"),
            port_in_use=_flag(faults, "port_in_use"),
            initializing_polls=_count(faults.get("initializing_polls", 0), "initializing_polls"),
            tuner_error=_tuner_error(faults.get("tuner_error")),
            tuner_dies=_seconds(faults.get("tuner_dies"), "tuner_dies"),
            crash_after=_seconds(faults.get("crash_after"), "crash_after"),
            fail_requests=_fail_requests(faults.get("fail_requests") or {}),
        )

    def __bool__(self) -> bool:
        return bool(self.unreachable or self.port_in_use or self.initializing_polls
                    or self.tuner_error is not None or self.tuner_dies is not None or self.crash_after is not None
                    or self.fail_requests)

    def failure_for(self, method: str, api_path: str) -> Optional[Outcome]:
        """The ``fail_requests`` outcome for ``method`` on ``api_path`` (relative to the API root), if any."""
        method = method.upper()
        path = "/" + api_path.split("?", 1)[0].strip("/").lower()
        for pattern_method, pattern_path, outcome in self.fail_requests:
            if pattern_method in ("*", method) and fnmatch.fnmatchcase(path, pattern_path):
                return outcome
        return None


def _flag(faults: Mapping[str, Any], name: str) -> bool:
    value = faults.get(name, False)
    if not isinstance(value, bool):
        raise TypeError(f"fault {name!r} must be True or False, got {value!r}")
    return value


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise TypeError(f"fault {name!r} must be an int >= 0, got {value!r}")
    return value


def _tuner_error(value: Any) -> Optional[int]:
    if value is None or value is False:
        return None
    if value is True:
        return 0
    return _count(value, "tuner_error")


def _seconds(value: Any, name: str) -> Optional[float]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise TypeError(f"fault {name!r} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _fail_requests(value: Any) -> Tuple[Tuple[str, str, Outcome], ...]:
    if not isinstance(value, Mapping):
        raise TypeError(f"fault 'fail_requests' must be a dict {{'METHOD /path': outcome}}, got {value!r}")
    rules: List[Tuple[str, str, Outcome]] = []
    for key, outcome in value.items():
        parts = str(key).split()
        if len(parts) != 2 or not parts[1].startswith("/"):
            raise ValueError(f"fail_requests key {key!r} must look like 'GET /trial-jobs' (method or *, then path)")
        if isinstance(outcome, bool) or not (
                (isinstance(outcome, int) and 400 <= outcome <= 599) or outcome in _OUTCOME_WORDS):
            raise ValueError(f"fail_requests[{key!r}] must be an HTTP status 400-599, 'timeout' or 'unreachable', "
                             f"got {outcome!r}")
        rules.append((parts[0].upper(), "/" + parts[1].strip("/").lower(), outcome))
    return tuple(rules)


class InstrumentedFakeManager(FakeManager):
    """A :class:`fakes.FakeManager` that records what it spawned and can inject faults.

    Takes :class:`~fakes.FakeManager`'s arguments plus ``faults`` (a mapping or a
    :class:`FaultPlan`; see the module docstring). Without faults it behaves exactly like a
    ``FakeManager``.

    Attributes
    ----------
    faults
        The :class:`FaultPlan` in force.
    spawned
        Every simulated manager process started so far (alive or not), in order: the failure
        report reads their status, trials and log even after they exited.
    """

    def __init__(self, trial: Any = None, *, faults: Union[FaultPlan, Mapping[str, Any], None] = None,
                 **kwargs: Any) -> None:
        super().__init__(trial, **kwargs)
        self.faults = FaultPlan.parse(faults)
        self.spawned: List[SimulatedManager] = []
        self._status_polls: Dict[int, int] = {}
        self._crash_at: Dict[int, float] = {}
        self._suspended = 0

    def __repr__(self) -> str:
        base = super().__repr__()
        return base[:-1] + f" faults={self.faults}>" if self.faults else base

    # ------------------------------------------------------------------ switching faults off

    @property
    def faults_active(self) -> bool:
        """True when faults apply now (there are some, and they are not suspended)."""
        return bool(self.faults) and self._suspended == 0

    @contextlib.contextmanager
    def faults_suspended(self) -> Iterator[None]:
        """Within this block, no fault applies (crash deadlines and tuner faults still do)."""
        self._suspended += 1
        try:
            yield
        finally:
            self._suspended -= 1

    # ------------------------------------------------------------------ Backend protocol

    def spawn_manager(self, args: ManagerArgs, run_mode: RunMode) -> FakeProcess:
        process = super().spawn_manager(args, run_mode)
        manager = process.manager
        if manager is not None:
            self.spawned.append(manager)
            self._status_polls[manager.pid] = 0
            if self.faults.crash_after is not None:
                self._crash_at[manager.pid] = self.clock.monotonic() + self.faults.crash_after
            if self.faults.tuner_dies is not None:
                manager.dispatcher_dies_at = self.clock.monotonic() + self.faults.tuner_dies
        return process

    def _search_faults(self, manager: SimulatedManager) -> Dict[str, Any]:
        return {"fail_after": self.faults.tuner_error}

    def is_port_idle(self, port: int) -> bool:
        if self.faults_active and self.faults.port_in_use:
            return False
        return super().is_port_idle(port)

    def request(self, method: str, port: int, path: str, body: Any = None, *,
                url_prefix: Optional[str] = None, timeout: Optional[float] = None) -> Any:
        if self.faults_active:
            self.sync()
            verdict = self._verdict(method, port, path)
            if verdict is not None:
                url = build_url(port, path, strip_prefix(url_prefix))
                if verdict == "unreachable":
                    raise ManagerUnreachableError(f"{method.upper()} {url}: injected fault: manager unreachable")
                if verdict == "timeout":
                    raise ManagerTimeoutError(f"{method.upper()} {url}: injected fault: no answer")
                status, text, _ = self._fault_answer(verdict)
                return decode_answer(method, url, status, text)
        return super().request(method, port, path, body, url_prefix=url_prefix, timeout=timeout)

    def handle(self, port: int, method: str, target: str,
               body: Union[bytes, str, None] = None) -> RouterResponse:
        """As :meth:`fakes.FakeManager.handle`, with the faults: raises ``ManagerUnreachableError`` for
        an unreachable manager and :class:`FaultTimeout` for a request never to be answered."""
        if self.faults_active:
            self.sync()
            verdict = self._verdict(method, port, _api_path(target))
            if verdict == "unreachable":
                raise ManagerUnreachableError(f"injected fault: manager on port {port} unreachable")
            if verdict == "timeout":
                raise FaultTimeout(f"{method.upper()} {target}")
            if verdict is not None:
                status, text, content_type = self._fault_answer(verdict)
                return RouterResponse(status, text, content_type)
        return super().handle(port, method, target, body)

    def sync(self) -> None:
        """Play events up to now; managers whose ``crash_after`` deadline passed die at that moment."""
        if self._crash_at:
            now = self.clock.monotonic()
            for manager in list(self.spawned):
                deadline = self._crash_at.get(manager.pid)
                if deadline is not None and deadline <= now and manager.alive:
                    del self._crash_at[manager.pid]
                    manager.run_until(deadline)
                    if manager.alive:
                        manager.log("ERROR", f"injected fault: manager process crashed {self.faults.crash_after:g} s "
                                             "after start")
                        manager.exit()
        super().sync()

    # ------------------------------------------------------------------ fault decisions

    def _verdict(self, method: str, port: int, api_path: str) -> Optional[Outcome]:
        """What happens to this request: None (served normally), an HTTP status, ``"timeout"``,
        ``"unreachable"`` or ``"initializing"``."""
        plan = self.faults
        if plan.unreachable:
            return "unreachable"
        failure = plan.failure_for(method, api_path)
        if failure is not None:
            return failure
        if plan.initializing_polls and method.upper() == "GET" \
                and api_path.split("?", 1)[0].strip("/").lower() == "check-status":
            try:
                manager = self.manager_at(port)
            except KeyError:
                return None
            if manager.alive:
                polls = self._status_polls.get(manager.pid, 0)
                if polls < plan.initializing_polls:
                    self._status_polls[manager.pid] = polls + 1
                    return "initializing"
        return None

    @staticmethod
    def _fault_answer(verdict: Outcome) -> Tuple[int, str, str]:
        if verdict == "initializing":
            return 200, INITIALIZING_TEXT, _TEXT
        assert isinstance(verdict, int)
        return verdict, json.dumps({"error": f"injected fault: HTTP {verdict}"}), _JSON


def _api_path(target: str) -> str:
    """The path of a raw request target relative to the API root (URL prefix and query dropped)."""
    path = unquote(urlsplit(target).path)
    index = path.lower().find(API_ROOT)
    return path[index + len(API_ROOT):] if index >= 0 else path
