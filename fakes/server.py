"""The fake NNI manager as an HTTP server, started like the real manager.

``python -m fakes.server <NNI manager arguments> [--trial module:function] [--seed N] [--time-scale X]``
takes the command line of NNI 3.0's manager (``node main.js --port ... --experiment-id ...``, see
:mod:`fakes.cli_args`) and serves NNI's REST API on ``127.0.0.1:<port>`` (``--host`` to change)
with one simulated manager (:class:`fakes.simulator.SimulatedManager`) behind
:func:`fakes.router.handle`. A launcher uses it exactly as it uses the real manager: spawn it with
``[sys.executable, '-m', 'fakes.server'] + ManagerArgs.to_argv()``, poll ``/check-status`` until
it answers (``INITIALIZED``), add the manifest record, ``POST /experiment``, ...; ``nni-exp
fake-manager <args>`` calls :func:`main` with the same arguments.

What it does, as the real manager does:

* **start-up**: creates ``<experiments_directory>/<id>/log/``, binds the port, opens (create) or
  loads (resume, view) the experiment's database ``<id>/db/nni.sqlite`` in NNI's schema
  (:mod:`fakes.sqlite_storage`), then serves. A bad command line, a busy port or a missing
  database for resume/view: a message on stderr and exit code 1.
* **time**: the simulation runs on a :class:`~fakes.clock.ScaledRealClock` (``--time-scale``
  virtual seconds per real second); a loop plays the simulation forward every 20 ms, so trials
  start and finish on their own without any request.
* **storage**: every stored profile revision, trial event and metric is queued as an SQLite row
  and written by that loop (at most ~0.1 s later), before any answer is sent (so a state change
  a client has read is on disk) and at exit; trial files go to
  ``<id>/environments/local-env/trials/<trialId>/``. A new process with ``--action resume`` or
  ``view`` finds everything there.
* **manifest**: ``~/nni-experiments/.experiment`` of the process's ``HOME`` (or
  ``$NNI_EXP_HOME``), through :class:`nni_exp.manifest_file.ManifestFile` and NNI's lock protocol;
  like the Node manager it only updates ``status``/``endTime`` of the record the launcher added
  (a missing record is left missing).
* **log**: ``<id>/log/nnimanager.log``, lines ``[YYYY-MM-DD HH:MM:SS] LEVEL (Module) message``
  filtered by ``--log-level``, appended as they accumulate (same 20 ms loop) and at exit; the
  timestamps are virtual time. With ``--foreground true`` each line is also printed on stdout;
  otherwise nothing is ever printed on stdout. Errors go to stderr. The simulated dispatcher's log
  (:mod:`fakes.search`) goes to ``<id>/log/dispatcher.log`` in NNI's format.
* **web UI**: NNI's own web UI from the installed ``nni`` (``nni_node/static``), its single-page app
  routes (``/oview``, ``/detail``, ... any other GET path answers ``index.html``) and the experiment's
  log directory under ``/logs/`` (:mod:`fakes.webui`); without ``nni``, a page saying how to get it.
  Answers under ``/api/v1/nni`` carry the manager's two ``Access-Control-Allow-*`` headers; OPTIONS
  and HEAD are answered as Express answers them. The experiment's ``<id>/checkpoint/`` directory is
  created when ``POST /experiment`` starts or resumes it.
* **HTTP**: requests are parsed as Node 18's parser does: its bare 400 (unknown method, TLS
  handshake, bad ``Content-Length`` or chunking, header line without a colon) and 431 (over 16 KB of
  request line and headers) answers, ``CONNECT`` dropped; a socket silent for :data:`READ_TIMEOUT`
  gets 408 (or is closed between requests), so no handler thread waits for ever; the listen backlog
  is :data:`LISTEN_BACKLOG`.
* **shutdown**: after answering ``DELETE /experiment`` (the simulated manager is then stopped)
  the port closes and the process exits 0. SIGTERM and SIGINT run the same shutdown
  (STOPPING → STOPPED in the manifest, profile stored) and exit 0. If the shutdown could not
  complete (the tuner had not connected yet: the manifest keeps STOPPING, as with the real
  manager) the exit code is 1.

Not reproduced: the ~50 ms during which the real manager answers ``INITIALIZING`` as plain text
(the fake answers JSON from its first request on), the ``/netron`` proxy, Express's ``X-Powered-By``,
``Keep-Alive``, ``Accept-Ranges`` and API ``ETag`` headers, and the tuner/trial WebSocket channels
(``--tuner-command-channel`` is accepted and ignored: the fake's tuner is built in).
"""

from __future__ import annotations

import datetime
import errno
import hashlib
import io
import json
import re
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, Callable, Optional, TextIO, Union, cast
from urllib.parse import urlsplit

import psutil

from nni_exp.backend import RunMode
from nni_exp.errors import ManagerUnreachableError
from nni_exp.manifest_file import ManifestFile, default_home_directory

from .cli_args import CommandLineError, ServerArgs, build_parser, load_trial_function, parse_args
from .clock import ScaledRealClock
from .local_trials.channel import CHANNEL_PATH, TrialChannelHub
from .manager import FakeManager, FakeProcess
from .router import API_ROOT
from .search import SearchUnavailableError
from .simulator import SimulatedManager
from .sqlite_storage import SqliteStorage
from .webui import WebResponse, WebUI

__all__ = ["main", "FakeManagerServer", "NodeManifest", "StartupError", "SYNC_INTERVAL", "FLUSH_INTERVAL"]

#: Real seconds between two plays of the simulation (and log appends).
SYNC_INTERVAL = 0.02
#: Real seconds between two writes of queued database rows.
FLUSH_INTERVAL = 0.1
_LEVEL_VALUES = {"TRACE": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_MANAGER_LINE = re.compile(r"^\[(\d+)\] ([A-Z]+) (.*)$", re.DOTALL)


class StartupError(Exception):
    """The server could not start; the message goes to stderr and the exit code is 1."""


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    if pid <= 0:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.Error:
        return True


class NodeManifest:
    """The manifest as the Node manager uses it (a :class:`nni_exp.backend.Manifest`).

    Reads and writes go through :class:`~nni_exp.manifest_file.ManifestFile` (NNI's lock
    protocol). ``update`` only changes a record that exists, as the manager drops writes for a
    missing record. ``records`` (``GET /experiments-info``) first does the manager's crash
    detection: a record whose process is gone gets ``status`` STOPPED and loses its ``port``.
    """

    def __init__(self, home_directory: Union[str, Path, None] = None) -> None:
        self.file = ManifestFile(home_directory if home_directory is not None else default_home_directory())

    def __repr__(self) -> str:
        return f"<NodeManifest {self.file.path}>"

    def records(self) -> dict[str, dict[str, Any]]:
        for experiment_id, record in self.file.read().items():
            if record.get("status") != "STOPPED" and not _pid_alive(_int(record.get("pid"))):
                self.file.update(experiment_id, "status", "STOPPED")
                self.file.update(experiment_id, "port", None)
        return self.file.read()

    def add(self, record: dict[str, Any]) -> None:
        self.file.add(record)

    def update(self, experiment_id: str, key: str, value: Any) -> bool:
        """Set (None: delete) one key of an existing record; False when there is no such record."""
        return self.file.update(experiment_id, key, value)


def _is_experiment_route(target: str, url_prefix: Optional[str]) -> bool:
    """Whether ``target`` is ``[/<prefix>]/api/v1/nni/experiment`` (query and trailing slash allowed)."""
    path = urlsplit(target).path.rstrip("/").lower()
    head = f"/{url_prefix}".lower() if url_prefix else ""
    return path == f"{head}{API_ROOT}/experiment"


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class _ManagerLog:
    """``nnimanager.log``: level filter, NNI's line format, optional copy on stdout."""

    def __init__(self, path: Path, level: str, foreground: bool, stdout: TextIO,
                 clock: Callable[[], float]) -> None:
        self.path = path
        self._threshold = _LEVEL_VALUES[level.upper()]
        self._foreground = foreground
        self._stdout = stdout
        self._clock = clock
        self._lock = threading.Lock()
        self._file: Optional[TextIO] = None
        self._consumed = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()

    def write(self, level: str, module: str, message: str, epoch_seconds: Optional[float] = None) -> None:
        """Append one line (dropped when below the log level)."""
        if _LEVEL_VALUES.get(level.upper(), 20) < self._threshold:
            return
        moment = self._clock() if epoch_seconds is None else epoch_seconds
        stamp = datetime.datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M:%S")
        line = f"[{stamp}] {level.upper()} ({module}) {message}"
        with self._lock:
            if self._file is not None:
                self._file.write(line + "\n")
                self._file.flush()
            if self._foreground:
                try:
                    self._stdout.write(line + "\n")
                    self._stdout.flush()
                except (OSError, ValueError):
                    pass

    def pump(self, manager: Optional[SimulatedManager]) -> None:
        """Append the simulated manager's log lines written since the last call."""
        if manager is None:
            return
        with self._lock:
            lines = manager.log_lines[self._consumed:]
            self._consumed += len(lines)
        for raw in lines:
            match = _MANAGER_LINE.match(raw)
            if match:
                stamp, level, rest = match.groups()
                module, _, message = rest.partition(" ")
                self.write(level, module.strip("()") or "NNIManager", message, int(stamp) / 1000)
            else:
                self.write("INFO", "NNIManager", raw)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _process_seed(seed: Optional[int], experiment_id: str) -> Optional[int]:
    """The seed of this process's fake: ``--seed`` and the experiment id together, so that the
    experiments of one machine (one process each) do not all draw the same trial ids."""
    if seed is None:
        return None
    digest = hashlib.sha256(f"{seed}:{experiment_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class _DispatcherLogFile:
    """``dispatcher.log``: the simulated dispatcher's log entries, appended as they are written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._consumed = 0

    def pump(self, manager: Optional[SimulatedManager]) -> None:
        """Append the entries written since the last call."""
        if manager is None:
            return
        entries = manager.dispatcher_log.entries[self._consumed:]
        if not entries:
            return
        self._consumed += len(entries)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as file:
            file.write("".join(entry + "\n" for entry in entries))


#: Seconds a connection may stay silent: before a request's first byte, inside its request line,
#: headers or body. Node's keep-alive timeout is 5 s too; it waits 60 s for headers and 300 s for a
#: body, then answers 408 (the fake: 408 after 5 s).
READ_TIMEOUT = 5.0
#: Connections the kernel queues before ``accept`` (``socketserver``'s 5 stalls clients 1 s under load).
LISTEN_BACKLOG = 128
#: The methods Node's HTTP parser knows (``http.METHODS`` of Node 18); any other is a parse error (400).
NODE_METHODS = frozenset((
    "ACL", "BIND", "CHECKOUT", "CONNECT", "COPY", "DELETE", "GET", "HEAD", "LINK", "LOCK", "M-SEARCH", "MERGE",
    "MKACTIVITY", "MKCALENDAR", "MKCOL", "MOVE", "NOTIFY", "OPTIONS", "PATCH", "POST", "PROPFIND", "PROPPATCH",
    "PURGE", "PUT", "REBIND", "REPORT", "SEARCH", "SOURCE", "SUBSCRIBE", "TRACE", "UNBIND", "UNLINK", "UNLOCK",
    "UNSUBSCRIBE",
))
#: The manager's JSON body limit (``express.json({limit: '50mb'})``): 413 beyond.
MAX_BODY_BYTES = 50 * 1024 * 1024
#: Node's limit of the request line and headers together (``--max-http-header-size``): 431 beyond.
MAX_HEADER_BYTES = 16384
#: What Node's parser accepts as the first byte of a request (methods are upper case; CR/LF skipped).
_REQUEST_START = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n")
_DIGITS = re.compile(r"[0-9]+")
_CHUNK_SIZE = re.compile(rb"[0-9a-fA-F]+[ \t]*(?:;[^\r\n]*)?\r?\n")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG
    app: FakeManagerServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away before its answer (broken pipe, reset, timeout) is no error, as for
        Node: nothing is printed. Anything else is printed as ``socketserver`` does."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


class _ClientError(Exception):
    """A request Node's HTTP server refuses before Express sees it: ``HTTP/1.1 <status> <reason>``,
    ``Connection: close``, no body, and the connection closed."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class _ClientGone(Exception):
    """The client closed the connection in the middle of its request: nothing to answer."""


class _Gone(Exception):
    """The simulated manager has exited: the connection is dropped, as by a closed port."""


class _Handler(BaseHTTPRequestHandler):
    """Every method goes to :meth:`FakeManagerServer.answer`; status, headers and body are written
    exactly as the router or the web UI returns them (no body for HEAD)."""

    protocol_version = "HTTP/1.1"
    #: Headers and body are two writes: without TCP_NODELAY a kept-alive connection waits ~40 ms
    #: (Nagle + delayed ACK) per answer.
    disable_nagle_algorithm = True
    #: The socket's read timeout (``StreamRequestHandler`` sets it): no thread waits for ever.
    timeout = READ_TIMEOUT
    server: _HttpServer
    _answered = 0

    def handle_one_request(self) -> None:
        """One request, parsed as strictly as Node's HTTP parser: its 400/408/431 answers where Node
        refuses a request, the connection closed without an answer where Node drops it (``CONNECT``, a
        client that left mid-request, a kept-alive connection silent for :data:`READ_TIMEOUT`)."""
        started = False
        try:
            first = cast(io.BufferedReader, self.rfile).peek(1)[:1]
            if not first:
                self.close_connection = True
                return
            started = True
            if first[0] not in _REQUEST_START:  # e.g. a TLS ClientHello: Node answers at once
                raise _ClientError(400)
            self.raw_requestline = self.rfile.readline(MAX_HEADER_BYTES + 1)
            if len(self.raw_requestline) > MAX_HEADER_BYTES:
                raise _ClientError(431)
            if not self.raw_requestline.endswith(b"\n"):
                raise _ClientGone()
            if not self.parse_request():  # answered by send_error
                return
            if self.headers.defects or self.headers.get_payload():  # e.g. a header line without a colon
                raise _ClientError(400)
            if self.request_version == "HTTP/0.9":  # no version: Node answers in HTTP/1.1 and closes, but
                if not self.raw_requestline.endswith(b"\r\n"):  # refuses a line ended by a bare LF
                    raise _ClientError(400)
                self.request_version = "HTTP/1.0"
            header_bytes = len(self.raw_requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
            if header_bytes > MAX_HEADER_BYTES:
                raise _ClientError(431)
            if self.command not in NODE_METHODS:
                raise _ClientError(400)
            if self.command == "CONNECT":  # Node's server has no 'connect' listener: the socket is destroyed
                raise _ClientGone()
            self._serve()
            self._answered += 1
            self.wfile.flush()
        except TimeoutError:
            if started or not self._answered:
                self._refuse(408)  # a fresh connection that sent nothing gets Node's 408 too
            self.close_connection = True
        except _ClientError as error:
            self._refuse(error.status)
        except _ClientGone:
            self.close_connection = True

    def send_error(self, code: int, message: Optional[str] = None, explain: Optional[str] = None) -> None:
        """Errors of ``BaseHTTPRequestHandler``'s parsing (bad request line, version, header lines)
        as Node answers a parse error: 431 for an overlong line, 400 for the rest."""
        self._refuse(431 if code in (414, 431) else 400)

    def _refuse(self, status: int) -> None:
        """Node's answer to a request its HTTP parser refuses, then close the connection."""
        self.close_connection = True
        if status == 413:  # Express's body parser (the body is not read: the connection closes)
            text = json.dumps({"error": f"request entity too large: more than {MAX_BODY_BYTES} bytes"})
            self._send(WebResponse(413, text.encode(), (("Content-Type", "application/json; charset=utf-8"),)))
            return
        reason = {400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large"}[status]
        self.log_message('"%s" %s -', self.requestline if hasattr(self, "requestline") else "", status)
        try:
            self.wfile.write(f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n\r\n".encode("ascii"))
            self.wfile.flush()
        except OSError:
            pass

    def _serve(self) -> None:
        app = self.server.app
        try:
            body = self._read_body()
        except ValueError as error:
            self._send(WebResponse(400, f"bad request body: {error}".encode(),
                                   (("Content-Type", "text/plain; charset=utf-8"),)))
            return
        try:
            answer = app.answer(self.command, self.path, body, dict(self.headers.items()))
        except _Gone:
            self.close_connection = True
            return
        self._send(answer)
        app.after_request()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve

    def send_response(self, code: int, message: Optional[str] = None) -> None:
        """The status line and ``Date``, without the ``Server`` header (Node's server sends none)."""
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def _send(self, answer: WebResponse) -> None:
        self.server.app.before_answer()
        self.send_response(answer.status)
        for name, value in answer.headers:
            self.send_header(name, value)
        if answer.status != 304:
            self.send_header("Content-Length", str(len(answer.body)))
        if self.server.app.stopping:
            self.close_connection = True
        if self.close_connection:
            # Say so (as Node does when the request asked for it): otherwise a client may put the
            # connection back in its pool and lose its next request on it.
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and answer.status != 304:
            self.wfile.write(answer.body)
        self.wfile.flush()

    def _read_body(self) -> Optional[bytes]:
        """The request's body (None without one). Raises :class:`_ClientError` (400) where Node's
        parser refuses the framing: a ``Content-Length`` that is not a number or comes twice, together
        with ``Transfer-Encoding: chunked``, a bad chunk size; :class:`_ClientGone` when the client
        closed before the end; ``TimeoutError`` when it stopped sending (answered 408)."""
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) > 1 or (lengths and not _DIGITS.fullmatch(lengths[0].strip())):
            raise _ClientError(400)
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            if lengths:
                raise _ClientError(400)
            return self._read_chunks()
        if not lengths:
            return None
        length = int(lengths[0])
        if length > MAX_BODY_BYTES:
            raise _ClientError(413)
        return self._read_exactly(length)

    def _read_exactly(self, size: int) -> bytes:
        """``size`` bytes of the body, read in pieces (``read(size)`` would allocate ``size`` at once)."""
        pieces: list[bytes] = []
        missing = size
        while missing > 0:
            piece = self.rfile.read(min(missing, 1 << 20))
            if not piece:
                raise _ClientGone()
            pieces.append(piece)
            missing -= len(piece)
        return b"".join(pieces)

    def _read_chunks(self) -> bytes:
        chunks: list[bytes] = []
        received = 0
        while True:
            size_line = self.rfile.readline(MAX_HEADER_BYTES)
            if not size_line.endswith(b"\n"):
                raise _ClientGone() if len(size_line) < MAX_HEADER_BYTES else _ClientError(400)
            if not _CHUNK_SIZE.fullmatch(size_line):
                raise _ClientError(400)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            received += size
            if received > MAX_BODY_BYTES:
                raise _ClientError(413)
            if size == 0:
                while True:
                    trailer = self.rfile.readline(MAX_HEADER_BYTES)
                    if not trailer.endswith(b"\n"):
                        raise _ClientGone()
                    if trailer in (b"\r\n", b"\n"):
                        return b"".join(chunks)
            chunks.append(self._read_exactly(size))
            if self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise _ClientError(400)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        self.server.app.log.write("TRACE", "RestServer", format % args)


class FakeManagerServer:
    """One fake manager process: HTTP server, simulation loop, storage, manifest and log.

    ``start()`` binds and loads; ``serve()`` runs until ``DELETE /experiment`` or
    :meth:`request_stop` (SIGTERM/SIGINT) and returns the exit code; :func:`main` does both.
    """

    def __init__(self, args: ServerArgs, *, stdout: Optional[TextIO] = None,
                 manifest_home: Union[str, Path, None] = None) -> None:
        self.args = args
        self.manager_args = args.manager
        self.clock = ScaledRealClock(args.time_scale)
        root = Path(self.manager_args.experiments_directory) / self.manager_args.experiment_id
        self.log = _ManagerLog(root / "log" / "nnimanager.log", self.manager_args.log_level,
                               self.manager_args.foreground, stdout or sys.stdout, self.clock.time)
        self.dispatcher_log = _DispatcherLogFile(root / "log" / "dispatcher.log")
        self.checkpoint_directory = root / "checkpoint"
        self.webui = WebUI(root / "log", self.manager_args.url_prefix)
        self.storage = SqliteStorage()
        self.manifest = NodeManifest(manifest_home)
        self.fake: Optional[FakeManager] = None
        self.process: Optional[FakeProcess] = None
        self._httpd: Optional[_HttpServer] = None
        self._stop = threading.Event()
        self._stop_reason = ""
        #: Set by the signal handler (a plain assignment: taking a lock there could deadlock).
        self._signal_name: Optional[str] = None
        self.stopping = False

    # ------------------------------------------------------------------ start-up

    @property
    def port(self) -> int:
        return self.manager_args.port

    @property
    def manager(self) -> Optional[SimulatedManager]:
        return self.process.manager if self.process is not None else None

    def start(self) -> None:
        """Bind the port and start the simulated manager; raises :class:`StartupError`."""
        args = self.manager_args
        self.log.write("INFO", "main", f"Fake NNI manager starting: experiment {args.experiment_id}, "
                                       f"action {args.action}, port {args.port}, "
                                       f"time scale {self.args.time_scale:g}")
        try:
            trial = load_trial_function(self.args.trial)
        except CommandLineError as error:
            raise StartupError(str(error)) from None
        address = f"{self.args.host}:{args.port}"
        try:
            self._httpd = _HttpServer((self.args.host, args.port), _Handler)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise StartupError(f"listen EADDRINUSE: address already in use {address}") from None
            raise StartupError(f"cannot listen on {address}: {error}") from None
        self._httpd.app = self
        prefix = f"/{args.url_prefix}" if args.url_prefix else ""
        self.log.write("INFO", "RestServer", f"Listening on {address}, API at {prefix}{API_ROOT}")
        try:
            self.fake = FakeManager(trial, seed=_process_seed(self.args.seed, args.experiment_id), clock=self.clock,
                                    manifest=self.manifest,
                                    storage=self.storage, search=self.args.search,
                                    real_trials=self.args.real_trials)
            self.fake.served_at = f"http://localhost:{args.port}{prefix}"
        except SearchUnavailableError as error:
            self._close_http()
            raise StartupError(str(error)) from None
        try:
            run_mode = RunMode.Foreground if args.foreground else RunMode.Background
            process = self.fake.spawn_manager(args, run_mode)
        except Exception as error:  # noqa: BLE001 - e.g. an unreadable database
            self._close_http()
            raise StartupError(f"Datastore initialize failed: {type(error).__name__}: {error}") from None
        if process.manager is None:
            self._close_http()
            raise StartupError(process.log_tail())
        self.process = process
        if args.action == "create":
            self.storage.attach(process.manager.store, args.experiments_directory)
        if args.tuner_command_channel:
            self.log.write("WARNING", "main", f"--tuner-command-channel {args.tuner_command_channel} is "
                                              "ignored: the fake manager runs its built-in tuner")
        self.log.write("INFO", "NNIDataStore", f"Database ready: {args.experiments_directory}/"
                                               f"{args.experiment_id}/db/nni.sqlite")

    def _close_http(self) -> None:
        if self._httpd is not None:
            self._httpd.server_close()

    # ------------------------------------------------------------------ serving

    def answer(self, method: str, target: str, body: Optional[bytes],
               headers: Optional[dict[str, str]] = None) -> WebResponse:
        """Answer one HTTP request: a real trial's command channel (:mod:`fakes.local_trials`), the web
        UI's files and log directory (:mod:`fakes.webui`), else the REST API (:func:`fakes.router.handle`).
        Raises :class:`_Gone` once the simulated manager has exited."""
        assert self.fake is not None
        channel = self._trial_channel(target)
        if channel is not None:  # a real trial's command channel: answered without the manager's lock
            status, payload = channel.handle(method, target, body)
            return WebResponse(status, payload, (("Content-Type", "application/json; charset=utf-8"),))
        page = self.webui.answer(method, target, headers)
        if page is not None:
            return page
        try:
            response = self.fake.handle(self.port, method, target, body)
        except ManagerUnreachableError:
            raise _Gone() from None
        except Exception as error:  # noqa: BLE001 - a bug in the fake: answer 500, keep serving
            self.log.write("ERROR", "RestServer", f"{method} {target} failed:\n{traceback.format_exc()}")
            text = json.dumps({"error": f"{type(error).__name__}: {error}"})
            return WebResponse(500, text.encode("utf-8"), (("Content-Type", "application/json; charset=utf-8"),))
        if method.upper() == "POST" and response.status == 200 and self.manager_args.action != "view" \
                and _is_experiment_route(target, self.manager_args.url_prefix):
            self._make_checkpoint_directory()
        return WebResponse(response.status, response.body.encode("utf-8"),
                           (("Content-Type", response.content_type), *response.headers))

    def _make_checkpoint_directory(self) -> None:
        """``<id>/checkpoint/``: the real manager creates it when it starts or resumes the experiment
        (the dispatcher's ``NNI_CHECKPOINT_DIRECTORY``; NNI's built-in algorithms leave it empty)."""
        try:
            self.checkpoint_directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            self.log.write("ERROR", "NNIManager", f"cannot create {self.checkpoint_directory}: {error}")

    def _trial_channel(self, target: str) -> Optional[TrialChannelHub]:
        """The channel hub of the running experiment's real trials when ``target`` is one of its URLs."""
        prefix = f"/{self.manager_args.url_prefix}" if self.manager_args.url_prefix else ""
        if not target.startswith(f"{prefix}{CHANNEL_PATH}"):
            return None
        manager = self.manager
        service = manager.trial_service if manager is not None else None
        return service.hub if service is not None else None

    def before_answer(self) -> None:
        """Right before an answer is sent: commit the database rows queued so far, so that what the
        answer shows survives a ``kill -9`` (as with the real manager, which answers from its database)."""
        try:
            self.storage.flush_pending()
        except Exception:  # noqa: BLE001 - answer anyway; the error is in the log
            self.log.write("ERROR", "NNIDataStore", f"writing the database failed:\n{traceback.format_exc()}")

    def after_request(self) -> None:
        """After each answer: once the simulated manager has stopped (``DELETE /experiment``),
        end the process."""
        manager = self.manager
        if manager is not None and not manager.alive:
            self.request_stop("REST request")

    def request_stop(self, reason: str) -> None:
        """Ask the serve loop to shut down (from any thread; not from a signal handler, see
        :meth:`signal_stop`)."""
        if not self._stop.is_set():
            self._stop_reason = reason
            self.stopping = True
            self._stop.set()

    def signal_stop(self, name: str) -> None:
        """Ask the serve loop to shut down, from a signal handler (seen within ``SYNC_INTERVAL``)."""
        self._signal_name = name

    def serve(self) -> int:
        """Serve until stopped; the process exit code."""
        assert self._httpd is not None and self.fake is not None
        httpd = self._httpd
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="fake-manager-http", daemon=True)
        thread.start()
        next_flush = 0.0
        try:
            while not self._stop.wait(SYNC_INTERVAL):
                if self._signal_name is not None:
                    self.request_stop(self._signal_name)
                    break
                self.fake.sync()
                self.log.pump(self.manager)
                self.dispatcher_log.pump(self.manager)
                manager = self.manager
                if manager is None or not manager.alive:
                    self.request_stop("manager exited")
                    break
                now = self.clock.monotonic() / self.clock.scale
                if now >= next_flush:
                    self._flush_storage()
                    next_flush = now + FLUSH_INTERVAL
        finally:
            self.stopping = True
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=5)
        return self._finish()

    def _flush_storage(self) -> None:
        try:
            self.storage.flush()
        except Exception:  # noqa: BLE001 - keep serving; the error is in the log
            self.log.write("ERROR", "NNIDataStore", f"writing the database failed:\n{traceback.format_exc()}")

    def _finish(self) -> int:
        """Run the manager's shutdown if a signal stopped us, write what is left, close the log."""
        manager = self.manager
        self.log.pump(manager)
        self.log.write("INFO", "ShutdownManager", f"Shutting down: {self._stop_reason or 'stopped'}")
        if manager is not None and manager.alive:
            self._shutdown_manager()
        self.log.pump(manager)
        self.dispatcher_log.pump(manager)
        self._flush_storage()
        code = 1 if manager is not None and manager.status == "STOPPING" else 0
        self.log.write("INFO", "ShutdownManager", "Shutdown complete." if code == 0
                       else "Shutdown did not complete (the manifest keeps STOPPING).")
        self.log.close()
        return code

    def _shutdown_manager(self) -> None:
        """``SimulatedManager.shutdown()``, through the router's ``DELETE /experiment`` (it holds
        the fake's lock)."""
        assert self.fake is not None
        prefix = f"/{self.manager_args.url_prefix}" if self.manager_args.url_prefix else ""
        try:
            self.fake.handle(self.port, "DELETE", f"{prefix}{API_ROOT}/experiment")
        except ManagerUnreachableError:
            pass

    def close(self) -> None:
        """Release the port and the log without serving (after a failed start)."""
        self._close_http()
        self.log.close()


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _install_signal_handlers(server: FakeManagerServer) -> dict[int, Any]:
    """SIGTERM/SIGINT → :meth:`FakeManagerServer.request_stop`; the previous handlers (none when
    not on the main thread, where handlers cannot be installed)."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Optional[FrameType]) -> None:
        server.signal_stop(signal.Signals(signum).name)

    for signum in _SIGNALS:
        previous[signum] = signal.signal(signum, handler)
    return previous


def main(argv: Optional[Sequence[str]] = None, *, stdout: Optional[TextIO] = None,
         stderr: Optional[TextIO] = None, prog: str = "python -m fakes.server") -> int:
    """Run a fake manager with the NNI manager's command line ``argv`` (default ``sys.argv[1:]``).

    Returns the exit code: 0 after a clean shutdown, 1 for a bad command line, a busy port, a
    missing database on resume/view or an incomplete shutdown (messages on stderr).
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in arguments):
        build_parser(prog).print_help(out)
        return 0
    try:
        args = parse_args(arguments)
    except CommandLineError as error:
        print(f"fakes.server: {error}", file=err)
        return 1
    try:
        server = FakeManagerServer(args, stdout=out)
    except OSError as error:
        print(f"fakes.server: cannot create the log directory or file: {error}", file=err)
        return 1
    previous = _install_signal_handlers(server)
    try:
        try:
            server.start()
        except StartupError as error:
            server.log.write("ERROR", "main", f"Failed to start: {error}")
            server.close()
            print(f"fakes.server: failed to start: {error}", file=err)
            return 1
        return server.serve()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
