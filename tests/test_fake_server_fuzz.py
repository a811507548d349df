"""A bounded, seeded fuzz of the fake manager server's HTTP surface (issue 8).

One ``python -m fakes.server`` with a RUNNING experiment (two trials that never end) gets
:data:`REQUESTS` random requests over loopback, each on its own connection: random methods (known,
unknown, lower case), every route of :mod:`fakes.router` and unknown paths, random query strings,
trial ids real and bad (``#``, ``.``, ``%2F``, a newline, ...), random, invalid, huge, deeply nested JSON
with ``NaN`` / ``Infinity`` / ``1e400`` numbers, and bad framing (``Content-Length`` ``-1``, ``abc``,
twice, chunked bodies good and bad, header lines without a colon, headers over 16 KB).

Checked for every request: an answer (or Node's silent close, for ``CONNECT``) within 2 s, the
process alive, no 5xx but where NNI 3.0's manager answers 5xx too (:data:`REAL_5XX`: its
``handleError`` default of 500 for ``reach maxTrialNum``, a missing trial file, an unknown tensorboard
task), and no state change from a rejected (non-2xx) request: the profile (but ``execDuration`` and
``revision``, which time moves), the trials, the metrics, the imported data and the status are the same
before and after. After an accepted request that can change state, the test waits until the state
holds still (two equal snapshots) and takes it as the new reference. At the end the manager log holds
no traceback of a request the fake failed to answer.

Left out (each has its own test): ``DELETE /experiment`` (ends the server), bodies shorter than their
``Content-Length`` (answered 408 after ``READ_TIMEOUT``, ``tests/test_fake_server_http.py``), a large
finite ``trialConcurrency`` (issue 8 item 2), and limits that put the experiment in ERROR at its next
tick (a duration without a unit or of the wrong type: ``tests/test_fake_update_limits.py``).
"""

from __future__ import annotations

import http.client
import json
import random
import re
import time
from collections import Counter
from typing import Any, Callable, Iterator, Optional

import pytest

from .raw_http import RawAnswer, exchange, request_bytes
from .test_fake_server import API, ServerProcess, wait_for

SEED = 8_2026
REQUESTS = 4000
#: Real seconds the fuzz may take at most (it stops earlier if the machine is slow).
TIME_BUDGET = 50.0
MAX_LATENCY = 2.0
#: (method, path under the API) where the real manager answers 500 too.
REAL_5XX = [
    ("POST", re.compile(r"/trial-jobs/?$", re.I)),  # reach maxTrialNum
    ("GET", re.compile(r"/trial-file/[^/]+/[^/]+/?$", re.I)),  # ENOENT
    ("*", re.compile(r"/tensorboard/[^/]+/?$", re.I)),  # Tensorboard task not found
]
MUTATING = {"PUT", "POST", "DELETE"}

SPECIAL_NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e-400", "1" + "0" * 400, "-0", "0.5"]
BAD_IDS = ["#", ".", "..", "%2F", "%2e%2e", "\n", "%0A", "%00", "a b", "%", "?x", "#x", "ü", "x" * 300, "",
           "kJqzO#x", "%252F", "\\", "*"]
FILES = ["trial.log", "stdout", "stderr", "model.pt", "..%2F..%2Fdb%2Fnni.sqlite", "%00", ""]
UNKNOWN_PATHS = ["/nope", "/experiment/nope", "/trial-jobs/a/b/c", "", "/", "/EXPERIMENT", "/check-status/",
                 "/metric-data-range/1", "/trial-file/x", "/version/1", "/experiment-metadata/x"]
OUTSIDE_API = ["/", "/oview", "/detail", "/logs/", "/logs/nnimanager.log", "/logs/../db/nni.sqlite",
               "/static/js/x.js", "/netron/x", "/env/local-env/abc", "/api/v1", "/API/V1/NNI/check-status",
               "/%2e%2e/%2e%2e/etc/passwd", "//api/v1/nni/check-status"]


class Fuzzer:
    """Random requests against one server, from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random, server: ServerProcess) -> None:
        self.rng = rng
        self.server = server
        self.trial_ids: list[str] = []
        self.profile: dict[str, Any] = {}

    # -- pieces
    def trial_id(self) -> str:
        if self.trial_ids and self.rng.random() < 0.4:
            return self.rng.choice(self.trial_ids)
        if self.rng.random() < 0.5:
            return self.rng.choice(BAD_IDS)
        return "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                       for _ in range(self.rng.randint(1, 8)))

    def number_text(self) -> str:
        return str(self.rng.choice([self.rng.choice(SPECIAL_NUMBERS), self.rng.randint(-10, 10),
                                    self.rng.uniform(-1e6, 1e6), 2 ** 53 + 1]))

    def json_text(self, depth: int = 0) -> str:
        """Random JSON-ish text: mostly JSON, sometimes JavaScript-only numbers (NaN, Infinity)."""
        kind = self.rng.random()
        if depth > 3 or kind < 0.3:
            number = self.number_text()
            text = '"' + self.rng.choice(["", "abc", "1e400", "Infinity", "\\u0000", "ü", "10s"]) + '"'
            return self.rng.choice([number, text, "true", "false", "null"])
        if kind < 0.65:
            items = [self.json_text(depth + 1) for _ in range(self.rng.randint(0, 4))]
            return "[" + ", ".join(items) + "]"
        keys = ["params", "x", "parameter", "value", "trialConcurrency", "id", "", "__proto__", "constructor"]
        items = [f'"{self.rng.choice(keys)}": {self.json_text(depth + 1)}' for _ in range(self.rng.randint(0, 4))]
        return "{" + ", ".join(items) + "}"

    def param_value(self, key: str) -> str:
        """A value for one ``params`` key: specials, wrong types, sane values."""
        common = ["null", "true", "[]", "{}", '"abc"', '""', "NaN", "Infinity", "-Infinity", "1e400", "-1e400",
                  '"1e400"', '"Infinity"', '"-Infinity"', "1" + "0" * 400]
        by_key = {
            # finite values stay small: a large finite concurrency is item 2 of issue 8
            "trialConcurrency": ["-1", "0", "1", "2", "3", "2.5", '"3"', '" 4 "', '"0x3"', "1e-400", "-0"],
            "maxTrialNumber": ["-1", "0", "2", "4", "100", "1e300", '"5"', '"0x10"', "2.5"],
            # limits reached at once, never (within the test), or infinite/NaN; no bad units (ERROR)
            "maxExperimentDuration": ['"1e400s"', '"Infinityh"', '"1e305d"', '"-5s"', '"0s"', '"1e-400s"', "0",
                                      '"5000h"', '"0x10000h"', '" 9999d"', '"NaNm"', '"infinitys"'],
            "searchSpace": ['{"x": {"_type": "uniform", "_value": [0, 1]}}', '{"x": {"_type": "choice", "_value": []}}',
                            '{"x": {"_type": "nope"}}', "[]", "{}"],
        }
        values = by_key.get(key, [])
        if key in ("maxExperimentDuration", "searchSpace"):
            common = [v for v in common if v not in ("true", "[]", "{}", '"abc"', '""', '"1e400"', '"Infinity"',
                                                     '"-Infinity"')]  # would fail the next tick (ERROR)
        if key == "searchSpace":
            common = []
        return self.rng.choice(values + common)

    def profile_body(self) -> str:
        """The current profile with one or two params replaced (what NNI's client sends)."""
        params = dict(self.profile.get("params", {}))
        for key in self.rng.sample(["trialConcurrency", "maxTrialNumber", "maxExperimentDuration", "searchSpace"],
                                   self.rng.randint(1, 2)):
            params[key] = f"__RAW_{key}__"
        text = json.dumps({**self.profile, "params": params})
        for key in params:
            text = text.replace(f'"__RAW_{key}__"', self.param_value(key))
        return text

    def body(self, method: str, path: str) -> Optional[bytes]:
        roll = self.rng.random()
        if method in ("GET", "HEAD", "OPTIONS", "DELETE") and roll < 0.8:
            return None
        if path.startswith("/experiment") and method == "PUT" and roll < 0.6:
            return self.profile_body().encode()
        if roll < 0.05:
            depth = self.rng.choice([99, 100, 101, 150, 1000, 5000, 50000])
            return ("[" * depth + "]" * depth).encode()
        if roll < 0.08:
            return ("[" + ",".join(self.number_text() for _ in range(60000)) + "]").encode()  # ~0.5-1 MB
        if roll < 0.12:
            return bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 200)))
        if roll < 0.15:
            return self.rng.choice([b"", b"   ", b"\xff\xfe{}", b'{"a": "\xc3\x28"}', b"{", b"}", b"5", b'"x"'])
        if method == "POST" and path.startswith("/experiment/import-data") and roll < 0.4:
            return json.dumps([{"parameter": {"x": self.rng.random()}, "value": self.rng.random()}]).encode()
        return self.json_text().encode()

    def target(self) -> str:
        roll = self.rng.random()
        if roll < 0.08:
            path = self.rng.choice(OUTSIDE_API)
            return path + self.query()
        if roll < 0.16:
            path = self.rng.choice(UNKNOWN_PATHS)
        else:
            path = self.rng.choice([
                "/version", "/check-status", "/experiment", "/experiment-metadata", "/experiments-info",
                "/experiment/import-data", "/experiment/imported-data", "/experiment/cluster-metadata",
                "/job-statistics", "/trial-jobs", "/trial-jobs/{id}", "/trial-jobs/{id}", "/metric-data",
                "/metric-data/{id}", "/metric-data-range/{n}/{n}", "/metric-data-latest", "/trial-file/{id}/{file}",
                "/export-data", "/tensorboard-tasks", "/tensorboard", "/tensorboard/{id}",
            ])
            while "{id}" in path:
                path = path.replace("{id}", self.trial_id(), 1)
            while "{n}" in path:
                path = path.replace("{n}", self.rng.choice(["0", "1", "-1", "1e400", "NaN", "abc", "%20", "99"]), 1)
            path = path.replace("{file}", self.rng.choice(FILES))
        if self.rng.random() < 0.1:
            path = path.upper() if self.rng.random() < 0.5 else path + "/"
        return API + path + self.query()

    def query(self) -> str:
        roll = self.rng.random()
        if roll < 0.4:
            return ""
        update_types = ["TRIAL_CONCURRENCY", "MAX_EXEC_DURATION", "MAX_TRIAL_NUM", "SEARCH_SPACE", "BOGUS", "",
                        "trial_concurrency", "MAX_TRIAL_NUM%00"]
        parts = [f"update_type={self.rng.choice(update_types)}"] if roll < 0.85 else []
        extras = ["status=RUNNING", "status=nope", "type=FINAL", "type=PERIODICAL", "%ZZ", "a=1&a=2", "=", "&&",
                  "update_type=MAX_TRIAL_NUM&update_type=TRIAL_CONCURRENCY", "x=%0A", "x=" + "y" * 3000]
        parts += self.rng.sample(extras, self.rng.randint(0, 2))
        return "?" + "&".join(parts)

    def method(self) -> str:
        return self.rng.choices(
            ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "PATCH", "TRACE", "FOO", "get", "PROPFIND", "CONNECT"],
            weights=[30, 22, 15, 8, 5, 5, 3, 2, 3, 2, 2, 1])[0]

    def request(self) -> tuple[str, str, bytes]:
        """(method, target, the request's bytes)."""
        method = self.method()
        target = self.target()
        if method == "DELETE" and re.match(rf"{API}/experiment/?(\?|$)", target, re.I):
            target = API + "/experiment/nope"  # DELETE /experiment ends the server: left out
        body = self.body(method, target[len(API):] if target.startswith(API) else target)
        headers: list[tuple[str, str]] = []
        roll = self.rng.random()
        if roll < 0.7:
            headers.append(("Content-Type", self.rng.choice(["application/json", "application/json; charset=utf-8",
                                                             "text/plain", "application/x-www-form-urlencoded"])))
        framing = self.rng.random()
        if framing < 0.04:
            headers.append(("Content-Length", self.rng.choice(["-1", "abc", "1.5", "0x10", "", "1 2"])))
        elif framing < 0.06 and body:
            headers += [("Content-Length", str(len(body))), ("Content-Length", str(len(body) + 1))]
        elif framing < 0.10 and body is not None:
            headers.append(("Transfer-Encoding", "chunked"))
            body = self.chunked(body)
        elif framing < 0.12:
            headers.append(("X-Big", "h" * self.rng.choice([100, 16000, 17000, 70000])))
        elif framing < 0.14:
            headers.append(("X-Bin", "\udcff\udcfe"))  # non-ASCII bytes (surrogateescape)
        elif framing < 0.15 and body is not None:
            headers.append(("Content-Length", str(max(len(body) - 1, 0))))  # the rest is garbage on the line
        raw = request_bytes(method, target, body, headers)
        if framing > 0.985:  # a header line without a colon
            raw = raw.replace(b"Connection: close\r\n", b"Connection: close\r\nBad Header Line\r\n", 1)
        return method, target, raw

    def chunked(self, body: bytes) -> bytes:
        if self.rng.random() < 0.3:
            return self.rng.choice([b"zz\r\n{}\r\n0\r\n\r\n", b"2\r\n{}0\r\n\r\n", b"-1\r\n\r\n",
                                    b"2;x=y\r\n{}\r\n0\r\n\r\n"])
        pieces = [body[i:i + 7] for i in range(0, len(body), 7)]
        return b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"


class StateReader:
    """What a rejected request could have changed, read over one kept-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)

    def get(self, path: str) -> Any:
        self.connection.request("GET", API + path)
        response = self.connection.getresponse()
        body = response.read()
        assert response.status == 200, (path, response.status, body[:200])
        return json.loads(body) if body else None

    def snapshot(self) -> dict[str, Any]:
        profile = self.get("/experiment")
        profile.pop("execDuration", None)
        profile.pop("revision", None)
        return {"status": self.get("/check-status"), "profile": profile, "trials": self.get("/trial-jobs"),
                "metrics": self.get("/metric-data"), "imported": self.get("/experiment/imported-data")}

    def settled(self) -> dict[str, Any]:
        """A snapshot once two taken 50 ms apart agree (what an accepted request started has happened)."""
        previous = self.snapshot()
        deadline = time.monotonic() + 3
        while True:
            time.sleep(0.05)
            current = self.snapshot()
            if current == previous or time.monotonic() > deadline:
                return current
            previous = current

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("fuzz"), "fakefuzz", trial="test_fake_server_helpers:endless_trial")
    try:
        process.launch()
        wait_for(lambda: [job["status"] for job in process.get("/trial-jobs")] == ["RUNNING", "RUNNING"],
                 what="two running trials")
        yield process
    finally:
        process.kill()


def allowed_5xx(method: str, target: str) -> bool:
    path = target[len(API):].split("?", 1)[0] if target.startswith(API) else None
    method = "GET" if method == "HEAD" else method  # HEAD runs the GET route
    return path is not None and any(m in ("*", method) and pattern.match(path) for m, pattern in REAL_5XX)


def run_fuzz(server: ServerProcess, requests: int, budget: float, seed: int,
             check: Callable[[str], None]) -> dict[str, Any]:
    rng = random.Random(seed)
    fuzzer = Fuzzer(rng, server)
    reader = StateReader(server.port)
    baseline = reader.settled()
    statuses: Counter[Any] = Counter()
    worst = (0.0, "")
    compared = 0
    sent = 0
    started = time.monotonic()
    try:
        while sent < requests and time.monotonic() - started < budget:
            fuzzer.trial_ids = [job["trialJobId"] for job in baseline["trials"]]
            fuzzer.profile = baseline["profile"]
            method, target, raw = fuzzer.request()
            answer: RawAnswer = exchange(server.port, raw, timeout=MAX_LATENCY)
            sent += 1
            status = answer.status
            statuses[status] += 1
            what = f"{method} {target[:120]!r} -> {status} {answer.body[:160]!r}"
            if answer.seconds > worst[0]:
                worst = (answer.seconds, what)
            if not answer.closed:
                check(f"no answer within {MAX_LATENCY} s: {what}")
            if server.proc.poll() is not None:
                check(f"the server exited ({server.proc.returncode}) after: {what}")
                break
            if status is None and method != "CONNECT":
                check(f"no status line: {what} {answer.data[:200]!r}")
            if status is not None and status >= 500 and not allowed_5xx(method, target):
                check(f"5xx where the real manager answers no 5xx: {what}")
            if status is not None and 200 <= status < 300:
                if method in MUTATING:
                    baseline = reader.settled()
                continue
            compared += 1
            now = reader.snapshot()
            if now != baseline:
                check(f"a rejected request changed the state: {what}\n  before {baseline}\n  after {now}")
                baseline = reader.settled()
    finally:
        reader.close()
    return {"sent": sent, "seconds": time.monotonic() - started, "statuses": statuses, "worst": worst,
            "compared": compared}


def test_fuzz_the_http_surface(server):
    failures: list[str] = []
    figures = run_fuzz(server, REQUESTS, TIME_BUDGET, SEED, failures.append)
    log = (server.root / "log" / "nnimanager.log").read_text()
    if "Traceback" in log:
        failures.append("the manager log holds a traceback:\n" + log[log.index("Traceback") - 300:][:3000])
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(figures["statuses"].items(), key=lambda kv: str(kv[0])))
    print(f"\nfuzz (seed {SEED}): {figures['sent']} requests in {figures['seconds']:.1f} s; statuses {{{statuses}}}; "
          f"{figures['compared']} rejected requests checked for state changes; {len(failures)} failures; "
          f"worst latency {figures['worst'][0] * 1000:.0f} ms ({figures['worst'][1][:100]})")
    assert not failures, "\n".join(failures[:15])
    assert figures["sent"] >= 1000, figures  # bounded by TIME_BUDGET on a slow machine, but not by much
    assert server.proc.poll() is None
