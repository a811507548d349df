"""The recording session of a differential run: a :class:`tests.scenarios.session.Session` that

* calls the client API through *NNI's own client* on the real manager (``nni.experiment.Experiment``
  attached to the running manager) and through nni-exp on the fakes, so the two clients' results are
  compared too;
* records an error by the class NNI's client would raise (nni-exp's typed errors subclass it);
* follows every trial's status path and the experiment's distinct statuses over all its polls
  (step ``observed``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from tests.scenarios.conditions import Snapshot
from tests.scenarios.session import Session
from tests.scenarios.targets import TargetKind

from .behaviour import GeneratedBehaviour
from .generator import GeneratedScenario

__all__ = ["DifferentialSession", "nni_error_name"]


def nni_error_name(error: BaseException) -> str:
    """The name of the first class of ``error`` that is not nni-exp's own (what NNI would raise)."""
    for cls in type(error).__mro__:
        if not cls.__module__.startswith("nni_exp"):
            return cls.__name__
    return type(error).__name__


class DifferentialSession(Session):
    """One run of a generated scenario on one target (see the module docstring)."""

    def __init__(self, kind: TargetKind, scenario: GeneratedScenario) -> None:
        super().__init__(kind, f"differential-{scenario.seed}", GeneratedBehaviour(scenario), exact=True)
        self.generated = scenario
        #: Distinct experiment statuses over every poll of the run, in order.
        self.statuses: List[str] = []
        #: Trial index -> its distinct statuses over every poll, in order.
        self.paths: Dict[int, List[str]] = {}
        self.failure: Optional[str] = None

    def _poll(self, exp: str, with_metrics: bool = False) -> Snapshot:
        snapshot = super()._poll(exp, with_metrics)
        if not self.statuses or self.statuses[-1] != snapshot.status:
            self.statuses.append(snapshot.status)
        for job in snapshot.trials:
            path = self.paths.setdefault(self.trial_ids.index(job["trialJobId"]), [])
            if not path or path[-1] != job["status"]:
                path.append(job["status"])
        return snapshot

    def client(self, exp: str) -> Any:
        """The client of ``exp``: NNI's own ``Experiment`` on the real manager, nni-exp's on the fakes."""
        experiment = self.experiments[exp]
        if self.target.name != "nni":
            return experiment
        from nni.experiment import Experiment as NniExperiment

        client = NniExperiment(None, experiment.id)
        client.port = experiment.port
        client.url_prefix = experiment.url_prefix
        return client

    def _lifecycle(self, step: Dict[str, Any], action: Any) -> Tuple[Dict[str, Any], Any]:
        try:
            value = action()
        except Exception as error:  # noqa: BLE001 - recorded by type
            return {"error": nni_error_name(error)}, error
        return {"value": self._plain(value)}, value

    def _do_call(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        client = self.client(step["exp"])
        args = self.resolve(step.get("args", []))
        result, raw = self._lifecycle(step, lambda: getattr(client, step["method"])(*args))
        if "value" in result:
            result["value"] = self.norm.value(result["value"])
        return result, raw

    def observed(self, *, name: Optional[str] = None) -> Dict[str, Any]:
        """Record what every poll saw: the experiment's statuses and each trial's status path."""
        result: Dict[str, Any] = self.execute(self._step("observed", name))["raw"]
        return result

    def _do_observed(self, step: Dict[str, Any]) -> Tuple[Dict[str, Any], Any]:
        result = {"statuses": list(self.statuses),
                  "paths": {f"<trial:{index}>": list(path) for index, path in sorted(self.paths.items())}}
        return result, result

    def failed(self, message: str) -> None:
        """Record that the run could not go on (a wait timed out): ``message``."""
        self.failure = message
        self.steps.append({"op": "failed", "result": {"error": message.split(":", 1)[-1].strip()}})
