"""Every public entry point of nni-exp, with a strategy of bad input for it (item 7 of issue 8).

Shared by ``tests/test_bad_input.py`` (bounded hypothesis tests) and
``benchmarks/bad_input_escapes.py`` (counts how many inputs escape as bare errors).

An :class:`EntryPoint` calls one public function with one value. :func:`outcome` runs it and sorts
what happened: it returned, it raised a typed error (:class:`~nni_exp.errors.NniExpError`, or a
``SystemExit`` with an int code from the CLI's argument parser), or a bare error escaped from inside
(``TypeError: unhashable type``, ``OverflowError`` ...), which is the defect these tests look for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from hypothesis import strategies as st

from fakes import FakeManager
from nni_exp import Experiment, ExperimentConfig, RunMode
from nni_exp.cli import main as cli_main
from nni_exp.config import (
    AlgorithmConfig,
    CustomAlgorithmConfig,
    FrameworkControllerConfig,
    KubeflowConfig,
    LocalConfig,
    NfsConfig,
    RemoteConfig,
    RemoteMachineConfig,
    load_config_file,
)
from nni_exp.errors import NniExpError

from .conftest import make_config

# The oracles below do not use the code under test (so the benchmark can also measure the code
# before the fixes): JavaScript's largest exact integer, NNI's id alphabets, a repr that never fails.
MAX_SAFE_INTEGER = 2**53 - 1


def is_valid_trial_id(value: Any) -> bool:
    """NNI's trial ids: ASCII letters and digits (``uniqueString(5)``), at most 64 here."""
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9]{1,64}", value) is not None


def is_valid_experiment_id(value: Any) -> bool:
    """NNI's experiment id rule: ``^[A-Za-z0-9_\\-]{1,32}$``."""
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_\-]{1,32}", value) is not None


def short_repr(value: Any, limit: int = 100) -> str:
    """``repr`` cut to ``limit``, and never failing (ints too long to print, broken reprs)."""
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001
        if isinstance(value, int):
            return f"<an int of about {int(value.bit_length() * 0.30103) + 1} digits>"
        return f"<a {type(value).__name__}>"
    return text if len(text) <= limit else text[:limit] + "..."

PLATFORMS = ("local", "remote", "openpai", "aml", "dlc", "kubeflow", "frameworkcontroller")


class _Opaque:
    """An object with nothing JSON or nni-exp knows."""

    def __repr__(self) -> str:
        return "<opaque>"


def _deep(levels: int) -> List[Any]:
    value: List[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def _holding_itself() -> List[Any]:
    value: List[Any] = [1]
    value.append(value)
    return value


_SPECIAL = st.sampled_from([
    float("inf"), float("-inf"), float("nan"), 10**400, -(10**400), 2**53, 2**63, 1e305, -0.0,
    "#", ".", "..", "\n", "", " ", "a/b", "a?b", "%zz", "kJqzO#x", "1e400s", "Infinityh", "1e305d", "NaNs", "-1d",
    "\x00", "\ud800", "ünï", "local", "remote", "Random", "0", "-1",
    b"", b"local", bytearray(b"x"), 1j, Ellipsis, NotImplemented, object(), _Opaque(), RunMode, type, len,
    frozenset(), range(3), memoryview(b"ab"),
])
_HUGE_INTS = st.builds(lambda digits, sign: sign * 10**digits, st.integers(4301, 5000), st.sampled_from([1, -1]))
_LEAVES = st.one_of(
    _HUGE_INTS, st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10), st.binary(max_size=4),
    st.complex_numbers(allow_nan=True), _SPECIAL,
)


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=3), st.tuples(children, children), st.sets(st.integers(), max_size=3),
        st.frozensets(st.text(max_size=2), max_size=2), st.dictionaries(st.text(max_size=4), children, max_size=3),
        st.dictionaries(st.integers() | st.tuples(st.integers()), children, max_size=2),
    )


#: Any Python value, scalar or nested, with the usual suspects over-represented.
ANYTHING: st.SearchStrategy[Any] = st.one_of(
    st.recursive(_LEAVES, _containers, max_leaves=8),
    st.builds(_deep, st.integers(99, 400)),
    st.builds(_holding_itself),
)


@dataclass
class Context:
    """A fake manager with an experiment running on port 8080 (its trials last 10,000 virtual s)."""

    fake: FakeManager
    experiment: Experiment

    def close(self) -> None:
        self.experiment.stop()
        self.fake.close()


def _slow_trial(params: Dict[str, Any], trial: Any) -> float:
    trial.sleep(10_000)
    return float(params["x"])


def running_context() -> Context:
    fake = FakeManager(_slow_trial, seed=1)
    experiment = Experiment(make_config(trial_concurrency=2, max_trial_number=100), backend=fake)
    experiment.start(port=8080)
    fake.advance(5)
    return Context(fake, experiment)


@dataclass(frozen=True)
class EntryPoint:
    """One public function fed one value.

    ``call(context, value)`` makes the call; ``values`` draws the values; ``must_fail(value)`` says
    which values the call has to refuse with a typed error (the others may also succeed);
    ``names(value, error)`` says whether the error's message names the bad value.
    """

    name: str
    call: Callable[[Context, Any], Any]
    values: st.SearchStrategy[Any] = ANYTHING
    must_fail: Callable[[Any], bool] = lambda value: True
    names: Callable[[Any, BaseException], bool] = lambda value, error: mentions(str(error), value)


def mentions(message: str, value: Any) -> bool:
    """Whether ``message`` shows ``value``: its text or repr (cut as messages cut them), or, for a
    container, one of its items, or for an object its type. An empty string is shown as ``''``,
    ``""`` or nothing between a colon and the end of a sentence (NNI's own message formats)."""
    if value == "" and isinstance(value, str):
        return any(mark in message for mark in ("''", '""', ": .")) or message.rstrip().endswith(":")
    if isinstance(value, str):
        shown = [value[:30], repr(value)[1:31], short_repr(value)[1:31]]
    else:
        shown = [short_repr(value)[:30], short_repr(value, 60)[:30]]
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            shown.append(type(value).__name__)
    if any(text and text in message for text in shown):
        return True
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**60:
        return "an int of about" in message  # nni-exp shows a long int by its size
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(mentions(message, item) for item in list(value)[:5] if item is not value)
    if isinstance(value, dict):
        return any(mentions(message, item) for pair in list(value.items())[:5] for item in pair)
    return False


@dataclass
class Outcome:
    """What a call did: ``error`` is the typed error it raised (None when it returned or exited
    through argparse); ``bare`` describes an untyped error that escaped (None when none did)."""

    error: Optional[BaseException] = None
    bare: Optional[str] = None


def outcome(entry: EntryPoint, context: Context, value: Any) -> Outcome:
    """Run ``entry`` with ``value`` and sort the result (see the module docstring)."""
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            entry.call(context, value)
    except NniExpError as error:
        return Outcome(error=error)
    except SystemExit as error:
        if isinstance(error.code, int):  # argparse's usage error: the CLI's typed exit
            return Outcome()
        return Outcome(bare=f"SystemExit({error.code!r})")
    except Exception as error:  # noqa: BLE001 - what escapes is what we look for
        where = traceback.extract_tb(error.__traceback__)[-1]
        return Outcome(bare=f"{type(error).__name__}: {short_repr(str(error), 120)} "
                            f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
    return Outcome()


# ---------------------------------------------------------------------------- the entry points


def _is_platform_spec(value: Any) -> bool:
    if isinstance(value, str):
        return value in PLATFORMS
    return isinstance(value, list) and all(isinstance(v, str) and v in PLATFORMS for v in value)


def _is_port(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536


def _is_count(minimum: int) -> Callable[[Any], bool]:
    return lambda value: (isinstance(value, int) and not isinstance(value, bool)
                          and minimum <= value <= MAX_SAFE_INTEGER)


def _is_backend_name(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in ("fake", "nni"))


def _fresh(context: Context) -> Experiment:
    return Experiment(make_config(), backend=context.fake)


def _config_field_call(cls: type) -> Callable[[Context, Any], Any]:
    fields = [f.name for f in dataclasses.fields(cls)]

    def call(_context: Context, drawn: Any) -> Any:
        index, value = drawn
        config = cls(**{fields[index % len(fields)]: value})
        config.validate()
        return config.json()

    return call


def _field_values(cls: type) -> st.SearchStrategy[Any]:
    return st.tuples(st.integers(0, len(dataclasses.fields(cls)) - 1), ANYTHING)


def _config_attribute(context: Context, drawn: Any) -> Any:
    index, value = drawn
    config = make_config()
    fields = [f.name for f in dataclasses.fields(ExperimentConfig)]
    setattr(config, fields[index % len(fields)], value)
    config.validate()
    return config.json()


def _names_field(cls: type) -> Callable[[Any, BaseException], bool]:
    """The message names the drawn value, or the field it was given to (as code or a file writes it),
    or the field the error is about (a required field the one-field config left unset)."""
    fields = [f.name for f in dataclasses.fields(cls)]

    def names(drawn: Any, error: BaseException) -> bool:
        index, value = drawn
        message = str(error)
        field = fields[index % len(fields)]
        camel = field.split("_")[0] + "".join(part.title() for part in field.split("_")[1:])
        about = getattr(error, "field", None)
        return (mentions(message, value) or field in message or camel in message
                or (isinstance(about, str) and about.rpartition(".")[2].split("[")[0] in message))

    return names


_ARGV_WORDS = st.sampled_from(["run", "--backend", "nni", "fake", "--simulate", "--trial", "m:f", "--max-trials",
                               "--max-duration", "--seed", "--port", "-h", "x.yml", "1e400s", "0", "-1", "%zz",
                               "--", "--bogus", "", "\x00"])


def _cli_text(_context: Context, argv: Any) -> Any:
    if argv and argv[0] == "fake-manager":  # serves until stopped: the fake server's own tests cover it
        return 0
    return cli_main(argv)


def _experiment_method(name: str) -> Callable[[Context, Any], Any]:
    return lambda context, value: getattr(context.experiment, name)(value)


def _unknown_experiment(context: Context) -> Experiment:
    return Experiment(None, id="nosuchexp", backend=context.fake)


ENTRY_POINTS: List[EntryPoint] = [
    EntryPoint("Experiment(config_or_platform)", lambda c, v: Experiment(v, backend=c.fake),
               ANYTHING.filter(lambda v: v is not None and not _is_platform_spec(v))),
    EntryPoint("Experiment(id=...)", lambda c, v: Experiment(None, id=v, backend=c.fake),
               ANYTHING.filter(lambda v: v is not None and not is_valid_experiment_id(v))),
    EntryPoint("Experiment(backend=...)", lambda c, v: Experiment(None, backend=v),
               ANYTHING.filter(lambda v: not _is_backend_name(v))),
    EntryPoint("Experiment.start(port=...)", lambda c, v: _fresh(c).start(port=v),
               ANYTHING.filter(lambda v: not _is_port(v))),
    EntryPoint("Experiment.start(run_mode=...)", lambda c, v: _fresh(c).start(port=9001, run_mode=v),
               ANYTHING.filter(lambda v: not isinstance(v, RunMode))),
    EntryPoint("Experiment.run(port=...)", lambda c, v: _fresh(c).run(port=v),
               ANYTHING.filter(lambda v: not _is_port(v))),
    EntryPoint("Experiment.run_or_resume(port=...)", lambda c, v: _fresh(c).run_or_resume(port=v),
               ANYTHING.filter(lambda v: not _is_port(v))),
    EntryPoint("Experiment.connect(port)", lambda c, v: Experiment.connect(v, backend=c.fake),
               ANYTHING.filter(lambda v: not _is_port(v))),
    EntryPoint("Experiment(...).resume(port=...)", lambda c, v: _unknown_experiment(c).resume(port=v)),
    EntryPoint("Experiment(...).view(port=...)", lambda c, v: _unknown_experiment(c).view(port=v, non_blocking=True)),
    EntryPoint("Experiment.resume(id) (deprecated)", lambda c, v: Experiment.resume(v, backend=c.fake),
               names=lambda v, error: mentions(str(error), v) or "nosuchexp" in str(error)),
    EntryPoint("Experiment.view(id) (deprecated)",
               lambda c, v: Experiment.view(v, non_blocking=True, backend=c.fake)),
    EntryPoint("Experiment.get_trial_job", _experiment_method("get_trial_job")),
    EntryPoint("Experiment.kill_trial_job", _experiment_method("kill_trial_job")),
    EntryPoint("Experiment.get_job_metrics", _experiment_method("get_job_metrics"),
               must_fail=lambda v: v is not None and not is_valid_trial_id(v)),
    EntryPoint("Experiment.get_experiment_metadata", _experiment_method("get_experiment_metadata"),
               must_fail=lambda v: False),
    EntryPoint("Experiment.update_trial_concurrency", _experiment_method("update_trial_concurrency"),
               ANYTHING.filter(lambda v: not _is_count(0)(v))),
    EntryPoint("Experiment.update_max_trial_number", _experiment_method("update_max_trial_number"),
               ANYTHING.filter(lambda v: not _is_count(1)(v))),
    EntryPoint("Experiment.update_max_experiment_duration", _experiment_method("update_max_experiment_duration"),
               st.one_of(ANYTHING, st.builds(lambda n, u: f"{n}{u}", st.floats() | st.integers(),
                                             st.sampled_from("smhd"))),
               must_fail=lambda v: _clearly_bad_duration(v)),
    EntryPoint("Experiment.update_search_space", _experiment_method("update_search_space"),
               st.one_of(ANYTHING, st.dictionaries(st.text(max_size=3), ANYTHING, min_size=1, max_size=3))
               .filter(lambda v: not isinstance(v, dict) or _not_json(v)),
               names=lambda v, error: "search_space" in str(error)),
    EntryPoint("ExperimentConfig(platform)", lambda c, v: ExperimentConfig(v),
               ANYTHING.filter(lambda v: v is not None and not _is_platform_spec(v))),
    EntryPoint("ExperimentConfig(**{field: value})", _config_field_call(ExperimentConfig),
               _field_values(ExperimentConfig), must_fail=lambda v: False, names=_names_field(ExperimentConfig)),
    EntryPoint("ExperimentConfig.<field> = value; validate()", _config_attribute,
               _field_values(ExperimentConfig), must_fail=lambda v: False, names=_names_field(ExperimentConfig)),
    *[EntryPoint(f"{cls.__name__}(**{{field: value}})", _config_field_call(cls), _field_values(cls),
                 must_fail=lambda v: False, names=_names_field(cls))
      for cls in (AlgorithmConfig, CustomAlgorithmConfig, LocalConfig, RemoteConfig, RemoteMachineConfig,
                  KubeflowConfig, FrameworkControllerConfig, NfsConfig)],
    EntryPoint("load_config_file(path)", lambda c, v: load_config_file(v),
               ANYTHING.filter(lambda v: not isinstance(v, str))),
    EntryPoint("ExperimentConfig.load(path)", lambda c, v: ExperimentConfig.load(v),
               ANYTHING.filter(lambda v: not isinstance(v, str))),
    EntryPoint("nni-exp main(argv) (not a list of strings)", lambda c, v: cli_main(v),
               ANYTHING.filter(lambda v: v is not None and not (isinstance(v, (list, tuple))
                                                                and all(isinstance(item, str) for item in v)))),
    EntryPoint("nni-exp main(argv) (strings)", _cli_text,
               st.lists(_ARGV_WORDS | st.text(max_size=6), max_size=5), must_fail=lambda v: False),
]


def _clearly_bad_duration(value: Any) -> bool:
    """No NNI duration: not a str or number, a bool, not finite, not positive, no unit, or beyond 2**53 s."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return True
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([-+0-9.eE_a-zA-Z]*?)\s*([smhdSMHD])", value)
        if match is None:
            return True
        try:
            amount = float(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2).lower()]
        except ValueError:
            return True
    else:
        amount = float(value) if abs(value) < 1e300 else float("inf")
    return not (0 < amount <= MAX_SAFE_INTEGER)


def _not_json(value: Any, depth: int = 0) -> bool:
    """Whether JSON cannot carry ``value`` to the manager (NaN, sets, bytes, odd keys, 100+ levels ...)."""
    if depth > 100:
        return True
    if value is None or isinstance(value, (bool, str)):
        return False
    if isinstance(value, int):
        return abs(value) > 1.7976931348623157e308
    if isinstance(value, float):
        return value != value or value in (float("inf"), float("-inf"))
    if isinstance(value, (list, tuple)):
        return any(_not_json(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(not isinstance(key, (str, int, float, bool, type(None))) or _not_json(key, depth + 1)
                   or _not_json(item, depth + 1) for key, item in value.items())
    return True
