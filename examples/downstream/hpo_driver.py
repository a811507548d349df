"""A small hyper-parameter-optimisation driver built on nni-exp (an example downstream project).

``tune(config)`` runs an NNI experiment to the end and returns the best parameters;
``summarize(url)`` reads a running manager's progress over its REST API with ``requests``, as a
dashboard or a monitoring job would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import requests

from nni_exp import Experiment, ExperimentConfig

__all__ = ["TuningFailed", "Progress", "tune", "summarize"]


class TuningFailed(RuntimeError):
    """The experiment ended in ERROR, or no trial succeeded."""


@dataclass(frozen=True)
class Progress:
    """What :func:`summarize` reads from a manager."""

    status: str
    trials: int
    succeeded: int
    failed: int


def _score(value: Any) -> float:
    """A trial's final result as a number (NNI allows a dict with a ``default`` key)."""
    if isinstance(value, dict):
        value = value["default"]
    return float(value)


def tune(config: ExperimentConfig, backend: Any = None, *, port: int = 8080,
         minimize: bool = False) -> Dict[str, Any]:
    """Run the experiment of ``config`` on ``backend`` (nni-exp's default when None) until it ends.

    Returns the parameters of the best succeeded trial (the largest final result, or the smallest
    with ``minimize``). Raises :class:`TuningFailed` when the experiment ends in ERROR or no trial
    succeeded. The manager is stopped before returning.
    """
    with Experiment(config, backend=backend) as experiment:
        if experiment.run(port) is not True:
            raise TuningFailed(f"experiment {experiment.id} ended with status {experiment.get_status()}")
        results = experiment.export_data()
    if not results:
        raise TuningFailed(f"experiment {experiment.id}: no trial succeeded")
    choose = min if minimize else max
    best = choose(results, key=lambda result: _score(result.value))
    return dict(best.parameter)


def summarize(url: str, timeout: float = 5.0, session: Optional[requests.Session] = None) -> Progress:
    """The progress of the experiment whose manager's REST API root is ``url``
    (``http://host:port/api/v1/nni``)."""
    http = session or requests.Session()
    status = http.get(f"{url}/check-status", timeout=timeout)
    status.raise_for_status()
    jobs = http.get(f"{url}/trial-jobs", timeout=timeout)
    jobs.raise_for_status()
    statuses: List[str] = [job["status"] for job in jobs.json()]
    return Progress(status=status.json()["status"], trials=len(statuses),
                    succeeded=statuses.count("SUCCEEDED"), failed=statuses.count("FAILED"))
