"""How a manager's REST answer becomes a Python value or a typed error.

Shared by every backend, so the rules of NNI's client (``nni/experiment/rest.py``) live in one
place: URLs are ``http://localhost:<port>/<prefix>/api/v1/nni/<path>``; a non-2xx answer is an
error; GET and POST return the JSON body (None when empty); PUT and DELETE return None.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Optional
from urllib.parse import urlsplit

from . import errors, fast_json

if TYPE_CHECKING:
    from .errors import ManagerError

__all__ = ["API_ROOT", "DEFAULT_TIMEOUT", "build_url", "strip_prefix", "decode_answer", "error_for_answer"]

API_ROOT = "api/v1/nni"
#: NNI's client gives every request 20 seconds.
DEFAULT_TIMEOUT = 20.0

_TRIAL_PATH = re.compile(r"/trial-jobs/([^/?]+)")


def strip_prefix(url_prefix: Optional[str]) -> Optional[str]:
    """``'/pre/'`` → ``'pre'``; empty or None → None."""
    if url_prefix is None:
        return None
    stripped = url_prefix.strip("/")
    return stripped or None


def build_url(port: int, path: str, url_prefix: Optional[str] = None, host: str = "localhost") -> str:
    """The URL NNI's client uses for ``path`` (relative to the API root) on ``port``."""
    parts = [f"http://{host}:{port}", url_prefix or "", API_ROOT, path]
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def decode_answer(method: str, url: str, status: int, text: str, response: Any = None) -> Any:
    """The value NNI's client returns for this answer, or the typed error it stands for."""
    if not 200 <= status < 300:
        raise error_for_answer(method, url, status, text, response)
    if method.upper() in ("PUT", "DELETE") or not text:
        return None
    try:
        return fast_json.loads(text)
    except ValueError:
        raise errors.InvalidResponseError(method.upper(), url, text) from None


def error_for_answer(method: str, url: str, status: int, text: str, response: Any = None) -> ManagerError:
    """Classify a non-2xx answer into the most specific :class:`~nni_exp.errors.ManagerError`."""
    method = method.upper()
    message = _error_message(text)
    path = urlsplit(url).path
    trial_match = _TRIAL_PATH.search(path)
    if "readonly mode" in message:
        return errors.ReadonlyExperimentError(method, url, status, message, response)
    if message == "reach maxTrialNum":
        return errors.TrialLimitReachedError(method, url, status, message, response)
    if trial_match and (status == 404 or "isEarlyStopped" in message):
        # 404: the fake's answer; the isEarlyStopped TypeError text: the real manager's.
        return errors.TrialNotFoundError(trial_match.group(1), method, url, status, response)
    if method == "PUT" and status == 400 and path.rstrip("/").endswith("/experiment"):
        return errors.UnknownUpdateTypeError(method, url, status, message, response)
    return errors.ManagerError(method, url, status, message, response)


def _error_message(text: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip()
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return text.strip()
