"""``NniDispatcher``: NNI's own dispatcher and algorithm classes behind the tuner command protocol.

The algorithms are created as NNI's dispatcher process creates them (``python -m nni``): a built-in
name through NNI's registry of algorithms (aliases, registered custom algorithms and built-in
``classArgs`` included; ``classArgs`` are checked by the constructor, as in NNI), a custom
``codeDirectory`` + ``className`` imported from that directory; a tuner with an optional assessor
goes into NNI's ``MsgDispatcher``, an advisor (Hyperband, BOHB) is its own dispatcher and an
assessor next to it is ignored. A ``tuner=`` override of the fake takes the tuner's place: an
``nni.tuner.Tuner`` as it is, a :class:`fakes.tuners.Tuner` or a callable through an adapter.

Each command is handed to NNI's ``process_command`` through :meth:`NniRuntime.call`, so that
whatever NNI's code does (parameter ids, ``TRIAL_BUDGET``, string ids, kill commands, crashes) is
what the fake does. If creating the algorithms fails, :class:`SearchStartError` carries the
dispatcher log; the manager then waits for a connection that never comes, as the real one does.
"""

from __future__ import annotations

import logging
import random
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from fakes.tuners import CallableTuner, NoMoreTrials, Tuner

from . import commands as cmd
from .log import MAIN_THREAD, DispatcherLog
from .nni_runtime import UNITTEST_CHANNEL, CustomCode, NniProcessState, NniRuntime, runtime
from .process import DispatcherProcess, SearchInfo, SearchStartError
from .randomness import SELF_CONTAINED, SeededRandomness

__all__ = ["NniDispatcher", "describe_algorithm"]


def describe_algorithm(config: Optional[Mapping[str, Any]]) -> str:
    """``TPE``, ``my_tuner.MyTuner (from /code)`` ...: an algorithm config in a few words."""
    if not config:
        return "none"
    name = config.get("name")
    if name:
        return str(name)
    class_name = config.get("className") or config.get("class_name")
    directory = config.get("codeDirectory") or config.get("code_directory")
    return f"{class_name} (from {directory})" if directory else str(class_name)


class _Channel:
    """What NNI's dispatcher classes send through: ``_send(CommandType, text)``."""

    def __init__(self, send: Callable[[str, str], None]) -> None:
        self._send_command = send

    def _send(self, command: Any, data: str) -> None:
        self._send_command(command.value, data)

    def disconnect(self) -> None:
        """Nothing to close: there is no socket."""


class NniDispatcher(DispatcherProcess):
    """A dispatcher process running NNI's own dispatcher (see the module docstring).

    Parameters
    ----------
    tuner, assessor
        The experiment's algorithm configs (camelCase, as posted to the manager).
    environment
        The dispatcher's environment variables (``NNI_MODE``, ``NNI_INCLUDE_INTERMEDIATE_RESULTS``,
        ``NNI_LOG_LEVEL`` ...).
    override
        The fake's ``tuner=``: replaces the configured tuner.
    seed
        Seeds the algorithms' unseeded randomness (see :mod:`fakes.search.randomness`); None: as in
        NNI, a new stream every run.
    """

    implementation = "nni"

    def __init__(self, tuner: Optional[Mapping[str, Any]], assessor: Optional[Mapping[str, Any]], *,
                 emit: cmd.Emit, log: DispatcherLog, info: SearchInfo, environment: Dict[str, str],
                 override: Any = None, seed: Optional[int] = None, fail_after: Optional[int] = None) -> None:
        super().__init__(emit, log, info, fail_after=fail_after)
        self._runtime: NniRuntime = runtime()
        self._state: NniProcessState = self._runtime.new_state(environment, warn=self._warn)
        self._custom: List[CustomCode] = [CustomCode(directory) for directory in _code_directories(
            [assessor] if override is not None else [tuner, assessor])]
        self._randomness = SeededRandomness(seed, swap_global_state=False) if seed is not None else None
        self._resume = environment.get("NNI_MODE") == "resume"
        self.algorithms: Dict[str, Any] = {}
        from nni.runtime.tuner_command_channel import CommandType

        self._command_types = {member.value: member for member in CommandType}
        try:
            self._dispatcher = self._create(tuner, assessor, override)
        except Exception as error:
            self._runtime.release(self._state)
            raise SearchStartError(f"{type(error).__name__}: {error}", log, info) from error

    # ------------------------------------------------------------------ creation (the process's main())

    def _create(self, tuner_config: Optional[Mapping[str, Any]], assessor_config: Optional[Mapping[str, Any]],
                override: Any) -> Any:
        hide = _module_roots(tuner_config) + _module_roots(assessor_config)
        return self._call(self._create_in_process, tuner_config, assessor_config, override, hide=hide)

    def _create_in_process(self, tuner_config: Optional[Mapping[str, Any]],
                           assessor_config: Optional[Mapping[str, Any]], override: Any) -> Any:
        """What ``python -m nni`` does before its main loop (NNI logs a failure as ``nni.main``)."""
        try:
            with self._runtime.registry_read_once():
                dispatcher = self._create_dispatcher(tuner_config, assessor_config, override)
        except Exception as error:
            logging.getLogger("nni.main").exception(error)
            raise
        dispatcher._channel = _Channel(self.send)
        if self._resume:
            dispatcher.load_checkpoint()
        logging.getLogger("nni.runtime.msg_dispatcher_base").info("Dispatcher started")
        return dispatcher

    def _create_dispatcher(self, tuner_config: Optional[Mapping[str, Any]],
                           assessor_config: Optional[Mapping[str, Any]], override: Any) -> Any:
        from nni.runtime.msg_dispatcher import MsgDispatcher
        from nni.runtime.msg_dispatcher_base import MsgDispatcherBase

        if override is not None:
            tuner = _as_nni_tuner(override)
        elif tuner_config is None:
            raise AssertionError("the experiment has no tuner")
        else:
            tuner = self._create_algorithm(tuner_config, "tuner")
        self.algorithms["tuner"] = tuner
        self._seed_for(tuner)
        if isinstance(tuner, MsgDispatcherBase):  # an advisor is its own dispatcher
            if assessor_config is not None:
                # NNI's message, braces included (its f-string prefix is missing)
                self.log.write("ERROR", "nni.main", MAIN_THREAD, "Tuner {type(tuner).__name__} has built-in early "
                                                                 "stopping logic. Assessor is ignored.")
            return tuner
        assessor = None
        if assessor_config is not None:
            assessor = self._create_algorithm(assessor_config, "assessor")
            self.algorithms["assessor"] = assessor
            self._seed_for(assessor)
        return MsgDispatcher(UNITTEST_CHANNEL, tuner, assessor)

    def _create_algorithm(self, config: Mapping[str, Any], kind: str) -> Any:
        from nni.tools.package_utils.tuner_factory import (
            create_builtin_class_instance,
            create_customized_class_instance,
        )

        if config.get("name"):
            algorithm = create_builtin_class_instance(config["name"], config.get("classArgs"), kind + "s")
        else:
            algorithm = create_customized_class_instance(dict(config))
        if algorithm is None:
            raise AssertionError(f"Failed to create {kind} instance")
        return algorithm

    def _seed_for(self, algorithm: Any) -> None:
        """Swap the process-wide random states for algorithms that use them (see :mod:`.randomness`)."""
        qualified = f"{type(algorithm).__module__}.{type(algorithm).__qualname__}"
        if self._randomness is not None and qualified not in SELF_CONTAINED:
            self._randomness.swap_global_state = True

    # ------------------------------------------------------------------ running

    def _call(self, function: Callable[..., Any], *args: Any, hide: Tuple[str, ...] = ()) -> Any:
        """``function(*args)`` as this dispatcher process (see :meth:`NniRuntime.call`)."""
        managers = tuple(code.applied(hide) for code in self._custom) if self._custom else ()
        return self._runtime.call(self._state, self._log_record, managers, function, *args,
                                  randomness=self._randomness)

    def _log_record(self, record: Any) -> None:
        self.log.record(record, self.thread)

    def _warn(self, message: str) -> None:
        self.log.write("WARNING", "py.warnings", self.thread, message)

    def _decode(self, command: str, content: str) -> Any:
        return self._state.serializer.load(content)

    def _process(self, command: str, data: Any) -> None:
        self._call(self._dispatcher.process_command, self._command_types[command], data)

    def _on_exit(self) -> None:
        self._call(self._exit_hooks)
        self._runtime.release(self._state)

    def _exit_hooks(self) -> None:
        for algorithm in self.algorithms.values():
            hook = getattr(algorithm, "_on_exit", None)
            if hook is not None:
                try:
                    hook()
                except Exception:  # noqa: BLE001 - the process is ending anyway
                    pass

    def kill(self) -> None:
        super().kill()
        self._runtime.release(self._state)


def _module_roots(config: Optional[Mapping[str, Any]]) -> Tuple[str, ...]:
    if not config or config.get("name"):
        return ()
    class_name = str(config.get("className") or config.get("class_name") or "")
    return (class_name.split(".")[0],) if "." in class_name else ()


def _code_directories(configs: List[Optional[Mapping[str, Any]]]) -> List[str]:
    """The distinct ``codeDirectory`` of the custom algorithms among ``configs``."""
    directories: List[str] = []
    for config in configs:
        if config and not config.get("name"):
            directory = config.get("codeDirectory") or config.get("code_directory")
            if directory and str(directory) not in directories:
                directories.append(str(directory))
    return directories


def _as_nni_tuner(override: Any) -> Any:
    """The fake's ``tuner=`` as an ``nni.tuner.Tuner``."""
    from nni.tuner import Tuner as NniTuner

    if isinstance(override, NniTuner):
        return override
    if isinstance(override, Tuner):
        return _adapt(override)
    if callable(override):
        return _adapt(CallableTuner(override, rng=random.Random()))
    raise TypeError(f"tuner override must be a tuner or a callable, got {type(override).__name__}")


def _adapt(tuner: Tuner) -> Any:
    import nni
    from nni.tuner import Tuner as NniTuner

    class OwnTuner(NniTuner):
        """A :class:`fakes.tuners.Tuner` seen by NNI's dispatcher as an ``nni.tuner.Tuner``."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = tuner

        def update_search_space(self, search_space: Any) -> None:
            self.inner.update_search_space(search_space)

        def generate_parameters(self, parameter_id: int, **kwargs: Any) -> Any:
            try:
                return self.inner.generate_parameters(parameter_id)
            except NoMoreTrials as error:
                raise nni.NoMoreTrialError(str(error)) from error

        def receive_trial_result(self, parameter_id: int, parameters: Any, value: Any, **kwargs: Any) -> None:
            self.inner.receive_trial_result(parameter_id, parameters, value)

        def import_data(self, data: Any) -> None:
            self.inner.import_data(data)

        def trial_end(self, parameter_id: int, success: bool, **kwargs: Any) -> None:
            hook = getattr(self.inner, "trial_end", None)
            if hook is not None:
                hook(parameter_id, success)

    return OwnTuner()
