"""The fake manager server's HTTP layer under bad requests and load (issue 8, items 1 and 6).

What NNI 3.0's manager (Node 18.15, Express) does, checked with raw sockets (2026-12):

* a method Node's parser does not know (``FOO``, lower-case ``get``), a TLS ClientHello, a bad or
  negative ``Content-Length``, two of them, a bad chunk size, a header line without a colon: at once
  ``HTTP/1.1 400 Bad Request`` + ``Connection: close``, no body, connection closed;
* request line and headers over 16 KB: the same with ``431 Request Header Fields Too Large``;
* a method Node knows without a route (``PATCH``, ``TRACE``, ``PROPFIND``): Express's 404 ``Not Found``
  (a JSON content type and the CORS headers under the API, ``text/html`` elsewhere); ``CONNECT``:
  the connection is closed without an answer;
* a client that sends nothing: 408 after 60-90 s; a body shorter than its ``Content-Length``: no
  answer for at least 100 s (Node's request timeout is 300 s). The fake answers 408 after
  ``READ_TIMEOUT`` (5 s) in both cases (README, fidelity table);
* JSON nested 20,000 deep parses (V8); the fake refuses nesting over 100 levels with a 400 (README);
* ``GET /path`` without a version (CRLF): answered in HTTP/1.1; a request line ended by a bare LF: 400;
* a ``Content-Length`` of 60 MB with the body not sent: no answer (the fake: 413 at once, README).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any, Iterator

import pytest
import requests

from fakes.server import READ_TIMEOUT

from .raw_http import RawAnswer, exchange, request_bytes
from .test_fake_server import API, ServerProcess, wait_for

NODE_400 = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"
NODE_408 = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n"
NODE_431 = b"HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
TLS_CLIENT_HELLO = b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32) + b"\x00\x00\x02\x00\x2f\x01\x00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One fake server with a RUNNING experiment whose two trials never end."""
    process = ServerProcess(tmp_path_factory.mktemp("http"), "fakehttp", trial="test_fake_server_helpers:endless_trial")
    try:
        process.launch()
        process.wait_status("RUNNING")
        wait_for(lambda: [job["status"] for job in process.get("/trial-jobs")] == ["RUNNING", "RUNNING"],
                 what="two running trials")
        yield process
    finally:
        process.kill()


def still_state(server: ServerProcess) -> dict[str, Any]:
    """What the server shows that no time passing changes: the profile but its ``execDuration`` and
    ``revision`` (stored every 10 virtual seconds), the trials and the metrics."""
    profile = server.get("/experiment")
    profile.pop("execDuration")
    profile.pop("revision")
    return {"profile": profile, "trials": server.get("/trial-jobs"), "metrics": server.get("/metric-data")}


def put_request(update_type: str, raw_params: str) -> bytes:
    body = '{"params": ' + raw_params + "}"
    return request_bytes("PUT", f"{API}/experiment?update_type={update_type}", body.encode(),
                         [("Content-Type", "application/json")])


CHECK = f"{API}/check-status"
NODE_REFUSED = {
    "unknown method": request_bytes("FOO", CHECK),
    "unknown method, web UI path": request_bytes("FOO", "/oview"),
    "lower-case method": request_bytes("get", CHECK),
    "TLS ClientHello": TLS_CLIENT_HELLO,
    "garbage line": b"HELLO\r\n\r\n",
    "negative Content-Length": request_bytes("PUT", f"{API}/experiment", b"{}", [("Content-Length", "-1")]),
    "non-numeric Content-Length": request_bytes("PUT", f"{API}/experiment", b"{}", [("Content-Length", "abc")]),
    "two Content-Lengths": request_bytes("GET", CHECK, b"ab", [("Content-Length", "1"), ("Content-Length", "2")]),
    "Content-Length and chunked": request_bytes("PUT", f"{API}/experiment", b"2\r\n{}\r\n0\r\n\r\n",
                                                [("Transfer-Encoding", "chunked"), ("Content-Length", "12")]),
    "bad chunk size": request_bytes("PUT", f"{API}/experiment", b"zz\r\n{}\r\n0\r\n\r\n",
                                    [("Transfer-Encoding", "chunked")]),
    "header line without a colon": b"GET " + CHECK.encode() + b" HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
}


@pytest.mark.parametrize("name", list(NODE_REFUSED))
def test_what_node_refuses_gets_its_400_at_once(server, name):
    answer = exchange(server.port, NODE_REFUSED[name])
    assert answer.data == NODE_400 and answer.closed, answer.data
    assert answer.seconds < 1
    assert server.proc.poll() is None


@pytest.mark.parametrize("request_", [
    request_bytes("GET", CHECK, headers=[("X-Big", "a" * 17000)]),
    request_bytes("GET", f"{API}/trial-jobs/{'a' * 17000}"),
], ids=["big header", "long target"])
def test_headers_over_16_kb_get_431(server, request_):
    answer = exchange(server.port, request_)
    assert answer.data == NODE_431 and answer.closed


@pytest.mark.parametrize("method", ["PATCH", "TRACE", "PROPFIND", "MKCOL"])
def test_known_methods_without_a_route_get_express_404(server, method):
    api = exchange(server.port, request_bytes(method, CHECK))
    assert (api.status, api.body, api.header("Content-Type")) == (404, b"Not Found", "application/json; charset=utf-8")
    assert api.header("Access-Control-Allow-Methods") == "PUT,POST,GET,DELETE,OPTIONS"
    page = exchange(server.port, request_bytes(method, "/oview"))
    assert (page.status, page.body, page.header("Content-Type")) == (404, b"Not Found", "text/html; charset=utf-8")


def test_a_body_over_50_mb_is_refused_unread(server):
    before = still_state(server)
    request_ = request_bytes("PUT", f"{API}/experiment?update_type=MAX_TRIAL_NUM", b'{"params": {}}',
                             [("Content-Type", "application/json"), ("Content-Length", str(60 * 1024 * 1024))])
    answer = exchange(server.port, request_)
    assert answer.status == 413 and answer.closed and answer.seconds < 1
    assert b"request entity too large" in answer.body
    assert still_state(server) == before


def test_a_request_line_without_a_version_is_answered_in_http_1_1(server):
    """Node answers it (and closes); a line ended by a bare LF is a parse error."""
    answer = exchange(server.port, f"GET {CHECK}\r\n\r\n".encode())
    assert answer.status == 200 and answer.data.startswith(b"HTTP/1.1 200 OK\r\n") and answer.closed
    assert json.loads(answer.body)["status"] == "RUNNING"
    assert exchange(server.port, f"GET {API}/trial-jobs/\n HTTP/1.1\r\nHost: x\r\n\r\n".encode()).data == NODE_400


def test_connect_is_dropped_without_an_answer(server):
    answer = exchange(server.port, b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
    assert answer.data == b"" and answer.closed and answer.seconds < 1


def test_silent_clients_get_408_and_block_nobody(server):
    """Each of these used to hold a handler thread for ever."""
    silent = {
        "nothing": b"",
        "half a request line": b"GET /api/v1/nni/check",
        "headers without their end": b"GET " + CHECK.encode() + b" HTTP/1.1\r\nHost: x\r\n",
        "body shorter than Content-Length": request_bytes("PUT", f"{API}/experiment?update_type=MAX_TRIAL_NUM", b"{}",
                                                          [("Content-Length", "100")]),
        "chunked body without its end": request_bytes("PUT", f"{API}/experiment", b"2\r\n{}\r\n",
                                                      [("Transfer-Encoding", "chunked")]),
        "TLS ClientHello cut short": TLS_CLIENT_HELLO[:1],
    }
    answers: dict[str, RawAnswer] = {}

    def wait(name: str) -> None:
        answers[name] = exchange(server.port, silent[name], timeout=READ_TIMEOUT + 3)

    threads = [threading.Thread(target=wait, args=(name,)) for name in silent]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    worst = 0.0
    while any(thread.is_alive() for thread in threads):
        started = time.monotonic()
        assert requests.get(server.url("/check-status"), timeout=2).json()["status"] == "RUNNING"
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.1)
    assert worst < 1
    expected = {name: NODE_400 if name.startswith("TLS") else NODE_408 for name in silent}
    assert {name: answer.data for name, answer in answers.items()} == expected
    assert all(answer.closed and READ_TIMEOUT - 0.5 < answer.seconds < READ_TIMEOUT + 2
               for name, answer in answers.items() if not name.startswith("TLS")), answers
    assert answers["TLS ClientHello cut short"].seconds < 1
    assert server.proc.poll() is None


def test_deeply_nested_json_is_a_400(server):
    before = still_state(server)
    for depth in (150, 5000, 100_000):
        body = ("[" * depth + "]" * depth).encode()
        answer = exchange(server.port, request_bytes("POST", f"{API}/trial-jobs", body,
                                                     [("Content-Type", "application/json")]))
        assert answer.status == 400, answer.data[:300]
        assert b"nested deeper than 100 levels" in answer.body
        nested_params = '{"x": %s}' % ("[" * depth + "]" * depth)
        assert exchange(server.port, put_request("MAX_TRIAL_NUM", nested_params)).status == 400
    assert still_state(server) == before
    assert server.proc.poll() is None


@pytest.mark.parametrize("raw_params", ['{"trialConcurrency": 1e400}', '{"trialConcurrency": "1e400"}',
                                        '{"trialConcurrency": Infinity}', '{"trialConcurrency": NaN}'])
def test_an_infinite_concurrency_over_http_is_refused_and_the_server_lives(server, raw_params):
    before = still_state(server)
    answer = exchange(server.port, put_request("TRIAL_CONCURRENCY", raw_params))
    assert answer.status == 400 and b"error" in answer.body
    time.sleep(0.2)  # 20 virtual seconds: 40 ticks, the first used to raise OverflowError
    assert server.proc.poll() is None
    assert server.status() == "RUNNING"
    assert still_state(server) == before


def test_an_infinite_duration_over_http_means_no_limit(server):
    profile = server.get("/experiment")
    try:
        for value in ('"1e400s"', '"Infinityh"', "1e400"):
            params = '{"maxExperimentDuration": ' + value + "}"
            answer = exchange(server.port, put_request("MAX_EXEC_DURATION", params))
            assert answer.status == 200, answer.data
            time.sleep(0.2)
            assert server.proc.poll() is None and server.status() == "RUNNING"
    finally:
        restore = json.dumps(profile).encode()
        requests.put(server.url("/experiment?update_type=MAX_EXEC_DURATION"), data=restore, timeout=5,
                     headers={"Content-Type": "application/json"})


def test_eight_clients_never_stall(server):
    """8 clients, a new connection per request, for 3 s: no request waits 1 s (the listen backlog of 5
    made connections wait for a SYN retransmission, 1 s)."""
    profile = json.dumps(server.get("/experiment")).encode()
    targets = [("GET", "/check-status", None), ("GET", "/trial-jobs", None), ("GET", "/experiment", None),
               ("GET", "/metric-data", None), ("PUT", "/experiment?update_type=MAX_TRIAL_NUM", profile)]
    latencies: list[float] = []
    statuses: Counter[Any] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 3.0

    def client(index: int) -> None:
        count = index
        while time.monotonic() < stop_at:
            method, path, body = targets[count % len(targets)]
            count += 1
            request = request_bytes(method, API + path, body, [("Content-Type", "application/json")])
            answer = exchange(server.port, request)
            with lock:
                latencies.append(answer.seconds)
                statuses[answer.status] += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"\nload: {len(latencies)} requests from 8 clients in 3 s, statuses {dict(statuses)}, "
          f"worst latency {max(latencies) * 1000:.0f} ms")
    assert statuses == Counter({200: len(latencies)})
    assert len(latencies) > 100
    assert max(latencies) < 1.0


def test_clients_that_hang_up_before_their_answer_print_nothing(server):
    """A client gone before its answer (a reset, as a timed-out poll leaves) is no error for Node; the
    fake used to print a ``BrokenPipeError`` traceback on stderr for each."""
    import socket
    import struct

    before = server.stderr()
    big = f"GET {API}/trial-jobs HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 50  # 50 answers to write
    for _ in range(30):
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.sendall(big)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset
    assert server.get("/check-status")["status"] == "RUNNING"
    new = server.stderr()[len(before):]
    assert "Traceback" not in new, new[-2000:]
