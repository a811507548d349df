"""The real backend: NNI managers as processes on this machine (``backend='nni'``)."""

from .backend import RealBackend, RealClock, is_port_idle, nni_manager_command
from .checkpoint import load_stopped_config, read_stored_config
from .process import ManagerHandle, pid_alive

__all__ = [
    "RealBackend",
    "RealClock",
    "ManagerHandle",
    "is_port_idle",
    "nni_manager_command",
    "pid_alive",
    "load_stopped_config",
    "read_stored_config",
]
