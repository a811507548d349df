"""``OwnDispatcher``: the tuner command protocol over nni-exp's own samplers (no ``nni`` needed).

It answers the manager's commands as NNI's dispatcher does for a tuner without an assessor: one
parameter id per requested trial (consumed even when the tuner runs out), ``TR`` commands with the
packed parameters then a single ``NO`` when the tuner had fewer to give, final results to the tuner
(not those of customized trials, nor of trials from before a resume, whose results are imported
instead), imported data with JSON-text values decoded, and on resume parameter ids that continue
after the largest one resumed (or at 1 when none is). Intermediate results are ignored: there is no
assessor. The samplers are those of :mod:`fakes.tuners`.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from fakes.tuners import NoMoreTrials, Tuner
from fakes.wire import py_dumps
from nni_exp import fast_json

from . import commands as cmd
from .log import DispatcherLog
from .process import DispatcherProcess, SearchInfo

__all__ = ["OwnDispatcher", "pack_parameters"]

_LOGGER = "nni.runtime.msg_dispatcher"


def pack_parameters(parameter_id: Any, parameters: Any, source: str = "algorithm") -> str:
    """The content of a ``TR`` (and ``NO``) command: the packed parameters as the trial receives them."""
    return py_dumps({"parameter_id": parameter_id, "parameter_source": source, "parameters": parameters,
                     "parameter_index": 0})


class OwnDispatcher(DispatcherProcess):
    """A dispatcher process running one of :mod:`fakes.tuners` (see the module docstring)."""

    implementation = "own"

    def __init__(self, tuner: Tuner, emit: cmd.Emit, log: DispatcherLog, info: SearchInfo, *,
                 fail_after: Optional[int] = None) -> None:
        super().__init__(emit, log, info, fail_after=fail_after)
        self.tuner = tuner
        self._next_parameter_id = 0
        self._parameters: Dict[int, Any] = {}
        self._recovered_max = -1
        self._recovered: Dict[int, Any] = {}
        self.log.write("INFO", "nni.runtime.msg_dispatcher_base", "MainThread", "Dispatcher started")
        self._handlers: Dict[str, Callable[[Any], None]] = {
            cmd.INITIALIZE: self._initialize,
            cmd.REQUEST_TRIAL_JOBS: self._request_trial_jobs,
            cmd.REPORT_METRIC_DATA: self._report_metric_data,
            cmd.UPDATE_SEARCH_SPACE: self._update_search_space,
            cmd.IMPORT_DATA: self._import_data,
            cmd.ADD_CUSTOMIZED_TRIAL_JOB: self._add_customized_trial_job,
            cmd.TRIAL_END: self._trial_end,
        }

    def _decode(self, command: str, content: str) -> Any:
        return fast_json.loads(content)

    def _process(self, command: str, data: Any) -> None:
        handler = self._handlers.get(command)
        if handler is None:
            raise AssertionError(f"Unsupported command: {command}")
        handler(data)

    def _initialize(self, space: Any) -> None:
        self.log.write("INFO", _LOGGER, self.thread, f"Initial search space: {space}")
        self.tuner.update_search_space(space)
        self.send(cmd.INITIALIZED, "")

    def _update_search_space(self, space: Any) -> None:
        self.log.write("INFO", _LOGGER, self.thread, f"New search space: {space}")
        self.tuner.update_search_space(space)

    def _request_trial_jobs(self, count: Any) -> None:
        ids = list(range(self._next_parameter_id, self._next_parameter_id + int(count)))
        self._next_parameter_id += len(ids)
        produced: List[Any] = []
        for parameter_id in ids:
            try:
                produced.append(self.tuner.generate_parameters(parameter_id))
            except NoMoreTrials:
                break
        for parameter_id, parameters in zip(ids, produced):
            self._parameters[parameter_id] = parameters
            self.send(cmd.NEW_TRIAL_JOB, pack_parameters(parameter_id, parameters))
        if len(produced) < len(ids):
            self.send(cmd.NO_MORE_TRIAL_JOBS, pack_parameters(ids[0], ""))

    def _is_recovered(self, parameter_id: Any) -> bool:
        return isinstance(parameter_id, int) and parameter_id <= self._recovered_max

    def _report_metric_data(self, metric: Dict[str, Any]) -> None:
        parameter_id = metric.get("parameter_id")
        if isinstance(parameter_id, int) and self._is_recovered(parameter_id):
            if metric.get("type") == "FINAL":
                self._import_data([{"parameter": self._recovered[parameter_id],
                                    "value": json.loads(metric["value"])}])
            return
        if metric.get("type") != "FINAL":
            return  # no assessor: intermediate results go nowhere
        value = fast_json.loads(metric["value"])
        if parameter_id is None or parameter_id not in self._parameters:
            return  # customized trials are not the tuner's
        self.tuner.receive_trial_result(parameter_id, self._parameters[parameter_id], value)

    def _import_data(self, data: List[Dict[str, Any]]) -> None:
        entries = []
        for entry in data:
            value = entry.get("value")
            entries.append({**entry, "value": json.loads(value) if isinstance(value, str) else value})
        self.tuner.import_data(entries)

    def _add_customized_trial_job(self, data: Any) -> None:
        resumed = data if isinstance(data, list) else [data]
        highest = 0
        for item in resumed:
            packed = json.loads(item) if isinstance(item, str) else item
            parameter_id = packed.get("parameter_id")
            if not isinstance(parameter_id, int) or isinstance(parameter_id, bool):
                continue
            self._recovered[parameter_id] = packed.get("parameters")
            highest = max(highest, parameter_id)
        self._recovered_max = highest
        self._next_parameter_id = highest + 1

    def _trial_end(self, data: Dict[str, Any]) -> None:
        parameter_id = fast_json.loads(data["hyper_params"]).get("parameter_id")
        if self._is_recovered(parameter_id):
            return
        trial_end = getattr(self.tuner, "trial_end", None)
        if trial_end is not None:
            trial_end(parameter_id, data.get("event") == "SUCCEEDED")
