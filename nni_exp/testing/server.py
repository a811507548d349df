"""``FakeServer``: a fake NNI manager served over real HTTP from a thread of the test process.

The ``nni_fake_server`` fixture is built on it, the way pytest-httpserver builds ``httpserver`` on
``make_httpserver``: one listener per test session (per xdist worker), on ``127.0.0.1`` and a port
the kernel chose, and per test a *fresh* :class:`fakes.FakeManager` behind it.

Why a thread and not ``python -m fakes.server``: the test keeps the fake manager object in hand
(``server.manager.advance(60)`` moves virtual time, ``server.manager.manager_at(port).log_lines``
shows the log, faults apply), the clock can stay virtual, and swapping managers between tests costs
microseconds instead of a ~0.3 s process start. The subprocess launch path is what
``--nni-backend=server`` exercises.

What "cleared" means between tests (:meth:`FakeServer.clear`): the experiment is stopped, the fake
manager (its experiments, trials, manifest, clock and log) is dropped, requests held by a
``timeout`` fault are released, and the request log is emptied. The port stays the same. While no
fake manager is installed the listener closes every connection without answering, as a port
without a manager would refuse it.
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, List, NamedTuple, Optional

from fakes import FakeManager
from fakes.router import API_ROOT
from nni_exp.config import ExperimentConfig
from nni_exp.errors import ManagerUnreachableError
from nni_exp.experiment import Experiment

from .faults import FaultTimeout, InstrumentedFakeManager

__all__ = ["FakeServer", "LoggedRequest", "HOLD_TIMEOUT"]

#: Longest time (real seconds) a request held by a ``timeout`` fault stays unanswered.
HOLD_TIMEOUT = 60.0


class LoggedRequest(NamedTuple):
    """One request the server received: method, target (path and query) and the status sent
    (``None`` when the connection was closed without an answer)."""

    method: str
    target: str
    status: Optional[int]


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (broken pipe, reset, timeout) is no error, as for
        Node: nothing is printed. Anything else is printed as ``socketserver`` does."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Every method goes to :meth:`FakeServer._answer`."""

    protocol_version = "HTTP/1.1"
    server: _Listener

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        answer = self.server.owner._answer(self.command, self.path, body)
        if answer is None:
            self.close_connection = True
            return
        status, text, content_type, headers = answer
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:  # the client asked for it: say so, or its pool reuses a closed socket
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Silent: requests are kept in :attr:`FakeServer.log` instead."""


class FakeServer:
    """A fake manager on ``http://host:port``; a context manager that closes the listener on exit.

    Attributes
    ----------
    host, port
        Where it listens (``port=0``: a free port chosen by the kernel).
    manager
        The fake manager behind the port (None between tests).
    experiment
        The experiment running on the port, once :meth:`start_experiment` was called.
    log
        The requests received since the last :meth:`clear`, as :class:`LoggedRequest`.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._listener = _Listener((host, port), _Handler)
        self._listener.owner = self
        self.host = host
        self.port = int(self._listener.server_address[1])
        self.manager: Optional[FakeManager] = None
        self.experiment: Optional[Experiment] = None
        self.log: List[LoggedRequest] = []
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._held = 0
        self._thread = threading.Thread(target=self._listener.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"nni-fake-server-{self.port}", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"<FakeServer {self.url} manager={self.manager!r}>"

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The manager's REST API root: ``http://127.0.0.1:<port>/api/v1/nni``."""
        return f"http://{self.host}:{self.port}{API_ROOT}"

    @property
    def held_requests(self) -> int:
        """How many requests a ``timeout`` fault holds unanswered right now."""
        return self._held

    @property
    def is_running(self) -> bool:
        """Whether the listener still serves."""
        return self._thread.is_alive()

    # ------------------------------------------------------------------ state

    def serve(self, manager: FakeManager) -> None:
        """Put ``manager`` behind the port (after :meth:`clear` of the previous one)."""
        self.clear()
        self.manager = manager

    def start_experiment(self, config: ExperimentConfig) -> Experiment:
        """Start an experiment with ``config`` on the fake manager, on :attr:`port`; stops the previous one.

        Faults of an :class:`~nni_exp.testing.faults.InstrumentedFakeManager` are suspended during the
        launch, so that a test of a client sees them and not the launch.
        """
        if self.manager is None:
            raise RuntimeError("FakeServer has no fake manager: call serve(manager) first")
        self._stop_experiment()
        experiment = Experiment(config, backend=self.manager)
        if isinstance(self.manager, InstrumentedFakeManager):
            with self.manager.faults_suspended():
                experiment.start(port=self.port)
        else:
            experiment.start(port=self.port)
        self.experiment = experiment
        return experiment

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass on the fake manager."""
        if self.manager is None:
            raise RuntimeError("FakeServer has no fake manager")
        self.manager.advance(seconds)

    def clear(self) -> None:
        """Stop the experiment, drop the fake manager, release held requests, empty the log."""
        try:
            self._stop_experiment()
        finally:
            manager, self.manager = self.manager, None
            if manager is not None:
                manager.close()
            with self._lock:
                self._release.set()
                self._release = threading.Event()
            self.log.clear()

    def close(self) -> None:
        """:meth:`clear`, then stop listening (idempotent)."""
        self.clear()
        if self._thread.is_alive():
            self._listener.shutdown()
            self._thread.join(timeout=5)
        self._listener.server_close()

    def _stop_experiment(self) -> None:
        experiment, self.experiment = self.experiment, None
        if experiment is None:
            return
        if isinstance(self.manager, InstrumentedFakeManager):
            with self.manager.faults_suspended():
                experiment.stop()
        else:
            experiment.stop()

    # ------------------------------------------------------------------ serving

    def _answer(self, method: str, target: str, body: Optional[bytes]
                ) -> Optional[tuple[int, str, str, tuple[tuple[str, str], ...]]]:
        """(status, body, content type, other headers), or None to close the connection without an
        answer."""
        manager = self.manager
        status: Optional[int] = None
        try:
            if manager is None:
                return None
            try:
                response = manager.handle(self.port, method, target, body)
            except ManagerUnreachableError:
                return None
            except FaultTimeout:
                with self._lock:
                    release = self._release
                    self._held += 1
                try:
                    release.wait(HOLD_TIMEOUT)
                finally:
                    with self._lock:
                        self._held -= 1
                return None
            status = response.status
            return response.status, response.body, response.content_type, response.headers
        finally:
            self.log.append(LoggedRequest(method, target, status))
