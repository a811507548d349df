"""A metric row's and a listed trial's wire form, as JSON text and as the value that text decodes to.

The store answers ``GET /metric-data`` and ``GET /trial-jobs`` in both forms: the text for HTTP, the
value for the in-memory backend, which then neither writes nor parses the text. The value must be
exactly what ``json.loads`` gives for the text (types and key order included), so it is built
directly only where that is plain: a metric row of the usual column types, a listed trial whose
values are strings, integers, booleans and None in the usual places. Anything else goes through the
text. ``tests/test_wire_rows.py`` compares both forms on arbitrary rows and trials, and the suite checks
every value the in-memory backend takes against the text (``tests/conftest.py``).
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Tuple

from .wire import js_dumps

__all__ = ["METRIC_FIELDS", "MetricRow", "metric_dict", "metric_json", "metric_value", "usual_metric_row",
           "plain_listed_trial", "usual_metric_values", "KeptTrial", "kept_listed_trial", "listed_trial_value"]

#: The columns of a metric row, in the order the manager writes them.
METRIC_FIELDS = ("timestamp", "trialJobId", "parameterId", "type", "sequence", "data")
#: A metric row as the store keeps it: its values in :data:`METRIC_FIELDS` order.
MetricRow = Tuple[Any, ...]

#: A string as ``JSON.stringify`` writes it (and as ``js_dumps`` does: the C encoder, non-ASCII kept).
_js_string = json.encoder.encode_basestring
#: Values that read back from JSON as themselves, with their type.
_SCALARS = (str, int, bool, type(None))


def metric_dict(row: MetricRow) -> Dict[str, Any]:
    """A metric row as the dict the manager shows (its columns as keys, in order)."""
    return dict(zip(METRIC_FIELDS, row))


def usual_metric_row(row: MetricRow) -> bool:
    """Whether ``row`` has the column types the simulator writes: integers, strings, a string or None."""
    timestamp, trial_job_id, parameter_id, metric_type, sequence, data = row
    return (type(timestamp) is int and type(sequence) is int and type(trial_job_id) is str
            and type(metric_type) is str and type(data) is str and (parameter_id is None or type(parameter_id) is str))


def metric_json(row: MetricRow) -> str:
    """``js_dumps`` of a metric row's dict, written directly for the usual column types (seven times
    faster: a million trials' metrics are written on the first query that lists them)."""
    if usual_metric_row(row):
        timestamp, trial_job_id, parameter_id, metric_type, sequence, data = row
        parameter_text = "null" if parameter_id is None else _js_string(parameter_id)
        return (f'{{"timestamp":{timestamp},"trialJobId":{_js_string(trial_job_id)},"parameterId":{parameter_text},'
                f'"type":{_js_string(metric_type)},"sequence":{sequence},"data":{_js_string(data)}}}')
    return js_dumps(metric_dict(row))


def usual_metric_values(rows: Iterable[MetricRow]) -> List[Dict[str, Any]]:
    """``[metric_value(row) for row in rows]`` for :func:`usual_metric_row` rows, made faster."""
    return [{"timestamp": timestamp, "trialJobId": trial, "parameterId": parameter, "type": kind, "sequence": sequence,
             "data": data} for timestamp, trial, parameter, kind, sequence, data in rows]


def metric_value(row: MetricRow) -> Dict[str, Any]:
    """``json.loads(metric_json(row))``, without the text for a usual row."""
    if usual_metric_row(row):
        return metric_dict(row)
    return json.loads(metric_json(row))  # type: ignore[no-any-return,unused-ignore]


def plain_listed_trial(item: Dict[str, Any]) -> bool:
    """Whether :func:`listed_trial_value` gives ``json.loads(js_dumps(item))`` for ``item`` kept with
    :func:`kept_listed_trial`: string keys, scalar values (no float: JavaScript may write it as an
    integer), except ``hyperParameters``, a list of strings, and ``finalMetricData``, a list of usual
    metric dicts."""
    for key, value in item.items():
        if type(key) is not str:
            return False
        if type(value) in _SCALARS:
            continue
        if key == "hyperParameters" and type(value) is list:
            if not all(type(text) is str for text in value):
                return False
        elif key == "finalMetricData" and type(value) is list:
            if not all(type(metric) is dict and tuple(metric) == METRIC_FIELDS
                       and usual_metric_row(tuple(metric.values())) for metric in value):
                return False
        else:
            return False
    return True


#: A :func:`plain_listed_trial` item as the store keeps it (:func:`kept_listed_trial`).
KeptTrial = Dict[str, Any]


def kept_listed_trial(item: Dict[str, Any]) -> KeptTrial:
    """A :func:`plain_listed_trial` item in a form the garbage collector stops tracking: its two lists
    made tuples (of strings, of metric rows). Kept for a 100k-trial experiment as dicts holding lists,
    the items made every full collection of the process walk 400k more containers. ``item`` is taken
    over."""
    hyper_parameters = item.get("hyperParameters")
    if type(hyper_parameters) is list:
        item["hyperParameters"] = tuple(hyper_parameters)
    final_metrics = item.get("finalMetricData")
    if type(final_metrics) is list:
        item["finalMetricData"] = tuple(tuple(metric.values()) for metric in final_metrics)
    return item


def listed_trial_value(kept: KeptTrial) -> Dict[str, Any]:
    """The item :func:`kept_listed_trial` took over, as a new value (its lists and metric dicts new too)."""
    item = kept.copy()
    hyper_parameters = item.get("hyperParameters")
    if type(hyper_parameters) is tuple:
        item["hyperParameters"] = list(hyper_parameters)
    final_metrics = item.get("finalMetricData")
    if type(final_metrics) is tuple:
        item["finalMetricData"] = usual_metric_values(final_metrics)
    return item
