"""NNI 3.0 search spaces in pure Python: validation, random sampling and grid enumeration.

The fake manager's tuners build on this module. It needs only the standard library (no numpy,
no nni), and follows the semantics of NNI 3.0's own HPO helpers:

* ``choice`` returns the option itself. When *every* option is a dict with a ``_name`` key the
  choice is a **nested choice**: the parameter becomes a dict holding the chosen ``_name`` plus
  the values sampled from that option's sub-space, e.g.
  ``{"layer": {"_name": "conv", "kernel": 3}}``. An option without sub-parameters gives just
  ``{"_name": ...}``.
* ``randint [low, high]`` draws an ``int`` in ``[low, high)`` (upper bound exclusive).
* ``uniform``/``loguniform [low, high]`` give floats in ``[low, high]``; log types are uniform in
  log space.
* ``quniform``/``qloguniform [low, high, q]``: draw ``x`` as for the plain type, then
  ``round(x / q) * q`` (Python's round-half-to-even), then clip into ``[low, high]``. The result is
  therefore a multiple of ``q`` *or* exactly ``low``/``high``; it is always a float.
* ``normal``/``lognormal [mu, sigma]``: Gaussian (of the log, for ``lognormal``); ``qnormal`` and
  ``qlognormal [mu, sigma, q]`` round to a multiple of ``q`` and are *not* clipped (so a
  ``qlognormal`` value may be ``0.0``).

Parameters are laid out in depth-first order (a nested choice's sub-parameters follow the
choice itself), which is also the dimension order of the grid search.
"""

from __future__ import annotations

import copy
import json
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Optional, Union

from nni_exp.errors import ConfigError

__all__ = [
    "SEARCH_SPACE_TYPES",
    "SearchSpaceError",
    "validate_search_space",
    "sample",
    "grid_points",
    "parameters_key",
    "FlatSpace",
    "GridWalker",
]

SearchSpace = dict[str, Any]
Parameters = dict[str, Any]

#: Every ``_type`` NNI 3.0 understands, in NNI's documentation order.
SEARCH_SPACE_TYPES: tuple[str, ...] = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)


class SearchSpaceError(ConfigError):
    """A search space is malformed; the message names the parameter path and the problem."""

    def __init__(self, message: str, path: Optional[str] = None) -> None:
        super().__init__(message, field="search_space")
        self.path = path


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def validate_search_space(space: object) -> None:
    """Raise :class:`SearchSpaceError` unless ``space`` is a well-formed NNI search space.

    Mirrors the checks of NNI 3.0's ``validate_search_space`` (dict of ``{"_type", "_value"}``
    specs, known types, 2 values or 3 for ``q*`` types, ints for ``randint``, numbers otherwise,
    ``low < high`` for uniform-like types, ``low > 0`` for ``log*uniform``, ``sigma > 0`` for
    normal-like types) and adds a few that NNI leaves to crash later: ``q > 0``, finite numbers,
    non-empty ``choice``, and nested-choice sub-spaces are checked recursively (an option list
    mixing ``_name`` dicts with other values is rejected). Unlike NNI's strict mode, ``choice``
    options may be any JSON value (lists, dicts, ``null``...): NNI's Random, GridSearch and Batch
    tuners accept them, and the Batch tuner's space is a ``choice`` of plain dicts. An empty
    space ``{}`` is valid (NNI's GridSearch rejects it when it receives it).
    """
    if not isinstance(space, dict):
        raise SearchSpaceError(f"search space must be a dict, got {type(space).__name__}: {space!r}")
    _validate_space(space, "")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _validate_space(space: dict[Any, Any], prefix: str) -> None:
    for name, spec in space.items():
        if prefix and name == "_name":
            continue  # the option name of a nested choice
        if not isinstance(name, str):
            raise SearchSpaceError(
                f"search space parameter names must be strings, got {name!r}"
                + (f" in {prefix!r}" if prefix else ""),
                prefix or None,
            )
        _validate_parameter(_join(prefix, name), spec)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _validate_parameter(path: str, spec: object) -> None:
    def fail(problem: str) -> SearchSpaceError:
        return SearchSpaceError(f'search space parameter "{path}": {problem}', path)

    if not isinstance(spec, dict):
        raise fail(f'expected a dict with "_type" and "_value", got {type(spec).__name__}: {spec!r}')
    missing = [key for key in ("_type", "_value") if key not in spec]
    if missing:
        raise fail(f"missing {' and '.join(repr(k) for k in missing)}: {spec!r}")
    type_ = spec["_type"]
    if type_ not in SEARCH_SPACE_TYPES:
        raise fail(f"unknown _type {type_!r}; expected one of {', '.join(SEARCH_SPACE_TYPES)}")
    values = spec["_value"]
    if not isinstance(values, list):
        raise fail(f'"_value" of a {type_} must be a list, got {type(values).__name__}: {values!r}')

    if type_ == "choice":
        _validate_choice(path, values, fail)
        return

    expected = 3 if type_.startswith("q") else 2
    if len(values) != expected:
        what = "[mu, sigma" if "normal" in type_ else "[low, high"
        what += ", q]" if expected == 3 else "]"
        raise fail(f"{type_} needs {expected} values {what}, got {len(values)}: {values!r}")
    if type_ == "randint":
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise fail(f"randint bounds must be integers, got {values!r}")
    else:
        if not all(_is_number(v) for v in values):
            raise fail(f"{type_} values must be numbers, got {values!r}")
        if not all(math.isfinite(v) for v in values):
            raise fail(f"{type_} values must be finite, got {values!r}")

    if "normal" in type_:
        if values[1] <= 0:
            raise fail(f"{type_} needs sigma > 0, got sigma={values[1]!r}")
    else:
        if values[0] >= values[1]:
            raise fail(f"{type_} needs low < high, got low={values[0]!r} high={values[1]!r}")
        if "log" in type_ and values[0] <= 0:
            raise fail(f"{type_} needs low > 0 (log of a non-positive number), got low={values[0]!r}")
    if expected == 3 and values[2] <= 0:
        raise fail(f"{type_} needs q > 0, got q={values[2]!r}")


def _validate_choice(path: str, values: list[Any], fail: Any) -> None:
    if not values:
        raise fail("choice needs at least one option, got an empty list")
    named = [isinstance(v, dict) and "_name" in v for v in values]
    if not any(named):
        return  # plain choice: the options are returned as they are
    if not all(named):
        bad = named.index(False)
        raise fail(
            f"nested choice option #{bad} ({values[bad]!r}) is not a dict with a \"_name\" key; "
            'either every option of a choice is a {"_name": ..., ...} dict or none is'
        )
    for option in values:
        _validate_space(option, f"{path}[{option['_name']}]")


# --------------------------------------------------------------------------------------------
# flattened form (one dimension per parameter, nested sub-parameters after their choice)
# --------------------------------------------------------------------------------------------

ParameterKey = tuple[Union[str, int], ...]


@dataclass(frozen=True)
class _Dim:
    """One parameter of a flattened search space."""

    key: ParameterKey  # names, with the option index after a nested choice's name
    type: str
    values: list[Any]
    parent: Optional[int]  # index of the nested choice dimension this one lives under
    branch: Optional[int]  # which option of that choice activates this dimension
    categorical: bool
    nested: bool = False  # a choice whose options are {"_name": ...} sub-spaces
    size: int = 0  # categorical only: number of candidates
    randint_low: int = 0
    low: float = 0.0  # uniform-like: bounds (logs of the bounds for log types)
    high: float = 0.0
    bounds: tuple[float, float] = (0.0, 0.0)  # uniform-like: the original [low, high]
    normal: bool = False
    mu: float = 0.0  # normal-like (of the log for log types)
    sigma: float = 1.0
    q: Optional[float] = None
    clip: bool = False  # q(log)uniform: clip into bounds after rounding
    log: bool = False


def _make_dim(key: ParameterKey, type_: str, values: list[Any], parent: Optional[int],
              branch: Optional[int]) -> _Dim:
    if type_ == "choice":
        nested = all(isinstance(v, dict) and "_name" in v for v in values)
        return _Dim(key, type_, values, parent, branch, categorical=True, nested=nested, size=len(values))
    if type_ == "randint":
        lower = math.ceil(float(values[0]))
        upper = math.ceil(float(values[1]))
        return _Dim(key, type_, values, parent, branch, categorical=True, size=upper - lower,
                    randint_low=min(lower, upper))
    q = float(values[2]) if type_.startswith("q") else None
    log = "log" in type_
    if "normal" in type_:
        return _Dim(key, type_, values, parent, branch, categorical=False, normal=True,
                    mu=float(values[0]), sigma=float(values[1]), q=q, log=log)
    low, high = float(values[0]), float(values[1])
    return _Dim(key, type_, values, parent, branch, categorical=False,
                low=math.log(low) if log else low, high=math.log(high) if log else high,
                bounds=(low, high), q=q, clip=q is not None, log=log)


class FlatSpace:
    """A validated search space flattened into an ordered list of parameter dimensions.

    Tuners keep one of these per search space so sampling and grid enumeration do not re-parse
    the space. The dimension order is NNI's: depth-first, sub-parameters of a nested choice
    right after the choice, option after option.
    """

    def __init__(self, space: SearchSpace) -> None:
        validate_search_space(space)
        self.space: SearchSpace = space
        self.dims: list[_Dim] = []
        self._flatten((), space, None, None)

    def _flatten(self, prefix: ParameterKey, space: dict[str, Any], parent: Optional[int],
                 branch: Optional[int]) -> None:
        for name, spec in space.items():
            if name == "_name":
                continue
            key: ParameterKey = (*prefix, name)
            dim = _make_dim(key, spec["_type"], spec["_value"], parent, branch)
            index = len(self.dims)
            self.dims.append(dim)
            if dim.nested:
                for option_index, option in enumerate(dim.values):
                    self._flatten((*key, option_index), option, index, option_index)

    def __len__(self) -> int:
        return len(self.dims)

    def is_active(self, index: int, chosen: dict[int, Any]) -> bool:
        """Whether dimension ``index`` is used, given the values already chosen for earlier ones."""
        dim = self.dims[index]
        if dim.parent is None:
            return True
        return dim.parent in chosen and chosen[dim.parent] == dim.branch

    def never_duplicates(self) -> bool:
        """True when random draws practically never repeat (NNI's deduplicator is then off).

        That is the case as soon as one parameter outside nested choices is continuous and not
        quantized.
        """
        return any(d.parent is None and not d.categorical and d.q is None for d in self.dims)

    def sample(self, rng: random.Random) -> Parameters:
        """Draw one parameter dict (see the module docstring for each type's semantics)."""
        chosen: dict[int, Any] = {}
        for index, dim in enumerate(self.dims):
            if not self.is_active(index, chosen):
                continue
            if dim.categorical:
                chosen[index] = rng.randrange(dim.size)
            elif dim.normal:
                chosen[index] = rng.normalvariate(dim.mu, dim.sigma)
            else:
                chosen[index] = rng.uniform(dim.low, dim.high)
        return self.deformat(chosen, clamp=True)

    def deformat(self, chosen: dict[int, Any], clamp: bool = False) -> Parameters:
        """Turn internal values (indices, log-space numbers) into the user's parameter dict.

        ``clamp`` additionally keeps non-quantized (log)uniform values inside their bounds,
        guarding against floating-point rounding at the edges.
        """
        params: Parameters = {}
        for index, x in chosen.items():
            dim = self.dims[index]
            if dim.categorical:
                if dim.type == "randint":
                    _assign(params, dim.key, dim.randint_low + int(x))
                elif dim.nested:
                    _assign(params, (*dim.key, "_name"), copy.deepcopy(dim.values[x]["_name"]))
                else:
                    _assign(params, dim.key, copy.deepcopy(dim.values[x]))
            else:
                value = _real_value(float(x), dim)
                if clamp and not dim.normal and dim.q is None:
                    value = min(max(value, dim.bounds[0]), dim.bounds[1])
                _assign(params, dim.key, value)
        return params


def _assign(params: Parameters, key: ParameterKey, value: Any) -> None:
    target = params
    names = [k for k in key if isinstance(k, str)]
    for name in names[:-1]:
        target = target.setdefault(name, {})
    target[names[-1]] = value


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _real_value(x: float, dim: _Dim) -> float:
    """Internal continuous value -> user value: exp for log types, then quantize, then clip."""
    if math.isinf(x):
        return x
    if dim.log:
        x = _exp(x)
    if dim.q is not None and math.isfinite(x):
        x = round(x / dim.q) * dim.q
    if dim.clip:
        x = min(max(x, dim.bounds[0]), dim.bounds[1])
    return x


def sample(space: SearchSpace, rng: random.Random) -> Parameters:
    """Draw one parameter dict from ``space`` with ``rng`` (NNI 3.0's Random tuner semantics).

    Raises :class:`SearchSpaceError` for a malformed space. The same ``rng`` state always gives
    the same result.
    """
    return FlatSpace(space).sample(rng)


def parameters_key(params: Any) -> str:
    """Canonical JSON of a parameter dict, used to detect already-seen parameters.

    Like NNI (``nni.dump(params, sort_keys=True)``), ``1`` and ``1.0`` are different keys.
    """
    return json.dumps(params, sort_keys=True, default=repr)


# --------------------------------------------------------------------------------------------
# grid enumeration
# --------------------------------------------------------------------------------------------


def _position_to_internal(position: float, dim: _Dim) -> float:
    """Inverse CDF: a quantile in [0, 1] -> the internal (log-space) value of the dimension."""
    if dim.normal:
        if position <= 0.0:
            return -math.inf
        if position >= 1.0:
            return math.inf
        return NormalDist(dim.mu, dim.sigma).inv_cdf(position)
    return dim.low + (dim.high - dim.low) * position


def _position_less(a: float, b: float, dim: _Dim) -> bool:
    """Whether quantile ``a`` gives a smaller user value than quantile ``b``."""
    return _real_value(_position_to_internal(a, dim), dim) < _real_value(_position_to_internal(b, dim), dim)


def _splittable(lo: float, mid: float, hi: float, dim: _Dim) -> bool:
    """Whether ``mid`` is a usable new quantile strictly between ``lo`` and ``hi``.

    For normal-like dimensions the quantile must also keep ``2 * mid - 1`` strictly inside
    (-1, 1): NNI computes ``erfinv(2 * mid - 1)``, which is infinite beyond that point.
    """
    if not lo < mid < hi:
        return False
    return not dim.normal or -1.0 < 2 * mid - 1 < 1.0


class GridWalker:
    """Walks NNI 3.0's grid-search order over a :class:`FlatSpace`.

    Categorical dimensions (``choice``, ``randint``) enumerate their candidates in order.
    Numeric dimensions are explored in *epochs* of quantiles: the first epoch uses only the
    median (1/2), the second adds 1/4 and 3/4, the third the odd eighths, and so on; an
    interval stops being split once both halves map to the same user value (through ``q``,
    clipping or log), which is how q-types and other effectively-discrete spaces end. Within
    an epoch parameter vectors are enumerated like an odometer: the last active dimension
    varies fastest, sub-parameters of unchosen nested options are left alone, and vectors made
    only of grid values from previous epochs are skipped.

    :meth:`next` may return a parameter dict already returned before (different quantiles can
    quantize to the same value); callers deduplicate with :func:`parameters_key`.
    ``position``: start as if the last point produced had been at that odometer position (NNI's
    GridSearch keeps its position when its search space is updated; a position with fewer
    dimensions than the space makes :meth:`next` raise ``IndexError``, as NNI's tuner does).
    Normal-like quantiles use ``statistics.NormalDist.inv_cdf`` where NNI uses scipy's
    ``erfinv``; the two agree to within a few ulps, so such values may differ in the last digits.
    An interval is no longer split once its midpoint is not representable strictly inside it,
    or, for normal-like types, once ``erfinv(2 * p - 1)`` would be infinite (quantiles within
    about 2**-53 of 0 or 1): NNI goes on there and yields infinite values (``qnormal``/
    ``qlognormal`` then crash it with ``OverflowError``), while this walker's normal-like grids
    end, which makes a ``qnormal``/``qlognormal``-only grid finite.
    """

    def __init__(self, flat: FlatSpace, position: Optional[Sequence[int]] = None) -> None:
        self.flat = flat
        self._grid: list[list[Any]] = []
        self._bar: list[int] = [0] * len(flat)
        self._divisions: dict[int, list[tuple[float, float]]] = {}
        self._vector: Optional[list[int]] = list(position) if position is not None else None
        self._done = False
        for index, dim in enumerate(flat.dims):
            if dim.categorical:
                self._grid.append(list(range(dim.size)))
            else:
                self._grid.append([0.5])
                self._divisions[index] = [
                    (lo, hi) for lo, hi in ((0.0, 0.5), (0.5, 1.0)) if _position_less(lo, hi, dim)
                ]

    @property
    def exhausted(self) -> bool:
        """True once every grid point has been produced."""
        return self._done

    @property
    def position(self) -> Optional[list[int]]:
        """The odometer position of the last point produced (None at the start of an epoch)."""
        return None if self._vector is None else list(self._vector)

    def next(self) -> Optional[Parameters]:
        """The next grid point as a parameter dict, or ``None`` when the grid is exhausted."""
        while not self._done:
            self._advance()
            if self._vector is None:
                self._refine()
                continue
            if all(v < bar for v, bar in zip(self._vector, self._bar)):
                continue  # every coordinate was already on the previous epochs' grid
            return self.flat.deformat(self._chosen(self._vector))
        return None

    def __iter__(self) -> Iterator[Parameters]:
        while True:
            point = self.next()
            if point is None:
                return
            yield point

    def _chosen(self, vector: Sequence[int]) -> dict[int, Any]:
        chosen: dict[int, Any] = {}
        for index, dim in enumerate(self.flat.dims):
            if self.flat.is_active(index, chosen):
                cell = self._grid[index][vector[index]]
                chosen[index] = cell if dim.categorical else _position_to_internal(cell, dim)
        return chosen

    def _advance(self) -> None:
        if self._vector is None:
            self._vector = [0] * len(self.flat)
            return
        active = list(self._chosen(self._vector))
        for index in reversed(active):
            if self._vector[index] + 1 < len(self._grid[index]):
                self._vector[index] += 1
                return
            self._vector[index] = 0
        self._vector = None  # end of this epoch

    def _refine(self) -> None:
        grew = False
        for index, dim in enumerate(self.flat.dims):
            self._bar[index] = len(self._grid[index])
            if dim.categorical:
                continue
            added: list[float] = []
            halves: list[tuple[float, float]] = []
            for lo, hi in self._divisions[index]:
                mid = (lo + hi) / 2
                if not _splittable(lo, mid, hi, dim):
                    continue  # floating-point precision exhausted: drop the interval
                left = _position_less(lo, mid, dim)
                right = _position_less(mid, hi, dim)
                # 0 and 1 are never grid values themselves, so an interval touching them counts
                # as splittable on that side
                if (left or lo == 0.0) and (right or hi == 1.0):
                    added.append(mid)
                    grew = True
                if left:
                    halves.append((lo, mid))
                    grew = grew or lo == 0.0
                if right:
                    halves.append((mid, hi))
                    grew = grew or hi == 1.0
            self._grid[index].extend(added)
            self._divisions[index] = halves
        if not grew:
            self._done = True


def grid_points(space: SearchSpace) -> Iterator[Parameters]:
    """Yield the distinct grid points of ``space`` in NNI 3.0's GridSearch order.

    Finite for spaces made of ``choice``, ``randint`` and q-types with a bounded range
    (quniform, qloguniform); infinite (ever finer) for other numeric types.
    """
    seen: set[str] = set()
    for point in GridWalker(FlatSpace(space)):
        key = parameters_key(point)
        if key not in seen:
            seen.add(key)
            yield point
