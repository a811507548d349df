"""NNI's web UI on the fake manager server (:mod:`fakes.webui`) and the manager's HTTP details that go
with it: OPTIONS, HEAD and the CORS headers of the REST API (:mod:`fakes.router`).

Every expected value was observed on NNI 3.0's manager (``nni_exp.real``): static files and the log
directory for GET and HEAD with Express's content types and cache headers, ``index.html`` with 200 for
every other GET path (there is no 404 for a GET, not even for a missing ``/static/js/x.js``), 301 from
a directory to its path with ``/``, 404 ``Not Found`` (``text/html``) for other methods, OPTIONS 200
``Allow: GET,HEAD`` under ``/logs`` only; under ``/api/v1/nni`` two ``Access-Control-Allow-*`` headers
on every answer, OPTIONS listing the matching routes' methods, HEAD answering as GET.
"""

from __future__ import annotations

import email.utils
import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

import fakes.webui as webui
from fakes import FakeManager
from fakes.cli_args import parse_args
from fakes.router import CORS_HEADERS
from fakes.server import FakeManagerServer
from fakes.webui import WebUI, content_type_of, installed_static_directory
from nni_exp import Experiment
from nni_exp.backend import ManagerArgs
from nni_exp.testing.backends import free_port

from .conftest import make_config

API = "/api/v1/nni"
INDEX = b"<!doctype html><title>Neural Network Intelligence</title>"
HTML_UTF8 = "text/html; charset=UTF-8"
NOT_FOUND_TYPE = "text/html; charset=utf-8"
CORS = dict(CORS_HEADERS)
#: As the real manager sends them (Express's ``send``), per file of the web UI.
CONTENT_TYPES = {
    "index.html": "text/html; charset=UTF-8",
    "static/js/main.js": "application/javascript; charset=UTF-8",
    "static/js/main.js.map": "application/json; charset=UTF-8",
    "static/js/main.js.LICENSE.txt": "text/plain; charset=UTF-8",
    "static/css/main.css": "text/css; charset=UTF-8",
    "manifest.json": "application/json; charset=UTF-8",
    "icon.png": "image/png",
    "loading.gif": "image/gif",
    "favicon.ico": "image/x-icon",
    "logo.svg": "image/svg+xml",
    "static/media/codicon.ttf": "font/ttf",
    "static/media/blob.bin": "application/octet-stream",
    "noextension": "application/octet-stream",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``<tmp>/static`` (a small web UI), ``<tmp>/exp/log`` (a log directory) and secrets around them."""
    static = tmp_path / "static"
    for name in CONTENT_TYPES:
        path = static / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(INDEX if name == "index.html" else f"content of {name}".encode())
    (static / "icons").mkdir()
    (static / ".hidden").write_text("hidden")
    log = tmp_path / "exp" / "log"
    log.mkdir(parents=True)
    (log / "nnimanager.log").write_text("[2024-01-01 00:00:00] INFO (main) Start NNI manager\n")
    (log / "dispatcher.log").write_text("[2024-01-01 00:00:01] INFO (nni/MainThread) Dispatcher started\n")
    (tmp_path / "secret.txt").write_text("SECRET")
    (tmp_path / "exp" / "secret.txt").write_text("SECRET")
    (static / "escape").symlink_to(tmp_path, target_is_directory=True)
    return tmp_path


def ui(site: Path, prefix: str = "") -> WebUI:
    return WebUI(site / "exp" / "log", prefix or None, static_directory=site / "static")


# ---------------------------------------------------------------------------- static files


def test_static_files_have_the_managers_content_types(site: Path) -> None:
    web = ui(site)
    for name, expected in CONTENT_TYPES.items():
        answer = web.answer("GET", "/" + name)
        assert answer is not None and answer.status == 200, name
        assert answer.content_type == expected, name
        assert answer.body == (site / "static" / name).read_bytes()
        assert answer.header("Cache-Control") == "public, max-age=0"
        stat = (site / "static" / name).stat()
        assert answer.header("Last-Modified") == email.utils.formatdate(stat.st_mtime, usegmt=True)
        assert answer.header("ETag") == f'W/"{stat.st_size:x}-{round(stat.st_mtime_ns / 1e6):x}"'
    root = web.answer("GET", "/")
    assert root is not None and (root.status, root.body, root.content_type) == (200, INDEX, HTML_UTF8)


@pytest.mark.parametrize("target", [
    "/oview", "/detail", "/experiment", "/oview?x=1", "/detail/", "/a/b/c",
    "/static/js/missing.js", "/missing.png", "/icon.png/", "/ICON.PNG", "/static/", "/icons/",
    "/logs/", "/logs/missing.log", f"{API}x", "/apix", "/netron/", "/netron/index.html",
])
def test_every_other_get_path_answers_index_html(site: Path, target: str) -> None:
    for method in ("GET", "HEAD"):
        answer = ui(site).answer(method, target)
        assert answer is not None
        assert (answer.status, answer.body, answer.content_type) == (200, INDEX, HTML_UTF8), (method, target)


def test_a_directory_redirects_to_its_path_with_a_slash(site: Path) -> None:
    answer = ui(site).answer("GET", "/logs")
    assert answer is not None and answer.status == 301
    assert answer.header("Location") == "/logs/"
    assert answer.content_type == HTML_UTF8
    assert answer.header("Content-Security-Policy") == "default-src 'none'"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert b'Redirecting to <a href="/logs/">/logs/</a>' in answer.body
    assert len(answer.body) == 175  # the real manager's body, byte for byte
    static = ui(site).answer("HEAD", "/static/js?v=1")
    assert static is not None and (static.status, static.header("Location")) == (301, "/static/js/?v=1")
    prefixed = ui(site, "pfx").answer("GET", "/pfx")
    assert prefixed is not None and (prefixed.status, prefixed.header("Location")) == (301, "/pfx/")


@pytest.mark.parametrize("target", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/static/../../secret.txt", "/..%2fsecret.txt",
    "/logs/../secret.txt", "/logs/%2e%2e/secret.txt", "/logs/%2E%2E/%2e%2e/secret.txt",
    "/logs/..%5csecret.txt", "/escape/secret.txt", "/escape/exp/secret.txt", "/.hidden", "/%2ehidden",
    "/%00", "/icon.png%00", "/bad%zz", "/%ff%fe",
])
def test_paths_out_of_the_served_directories_are_never_read(site: Path, target: str) -> None:
    answer = ui(site).answer("GET", target)
    assert answer is not None
    assert b"SECRET" not in answer.body and b"hidden" not in answer.body
    assert (answer.status, answer.body) == (200, INDEX), target  # the real manager's fallback


def test_dot_segments_inside_the_directory_are_resolved(site: Path) -> None:
    answer = ui(site).answer("GET", "/static/../icon.png")
    assert answer is not None and (answer.status, answer.body) == (200, b"content of icon.png")


def test_the_log_directory_under_logs(site: Path) -> None:
    web = ui(site)
    for name in ("nnimanager.log", "dispatcher.log"):
        answer = web.answer("GET", f"/logs/{name}?t=1")
        assert answer is not None and answer.status == 200
        assert answer.content_type == "text/plain; charset=UTF-8"
        assert answer.body == (site / "exp" / "log" / name).read_bytes()
    assert content_type_of("experiment.log") == "text/plain; charset=UTF-8"


def test_conditional_requests_answer_304(site: Path) -> None:
    web = ui(site)
    first = web.answer("GET", "/icon.png")
    assert first is not None and first.header("ETag") is not None
    etag, modified = first.header("ETag"), first.header("Last-Modified")
    cached = web.answer("GET", "/icon.png", {"If-None-Match": str(etag)})
    assert cached is not None and (cached.status, cached.body, cached.header("ETag")) == (304, b"", etag)
    since = web.answer("GET", "/icon.png", {"If-Modified-Since": str(modified)})
    assert since is not None and since.status == 304
    stale = web.answer("GET", "/icon.png", {"If-None-Match": 'W/"0-0"'})
    assert stale is not None and stale.status == 200
    old = web.answer("GET", "/icon.png", {"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
    assert old is not None and old.status == 200


# ---------------------------------------------------------------------------- methods, prefix, API


def test_options_and_other_methods(site: Path) -> None:
    web = ui(site)
    for target in ("/logs/nnimanager.log", "/logs", "/LOGS/x", "/logs/../x"):
        answer = web.answer("OPTIONS", target)
        assert answer is not None and (answer.status, answer.body) == (200, b"GET,HEAD"), target
        assert answer.header("Allow") == "GET,HEAD" and answer.content_type == NOT_FOUND_TYPE
    for method in ("OPTIONS", "POST", "PUT", "DELETE", "PATCH"):
        for target in ("/", "/oview", "/icon.png", "/static"):
            answer = web.answer(method, target)
            assert answer is not None, (method, target)
            assert (answer.status, answer.body, answer.content_type) == (404, b"Not Found", NOT_FOUND_TYPE)
    for method in ("POST", "DELETE"):
        answer = web.answer(method, "/logs/nnimanager.log")
        assert answer is not None and answer.status == 404
    head = web.answer("HEAD", "/icon.png")
    get = web.answer("GET", "/icon.png")
    assert head is not None and get is not None and head.headers == get.headers


def test_the_api_and_paths_outside_the_prefix_are_the_routers(site: Path) -> None:
    web = ui(site)
    for target in (API, f"{API}/check-status", "/API/V1/NNI/version", f"{API}/nothing?x=1"):
        assert web.answer("GET", target) is None
        assert web.answer("OPTIONS", target) is None
    prefixed = ui(site, "pfx")
    for target in ("/", "/oview", f"{API}/check-status", "/pfxx/oview", f"/pfx{API}/check-status"):
        assert prefixed.answer("GET", target) is None, target
    page = prefixed.answer("GET", "/pfx/oview")
    log = prefixed.answer("GET", "/pfx/logs/nnimanager.log")
    assert page is not None and page.body == INDEX
    assert log is not None and log.body.startswith(b"[2024")
    assert prefixed.answer("POST", "/pfx") is not None


def test_without_nni_every_page_says_how_to_install_it(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webui, "installed_static_directory", lambda: None)
    web = WebUI(site / "exp" / "log", "pfx")
    assert not web.installed
    for target in ("/pfx/", "/pfx/oview", "/pfx/static/js/main.js"):
        answer = web.answer("GET", target)
        assert answer is not None and answer.status == 200
        assert answer.content_type == NOT_FOUND_TYPE
        text = answer.body.decode()
        assert "pip install nni==3.0" in text and "nni-exp[nni]" in text
        assert f'href="/pfx{API}/check-status"' in text
    log = web.answer("GET", "/pfx/logs/dispatcher.log")
    assert log is not None and b"Dispatcher started" in log.body
    missing = web.answer("POST", "/pfx/")
    assert missing is not None and missing.status == 404


def test_the_static_directory_is_found_without_importing_nni(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webui.importlib.util, "find_spec", lambda name: None)
    assert installed_static_directory() is None


@pytest.mark.real_nni
def test_the_installed_web_ui_is_nnis() -> None:
    static = installed_static_directory()
    if static is None:
        pytest.skip("nni (its web UI, nni_node/static) is not installed")
    import nni_node

    assert static == Path(nni_node.__file__).parent / "static"
    types = {path.suffix: content_type_of(path) for path in static.rglob("*") if path.is_file()}
    untyped = sorted(suffix for suffix, kind in types.items() if kind == "application/octet-stream")
    assert untyped == [".bin"], "file types of NNI's web UI without the manager's content type"


# ---------------------------------------------------------------------------- the REST API: OPTIONS, HEAD, CORS


@pytest.fixture
def running() -> Iterator[FakeManager]:
    fake = FakeManager(seed=3, search="own")
    exp = Experiment(make_config(), backend=fake)
    exp.start(8080)
    yield fake
    exp.stop()


@pytest.mark.parametrize("path,allowed", [
    # As the real manager answers (Express lists the methods of the matching routes, HEAD after GET).
    ("/check-status", "GET,HEAD"),
    ("/version/", "GET,HEAD"),
    ("/experiment", "GET,HEAD,PUT,POST,DELETE"),
    ("/trial-jobs", "GET,HEAD,POST"),
    ("/trial-jobs/abc", "GET,HEAD,DELETE"),
    ("/metric-data", "GET,HEAD"),
    ("/tensorboard/abc", "GET,HEAD,PUT,DELETE"),
])
def test_options_lists_the_methods_of_the_route(running: FakeManager, path: str, allowed: str) -> None:
    answer = running.handle(8080, "OPTIONS", API + path)
    assert (answer.status, answer.body, answer.content_type) == (200, allowed, "application/json; charset=utf-8")
    assert dict(answer.headers) == {"Allow": allowed, **CORS}


def test_api_answers_carry_the_cors_headers(running: FakeManager) -> None:
    for method, path, status in [("GET", "/check-status", 200), ("HEAD", "/check-status", 200),
                                 ("OPTIONS", "/nothing", 404), ("POST", "/check-status", 404),
                                 ("PATCH", "/experiment", 404), ("GET", "/nothing", 404),
                                 ("GET", "/trial-jobs/nothing", 404)]:
        answer = running.handle(8080, method, API + path)
        assert answer.status == status, (method, path)
        assert {key: value for key, value in answer.headers if key.startswith("Access-")} == CORS
    head, get = running.handle(8080, "HEAD", API + "/trial-jobs"), running.handle(8080, "GET", API + "/trial-jobs")
    assert (head.status, head.content_type, head.body) == (get.status, get.content_type, get.body)
    unknown = running.handle(8080, "POST", API + "/nothing")
    assert (unknown.body, unknown.content_type) == ("Not Found", "application/json; charset=utf-8")
    outside = running.handle(8080, "PUT", "/oview")
    assert (outside.status, outside.body, outside.content_type, outside.headers) == (404, "Not Found",
                                                                                     NOT_FOUND_TYPE, ())


# ---------------------------------------------------------------------------- over HTTP, in-process server

CONFIG: dict[str, Any] = {
    "experimentName": "webui", "searchSpace": {"x": {"_type": "uniform", "_value": [0, 1]}},
    "trialCommand": "python3 trial.py", "trialCodeDirectory": ".", "trialConcurrency": 2, "maxTrialNumber": 2,
    "tuner": {"name": "Random"}, "trainingService": {"platform": "local"},
}


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., tuple[FakeManagerServer, str]]]:
    """Start fake manager servers in this process (each serving in a thread); all stopped at the end."""
    started: list[tuple[FakeManagerServer, threading.Thread]] = []

    def start(experiment_id: str = "webui1", *extra: str) -> tuple[FakeManagerServer, str]:
        port = free_port()
        args = ManagerArgs(port=port, experiment_id=experiment_id, action="create", mode="local",
                           experiments_directory=str(tmp_path / "experiments"), log_level="info",
                           foreground=False, python_interpreter=sys.executable)
        server = FakeManagerServer(parse_args([*args.to_argv(), "--search", "own", "--time-scale", "100", *extra]),
                                   stdout=io.StringIO(), manifest_home=tmp_path / "nni-experiments")
        server.start()
        thread = threading.Thread(target=server.serve, name=f"fake-server-{port}", daemon=True)
        thread.start()
        started.append((server, thread))
        return server, f"http://127.0.0.1:{port}"

    yield start
    for server, thread in started:
        server.request_stop("test over")
        thread.join(timeout=10)
        assert not thread.is_alive(), "a fake manager server did not stop"


def test_the_server_serves_the_ui_logs_and_api_headers(serve: Callable[..., tuple[FakeManagerServer, str]],
                                                        tmp_path: Path) -> None:
    server, base = serve()
    root = tmp_path / "experiments" / "webui1"
    assert not (root / "checkpoint").exists()
    started = requests.post(base + API + "/experiment", json=CONFIG, timeout=10)
    assert started.status_code == 200
    assert (root / "checkpoint").is_dir()  # created with the start, as the real manager does

    page = requests.get(base + "/oview", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    if server.webui.installed:
        assert server.webui.static_directory is not None
        assert page.content == (server.webui.static_directory / "index.html").read_bytes()
    else:
        assert "pip install nni==3.0" in page.text
    head = requests.head(base + "/oview", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Length"] == str(len(page.content))
    assert "Server" not in page.headers and "Access-Control-Allow-Methods" not in page.headers

    log = requests.get(base + "/logs/nnimanager.log", timeout=10)
    assert log.status_code == 200 and "(main) Fake NNI manager starting" in log.text
    assert log.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert requests.options(base + "/logs/nnimanager.log", timeout=10).headers["Allow"] == "GET,HEAD"
    assert requests.post(base + "/oview", timeout=10).status_code == 404
    redirect = requests.get(base + "/logs", timeout=10, allow_redirects=False)
    assert (redirect.status_code, redirect.headers["Location"]) == (301, "/logs/")

    status = requests.get(base + API + "/check-status", timeout=10)
    assert {key: status.headers[key] for key in CORS} == CORS
    options = requests.options(base + API + "/check-status", timeout=10)
    assert (options.status_code, options.text, options.headers["Allow"]) == (200, "GET,HEAD", "GET,HEAD")
    api_head = requests.head(base + API + "/check-status", timeout=10)
    assert api_head.status_code == 200 and api_head.content == b"" and int(api_head.headers["Content-Length"]) > 0
    if server.webui.installed:
        cached = requests.get(base + "/oview", headers={"If-None-Match": page.headers["ETag"]}, timeout=10)
        assert (cached.status_code, cached.content) == (304, b"")


def test_the_server_without_nni_answers_how_to_get_the_ui(serve: Callable[..., tuple[FakeManagerServer, str]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webui, "installed_static_directory", lambda: None)
    server, base = serve("webui2", "--url-prefix", "pfx")
    assert not server.webui.installed
    page = requests.get(base + "/pfx/", timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"] == NOT_FOUND_TYPE
    assert "pip install nni==3.0" in page.text and "nni-exp[nni]" in page.text
    assert requests.get(base + "/", timeout=10).text == 'Outside prefix "/pfx"'
    status = requests.get(base + "/pfx" + API + "/check-status", timeout=10)
    assert status.json()["status"] == "INITIALIZED"
    options = requests.options(base + "/pfx" + API + "/experiment", timeout=10)
    assert (options.status_code, options.headers["Allow"]) == (200, "GET,HEAD,PUT,POST,DELETE")
    log = requests.get(base + "/pfx/logs/nnimanager.log", timeout=10)
    assert log.status_code == 200 and "(main) Fake NNI manager starting" in log.text
