"""The tuner command protocol: what NNI's manager and its dispatcher ("the tuner") say to each other.

NNI 3.0's manager drives the search through a channel of two-letter commands, each with a text
content (``nni/runtime/tuner_command_channel/command_type.py`` names them). The fake speaks the same
protocol, with the same contents, between its simulated manager and :mod:`fakes.search`.

Manager to dispatcher (:data:`TO_DISPATCHER`):

=====  ======================================================================================
``IN``  INITIALIZE: the search space (JSON), once, when the dispatcher has connected
``GE``  REQUEST_TRIAL_JOBS: how many parameter sets to send (a decimal number)
``ME``  REPORT_METRIC_DATA: a metric as the trial sent it (JSON with ``parameter_id``,
        ``trial_job_id``, ``type``, ``sequence`` and the JSON-encoded ``value``)
``SS``  UPDATE_SEARCH_SPACE: the new search space (JSON)
``FD``  IMPORT_DATA: ``[{"parameter": ..., "value": ...}, ...]`` (import-data, and past results on
        resume)
``AD``  ADD_CUSTOMIZED_TRIAL_JOB: on resume, the packed parameters of the trials that run again
``EN``  TRIAL_END: ``{"trial_job_id", "event", "hyper_params"}`` when a trial has ended
``TE``  TERMINATE: the experiment stops
``PI``  PING (the manager's channel drops it: it never reaches a dispatcher)
=====  ======================================================================================

Dispatcher to manager (:data:`FROM_DISPATCHER`):

=====  ======================================================================================
``ID``  INITIALIZED: the answer to ``IN``
``TR``  NEW_TRIAL_JOB: packed parameters ``{"parameter_id", "parameter_source", "parameters",
        "parameter_index"}`` for one new trial
``SP``  SEND_TRIAL_JOB_PARAMETER: more parameters for a running (multi-phase) trial
``NO``  NO_MORE_TRIAL_JOBS: the search has nothing more to suggest now
``KI``  KILL_TRIAL_JOB: stop a trial (an assessor's early stop); the content is the JSON trial id
``ER``  ERROR: the dispatcher failed; the manager goes to ERROR
=====  ======================================================================================
"""

from __future__ import annotations

from typing import Callable

__all__ = [
    "INITIALIZE",
    "REQUEST_TRIAL_JOBS",
    "REPORT_METRIC_DATA",
    "UPDATE_SEARCH_SPACE",
    "IMPORT_DATA",
    "ADD_CUSTOMIZED_TRIAL_JOB",
    "TRIAL_END",
    "TERMINATE",
    "PING",
    "INITIALIZED",
    "NEW_TRIAL_JOB",
    "SEND_TRIAL_JOB_PARAMETER",
    "NO_MORE_TRIAL_JOBS",
    "KILL_TRIAL_JOB",
    "ERROR",
    "TO_DISPATCHER",
    "FROM_DISPATCHER",
    "ASSESSOR_QUEUE_COMMANDS",
    "Emit",
]

INITIALIZE = "IN"
REQUEST_TRIAL_JOBS = "GE"
REPORT_METRIC_DATA = "ME"
UPDATE_SEARCH_SPACE = "SS"
IMPORT_DATA = "FD"
ADD_CUSTOMIZED_TRIAL_JOB = "AD"
TRIAL_END = "EN"
TERMINATE = "TE"
PING = "PI"

INITIALIZED = "ID"
NEW_TRIAL_JOB = "TR"
SEND_TRIAL_JOB_PARAMETER = "SP"
NO_MORE_TRIAL_JOBS = "NO"
KILL_TRIAL_JOB = "KI"
ERROR = "ER"

TO_DISPATCHER = frozenset({INITIALIZE, REQUEST_TRIAL_JOBS, REPORT_METRIC_DATA, UPDATE_SEARCH_SPACE, IMPORT_DATA,
                           ADD_CUSTOMIZED_TRIAL_JOB, TRIAL_END, TERMINATE, PING})
FROM_DISPATCHER = frozenset({INITIALIZED, NEW_TRIAL_JOB, SEND_TRIAL_JOB_PARAMETER, NO_MORE_TRIAL_JOBS,
                             KILL_TRIAL_JOB, ERROR})
#: Commands NNI's dispatcher hands to its second worker (the assessor's): trial ends, and
#: ``PERIODICAL`` metrics (the routing also looks at the metric type).
ASSESSOR_QUEUE_COMMANDS = frozenset({TRIAL_END})

#: ``emit(command, content)``: how a dispatcher sends a command back to the manager.
Emit = Callable[[str, str], None]
