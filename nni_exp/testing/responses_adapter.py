"""Route ``requests`` traffic aimed at NNI managers to an in-memory :class:`fakes.FakeManager`.

NNI's own client (``nni.experiment.Experiment``, through ``nni.experiment.rest``) and any code that
calls ``requests`` talk to a manager at ``http://localhost:<port>/[<prefix>/]api/v1/nni/...``.
Inside :class:`NniResponses` those requests never reach a socket: ``responses`` intercepts them and
the fake manager's router (:meth:`fakes.FakeManager.handle`) answers, exactly as the fake HTTP
server would::

    from fakes import FakeManager
    from nni.experiment import Experiment as NniExperiment
    from nni_exp.testing.responses_adapter import NniResponses, start_fake_experiment

    fake = FakeManager(seed=1)
    with NniResponses(fake):
        start_fake_experiment(fake, config, port=8080)
        exp = NniExperiment.connect(8080)          # NNI's unmodified client
        fake.advance(60)                           # virtual time: nothing moves unless told to
        print(exp.get_status(), exp.export_data())

Routing rules, for every HTTP method:

* ``http://localhost:<port>/...`` and ``http://127.0.0.1:<port>/...`` (any path, hence any URL
  prefix): answered by the fake manager listening on ``<port>``. When none listens there the
  request fails with :class:`requests.ConnectionError`, as it would on a real machine (with
  ``passthrough=True`` it really goes to the network instead, where the same error is the usual
  outcome);
* anything else: with ``passthrough=False`` (the default) it fails loudly with
  :class:`UnexpectedRequestError` (a :class:`requests.ConnectionError`) naming the URL; with
  ``passthrough=True`` it goes to the network. Stubs added to :attr:`NniResponses.mock` (a
  ``responses.RequestsMock``) take precedence over both rules.

Time: the fake's clock is virtual and does not follow the requests. Move it with
``fake.advance(seconds)`` between requests, or pass ``advance_per_request=seconds`` to let that much
virtual time pass before each request reaches a fake manager (a polling loop then sees the
experiment progress). NNI's ``Experiment.run()`` waits with a real ``time.sleep(10)`` between polls,
so with NNI's client prefer ``connect()`` plus your own polling.

Process ids: NNI's ``Experiment.connect()`` wraps the manager's pid from the manifest in
``psutil.Process``; a fake manager's pid is no real process. While the adapter is active (and
``fake_pids`` is true) ``nni.experiment.experiment``'s ``psutil.Process`` returns the fake process
handle for the fake's pids, so that ``connect()`` and ``stop()`` work; real pids are untouched.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import urlsplit

import requests
import responses
from responses.registries import FirstMatchRegistry

from fakes import FakeManager
from nni_exp.backend import RunMode
from nni_exp.config import ExperimentConfig
from nni_exp.errors import ManagerUnreachableError
from nni_exp.experiment import Experiment

__all__ = [
    "LOCAL_HOSTS",
    "NniResponses",
    "RoutedCall",
    "UnexpectedRequestError",
    "start_fake_experiment",
]

#: Host names that address an NNI manager on this machine (NNI's client always uses ``localhost``).
LOCAL_HOSTS: Tuple[str, ...] = ("localhost", "127.0.0.1")


class UnexpectedRequestError(requests.ConnectionError):
    """A request that is not for an NNI manager, made while passthrough is off."""


@dataclass(frozen=True)
class RoutedCall:
    """One request aimed at an NNI manager port, as the adapter saw it.

    ``status`` is the HTTP status the fake answered, or None when no fake manager listened on the
    port (the request failed with ``requests.ConnectionError``).
    """

    method: str
    url: str
    port: int
    status: Optional[int]


class _RegistryBase(FirstMatchRegistry):
    """Registry of the adapter's ``RequestsMock``: user stubs first, then the NNI routing rules."""

    adapter: NniResponses

    def find(self, request: Any) -> Tuple[Optional[responses.BaseResponse], List[str]]:
        found, reasons = super().find(request)
        if found is not None:
            return found, reasons
        return self.adapter._route(request), reasons


class NniResponses:
    """A context manager that sends ``requests`` traffic for NNI manager ports to a fake manager.

    Parameters
    ----------
    fake
        The fake machine whose managers answer (default: a fresh :class:`fakes.FakeManager`).
    passthrough
        Let requests that no fake manager answers go to the network (default: they fail, see
        the module docstring).
    advance_per_request
        Virtual seconds the fake's clock moves before each request that reaches a fake manager.
    hosts
        Host names treated as "this machine" (default :data:`LOCAL_HOSTS`).
    fake_pids
        Make ``nni.experiment.experiment``'s ``psutil.Process`` accept the fake's pids.

    Attributes
    ----------
    fake
        The fake manager.
    calls
        Every :class:`RoutedCall`, in order.
    unexpected
        ``"METHOD URL"`` of every request refused as not being for an NNI manager.
    mock
        The underlying ``responses.RequestsMock`` while active (add your own stubs to it).
    """

    def __init__(self, fake: Optional[FakeManager] = None, *, passthrough: bool = False,
                 advance_per_request: float = 0.0, hosts: Sequence[str] = LOCAL_HOSTS,
                 fake_pids: bool = True) -> None:
        if fake is None:
            fake = FakeManager()
        if not isinstance(fake, FakeManager):
            raise TypeError(f"fake must be a fakes.FakeManager, not {type(fake).__name__}")
        if not isinstance(passthrough, bool):
            raise TypeError(f"passthrough must be True or False, not {passthrough!r}")
        if isinstance(advance_per_request, bool) or not isinstance(advance_per_request, (int, float)) \
                or not advance_per_request >= 0 or advance_per_request == float("inf"):
            raise ValueError(
                f"advance_per_request must be a finite number of seconds >= 0, got {advance_per_request!r}")
        if isinstance(hosts, str) or not hosts or not all(isinstance(h, str) and h for h in hosts):
            raise ValueError(f"hosts must be a non-empty sequence of host names, got {hosts!r}")
        self.fake = fake
        self.passthrough = passthrough
        self.advance_per_request = float(advance_per_request)
        self.hosts = tuple(h.lower() for h in hosts)
        self.fake_pids = fake_pids
        self.calls: List[RoutedCall] = []
        self.unexpected: List[str] = []
        self._mock: Optional[responses.RequestsMock] = None
        self._lock = threading.Lock()
        self._patched_module: Any = None
        self._original_psutil: Any = None
        self._answer = responses.CallbackResponse("GET", "nni-exp://fake-manager", self._answer_with_fake,
                                                  content_type=None)
        self._refuse = responses.CallbackResponse("GET", "nni-exp://unexpected", self._refuse_request,
                                                  content_type=None)
        self._through = responses.PassthroughResponse("GET", "nni-exp://passthrough")

    def __repr__(self) -> str:
        state = "active" if self._mock is not None else "inactive"
        return f"<NniResponses {state} fake={self.fake!r} passthrough={self.passthrough}>"

    # ------------------------------------------------------------------ activation

    @property
    def active(self) -> bool:
        """Whether requests are being intercepted."""
        return self._mock is not None

    @property
    def mock(self) -> responses.RequestsMock:
        """The ``responses.RequestsMock`` in use (only while active)."""
        if self._mock is None:
            raise RuntimeError("NniResponses is not active: use it as a context manager or call start()")
        return self._mock

    def start(self) -> NniResponses:
        """Start intercepting (what ``with`` does on entry); returns self."""
        if self._mock is not None:
            raise RuntimeError("NniResponses is already active")
        registry = type("NniResponsesRegistry", (_RegistryBase,), {"adapter": self})
        mock = responses.RequestsMock(assert_all_requests_are_fired=False, registry=registry)
        mock.start()
        self._mock = mock
        self._patch_nni_psutil()
        return self

    def stop(self) -> None:
        """Stop intercepting and undo the ``psutil`` patch (safe to call when inactive)."""
        mock, self._mock = self._mock, None
        if mock is not None:
            mock.stop()
            mock.reset()
        self._unpatch_nni_psutil()

    def __enter__(self) -> NniResponses:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ routing

    def _route(self, request: Any) -> responses.BaseResponse:
        """Choose how to answer a request no user stub matched."""
        target = _split(request.url)
        if target is None or target[0] not in self.hosts:
            return self._through if self.passthrough else self._refuse
        if self.passthrough and target[1] not in self.fake.ports:
            return self._through
        return self._answer

    def _answer_with_fake(self, request: Any) -> Tuple[int, Dict[str, str], str]:
        url = str(request.url)
        target = _split(url)
        assert target is not None
        host, port, raw_target, scheme = target
        method = str(request.method).upper()
        self._patch_nni_psutil()  # NNI's client may have been imported after start()
        if scheme != "http":
            self._record(RoutedCall(method, url, port, None))
            raise requests.ConnectionError(
                f"{method} {url}: NNI managers speak plain HTTP, not {scheme} (nni_responses)", request=request)
        if self.advance_per_request and port in self.fake.ports:
            self.fake.advance(self.advance_per_request)
        try:
            answer = self.fake.handle(port, method, raw_target, _body_of(request))
        except ManagerUnreachableError:
            self._record(RoutedCall(method, url, port, None))
            ports = ", ".join(str(p) for p in self.fake.ports) or "none"
            raise requests.ConnectionError(
                f"HTTPConnectionPool(host={host!r}, port={port}): Max retries exceeded with url: {raw_target} "
                f"(Connection refused: no fake NNI manager listens on port {port}; fake manager ports: {ports})",
                request=request,
            ) from None
        self._record(RoutedCall(method, url, port, answer.status))
        return answer.status, {"Content-Type": answer.content_type, **dict(answer.headers)}, answer.body

    def _refuse_request(self, request: Any) -> Exception:
        method = str(request.method).upper()
        with self._lock:
            self.unexpected.append(f"{method} {request.url}")
        hosts = "|".join(self.hosts)
        return UnexpectedRequestError(
            f"nni_responses: unexpected request {method} {request.url}: it is not for an NNI manager "
            f"(http://{{{hosts}}}:<port>/...) and passthrough is off. Pass passthrough=True to let it reach the "
            "network, or stub it on NniResponses.mock.",
            request=request,
        )

    def _record(self, call: RoutedCall) -> None:
        with self._lock:
            self.calls.append(call)

    # ------------------------------------------------------------------ fake pids for NNI's connect()

    def _patch_nni_psutil(self) -> None:
        if not self.fake_pids or self._patched_module is not None or self._mock is None:
            return
        module = sys.modules.get("nni.experiment.experiment")
        if module is None or not hasattr(module, "psutil"):
            return
        self._original_psutil = getattr(module, "psutil")  # noqa: B009 - a module attribute mypy cannot see
        setattr(module, "psutil", _PsutilWithFakePids(self._original_psutil, self.fake))  # noqa: B010
        self._patched_module = module

    def _unpatch_nni_psutil(self) -> None:
        module, self._patched_module = self._patched_module, None
        if module is not None and isinstance(getattr(module, "psutil", None), _PsutilWithFakePids):
            setattr(module, "psutil", self._original_psutil)  # noqa: B010
        self._original_psutil = None


class _PsutilWithFakePids:
    """``psutil`` as ``nni.experiment.experiment`` sees it: ``Process(pid)`` knows the fake's pids."""

    def __init__(self, real: Any, fake: FakeManager) -> None:
        self._real = real
        self._fake = fake

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def Process(self, pid: Optional[int] = None) -> Any:  # noqa: N802 - psutil's name
        if pid is not None:
            handle = self._fake.attach(int(pid))
            if handle is not None:
                return handle
        return self._real.Process(pid)


def _split(url: str) -> Optional[Tuple[str, int, str, str]]:
    """(host, port, raw path with query, scheme) of ``url``; None when it has no usable host/port."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("http", "https"):
        return None
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    raw_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return host, port, raw_target, parts.scheme


def _body_of(request: Any) -> Union[bytes, str, None]:
    body = request.body
    if body is None or isinstance(body, (bytes, str)):
        return body
    if hasattr(body, "read"):
        data = body.read()
        return data if isinstance(data, (bytes, str)) else None
    try:
        return b"".join(chunk if isinstance(chunk, bytes) else str(chunk).encode() for chunk in body)
    except TypeError:
        return None


def start_fake_experiment(fake: FakeManager, config: Union[ExperimentConfig, Mapping[str, Any]],
                          port: int = 8080, *, experiment_id: Optional[str] = None,
                          url_prefix: Optional[str] = None) -> str:
    """Start an experiment on ``fake`` through nni-exp's launcher and return its id.

    The manager then listens on ``port`` of the fake machine, with a manifest record, exactly as
    ``nnictl create`` or NNI's ``Experiment.start()`` would leave it, so that NNI's client can
    ``Experiment.connect(port)`` to it (inside :class:`NniResponses`). ``config`` is an
    :class:`~nni_exp.config.ExperimentConfig` or the keyword arguments of one (snake_case or
    camelCase). Nothing runs until the fake's clock moves (the tuner connects after
    ``fake.timing.tuner_startup`` virtual seconds). Stop it with NNI's ``stop()`` or
    ``nni_exp.Experiment.connect(port, backend=fake).stop()``.
    """
    if not isinstance(fake, FakeManager):
        raise TypeError(f"fake must be a fakes.FakeManager, not {type(fake).__name__}")
    if isinstance(config, Mapping):
        config = ExperimentConfig(**dict(config))
    elif not isinstance(config, ExperimentConfig):
        raise TypeError(f"config must be an ExperimentConfig or a mapping of its fields, not {type(config).__name__}")
    experiment = Experiment(config, id=experiment_id, backend=fake)
    experiment.url_prefix = url_prefix
    experiment.start(port, run_mode=RunMode.Detach)
    return experiment.id
