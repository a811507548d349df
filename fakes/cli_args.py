"""The fake manager server's command line: the NNI manager's own arguments, plus a few of ours.

NNI's launcher starts its manager as ``node main.js --port P --experiment-id ID --action create
--mode local --experiments-directory DIR --log-level info --foreground false [--url-prefix X]
[--tuner-command-channel URL] --python-interpreter PY`` (see :meth:`nni_exp.backend.ManagerArgs.to_argv`).
:func:`parse_args` accepts exactly that command line and validates it as the manager does
(``nni_node/common/globals/arguments.js`` and ``paths.js``):

* ``--port``, ``--experiment-id``, ``--action``, ``--experiments-directory``, ``--log-level`` and
  ``--python-interpreter`` are required;
* ``--action`` is one of ``create``/``resume``/``view``; ``--log-level`` one of ``critical``,
  ``error``, ``warning``, ``info``, ``debug``, ``trace`` (so Python's ``fatal`` is refused);
* ``--port`` must be a number, ``--foreground`` a boolean (``true``/``false``, or the bare flag);
* ``--url-prefix`` must already be stripped of leading and trailing ``/``;
* ``--experiments-directory`` must be absolute;
* unknown arguments are refused; camelCase spellings (``--experimentId``) and ``--name=value``
  are accepted, as yargs does.

Any violation raises :class:`CommandLineError`; the server prints its message on stderr and exits
with code 1, as the manager does.

Our own arguments (the real manager has none of these): ``--trial module:function`` (the scripted
trial, see :mod:`fakes.trials`), ``--seed N``, ``--time-scale X`` (virtual seconds per real second,
default 1), ``--host H`` (the address to listen on, default ``127.0.0.1``) and ``--search WHO``
(``auto``, ``nni`` or ``own``: who runs the search, see :mod:`fakes.search`).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn, Optional

from nni_exp.backend import ACTIONS, ManagerArgs

from .search import SEARCH_IMPLEMENTATIONS
from .trials import TrialFunction

__all__ = [
    "CommandLineError", "ServerArgs", "parse_args", "load_trial_function", "LOG_LEVELS", "build_parser",
]

#: The manager's ``--log-level`` choices, least verbose last.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class CommandLineError(ValueError):
    """The command line is invalid; the message says why (printed on stderr, exit code 1)."""


@dataclass(frozen=True)
class ServerArgs:
    """A parsed and validated command line."""

    #: The manager's own arguments.
    manager: ManagerArgs
    #: ``--trial``: ``module:function`` of the scripted trial, or None for the default trial.
    trial: Optional[str] = None
    #: ``--seed``: seeds trial ids and tuners, or None for a random seed.
    seed: Optional[int] = None
    #: ``--time-scale``: virtual seconds per real second.
    time_scale: float = 1.0
    #: ``--host``: the address the HTTP server binds.
    host: str = "127.0.0.1"
    #: ``--search``: who runs the search (``auto``, ``nni`` or ``own``; see :mod:`fakes.search`).
    search: str = "auto"
    #: ``--real-trials``: run the config's ``trialCommand`` per trial (:mod:`fakes.local_trials`).
    real_trials: bool = False


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` that raises instead of exiting, so that the caller owns the exit code."""

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(message)


def build_parser(prog: str = "python -m fakes.server") -> argparse.ArgumentParser:
    """The argument parser (``--help`` prints its usage, under the name ``prog``)."""
    parser = _Parser(
        prog=prog,
        description="A fake NNI 3.0 manager (REST server) with NNI manager's command line.",
        allow_abbrev=False,
    )
    nni = parser.add_argument_group("NNI manager arguments")
    nni.add_argument("--port", dest="port", metavar="PORT",
                     help="REST port (required)")
    nni.add_argument("--experiment-id", "--experimentId", dest="experiment_id", metavar="ID",
                     help="experiment id (required)")
    nni.add_argument("--action", dest="action", metavar="ACTION",
                     help="create, resume or view (required)")
    nni.add_argument("--mode", dest="mode", default="", metavar="PLATFORM",
                     help="training service platform (only recorded)")
    nni.add_argument("--experiments-directory", "--experimentsDirectory", dest="experiments_directory",
                     metavar="DIR", help="absolute experiment working directory (required)")
    nni.add_argument("--log-level", "--logLevel", dest="log_level", metavar="LEVEL",
                     help=f"one of {', '.join(LOG_LEVELS)} (required)")
    nni.add_argument("--foreground", dest="foreground", nargs="?", const="true", default="false",
                     metavar="BOOL", help="also print log lines on stdout (default false)")
    nni.add_argument("--url-prefix", "--urlPrefix", dest="url_prefix", default="", metavar="PREFIX",
                     help="URL prefix, without leading or trailing '/'")
    nni.add_argument("--tuner-command-channel", "--tunerCommandChannel", dest="tuner_command_channel",
                     default=None, metavar="URL",
                     help="external tuner channel (accepted; the fake always uses its built-in tuner)")
    nni.add_argument("--python-interpreter", "--pythonInterpreter", dest="python_interpreter",
                     metavar="PYTHON", help="Python interpreter for the tuner and trials (required)")
    ours = parser.add_argument_group("fake manager arguments")
    ours.add_argument("--trial", dest="trial", default=None, metavar="MODULE:FUNCTION",
                      help="the scripted trial fn(params, trial) (default: fakes.trials:default_trial)")
    ours.add_argument("--seed", dest="seed", default=None, metavar="N",
                      help="seed of trial ids and tuners (default: random)")
    ours.add_argument("--time-scale", "--timeScale", dest="time_scale", default="1", metavar="X",
                      help="virtual seconds per real second (default 1)")
    ours.add_argument("--host", dest="host", default="127.0.0.1", metavar="HOST",
                      help="address to listen on (default 127.0.0.1)")
    ours.add_argument("--search", dest="search", default="auto", metavar="WHO",
                      help="who runs the search: auto (NNI's own dispatcher and algorithms when nni can be "
                           "imported, else nni-exp's own samplers), nni or own (default auto)")
    ours.add_argument("--real-trials", dest="real_trials", action="store_true",
                      help="run the experiment's trialCommand for each trial, as NNI's local training service "
                           "does (default: scripted trials, see --trial)")
    return parser


_REQUIRED = (
    ("port", "port"),
    ("experiment_id", "experimentId"),
    ("action", "action"),
    ("experiments_directory", "experimentsDirectory"),
    ("log_level", "logLevel"),
    ("python_interpreter", "pythonInterpreter"),
)


def parse_args(argv: Optional[Sequence[str]] = None) -> ServerArgs:
    """Parse and validate a command line (without the program name); raises :class:`CommandLineError`."""
    parser = build_parser()
    namespace, unknown = parser.parse_known_args(list(argv) if argv is not None else None)
    if unknown:
        raise CommandLineError(f"Unknown arguments: {', '.join(_argument_name(a) for a in unknown)}")
    missing = [yargs_name for name, yargs_name in _REQUIRED if getattr(namespace, name) is None]
    if missing:
        label = "argument" if len(missing) == 1 else "arguments"
        raise CommandLineError(f"Missing required {label}: {', '.join(missing)}")

    port = _number(namespace.port, "port")
    if port != int(port) or not 0 <= port <= 65535:
        raise CommandLineError(f"Command line arg --port {namespace.port} is not a valid port")
    _choice(namespace.action, "action", ACTIONS)
    _choice(namespace.log_level, "logLevel", LOG_LEVELS)
    foreground = _boolean(namespace.foreground, "foreground")
    url_prefix: str = namespace.url_prefix
    if url_prefix.startswith("/") or url_prefix.endswith("/"):
        raise CommandLineError(f'Command line arg --url-prefix "{url_prefix}" is not stripped')
    directory: str = namespace.experiments_directory
    if not os.path.isabs(directory):
        raise CommandLineError(f'Command line arg --experiments-directory "{directory}" is not absolute')
    if not namespace.experiment_id:
        raise CommandLineError("Command line arg --experiment-id is empty")

    seed: Optional[int] = None
    if namespace.seed is not None:
        try:
            seed = int(namespace.seed)
        except ValueError:
            raise CommandLineError(f"--seed must be an integer, got {namespace.seed!r}") from None
    try:
        time_scale = float(namespace.time_scale)
    except ValueError:
        time_scale = math.nan
    if not math.isfinite(time_scale) or time_scale <= 0:
        raise CommandLineError(f"--time-scale must be a positive number, got {namespace.time_scale!r}")
    if namespace.trial is not None:
        _split_trial_spec(namespace.trial)
    _choice(namespace.search, "search", SEARCH_IMPLEMENTATIONS)

    manager = ManagerArgs(
        port=int(port),
        experiment_id=namespace.experiment_id,
        action=namespace.action,
        mode=namespace.mode,
        experiments_directory=directory,
        log_level=namespace.log_level,
        foreground=foreground,
        url_prefix=url_prefix or None,
        tuner_command_channel=namespace.tuner_command_channel,
        python_interpreter=namespace.python_interpreter,
    )
    if namespace.real_trials and namespace.trial:
        raise CommandLineError("--real-trials runs the experiment's trialCommand: it cannot be combined with --trial")
    return ServerArgs(manager=manager, trial=namespace.trial, seed=seed, time_scale=time_scale,
                      host=namespace.host, search=namespace.search, real_trials=namespace.real_trials)


def load_trial_function(spec: Optional[str]) -> Optional[TrialFunction]:
    """Import ``module:function`` (the function may be a dotted attribute path); None for None.

    Raises :class:`CommandLineError` when the module cannot be imported or the name is not a
    callable.
    """
    if spec is None:
        return None
    module_name, attribute = _split_trial_spec(spec)
    try:
        target: object = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any import failure is a bad --trial
        raise CommandLineError(f"--trial {spec}: cannot import module {module_name!r}: "
                               f"{type(error).__name__}: {error}") from None
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise CommandLineError(f"--trial {spec}: no attribute {attribute!r} in {module_name!r}") from None
    if not callable(target):
        raise CommandLineError(f"--trial {spec}: {attribute!r} is not callable")
    return target


def _split_trial_spec(spec: str) -> list[str]:
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise CommandLineError(f"--trial must be module:function, got {spec!r}")
    return [module_name, attribute]


def _argument_name(text: str) -> str:
    return text.lstrip("-").split("=", 1)[0] if text.startswith("-") else text


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise CommandLineError(f"Command line arg --{name} is not a number")
    return value


def _choice(value: str, name: str, choices: Sequence[str]) -> None:
    if value not in choices:
        listed = ", ".join(f'"{choice}"' for choice in choices)
        raise CommandLineError(f'Invalid values:\n  Argument: {name}, Given: "{value}", Choices: {listed}')


def _boolean(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CommandLineError(f'Command line arg --{name} must be true or false, got "{value}"')
