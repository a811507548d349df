"""NNI's web UI on the fake manager server: the installed package's static files and the log directory.

NNI 3.0's manager (``nni_node/rest_server/index.js``) answers, under its URL prefix, in this order:

1. ``/logs/...``: the files of the experiment's log directory (``<id>/log/``: ``nnimanager.log``,
   ``dispatcher.log``), for GET and HEAD; OPTIONS there answers 200 ``Allow: GET,HEAD``;
2. ``/api/v1/nni/...``: the REST API (:mod:`fakes.router`);
3. for GET and HEAD, the web UI's files (``nni_node/static`` of the installed ``nni``), and for any
   other GET path ``index.html`` with 200 (the single-page app routes ``/oview``, ``/detail``,
   ``/experiment``, ... but also a missing ``/static/js/x.js``): there is no 404 for a GET;
4. any other method: 404 ``Not Found`` (``text/html``).

:class:`WebUI` answers 1, 3 and 4 the same way (status codes, content types, ``Cache-Control``,
``Last-Modified``, weak ``ETag`` and 304 on ``If-None-Match``/``If-Modified-Since``, 301 from a
directory to its path with a trailing ``/``); it returns None for 2 and for paths outside the URL
prefix, which the router answers. A path that leaves the served directory (``..``), names a hidden
file or cannot be decoded is never read: like the real manager, the request falls through to
``index.html``. Without ``nni`` installed every GET page is a short HTML page saying how to get the UI.

Not reproduced: ``Range`` requests (the fake sends whole files and no ``Accept-Ranges``), the
``X-Powered-By: Express`` and ``Keep-Alive`` headers, and the ``/netron`` proxy.
"""

from __future__ import annotations

import email.utils
import html
import importlib.util
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union
from urllib.parse import SplitResult, quote, unquote, urlsplit

from .router import API_ROOT

__all__ = ["WebUI", "WebResponse", "installed_static_directory", "content_type_of", "NO_UI_PAGE"]

Headers = Tuple[Tuple[str, str], ...]

#: The content types the real manager sends (Express's ``send``), for the file types of NNI's web UI
#: and log directory; any other file is ``application/octet-stream``.
_CONTENT_TYPES = {
    ".html": "text/html; charset=UTF-8",
    ".js": "application/javascript; charset=UTF-8",
    ".css": "text/css; charset=UTF-8",
    ".json": "application/json; charset=UTF-8",
    ".map": "application/json; charset=UTF-8",
    ".txt": "text/plain; charset=UTF-8",
    ".log": "text/plain; charset=UTF-8",
    ".png": "image/png",
    ".gif": "image/gif",
    ".ico": "image/x-icon",
    ".svg": "image/svg+xml",
    ".ttf": "font/ttf",
}
_OCTET_STREAM = "application/octet-stream"
_HTML = "text/html; charset=utf-8"
_LOGS = "/logs"
#: What every answer of a static file carries besides its type, length and dates.
_CACHE_CONTROL = ("Cache-Control", "public, max-age=0")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

#: The page ``GET /`` (and every other page) answers when ``nni`` is not installed.
NO_UI_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>NNI web UI not installed</title></head>
<body>
<h1>NNI's web UI is not installed</h1>
<p>This fake NNI manager serves the web UI of the installed <code>nni</code> package, and <code>nni</code>
is not installed here. Install it with <code>pip install nni==3.0</code> (or <code>pip install
'nni-exp[nni]'</code>) and start the fake manager again.</p>
<p>The REST API answers at <a href="{api}/check-status"><code>{api}</code></a>.</p>
</body></html>
"""


@dataclass(frozen=True)
class WebResponse:
    """An HTTP answer: status, body bytes and headers (``Content-Type`` included; the transport adds
    ``Content-Length``). A HEAD request gets the same headers and no body."""

    status: int
    body: bytes = b""
    headers: Headers = ()

    def header(self, name: str) -> Optional[str]:
        """The value of header ``name`` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def content_type(self) -> Optional[str]:
        return self.header("Content-Type")


def installed_static_directory() -> Optional[Path]:
    """``nni_node/static`` of the installed ``nni`` (the web UI's files), or None when ``nni`` is not
    installed or has no web UI. ``nni_node`` is located without being imported."""
    try:
        spec = importlib.util.find_spec("nni_node")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        static = Path(location) / "static"
        if (static / "index.html").is_file():
            return static
    return None


def content_type_of(path: Union[str, Path]) -> str:
    """The ``Content-Type`` the real manager sends for a file named ``path``."""
    return _CONTENT_TYPES.get(Path(path).suffix.lower(), _OCTET_STREAM)


class _Default:
    """Marks "look the static directory up in the installed ``nni``"."""


_INSTALLED = _Default()


class WebUI:
    """The non-API part of the manager's HTTP server, for one experiment.

    ``log_directory`` is the experiment's ``<id>/log``; ``url_prefix`` the manager's ``--url-prefix``
    (without slashes, or None); ``static_directory`` the web UI's files (default: those of the
    installed ``nni``, see :func:`installed_static_directory`; None: no UI, :data:`NO_UI_PAGE`).
    """

    def __init__(self, log_directory: Union[str, Path], url_prefix: Optional[str] = None,
                 static_directory: Union[str, Path, None, _Default] = _INSTALLED) -> None:
        self.log_directory = Path(log_directory)
        self.url_prefix = "/" + url_prefix.strip("/") if url_prefix else ""
        if isinstance(static_directory, _Default):
            static_directory = installed_static_directory()
        self.static_directory = Path(static_directory) if static_directory is not None else None

    def __repr__(self) -> str:
        return (f"<WebUI static={self.static_directory} logs={self.log_directory} "
                f"prefix={self.url_prefix or '/'}>")

    @property
    def installed(self) -> bool:
        """Whether the web UI's files are there (``nni`` installed)."""
        return self.static_directory is not None

    def answer(self, method: str, target: str, request_headers: Optional[Mapping[str, str]] = None
               ) -> Optional[WebResponse]:
        """The answer to ``method target`` (path with query), or None when the router answers it
        (a REST API path, or a path outside the URL prefix)."""
        method = method.upper()
        split = urlsplit(target)
        raw_path = split.path or "/"
        if self.url_prefix:
            if raw_path == self.url_prefix:
                # The prefix itself is the static directory without its trailing slash.
                return self._redirect(raw_path, split.query) if method in ("GET", "HEAD") else _not_found()
            if not raw_path.startswith(self.url_prefix + "/"):
                return None
            raw_path = raw_path[len(self.url_prefix):]
        lowered = raw_path.lower()
        if lowered == API_ROOT or lowered.startswith(API_ROOT + "/"):
            return None
        headers = {key.lower(): value for key, value in (request_headers or {}).items()}
        in_logs = lowered == _LOGS or lowered.startswith(_LOGS + "/")
        if method == "OPTIONS":
            return WebResponse(200, b"GET,HEAD", (("Allow", "GET,HEAD"), ("Content-Type", _HTML))) if in_logs \
                else _not_found()
        if method not in ("GET", "HEAD"):
            return _not_found()
        if in_logs:
            found = self._serve_from(self.log_directory, raw_path[len(_LOGS):], split, headers)
            if found is not None:
                return found
        if self.static_directory is None:
            api = html.escape(self.url_prefix + API_ROOT)
            return WebResponse(200, NO_UI_PAGE.format(api=api).encode("utf-8"), (("Content-Type", _HTML),))
        found = self._serve_from(self.static_directory, raw_path, split, headers)
        if found is not None:
            return found
        return _file_response(self.static_directory / "index.html", headers)

    # ------------------------------------------------------------------ static files

    def _serve_from(self, root: Path, raw_sub: str, split: SplitResult, headers: Mapping[str, str]
                    ) -> Optional[WebResponse]:
        """The file ``raw_sub`` (still percent-encoded) of ``root``, a redirect for a directory, or
        None to fall through (missing, hidden, outside ``root``, undecodable)."""
        relative = _safe_relative(raw_sub)
        if relative is None:
            return None
        try:
            base = root.resolve(strict=True)
        except OSError:
            return None
        candidate = base / relative if relative else base
        if raw_sub.endswith("/"):
            candidate = candidate / "index.html"  # a directory's index, as Express serves it
        try:
            resolved = candidate.resolve(strict=True)
        except OSError:
            return None
        if resolved != base and base not in resolved.parents:
            return None  # a symbolic link out of the served directory
        if resolved.is_dir():
            return self._redirect(split.path, split.query)
        if not resolved.is_file():
            return None
        return _file_response(resolved, headers)

    @staticmethod
    def _redirect(path: str, query: str) -> WebResponse:
        """301 to ``path/`` (Express's answer for a directory without its trailing slash)."""
        location = "/" + path.lstrip("/") + "/"
        location = quote(location, safe="/%:@!$&'()*+,;=-._~")
        if query:
            location += "?" + query
        escaped = html.escape(location, quote=True)
        body = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Redirecting</title>\n'
                f'</head>\n<body>\n<pre>Redirecting to <a href="{escaped}">{escaped}</a></pre>\n</body>\n</html>\n')
        return WebResponse(301, body.encode("utf-8"), (
            ("Content-Type", "text/html; charset=UTF-8"),
            ("Content-Security-Policy", "default-src 'none'"),
            ("X-Content-Type-Options", "nosniff"),
            ("Location", location),
        ))


def _not_found() -> WebResponse:
    return WebResponse(404, b"Not Found", (("Content-Type", _HTML),))


def _safe_relative(raw_sub: str) -> Optional[str]:
    """``raw_sub`` decoded and normalised, relative to the served directory ("" for the directory
    itself); None when it cannot be decoded, contains a NUL, climbs out with ``..`` or names a
    hidden file or folder (as Express's ``send`` refuses, and then falls through)."""
    if _BAD_PERCENT.search(raw_sub):
        return None
    try:
        decoded = unquote(raw_sub, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\0" in decoded or "\\" in decoded:
        return None
    normalised = posixpath.normpath("./" + decoded.lstrip("/"))
    if normalised == ".." or normalised.startswith("../"):
        return None
    parts = [part for part in normalised.split("/") if part not in ("", ".")]
    if any(part.startswith(".") for part in parts):
        return None
    return "/".join(parts)


def _file_response(path: Path, headers: Mapping[str, str]) -> WebResponse:
    """200 with the file (or 304 when the client's copy is current), with Express's cache headers."""
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError:
        return _not_found()
    modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
    etag = f'W/"{len(data):x}-{round(stat.st_mtime_ns / 1_000_000):x}"'
    cache = (_CACHE_CONTROL, ("Last-Modified", modified), ("ETag", etag))
    if _fresh(headers, etag, stat.st_mtime):
        return WebResponse(304, b"", cache)
    return WebResponse(200, data, (*cache, ("Content-Type", content_type_of(path))))


def _fresh(headers: Mapping[str, str], etag: str, mtime: float) -> bool:
    """Whether the client's cached copy is current (``If-None-Match``, else ``If-Modified-Since``)."""
    if "cache-control" in headers and "no-cache" in headers["cache-control"]:
        return False
    none_match = headers.get("if-none-match")
    if none_match is not None:
        tags = [tag.strip() for tag in none_match.split(",")]
        return "*" in tags or etag in tags or etag[2:] in tags
    since = headers.get("if-modified-since")
    if since is not None:
        try:
            moment = email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError, IndexError):
            return False
        return int(mtime) <= moment
    return False
