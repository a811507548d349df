"""NNI's dispatcher process, in this process: its per-process state, kept apart per fake experiment.

A real experiment's dispatcher is a process of its own. Running NNI's dispatcher in-process, many
fake experiments share one Python process, so what NNI keeps per process must be kept per
experiment instead:

* **module globals** of NNI's dispatcher path (:data:`PROCESS_GLOBALS`): the next parameter id and
  the parameters of every id, the assessor's trial histories, the advisors' id counters, the
  dispatcher's environment (``NNI_MODE``, ``NNI_INCLUDE_INTERMEDIATE_RESULTS``, the command
  channel). Each experiment gets fresh values (those of a freshly imported module) and keeps them;
  they are installed while its dispatcher works and saved when another experiment's needs the
  modules. When no experiment uses them, NNI's modules are left as they were found;
* **logging**: the dispatcher's log records go to the experiment's ``dispatcher.log``, not to the
  handlers of this process (NNI's stdout handler, pytest's capture); records of other threads are
  passed on as usual;
* **custom algorithm code**: modules imported from a ``codeDirectory`` belong to the experiment that
  imported them (a second experiment imports its own copy, as a new process would) and the
  directory is on ``sys.path`` only while that experiment's dispatcher works;
* **randomness** (``FakeManager(seed=N)``): see :mod:`fakes.search.randomness`;
* **serialization**: see :mod:`fakes.search.nni_serializer`.

Everything a dispatcher does happens under one lock (:attr:`NniRuntime.lock`).
"""

from __future__ import annotations

import collections
import contextlib
import copy
import importlib
import importlib.util
import logging
import os
import pickle
import sys
import threading
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .nni_serializer import Serializer, make_serializer

__all__ = [
    "PROCESS_GLOBALS",
    "UNITTEST_CHANNEL",
    "NniRuntime",
    "NniProcessState",
    "CustomCode",
    "nni_missing_reason",
    "runtime",
]

#: The command channel URL NNI's dispatcher classes accept without connecting anywhere.
UNITTEST_CHANNEL = "ws://_unittest_nni_exp_fake"

#: NNI's module globals that belong to a dispatcher process (module -> names). ``tests/
#: test_search_nni.py`` checks the list against the ``global`` statements of these modules.
PROCESS_GLOBALS: Dict[str, Tuple[str, ...]] = {
    "nni.runtime.msg_dispatcher": ("_next_parameter_id", "_trial_params", "_customized_parameter_ids",
                                   "_trial_history", "_ended_trials", "dispatcher_env_vars", "dump", "load"),
    "nni.runtime.msg_dispatcher_base": ("dispatcher_env_vars", "load"),
    "nni.runtime.common": ("_multi_phase",),
    "nni.algorithms.hpo.hyperband_advisor": ("_next_parameter_id", "_KEY"),
    "nni.algorithms.hpo.bohb_advisor.bohb_advisor": ("_next_parameter_id", "_KEY"),
}
#: Names that are the serializer, not state: installed from the experiment's serializer.
_SERIALIZER_NAMES = frozenset({"dump", "load"})

_missing: Optional[str] = None
_checked = False


def nni_missing_reason() -> Optional[str]:
    """Why NNI's dispatcher cannot run in this process (None when it can)."""
    global _missing, _checked
    if not _checked:
        _checked = True
        if importlib.util.find_spec("nni") is None:
            _missing = "nni is not installed"
        else:
            try:
                importlib.import_module("nni.runtime.msg_dispatcher")
            except Exception as error:  # noqa: BLE001 - any import failure means "not usable"
                _missing = f"nni cannot be imported: {type(error).__name__}: {error}"
    return _missing


class NniProcessState:
    """The per-process state of one simulated dispatcher process (see the module docstring)."""

    def __init__(self, values: Dict[str, Dict[str, Any]], serializer: Serializer) -> None:
        self.values = values
        self.serializer = serializer


class CustomCode:
    """Modules an experiment imports from its algorithm ``codeDirectory`` (see the module docstring)."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._root = os.path.realpath(directory)
        self.modules: Dict[str, ModuleType] = {}

    def _owns(self, module: Any) -> bool:
        path = getattr(module, "__file__", None)
        if not path:
            return False
        try:
            return os.path.realpath(path).startswith(self._root + os.sep)
        except (TypeError, ValueError):
            return False

    @contextlib.contextmanager
    def applied(self, hide: Tuple[str, ...] = ()) -> Iterator[None]:
        """``sys.path`` holds the directory and ``sys.modules`` this experiment's modules; ``hide``:
        top-level module names whose copies from elsewhere must not be found (a new process would
        import them from the directory)."""
        saved_path = list(sys.path)
        if self.directory not in sys.path:
            sys.path.append(self.directory)
        displaced: Dict[str, Optional[ModuleType]] = {}
        if hide:
            for name in list(sys.modules):
                if name.split(".")[0] in hide and name not in self.modules and not self._owns(sys.modules[name]):
                    displaced[name] = sys.modules.pop(name)
        for name, module in self.modules.items():
            displaced.setdefault(name, sys.modules.get(name))
            sys.modules[name] = module
        before = set(sys.modules)
        try:
            yield
        finally:
            for name in set(sys.modules) - before:
                if self._owns(sys.modules[name]):
                    self.modules[name] = sys.modules[name]
                    displaced.setdefault(name, None)
            for name, previous in displaced.items():
                if previous is None:
                    sys.modules.pop(name, None)
                else:
                    sys.modules[name] = previous
            sys.path[:] = saved_path


class _CaptureHandler:
    """Sends this thread's records to the working dispatcher's log; other threads' go on as usual.

    A minimal handler (``level`` and ``handle``, all a logger calls), cheap enough to create for
    every piece of dispatcher work.
    """

    __slots__ = ("_sink", "_others", "_thread")
    level = logging.NOTSET

    def __init__(self, sink: Callable[[logging.LogRecord], None], others: List[Any]) -> None:
        self._sink = sink
        self._others = others
        self._thread = threading.get_ident()

    def handle(self, record: logging.LogRecord) -> bool:
        if threading.get_ident() == self._thread:
            self._sink(record)
        else:
            for handler in self._others:
                if record.levelno >= handler.level:
                    handler.handle(record)
        return True


class NniRuntime:
    """NNI's modules, imported once, and whose per-process state is installed now."""

    def __init__(self) -> None:
        reason = nni_missing_reason()
        if reason:
            raise ModuleNotFoundError(reason)
        self.lock = threading.RLock()
        self._modules: Dict[str, ModuleType] = {}
        self._pristine: Dict[str, Dict[str, Any]] = {}
        for name, attributes in PROCESS_GLOBALS.items():
            try:
                module = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - an advisor whose optional package is missing
                continue
            self._modules[name] = module
            self._pristine[name] = {attr: getattr(module, attr) for attr in attributes}
        self._owner: Optional[NniProcessState] = None
        self._registry: Any = None
        self._registry_key: Any = None
        import nni

        self._nni = nni
        self._nni_logger = logging.getLogger("nni")
        self._root_logger = logging.getLogger()
        env_vars = sys.modules["nni.runtime.env_vars"]
        self._env_fields = env_vars.dispatcher_env_vars._fields
        # one class for every process's variables: building a namedtuple class costs a compile
        self._env_class = collections.namedtuple("EnvVars", self._env_fields)  # type: ignore[misc]

    # ------------------------------------------------------------------ per-process state

    def new_state(self, environment: Dict[str, str], warn: Optional[Callable[[str], None]] = None) -> NniProcessState:
        """Fresh per-process state for a new dispatcher process with these environment variables."""
        env = self._env_class(**{name: environment.get(name) for name in self._env_fields})
        serializer = make_serializer(warn)
        values: Dict[str, Dict[str, Any]] = {}
        for module, pristine in self._pristine.items():
            current: Dict[str, Any] = {}
            for attr, value in pristine.items():
                if attr == "dispatcher_env_vars":
                    current[attr] = env
                elif attr in _SERIALIZER_NAMES:
                    current[attr] = getattr(serializer, attr)
                else:
                    current[attr] = copy.deepcopy(value)
            values[module] = current
        return NniProcessState(values, serializer)

    def _activate(self, state: NniProcessState) -> None:
        if self._owner is state:
            return
        if self._owner is not None:
            self._save(self._owner)
        for module_name, values in state.values.items():
            module = self._modules[module_name]
            for attr, value in values.items():
                setattr(module, attr, value)
        self._owner = state

    def _save(self, state: NniProcessState) -> None:
        for module_name, values in state.values.items():
            module = self._modules[module_name]
            for attr in values:
                values[attr] = getattr(module, attr)

    def release(self, state: NniProcessState) -> None:
        """The process is gone: leave NNI's modules as they were found if it owned them."""
        with self.lock:
            if self._owner is state:
                self._save(state)
                for module_name, values in self._pristine.items():
                    module = self._modules[module_name]
                    for attr, value in values.items():
                        setattr(module, attr, value)
                self._owner = None

    # ------------------------------------------------------------------ NNI's registry of algorithms

    @contextlib.contextmanager
    def registry_read_once(self) -> Iterator[None]:
        """Within this block NNI's registry of algorithms (``builtin_algorithms.yml`` and the user's
        ``registered_algorithms.yml``) is read from disk only when a file changed since the last read
        (looked at on the block's first read).

        NNI's factory reads and parses both YAML files twice per algorithm it creates (about 20 ms);
        a fresh copy of the same entries is what it gets instead (unpickled: the entries are plain
        YAML data, and unpickling them is several times faster than ``copy.deepcopy``).
        """
        from nni.runtime.config import get_builtin_config_file, get_config_file
        from nni.tools.package_utils import config_manager

        original = config_manager.get_all_algo_meta
        checked = False

        def cached() -> Any:
            nonlocal checked
            if not checked:  # once per block: NNI reads the registry twice per algorithm, a moment apart
                checked = True
                files = (get_builtin_config_file("builtin_algorithms.yml"),
                         get_config_file("registered_algorithms.yml"))
                key = tuple((str(path), stat.st_mtime_ns, stat.st_size) for path, stat in
                            ((path, path.stat()) for path in files))
                if key != self._registry_key:
                    self._registry, self._registry_key = pickle.dumps(original(), pickle.HIGHEST_PROTOCOL), key
            return pickle.loads(self._registry)

        config_manager.get_all_algo_meta = cached
        try:
            yield
        finally:
            config_manager.get_all_algo_meta = original

    # ------------------------------------------------------------------ one unit of dispatcher work

    def call(self, state: NniProcessState, log_sink: Callable[[logging.LogRecord], None],
             managers: Tuple[Any, ...], function: Callable[..., Any], *args: Any, randomness: Any = None) -> Any:
        """``function(*args)`` run as the experiment's dispatcher process (see the module docstring);
        ``managers``: further context managers to enter around it (custom code); ``randomness``: the
        experiment's :class:`~fakes.search.randomness.SeededRandomness`, if it has one."""
        with self.lock:
            self._activate(state)
            nni = self._nni
            saved_functions = (nni.dump, nni.load)
            nni.dump, nni.load = state.serializer.dump, state.serializer.load
            nni_logger, root = self._nni_logger, self._root_logger
            saved_logging = (nni_logger.handlers, nni_logger.propagate, root.handlers)
            nni_logger.handlers = []
            nni_logger.propagate = True
            root.handlers = [_CaptureHandler(log_sink, saved_logging[2])]  # type: ignore[list-item]
            token = randomness.enter() if randomness is not None else None
            try:
                if not managers:
                    return function(*args)
                with contextlib.ExitStack() as stack:
                    for manager in managers:
                        stack.enter_context(manager)
                    return function(*args)
            finally:
                if randomness is not None:
                    randomness.exit(token)
                nni_logger.handlers, nni_logger.propagate, root.handlers = saved_logging
                nni.dump, nni.load = saved_functions


_runtime: Optional[NniRuntime] = None
_runtime_lock = threading.Lock()


def runtime() -> NniRuntime:
    """The process's :class:`NniRuntime` (imports ``nni`` on first use; ModuleNotFoundError without it)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = NniRuntime()
        return _runtime
