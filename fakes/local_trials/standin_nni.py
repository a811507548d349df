"""nni-exp's stand-in for NNI's trial API, for real trials whose interpreter has no ``nni``.

Copied as ``nni/__init__.py`` into the directory :mod:`fakes.local_trials.standin_boot` adds to
such a trial's ``sys.path``. It speaks NNI 3.0's HTTP trial command channel
(``NNI_TRIAL_COMMAND_CHANNEL``) and writes ``trial.log`` in the format of NNI's trial runtime:
``[YYYY-MM-DD HH:MM:SS] LEVEL (logger/thread) message`` for log records, ``... PRINT line`` for
what the trial prints (stdout goes to ``trial.log`` on the local platform, as with NNI), starting
with the channel-connect line. Provides ``get_next_parameter`` (and ``get_next_parameters``),
``get_current_parameter``, ``report_intermediate_result``, ``report_final_result``,
``get_experiment_id``, ``get_trial_id`` and ``get_sequence_id``; anything else of NNI raises an
``AttributeError`` that says so. Standard library only.
"""

import datetime
import io
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from typing import Any, Dict, Optional

__all__ = [
    "get_next_parameter", "get_next_parameters", "get_current_parameter", "report_intermediate_result",
    "report_final_result", "get_experiment_id", "get_trial_id", "get_sequence_id",
]

__nni_exp_standin__ = True

_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOG_FORMAT = "[%(asctime)s] %(levelname)s (%(name)s/%(threadName)s) %(message)s"
_CHANNEL_LOGGER = "nni.runtime.trial_command_channel.v3"

_env = os.environ
_platform = _env.get("NNI_PLATFORM")
_experiment_id = _env.get("NNI_EXP_ID") or "STANDALONE"
_trial_id = _env.get("NNI_TRIAL_JOB_ID") or "STANDALONE"
_sequence_id = int(_env.get("NNI_TRIAL_SEQ_ID") or 0)
_params: Optional[Dict[str, Any]] = None
_intermediate_seq = 0
_connected = False


class _PrintToLog(io.TextIOBase):
    """What the trial prints, as ``[time] PRINT line`` lines of ``trial.log``."""

    def __init__(self, log_file: Any) -> None:
        self._file = log_file
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        if lines:
            stamp = datetime.datetime.now().strftime(_TIME_FORMAT)
            for line in lines:
                self._file.write(f"[{stamp}] PRINT {line}\n")
            self._file.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self.write("\n")
        self._file.flush()


def _start_trial_logging() -> None:
    directory = _env.get("NNI_OUTPUT_DIR")
    if not directory:
        return
    os.makedirs(directory, exist_ok=True)
    log_file = open(os.path.join(directory, "trial.log"), "a", encoding="utf-8")  # noqa: SIM115 - lives with the process
    handler = logging.StreamHandler(log_file)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT, _TIME_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    if _platform == "local":
        sys.stdout = _PrintToLog(log_file)


def _channel_url() -> str:
    global _connected
    url = _env.get("NNI_TRIAL_COMMAND_CHANNEL") or ""
    if not url.startswith("http://"):
        raise RuntimeError("the nni stand-in of nni-exp needs NNI_TRIAL_COMMAND_CHANNEL=http://... "
                           f"(got {url!r}): run this trial under nni-exp's fake manager")
    if not _connected:
        logging.getLogger(_CHANNEL_LOGGER).info("Connect to trial command channel %s", url)
        _connected = True
    return url


def _put(command: Dict[str, Any]) -> None:
    request = urllib.request.Request(_channel_url(), data=json.dumps(command).encode(), method="PUT",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        answer.read()


def _get() -> Optional[Dict[str, Any]]:
    url = _channel_url()
    while True:
        try:
            with urllib.request.urlopen(url) as answer:
                return json.loads(answer.read())  # type: ignore[no-any-return,unused-ignore]
        except urllib.error.HTTPError as error:
            if error.code == 408:
                continue
            if error.code == 410:
                return None
            raise OSError(f"HTTP command channel received unexpected status code {error.code}") from error


def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays made JSON-serializable."""
    def default(obj: Any) -> Any:
        for method in ("item", "tolist"):
            convert = getattr(obj, method, None)
            if callable(convert):
                return convert()
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    return json.loads(json.dumps(value, default=default))


def get_next_parameter() -> Any:
    """The parameters the tuner chose for this trial (None when the channel is closed)."""
    global _params
    _put({"type": "request_parameter"})
    answer = _get()
    if answer is None:
        logging.getLogger(_CHANNEL_LOGGER).error("Trial command channel is closed")
        _params = None
        return None
    _params = json.loads(answer["parameter"])
    return _params["parameters"]


get_next_parameters = get_next_parameter


def get_current_parameter(tag: Optional[str] = None) -> Any:
    if _params is None:
        return None
    return _params["parameters"] if tag is None else _params["parameters"][tag]


def _send_metric(metric_type: str, sequence: int, value: Any) -> None:
    what = "intermediate" if metric_type == "PERIODICAL" else "final"
    assert _params or _platform is None, f"nni.get_next_parameter() needs to be called before report_{what}_result"
    metric = {
        "parameter_id": _params["parameter_id"] if _params else None,
        "trial_job_id": _env.get("NNI_TRIAL_JOB_ID"),
        "type": metric_type,
        "sequence": sequence,
        "value": json.dumps(_plain(value)),
    }
    _put({"type": "metric", "metric": json.dumps(metric)})


def report_intermediate_result(metric: Any) -> None:
    """Report an intermediate result (a number, or a dict with a numeric ``'default'``)."""
    global _intermediate_seq
    _send_metric("PERIODICAL", _intermediate_seq, metric)
    _intermediate_seq += 1


def report_final_result(metric: Any) -> None:
    """Report the final result (a number, or a dict with a numeric ``'default'``)."""
    _send_metric("FINAL", 0, metric)


def get_experiment_id() -> str:
    return _experiment_id


def get_trial_id() -> str:
    return _trial_id


def get_sequence_id() -> int:
    return _sequence_id


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    raise AttributeError(f"nni.{name} is not part of nni-exp's stand-in for NNI's trial API (it provides "
                         f"{', '.join(__all__)}); install nni in the trial's Python to use it")


if __name__ == "nni" and _platform and _platform != "unittest":
    _start_trial_logging()
