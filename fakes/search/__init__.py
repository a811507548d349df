"""The fake manager's search: a simulated NNI dispatcher process behind NNI's tuner command protocol.

The simulated manager (:mod:`fakes.simulator`) talks to the search only through the commands of
:mod:`fakes.search.commands`, as NNI's manager talks to its dispatcher process. Two implementations
sit behind that seam:

* ``"nni"`` (:class:`~fakes.search.nni_dispatcher.NniDispatcher`): NNI's own dispatcher and
  algorithm classes, in-process: every built-in tuner, assessor and advisor, and custom ones. The
  default whenever ``nni`` can be imported;
* ``"own"`` (:class:`~fakes.search.own.OwnDispatcher`): nni-exp's own samplers (Random, GridSearch,
  Batch); other algorithms are approximated (random sampling, assessors ignored) and
  :attr:`SearchInfo.approximations` says so. Used without ``nni``, or when asked for.

:func:`open_search` picks and starts one for an experiment.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from fakes.tuners import BUILTIN_TUNERS, NoMoreTrials, Tuner, create_tuner
from nni_exp.config.known_algorithms import BUILTIN_ASSESSORS

from . import commands
from .log import MAIN_THREAD, DispatcherLog
from .nni_dispatcher import NniDispatcher, describe_algorithm
from .nni_runtime import UNITTEST_CHANNEL, nni_missing_reason
from .own import OwnDispatcher
from .process import DispatcherProcess, InjectedTunerError, SearchInfo, SearchStartError

__all__ = [
    "SEARCH_IMPLEMENTATIONS",
    "SearchRequest",
    "SearchInfo",
    "SearchStartError",
    "SearchUnavailableError",
    "DispatcherProcess",
    "DispatcherLog",
    "InjectedTunerError",
    "open_search",
    "resolve_implementation",
    "nni_missing_reason",
    "commands",
    "OWN_EXACT_TUNERS",
    "KNOWN_ASSESSORS",
]

#: Values of ``FakeManager(search=...)``.
SEARCH_IMPLEMENTATIONS = ("auto", "nni", "own")
#: Built-in tuners the own samplers implement (with NNI's semantics, not its random streams).
OWN_EXACT_TUNERS = ("Random", "GridSearch", "Batch")
#: NNI 3.0's built-in assessors (the own implementation ignores them).
KNOWN_ASSESSORS = tuple(BUILTIN_ASSESSORS)


class SearchUnavailableError(RuntimeError):
    """``search="nni"`` was asked for where ``nni`` cannot be imported."""


@dataclass(frozen=True)
class SearchRequest:
    """What the manager tells the dispatcher process it starts (its config and environment)."""

    tuner: Optional[Mapping[str, Any]]
    assessor: Optional[Mapping[str, Any]] = None
    #: ``"start"`` or ``"resume"`` (``NNI_MODE``).
    mode: str = "start"
    #: ``deprecated.includeIntermediateResults`` (``NNI_INCLUDE_INTERMEDIATE_RESULTS``).
    include_intermediate_results: bool = False
    log_level: str = "info"
    log_directory: str = ""
    checkpoint_directory: str = ""

    def environment(self) -> Dict[str, str]:
        """The dispatcher's environment variables, as the manager sets them."""
        return {
            "SDK_PROCESS": "dispatcher",
            "NNI_MODE": self.mode,
            "NNI_CHECKPOINT_DIRECTORY": self.checkpoint_directory,
            "NNI_LOG_DIRECTORY": self.log_directory,
            "NNI_LOG_LEVEL": self.log_level,
            "NNI_INCLUDE_INTERMEDIATE_RESULTS": "true" if self.include_intermediate_results else "false",
            "NNI_TUNER_COMMAND_CHANNEL": UNITTEST_CHANNEL,
        }


def resolve_implementation(choice: str) -> str:
    """``"nni"`` or ``"own"`` for a ``search`` setting (``auto``: ``nni`` when it can be imported)."""
    if choice not in SEARCH_IMPLEMENTATIONS:
        raise ValueError(f"search must be one of {', '.join(SEARCH_IMPLEMENTATIONS)}, got {choice!r}")
    if choice == "own":
        return "own"
    reason = nni_missing_reason()
    if choice == "nni" and reason:
        raise SearchUnavailableError(f'search="nni" needs NNI 3.0 in this process ({reason}); '
                                     'install it (pip install "nni-exp[nni]") or use search="own"')
    return "own" if reason else "nni"


def open_search(request: SearchRequest, *, emit: commands.Emit, log: DispatcherLog, implementation: str = "auto",
                override: Any = None, seed: Optional[int] = None,
                fail_after: Optional[int] = None) -> DispatcherProcess:
    """Start the dispatcher process of an experiment.

    ``emit(command, content)`` receives what it sends to the manager; ``log`` is its
    ``dispatcher.log``; ``override`` is the fake's ``tuner=``; ``seed`` makes its randomness
    reproducible; ``fail_after`` is the ``tuner_error`` fault. Raises :class:`SearchStartError`
    when the algorithms cannot be created (the real process exits before it connects).
    """
    chosen = resolve_implementation(implementation)
    if chosen == "nni":
        tuner = _override_name(override) if override is not None else describe_algorithm(request.tuner)
        info = SearchInfo("nni", tuner, describe_algorithm(request.assessor) if request.assessor else None)
        return NniDispatcher(request.tuner, request.assessor, emit=emit, log=log, info=info,
                             environment=request.environment(), override=override, seed=seed, fail_after=fail_after)
    tuner, info = _own_search(request, override, seed)
    if isinstance(tuner, BaseException):
        kind = getattr(tuner, "nni_exception", type(tuner).__name__)  # the exception NNI has there
        log.write("ERROR", "nni.main", MAIN_THREAD, str(tuner),
                  f"Traceback (most recent call last):\n  (nni-exp's own samplers)\n{kind}: {tuner}")
        raise SearchStartError(f"{kind}: {tuner}", log, info)
    return OwnDispatcher(tuner, emit, log, info, fail_after=fail_after)


def _override_name(override: Any) -> str:
    """``override RandomTuner`` for a tuner object, ``override my_function()`` for a callable."""
    if callable(override) and not hasattr(override, "generate_parameters"):
        return f"override {getattr(override, '__name__', type(override).__name__)}()"
    return f"override {type(override).__name__}"


def _own_search(request: SearchRequest, override: Any, seed: Optional[int]) -> Tuple[Any, SearchInfo]:
    """The own sampler for ``request`` and what it approximates (or the error NNI would raise)."""
    rng = random.Random(seed)
    notes = []
    assessor = request.assessor
    if assessor:
        name = assessor.get("name")
        if name and str(name).lower() not in {known.lower() for known in KNOWN_ASSESSORS}:
            return RuntimeError(f"Builtin name is not found: {str(name).lower()}"), SearchInfo(
                "own", describe_algorithm(request.tuner), describe_algorithm(assessor))
        notes.append(f"assessor {describe_algorithm(assessor)} is ignored (no early stopping)")
    if override is not None:
        tuner: Any = _own_override(override, rng)
        return tuner, SearchInfo("own", _override_name(override), describe_algorithm(assessor) if assessor else None,
                                 tuple(notes))
    config = request.tuner
    if config is None:
        return AssertionError("the experiment has no tuner"), SearchInfo("own", "none")
    try:
        tuner = create_tuner(config, rng=rng)
    except Exception as error:  # noqa: BLE001 - what NNI's dispatcher would fail with
        return error, SearchInfo("own", describe_algorithm(config))
    name = config.get("name")
    if not name:
        notes.insert(0, f"custom tuner {describe_algorithm(config)} is not imported without nni: random sampling")
    else:
        canonical = next((key for key, aliases in BUILTIN_TUNERS.items()
                          if str(name).lower() in {key.lower(), *(a.lower() for a in aliases)}), str(name))
        if canonical not in OWN_EXACT_TUNERS:
            notes.insert(0, f"tuner {canonical} is approximated by random sampling")
    return tuner, SearchInfo("own", describe_algorithm(config), describe_algorithm(assessor) if assessor else None,
                             tuple(notes))


def _own_override(override: Any, rng: random.Random) -> Tuner:
    """The fake's ``tuner=`` for the own dispatcher: an ``nni.tuner.Tuner`` through an adapter, the
    rest as :func:`fakes.tuners.create_tuner` takes overrides."""
    if _is_nni_tuner(override):
        return _NniTunerAsOwn(override)
    return create_tuner(None, rng=rng, override=override)


def _is_nni_tuner(value: Any) -> bool:
    return any(f"{klass.__module__}.{klass.__name__}" == "nni.tuner.Tuner" for klass in type(value).__mro__)


class _NniTunerAsOwn:
    """An ``nni.tuner.Tuner`` object driven by the own dispatcher (``search="own"``)."""

    def __init__(self, tuner: Any) -> None:
        self.inner = tuner

    def update_search_space(self, search_space: Dict[str, Any]) -> None:
        self.inner.update_search_space(search_space)

    def generate_parameters(self, parameter_id: int) -> Dict[str, Any]:
        try:
            return self.inner.generate_parameters(parameter_id)
        except Exception as error:
            if type(error).__name__ == "NoMoreTrialError":
                raise NoMoreTrials(str(error)) from error
            raise

    def receive_trial_result(self, parameter_id: int, parameters: Dict[str, Any], value: Any) -> None:
        self.inner.receive_trial_result(parameter_id, parameters, value)

    def import_data(self, data: Any) -> None:
        self.inner.import_data(data)

    def trial_end(self, parameter_id: int, success: bool) -> None:
        self.inner.trial_end(parameter_id, success)
