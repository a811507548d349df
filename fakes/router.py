"""The fake manager's REST API: every route of NNI 3.0's manager, in one place.

``handle(manager, method, target, body)`` takes a request as it arrives on the wire (``target`` is
the path with its query string, URL prefix included) and returns the status, body and content type
the real manager would send. The in-memory backend, the ``responses`` adapter and the HTTP server
all call this function, so a route's semantics live only here and in :mod:`fakes.simulator`. The
large lists (``/trial-jobs``, ``/metric-data``) are answered by their value as well as their text: the
in-memory backend takes the value, which is what decoding the text gives, and no text is written.

Where the real manager never answers or answers garbage, the fake answers with a clear error
instead (see the README's table of deliberate fixes); everything else is reproduced, quirks
included (``/version`` is not JSON, ``/export-data`` values are JSON strings ...).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

from .js_numbers import js_to_number
from .simulator import RequestRejected, SimulatedManager
from .wire import js_dumps

__all__ = ["RouterResponse", "handle", "route_table", "allowed_methods", "decode_param", "API_ROOT", "NNI_VERSION",
           "CORS_HEADERS"]

API_ROOT = "/api/v1/nni"
NNI_VERSION = "3.0.0"
_JSON = "application/json; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"
_HTML = "text/html; charset=utf-8"
_BYTES = "application/octet-stream"
#: Sent with every answer under the API root, whatever the method or status (the manager's REST
#: handler sets them on each request it sees; there is no ``Access-Control-Allow-Origin``).
#: How deeply a JSON body may nest (Python's parser and the fake's code recurse; Node's do not).
MAX_JSON_DEPTH = 100
CORS_HEADERS: Tuple[Tuple[str, str], ...] = (
    ("Access-Control-Allow-Headers", "Origin, X-Requested-With, Content-Type, Accept"),
    ("Access-Control-Allow-Methods", "PUT,POST,GET,DELETE,OPTIONS"),
)


class RouterResponse:
    """An answer: HTTP status, body text, content type and the other headers to send.

    A JSON answer can also be made of its value (:meth:`of_value`). Its text is then written only
    when ``body`` is first read: the HTTP server and the ``responses`` adapter read it, while the
    in-memory backend takes :meth:`json` and no text is written at all.
    """

    __slots__ = ("status", "content_type", "headers", "_body", "_encode", "_value")
    status: int
    content_type: str
    headers: Tuple[Tuple[str, str], ...]
    _body: Optional[str]
    _encode: Optional[Callable[[], str]]
    _value: Optional[Callable[[], Any]]

    def __init__(self, status: int, body: str = "", content_type: str = _JSON,
                 headers: Tuple[Tuple[str, str], ...] = (), *, _encode: Optional[Callable[[], str]] = None,
                 _value: Optional[Callable[[], Any]] = None) -> None:
        for name, value in (("status", status), ("content_type", content_type), ("headers", headers),
                            ("_body", None if _encode is not None else body), ("_encode", _encode),
                            ("_value", _value)):
            object.__setattr__(self, name, value)

    @classmethod
    def of_value(cls, status: int, value: Callable[[], Any], encode: Callable[[], str],
                 headers: Tuple[Tuple[str, str], ...] = ()) -> RouterResponse:
        """A JSON answer given by ``value()``, a new value on each call that is what ``json.loads``
        gives for ``encode()``, the answer's text."""
        return cls(status, "", _JSON, headers, _encode=encode, _value=value)

    def with_headers(self, headers: Tuple[Tuple[str, str], ...]) -> RouterResponse:
        """The same answer with ``headers`` added after its own (a text not yet written stays so)."""
        if self._body is None:
            return RouterResponse(self.status, "", self.content_type, self.headers + headers, _encode=self._encode,
                                  _value=self._value)
        return RouterResponse(self.status, self._body, self.content_type, self.headers + headers, _value=self._value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a RouterResponse is immutable: cannot set {name!r}")

    @property
    def body(self) -> str:
        """The answer's text."""
        body = self._body
        if body is None:
            assert self._encode is not None
            body = self._encode()
            object.__setattr__(self, "_body", body)  # written once, kept
        return body

    def written(self) -> RouterResponse:
        """This answer, its text written now (an answer made of its value reads the store when its text
        is first read: a caller that lets the simulation go on first writes it before)."""
        self.body  # noqa: B018  (the property writes and keeps the text)
        return self

    @property
    def has_value(self) -> bool:
        """Whether :meth:`json` needs no text (an answer made with :meth:`of_value`)."""
        return self._value is not None

    def json(self) -> Any:
        """What ``json.loads(body)`` gives (None for an empty body), a new value on each call."""
        if self._value is not None:
            return self._value()
        return json.loads(self.body) if self.body else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RouterResponse):
            return NotImplemented
        return (self.status, self.body, self.content_type, self.headers) == \
            (other.status, other.body, other.content_type, other.headers)

    def __hash__(self) -> int:
        return hash((self.status, self.body, self.content_type, self.headers))

    def __repr__(self) -> str:
        return (f"RouterResponse(status={self.status!r}, body={self.body!r}, content_type={self.content_type!r}, "
                f"headers={self.headers!r})")


@dataclass(frozen=True)
class _Request:
    manager: SimulatedManager
    method: str
    params: Tuple[str, ...]
    query: Dict[str, str]
    body: Any


_Handler = Callable[[_Request], RouterResponse]
_ROUTES: List[Tuple[str, re.Pattern[str], _Handler]] = []
#: ``_ROUTES`` by method, in the same order.
_ROUTES_BY_METHOD: Dict[str, List[Tuple[re.Pattern[str], _Handler]]] = {}


def _route(method: str, pattern: str) -> Callable[[_Handler], _Handler]:
    compiled = re.compile("^" + pattern + "/?$", re.IGNORECASE)

    def register(handler: _Handler) -> _Handler:
        _ROUTES.append((method, compiled, handler))
        _ROUTES_BY_METHOD.setdefault(method, []).append((compiled, handler))
        return handler

    return register


#: The content type of an empty answer: NNI's handler presets it, Express adds a charset only to strings.
_JSON_EMPTY = "application/json"


def _ok(value: Any = None) -> RouterResponse:
    if value is None:
        return RouterResponse(200, "", _JSON_EMPTY)
    return RouterResponse(200, js_dumps(value))


def _error(status: int, message: str) -> RouterResponse:
    return RouterResponse(status, js_dumps({"error": message}))


def handle(manager: SimulatedManager, method: str, target: str,
           body: Union[bytes, str, None] = None) -> RouterResponse:
    """Answer one request to ``manager`` the way NNI 3.0's manager would (the caller has brought the
    simulation up to the current time). An answer made of its value reads the store when it is read:
    read it, or call its :meth:`~RouterResponse.written`, before the simulation goes on."""
    method = method.upper()
    split = urlsplit(target)
    path = split.path or "/"  # matched undecoded, as Express does: only route parameters are decoded
    prefix = manager.args.url_prefix
    if prefix:
        head = "/" + prefix.strip("/")
        if not (path == head or path.startswith(head + "/")):
            return RouterResponse(404, f'Outside prefix "{head}"', _HTML)  # Express's res.send(string)
        path = path[len(head):] or "/"
    if not (path.lower() == API_ROOT or path.lower().startswith(API_ROOT + "/")):
        # The manager's web UI (fakes.webui, on the HTTP server) answers these; without it, and for
        # every method but GET and HEAD anyway, the manager's final 404.
        return RouterResponse(404, "Not Found", _HTML)
    answer = _api(manager, method, path[len(API_ROOT):] or "/", split.query, body)
    return answer.with_headers(CORS_HEADERS)


def _api(manager: SimulatedManager, method: str, api_path: str, query_text: str,
         body: Union[bytes, str, None]) -> RouterResponse:
    """A request under the API root: HEAD runs the GET route (the transport drops the body),
    OPTIONS lists the methods of the routes that match (Express's automatic answer)."""
    undecodable = _undecodable_param(api_path)
    if undecodable is not None:
        # Express fails to decode the parameter and the manager's error handler never answers.
        return _error(400, f"Failed to decode param '{undecodable}' (the real manager never answers)")
    if method == "OPTIONS":
        allowed = allowed_methods(api_path)
        if not allowed:
            return RouterResponse(404, "Not Found", _JSON)
        text = ",".join(allowed)
        return RouterResponse(200, text, _JSON, (("Allow", text),))
    route_method = "GET" if method == "HEAD" else method
    query = {key: values[-1] for key, values in parse_qs(query_text, keep_blank_values=True).items()}
    try:
        parsed_body = _parse_body(body)
    except ValueError as error:
        return _error(400, f"malformed JSON body: {error}")
    for pattern, handler in _ROUTES_BY_METHOD.get(route_method, ()):
        match = pattern.match(api_path)
        if match:
            params = tuple(decode_param(g) for g in match.groups() if g is not None)
            request = _Request(manager, method, params, query, parsed_body)
            try:
                return handler(request)
            except RequestRejected as rejected:
                return _error(rejected.status, rejected.message)
    if route_method == "GET":
        return _error(404, f"no such route: {method} {API_ROOT}{api_path} (the real manager answers with its "
                           "web UI page)")
    return RouterResponse(404, "Not Found", _JSON)


def allowed_methods(api_path: str) -> List[str]:
    """The methods of the routes matching ``api_path`` (relative to the API root), in the order the
    manager registers them, ``HEAD`` right after ``GET``: what ``OPTIONS`` answers."""
    allowed: List[str] = []
    for method, pattern, _ in _ROUTES:
        if pattern.match(api_path):
            for name in (method, "HEAD") if method == "GET" else (method,):
                if name not in allowed:
                    allowed.append(name)
    return allowed


_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_param(raw: str) -> str:
    """A route parameter as Express gives it to the handler: percent-decoded as UTF-8, as
    JavaScript's ``decodeURIComponent`` does (``abc%23x`` → ``abc#x``, ``%2F`` → ``/``; ``+`` stays).

    Raises ``ValueError`` where ``decodeURIComponent`` throws: a ``%`` without two hex digits, or
    escapes that are not UTF-8.
    """
    if _BAD_ESCAPE.search(raw):
        raise ValueError(f"bad percent escape in {raw!r}")
    try:
        return unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ValueError(f"percent escapes of {raw!r} are not UTF-8") from None


def _undecodable_param(api_path: str) -> Union[str, None]:
    """The first parameter of the first route matching ``api_path`` that Express cannot decode."""
    if "%" not in api_path:  # nothing to decode
        return None
    for _method, pattern, _handler in _ROUTES:
        match = pattern.match(api_path)
        if match:
            for group in match.groups():
                if group is None:
                    continue
                try:
                    decode_param(group)
                except ValueError:
                    return group
    return None


def _parse_body(body: Union[bytes, str, None]) -> Any:
    """The body as the manager's strict JSON body parser reads it (``JSON.parse``, top level an object
    or an array); raises ``ValueError`` where that parser answers 400.

    Unlike Python's ``json``, ``JSON.parse`` refuses ``NaN`` and ``Infinity`` and reads every number as
    a double (``1e400`` and a 400-digit integer are infinities). A body nested deeper than Python can
    parse (``RecursionError``; JavaScript parses it) is refused too: a deliberate difference.
    """
    if body is None:
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.strip():
        return None
    first = text.lstrip(" \t\n\r")[:1]
    if first not in ("{", "["):
        raise ValueError(f"Unexpected token {first} in JSON at position {len(text) - len(text.lstrip())} "
                         "(the body must be a JSON object or array)")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_js_integer)
    except RecursionError:
        value = None
    else:
        if _depth_within(value, MAX_JSON_DEPTH):
            return value
    raise ValueError(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels, more than the fake manager "
                     "accepts (the real one parses it)")


def _depth_within(value: Any, limit: int) -> bool:
    """Whether ``value``'s arrays and objects nest at most ``limit`` levels (no recursion)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (list, dict)):
            if depth > limit:
                return False
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]} in JSON: {name} is not JSON")


def _js_integer(text: str) -> Union[int, float]:
    """A JSON integer as ``JSON.parse`` reads it: exact up to 2**53, a double beyond (an infinity past
    ``1.8e308``; Python would keep every digit, or refuse more than 4300)."""
    if len(text.lstrip("-")) > 20:
        return float(text)
    number = int(text)
    return number if abs(number) <= 2 ** 53 else float(text)


# ---------------------------------------------------------------------------- routes


@_route("GET", "/version")
def _version(_request: _Request) -> RouterResponse:
    return RouterResponse(200, NNI_VERSION)  # raw text under a JSON content type, as the real one


@_route("GET", "/check-status")
def _check_status(request: _Request) -> RouterResponse:
    return _ok(request.manager.check_status())


@_route("GET", "/experiment")
def _get_profile(request: _Request) -> RouterResponse:
    return _ok(request.manager.profile)


@_route("PUT", "/experiment")
def _update_profile(request: _Request) -> RouterResponse:
    request.manager.update_profile(request.body, request.query.get("update_type"))
    return _ok()


@_route("POST", "/experiment")
def _start(request: _Request) -> RouterResponse:
    manager = request.manager
    if manager.args.action == "create":
        if not isinstance(request.body, dict):
            return _error(400, "POST /experiment needs the experiment config (a JSON object) as body")
        return _ok({"experiment_id": manager.start_experiment(request.body)})
    manager.resume_experiment(readonly=manager.args.action == "view")
    return _ok()


@_route("DELETE", "/experiment")
def _stop(request: _Request) -> RouterResponse:
    request.manager.shutdown()
    return _ok()


@_route("GET", "/experiment-metadata")
def _metadata(request: _Request) -> RouterResponse:
    manager = request.manager
    record = manager.world.manifest.records().get(manager.args.experiment_id)
    if record is None:
        return _error(404, f"experiment {manager.args.experiment_id} has no manifest record "
                           "(the real manager never answers)")
    return _ok(record)


@_route("GET", "/experiments-info")
def _experiments_info(request: _Request) -> RouterResponse:
    return _ok(list(request.manager.world.manifest.records().values()))


@_route("POST", "/experiment/import-data")
def _import_data(request: _Request) -> RouterResponse:
    request.manager.import_data(request.body)
    return _ok()


@_route("GET", "/experiment/imported-data")
def _imported_data(request: _Request) -> RouterResponse:
    return _ok(list(request.manager.store.imported_data))


@_route("PUT", "/experiment/cluster-metadata")
def _cluster_metadata(_request: _Request) -> RouterResponse:
    return _ok()  # only used by legacy kubernetes services; the local service ignores it


@_route("GET", "/job-statistics")
def _statistics(request: _Request) -> RouterResponse:
    return _ok(request.manager.store.statistics())


@_route("GET", "/trial-jobs")
def _list_trials(request: _Request) -> RouterResponse:
    store, status = request.manager.store, request.query.get("status")
    return RouterResponse.of_value(200, lambda: store.trials_value(status), lambda: store.trials_json(status))


@_route("GET", "/trial-jobs/([^/]+)")
def _get_trial(request: _Request) -> RouterResponse:
    trial_job_id = request.params[0]
    text = request.manager.store.trial_json(trial_job_id)
    if text is None:
        return _error(404, f"trial job {trial_job_id!r} not found (the real manager answers 200 with an empty body)")
    return RouterResponse(200, text)


@_route("POST", "/trial-jobs")
def _add_trial(request: _Request) -> RouterResponse:
    if not isinstance(request.body, dict):
        return _error(400, "POST /trial-jobs needs the trial's parameters (a JSON object) as body")
    return _ok({"sequenceId": request.manager.add_customized_trial(request.body)})


@_route("DELETE", "/trial-jobs/([^/]+)")
def _cancel_trial(request: _Request) -> RouterResponse:
    request.manager.cancel_trial(request.params[0])
    return _ok()


@_route("GET", "/metric-data(?:/(.+))?")
def _metrics(request: _Request) -> RouterResponse:
    store, metric_type = request.manager.store, request.query.get("type")
    trial_job_id = (request.params[0] if request.params else None) or None
    return RouterResponse.of_value(200, lambda: store.metrics_value(trial_job_id, metric_type),
                                   lambda: store.metrics_json(trial_job_id, metric_type))


@_route("GET", "/metric-data-range/([^/]+)/([^/]+)")
def _metric_range(request: _Request) -> RouterResponse:
    low, high = (js_to_number(text, missing=0.0) for text in request.params)  # Number() of the path text
    return _ok(request.manager.metrics_in_sequence_range(low, high))


@_route("GET", "/metric-data-latest")
def _metric_latest(request: _Request) -> RouterResponse:
    return _ok(request.manager.latest_metrics())


@_route("GET", "/trial-file/([^/]+)/([^/]+)")
def _trial_file(request: _Request) -> RouterResponse:
    content, is_text = request.manager.trial_file(*request.params)
    return RouterResponse(200, content, _TEXT if is_text else _BYTES)


@_route("GET", "/export-data")
def _export(request: _Request) -> RouterResponse:
    return RouterResponse(200, request.manager.store.export_json())


@_route("GET", "/tensorboard-tasks")
def _tensorboard_list(_request: _Request) -> RouterResponse:
    return _ok([])


@_route("DELETE", "/tensorboard-tasks")
def _tensorboard_stop_all(_request: _Request) -> RouterResponse:
    return _ok()


@_route("POST", "/tensorboard")
def _tensorboard_start(_request: _Request) -> RouterResponse:
    return _error(400, "tensorboard tasks are not supported by the fake manager")


def _tensorboard_missing(_request: _Request) -> RouterResponse:
    return _error(500, "Tensorboard task not found")


for _method in ("GET", "PUT", "DELETE"):
    _route(_method, "/tensorboard/([^/]+)")(_tensorboard_missing)


def route_table() -> List[Tuple[str, str]]:
    """(method, pattern) of every route, for documentation and tests."""
    return [(method, pattern.pattern) for method, pattern, _ in _ROUTES]

