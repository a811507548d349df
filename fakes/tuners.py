"""The fake manager's tuners: NNI 3.0's Random, GridSearch and Batch, plus user callables.

The fake manager drives a tuner the way NNI's dispatcher does: it constructs it, sends the
search space with :meth:`Tuner.update_search_space` (again whenever the experiment's space is
updated), then asks :meth:`Tuner.generate_parameters` once per new trial, forwarding final
results with :meth:`Tuner.receive_trial_result` and resumed/imported data with
:meth:`Tuner.import_data`. A tuner signals that the space is exhausted by raising
:class:`NoMoreTrials` (NNI: ``nni.NoMoreTrialError``).

:func:`create_tuner` maps the experiment's tuner config onto these classes. Every built-in
tuner name of NNI 3.0 is accepted; the model-based ones (TPE, Anneal, Evolution, SMAC, ...) are
simulated by random sampling, since the fake only needs valid parameters, not good ones.
Only the standard library is used.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from typing import Any, Callable, Optional, Protocol, Union, runtime_checkable

from fakes.search_space import FlatSpace, GridWalker, SearchSpaceError, parameters_key
from nni_exp.config.known_algorithms import BUILTIN_TUNERS
from nni_exp.errors import ConfigError

__all__ = [
    "NoMoreTrials",
    "UnknownTunerError",
    "TunerArgumentError",
    "BatchSearchSpaceError",
    "Tuner",
    "RandomTuner",
    "GridSearchTuner",
    "BatchTuner",
    "CallableTuner",
    "TunerCallable",
    "BUILTIN_TUNERS",
    "builtin_tuner_name",
    "create_tuner",
]

SearchSpace = dict[str, Any]
Parameters = dict[str, Any]

#: ``fn(parameter_id, search_space, rng) -> parameters | None`` for :class:`CallableTuner`.
TunerCallable = Callable[[int, SearchSpace, random.Random], Optional[Parameters]]


class NoMoreTrials(Exception):
    """Raised by :meth:`Tuner.generate_parameters` when the tuner has nothing left to suggest."""


class UnknownTunerError(ConfigError, RuntimeError):
    """The tuner config names no built-in tuner (NNI: ``RuntimeError('Builtin name is not found: x')``).

    A ``ValueError`` (through :class:`~nni_exp.errors.ConfigError`) as well as the
    ``RuntimeError`` NNI raises.
    """

    #: The exception NNI raises in this case (what a dispatcher log shows).
    nni_exception = "RuntimeError"


class TunerArgumentError(ConfigError, TypeError):
    """``classArgs`` the tuner's constructor would reject (NNI: ``TypeError`` from the constructor)."""

    nni_exception = "TypeError"


class BatchSearchSpaceError(SearchSpaceError, RuntimeError):
    """The Batch tuner got a space that is not a single ``choice`` (NNI: ``RuntimeError``)."""

    nni_exception = "RuntimeError"


@runtime_checkable
class Tuner(Protocol):
    """What the fake manager needs from a tuner (a subset of ``nni.tuner.Tuner``)."""

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Receive the (new) search space; later suggestions use it."""

    def generate_parameters(self, parameter_id: int) -> Parameters:
        """Suggest the parameters of trial ``parameter_id``; raise :class:`NoMoreTrials` when done."""

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: Any) -> None:
        """Receive the final result of a trial."""

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Receive past trials as ``[{"parameter": {...}, "value": ...}, ...]``."""


def _require_space(flat: Optional[FlatSpace], tuner: str) -> FlatSpace:
    if flat is None:
        raise RuntimeError(f"{tuner}: update_search_space() must be called before generate_parameters()")
    return flat


class RandomTuner:
    """NNI 3.0's Random tuner: independent random draws, deduplicated on finite spaces.

    ``seed`` gives a reproducible sequence (same seed, same parameters); ``rng`` uses an existing
    ``random.Random`` instead. With neither, a seed is drawn and kept in :attr:`seed`, as NNI does.

    Like NNI, when the space has no continuous (non-``q``) parameter outside nested choices, a
    repeated draw is replaced by the next unseen grid-search point, and :class:`NoMoreTrials` is
    raised once every point has been produced; the memory of produced points is reset by
    :meth:`update_search_space`. Draws come from Python's ``random`` rather than numpy, so the
    values differ from NNI's for the same seed, but their shapes and ranges are the same.
    """

    def __init__(self, seed: Optional[int] = None, rng: Optional[random.Random] = None) -> None:
        if seed is None and rng is None:
            seed = random.SystemRandom().randrange(2**31)
        self.seed: Optional[int] = seed
        self.rng: random.Random = random.Random(seed) if seed is not None or rng is None else rng
        self._flat: Optional[FlatSpace] = None
        self._history: set[str] = set()
        self._grid: Optional[GridWalker] = None

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Validate and adopt ``search_space`` (raises :class:`SearchSpaceError`)."""
        self._flat = FlatSpace(search_space)
        self._history = set()
        self._grid = None

    def generate_parameters(self, parameter_id: int) -> Parameters:
        """One random parameter dict; :class:`NoMoreTrials` when a finite space is used up."""
        flat = _require_space(self._flat, "RandomTuner")
        params = flat.sample(self.rng)
        if flat.never_duplicates() or self._remember(params):
            return params
        if self._grid is None:
            self._grid = GridWalker(flat)
        while True:
            point = self._grid.next()
            if point is None:
                raise NoMoreTrials("search space fully explored")
            if self._remember(point):
                return point

    def _remember(self, params: Parameters) -> bool:
        key = parameters_key(params)
        if key in self._history:
            return False
        self._history.add(key)
        return True

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: Any) -> None:
        """Ignored: random search does not learn."""

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Ignored, as in NNI (imported parameters may be suggested again)."""


class GridSearchTuner:
    """NNI 3.0's GridSearch tuner: exhaustive, deterministic traversal of the grid.

    The order is NNI's (see :class:`fakes.search_space.GridWalker`): categorical parameters
    (``choice`` including nested choices, ``randint``) enumerate their candidates with the last
    parameter varying fastest; numeric parameters start at their median and are refined epoch by
    epoch (quartiles, then eighths, ...). Spaces of ``choice``/``randint``/``quniform``/
    ``qloguniform`` are finite: after the last point :class:`NoMoreTrials` is raised. A point is
    never produced twice, and points received through :meth:`import_data` are skipped.

    As in NNI, :meth:`update_search_space` builds the new grid but keeps the position in the walk
    and the memory of produced points: the walk goes on from where it was in the new grid (which
    can skip points), and raises ``IndexError`` at the next suggestion when the new space has more
    parameters than the position has dimensions.

    Differences from NNI: normal-like quantiles use ``statistics.NormalDist`` instead of scipy's
    ``erfinv`` (equal to a few ulps); nested choices more than one level deep work (NNI raises
    ``KeyError`` on them).
    """

    def __init__(self, optimize_mode: Optional[str] = None) -> None:
        self._walker: Optional[GridWalker] = None
        self._history: set[str] = set()

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Validate ``search_space`` and walk its grid from the current position (empty space: error)."""
        flat = FlatSpace(search_space)
        if len(flat) == 0:
            raise SearchSpaceError("Search space is empty: GridSearch needs at least one parameter")
        self._walker = GridWalker(flat, self._walker.position if self._walker is not None else None)

    def generate_parameters(self, parameter_id: int) -> Parameters:
        """The next unseen grid point; :class:`NoMoreTrials` once the grid is exhausted."""
        if self._walker is None:
            raise RuntimeError(
                "GridSearchTuner: update_search_space() must be called before generate_parameters()"
            )
        while True:
            point = self._walker.next()
            if point is None:
                raise NoMoreTrials("Search space fully explored")
            key = parameters_key(point)
            if key not in self._history:
                self._history.add(key)
                return point

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: Any) -> None:
        """Ignored: grid search does not learn."""

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Mark each record's ``parameter`` as already tried (exact JSON match, ``1 != 1.0``)."""
        for record in data:
            self._history.add(parameters_key(record["parameter"]))


class BatchTuner:
    """NNI 3.0's Batch tuner: replays a list of complete parameter dicts, in order.

    The space must have exactly one key, a ``choice`` whose ``_value`` list holds the parameter
    dicts (``{"combo": {"_type": "choice", "_value": [{"x": 1}, {"x": 2}]}}`` gives ``{"x": 1}``
    then ``{"x": 2}``, then :class:`NoMoreTrials`). Anything else raises
    :class:`BatchSearchSpaceError` (a ``RuntimeError`` like NNI's); unlike NNI, an option that is
    not a dict is rejected too.

    NNI quirks kept: an updated space replaces the list but not the position (the next trial
    takes the next *index* of the new list), and :meth:`import_data` drops the entries already
    handed out plus every imported ``parameter`` whose ``value`` is truthy (a value of ``0`` is
    not counted as a result) before restarting at the head of the remaining list.
    """

    def __init__(self) -> None:
        self._values: list[Any] = []
        self._count = -1

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Check the single-``choice`` shape and adopt its options."""
        if not isinstance(search_space, dict) or len(search_space) != 1:
            raise BatchSearchSpaceError(
                "BatchTuner needs a search space with exactly one key (a choice of parameter dicts), "
                f"got {len(search_space) if isinstance(search_space, dict) else type(search_space).__name__}"
                + (" keys" if isinstance(search_space, dict) else "")
            )
        (name, spec), = search_space.items()
        if not isinstance(spec, dict) or spec.get("_type") != "choice":
            kind = spec.get("_type") if isinstance(spec, dict) else type(spec).__name__
            raise BatchSearchSpaceError(
                f'BatchTuner: search space parameter "{name}" must be of _type "choice", got {kind!r}', name
            )
        values = spec.get("_value")
        if not isinstance(values, list):
            raise BatchSearchSpaceError(
                f'BatchTuner: "_value" of search space parameter "{name}" must be a list, got {values!r}',
                name,
            )
        for index, option in enumerate(values):
            if not isinstance(option, dict):
                raise BatchSearchSpaceError(
                    f'BatchTuner: option #{index} of "{name}" must be a complete parameter dict, '
                    f"got {option!r}",
                    name,
                )
        self._values = list(values)

    def generate_parameters(self, parameter_id: int) -> Parameters:
        """The next parameter dict of the list; :class:`NoMoreTrials` after the last one."""
        self._count += 1
        if self._count >= len(self._values):
            raise NoMoreTrials("no more parameters now")
        return copy.deepcopy(self._values[self._count])

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: Any) -> None:
        """Ignored."""

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Drop imported parameter dicts with a truthy ``value`` from the remaining list."""
        if not self._values:
            return
        self._values = self._values[self._count + 1:]
        self._count = -1
        for record in data:
            params = record["parameter"]
            if not record["value"]:
                continue
            if params in self._values:
                self._values.remove(params)


class CallableTuner:
    """A tuner backed by a user function ``fn(parameter_id, search_space, rng) -> dict | None``.

    ``fn`` gets the trial's parameter id, the current search space (``{}`` before any
    :meth:`update_search_space`) and a ``random.Random`` to draw from; it returns the
    parameters of that trial, or ``None`` when there are no more trials (then
    :class:`NoMoreTrials` is raised). The space is handed over unvalidated. Results and imported
    data are ignored.
    """

    def __init__(self, fn: TunerCallable, rng: Optional[random.Random] = None) -> None:
        self.fn = fn
        self.rng: random.Random = rng if rng is not None else random.Random()
        self.search_space: SearchSpace = {}

    def update_search_space(self, search_space: SearchSpace) -> None:
        """Remember the space for the next calls of ``fn``."""
        self.search_space = search_space

    def generate_parameters(self, parameter_id: int) -> Parameters:
        """``fn(parameter_id, search_space, rng)``; ``None`` becomes :class:`NoMoreTrials`."""
        params = self.fn(parameter_id, self.search_space, self.rng)
        if params is None:
            raise NoMoreTrials(f"tuner callable {getattr(self.fn, '__name__', self.fn)!r} returned None")
        if not isinstance(params, dict):
            raise TypeError(f"tuner callable must return a dict or None, got {type(params).__name__}")
        return params

    def receive_trial_result(self, parameter_id: int, parameters: Parameters, value: Any) -> None:
        """Ignored."""

    def import_data(self, data: list[dict[str, Any]]) -> None:
        """Ignored."""


# --------------------------------------------------------------------------------------------
# built-in registry
# --------------------------------------------------------------------------------------------

#: NNI 3.0's built-in tuners: builtin name -> aliases (one table, :mod:`nni_exp.config.known_algorithms`).
#: Hyperband and BOHB are advisors in NNI but are registered under the same tuner names.
_LOOKUP: dict[str, str] = {
    alias.lower(): name for name, aliases in BUILTIN_TUNERS.items() for alias in (name, *aliases)
}

# constructor parameters of the tuners the fake really implements (others accept anything)
_ACCEPTED_ARGS: dict[str, tuple[str, ...]] = {
    "Random": ("seed", "optimize_mode"),
    "GridSearch": ("optimize_mode",),
    "Batch": (),
}


def builtin_tuner_name(name: str) -> str:
    """The canonical built-in name for ``name`` (case-insensitive, aliases allowed).

    Raises :class:`UnknownTunerError` with NNI's message ``Builtin name is not found: <name>``
    (NNI lower-cases the name in that message).
    """
    canonical = _LOOKUP.get(name.lower())
    if canonical is None:
        raise UnknownTunerError(f"Builtin name is not found: {name.lower()}", field="tuner.name")
    return canonical


def _get(config: Mapping[str, Any], camel: str, snake: str) -> Any:
    return config.get(camel, config.get(snake))


def _seed_of(class_args: Mapping[str, Any]) -> Optional[int]:
    seed = class_args.get("seed")
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def create_tuner(
    algorithm: Optional[Mapping[str, Any]],
    *,
    rng: random.Random,
    override: Union[Tuner, TunerCallable, None] = None,
) -> Tuner:
    """Build the tuner for an experiment's tuner config (camelCase, as posted to the manager).

    * ``override``: a :class:`Tuner` instance is returned as is; a callable is wrapped in
      :class:`CallableTuner` (with ``rng``). ``algorithm`` is then ignored.
    * ``{"name": ..., "classArgs": {...}}``: the name is matched case-insensitively against
      NNI 3.0's built-in names and aliases (:data:`BUILTIN_TUNERS`); unknown names raise
      :class:`UnknownTunerError`. ``Random`` -> :class:`RandomTuner`, ``GridSearch`` ->
      :class:`GridSearchTuner`, ``Batch``/``BatchTuner`` -> :class:`BatchTuner`; every other
      built-in (TPE, Anneal, Evolution, SMAC, Metis, GP, Hyperband, BOHB, ...) -> random sampling.
      ``classArgs["seed"]`` seeds the random sampling when present, otherwise ``rng`` is used.
      ``classArgs`` that NNI's Random/GridSearch/Batch constructors would reject raise
      :class:`TunerArgumentError`; for the simulated tuners other arguments are ignored.
    * ``{"className": ..., "codeDirectory": ..., "classArgs": ...}`` (a custom tuner): not
      imported; simulated by random sampling, seeded by ``classArgs["seed"]`` when present.
    * ``None`` (no tuner configured): random sampling with ``rng``.

    snake_case keys (``class_name``, ``class_args``) are accepted too.
    """
    if override is not None:
        if isinstance(override, Tuner):
            return override
        if callable(override):
            return CallableTuner(override, rng=rng)
        raise TypeError(f"tuner override must be a Tuner or a callable, got {type(override).__name__}")
    if algorithm is None:
        return RandomTuner(rng=rng)

    class_args: Mapping[str, Any] = _get(algorithm, "classArgs", "class_args") or {}
    name = algorithm.get("name")
    if name is None:
        if _get(algorithm, "className", "class_name") is None:
            raise ConfigError("tuner config needs a \"name\" or a \"className\"", field="tuner")
        return _random_tuner(class_args, rng)
    if not isinstance(name, str):
        raise ConfigError(f"tuner name must be a string, got {name!r}", field="tuner.name")

    canonical = builtin_tuner_name(name)
    accepted = _ACCEPTED_ARGS.get(canonical)
    if accepted is not None:
        unexpected = sorted(set(class_args) - set(accepted))
        if unexpected:
            raise TunerArgumentError(
                f"{canonical} tuner got unexpected classArgs {', '.join(unexpected)}"
                + (f" (accepted: {', '.join(accepted)})" if accepted else " (it takes none)"),
                field="tuner.class_args",
            )
    if canonical == "GridSearch":
        return GridSearchTuner()
    if canonical == "Batch":
        return BatchTuner()
    return _random_tuner(class_args, rng)


def _random_tuner(class_args: Mapping[str, Any], rng: random.Random) -> RandomTuner:
    seed = _seed_of(class_args)
    return RandomTuner(seed=seed) if seed is not None else RandomTuner(rng=rng)
