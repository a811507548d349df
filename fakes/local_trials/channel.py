"""The manager's end of NNI 3.0's HTTP trial command channel.

A trial started by the local training service finds ``NNI_TRIAL_COMMAND_CHANNEL`` in its
environment, ``http://localhost:<port>/env/local-env/<trial id>``, and talks to the manager through
that one URL: ``PUT`` sends a command (``{"type": "request_parameter"}`` or ``{"type": "metric",
"metric": "<json>"}``), ``GET`` waits up to a second for the next command for the trial (``200``
with the command, ``408`` when none came, ``410`` once the channel is closed).

:class:`TrialChannelHub` keeps one queue per trial and hands incoming commands to a callback, with
the real (monotonic) time they arrived; :class:`TrialChannelServer` serves it on a loopback port for
a fake that has no HTTP server of its own (the in-memory fake).
"""

from __future__ import annotations

import json
import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic as _real_monotonic  # taken before any time patch (fakes.time_patch)
from typing import Any, Callable, Deque, Dict, Optional, Tuple
from urllib.parse import quote

__all__ = ["TrialChannelHub", "TrialChannelServer", "CHANNEL_PATH", "ENVIRONMENT_ID"]

#: The local training service's one environment.
ENVIRONMENT_ID = "local-env"
#: Where a trial's channel lives on the manager's port (the trial id follows).
CHANNEL_PATH = f"/env/{ENVIRONMENT_ID}/"
#: How long a ``GET`` waits for a command before answering 408 (the manager's value).
POLL_TIMEOUT = 1.0

_CHANNEL_TARGET = re.compile(r"^/env/([^/?]+)/([^/?]+)/?$")

#: ``on_receive(trial_id, command, real_monotonic_time)``
ReceiveCallback = Callable[[str, Dict[str, Any], float], None]


class TrialChannelHub:
    """Per-trial command queues of the HTTP channel; thread-safe."""

    def __init__(self, on_receive: ReceiveCallback, poll_timeout: float = POLL_TIMEOUT) -> None:
        self._on_receive = on_receive
        self._poll_timeout = poll_timeout
        self._queues: Dict[str, Deque[Dict[str, Any]]] = defaultdict(deque)
        self._condition = threading.Condition()
        self._serving = True

    def send(self, trial_id: str, command: Dict[str, Any]) -> None:
        """Queue ``command`` for the trial's next ``GET``."""
        with self._condition:
            self._queues[trial_id].append(command)
            self._condition.notify_all()

    def close(self) -> None:
        """Stop serving: waiting and later ``GET``s answer 410, ``PUT``s 410."""
        with self._condition:
            self._serving = False
            self._queues.clear()
            self._condition.notify_all()

    def handle(self, method: str, target: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        """Answer one HTTP request to ``target`` (``/env/<env>/<trial>``): (status, JSON body)."""
        match = _CHANNEL_TARGET.match(target.split("?", 1)[0])
        if match is None:
            return 404, b""
        trial_id = match.group(2)
        if method == "GET":
            return self._get(trial_id)
        if method == "PUT":
            return self._put(trial_id, body)
        return 404, b""

    def _get(self, trial_id: str) -> Tuple[int, bytes]:
        deadline = _real_monotonic() + self._poll_timeout
        with self._condition:
            while True:
                if not self._serving:
                    return 410, b""
                queue = self._queues.get(trial_id)
                if queue:
                    return 200, json.dumps(queue.popleft()).encode()
                remaining = deadline - _real_monotonic()
                if remaining <= 0:
                    return 408, b""
                self._condition.wait(remaining)

    def _put(self, trial_id: str, body: Optional[bytes]) -> Tuple[int, bytes]:
        with self._condition:
            if not self._serving:
                return 410, b""
        try:
            command = json.loads(body or b"null")
        except ValueError:
            return 400, b""
        if not isinstance(command, dict):
            return 400, b""
        self._on_receive(trial_id, command, _real_monotonic())
        return 200, b""


class TrialChannelServer:
    """Serves a :class:`TrialChannelHub` on ``127.0.0.1`` (a free port), in daemon threads."""

    def __init__(self, hub: TrialChannelHub) -> None:
        self.hub = hub
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(hub))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="nni-exp-trial-channel", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, trial_id: str) -> str:
        """The ``NNI_TRIAL_COMMAND_CHANNEL`` of a trial."""
        return f"http://localhost:{self.port}{CHANNEL_PATH}{quote(trial_id, safe='')}"

    def close(self) -> None:
        self.hub.close()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_class(hub: TrialChannelHub) -> type:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            status, payload = hub.handle(method, self.path, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self._answer("GET")

        def do_PUT(self) -> None:  # noqa: N802 - http.server's name
            self._answer("PUT")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass

    return Handler
