"""What importing nni-exp's modules costs: the in-memory fake does not load ``requests`` (nor YAML or
the HTTP server), and hypothesis's entry point loads nothing of nni-exp (issue 10). Each check runs
in a fresh interpreter, since this one has imported everything already."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9/3.10: the one table line this file needs is read by hand
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]


def run_fresh(code: str) -> Any:
    """Run ``code`` in a new interpreter (this checkout first on the path, no hypothesis plugins) and
    return the JSON it printed last."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HYPOTHESIS_NO_PLUGINS": "1"}
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_fake_loads_neither_requests_nor_yaml_nor_an_http_server() -> None:
    loaded = run_fresh("""
        import json, sys
        import fakes
        print(json.dumps([name for name in ("requests", "yaml", "http.server") if name in sys.modules]))
    """)
    assert loaded == []


def test_the_http_errors_are_requests_exceptions_once_named() -> None:
    result = run_fresh("""
        import json, pickle, sys
        import nni_exp.errors as errors
        before = "requests" in sys.modules
        from nni_exp.errors import ManagerError, ManagerUnreachableError, InvalidResponseError, TrialNotFoundError
        import requests
        from nni_exp.rest import error_for_answer
        raised = error_for_answer("GET", "http://localhost:1/api/v1/nni/trial-jobs/abc", 404, "{}")
        try:
            raise raised
        except requests.HTTPError as caught:
            caught_by_requests = caught is raised
        print(json.dumps({
            "requests_before": before,
            "same_class": errors.ManagerError is ManagerError,
            "http": isinstance(raised, requests.HTTPError) and isinstance(raised, errors.NniExpError),
            "not_found": type(raised) is TrialNotFoundError and isinstance(raised, TypeError),
            "caught": caught_by_requests,
            "connection": issubclass(ManagerUnreachableError, requests.ConnectionError),
            "json": issubclass(InvalidResponseError, requests.exceptions.JSONDecodeError),
            "module": ManagerError.__module__,
            "all": all(hasattr(errors, name) for name in errors.__all__),
        }))
    """)
    assert result == {"requests_before": False, "same_class": True, "http": True, "not_found": True, "caught": True,
                      "connection": True, "json": True, "module": "nni_exp.errors", "all": True}


def _entry_point() -> str:
    """``module:function`` of this checkout's ``hypothesis`` entry point, from its pyproject.toml."""
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    if tomllib is not None:
        return str(tomllib.loads(text)["project"]["entry-points"]["hypothesis"]["nni_exp"])
    section = text.split("[project.entry-points.hypothesis]", 1)[1].split("\n[", 1)[0]
    match = re.search(r'^nni_exp\s*=\s*"([^"]+)"', section, re.MULTILINE)
    assert match is not None, section
    return match.group(1)


def test_the_entry_point_is_read_alike_with_and_without_tomllib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python 3.9 and 3.10 have no ``tomllib``: the hand-read line must say what the TOML parser says."""
    with_parser = _entry_point() if tomllib is not None else "nni_exp.hypothesis_entry:register"
    monkeypatch.setattr(sys.modules[__name__], "tomllib", None)
    assert _entry_point() == with_parser == "nni_exp.hypothesis_entry:register"


def test_the_hypothesis_entry_point_loads_nothing_and_from_type_still_works() -> None:
    module, _, function = _entry_point().partition(":")
    for config_first in (False, True):
        result = run_fresh(f"""
            import importlib, json, sys, warnings
            if {config_first}:
                import nni_exp.config
            import hypothesis
            from hypothesis import strategies as st
            importlib.import_module({module!r}).{function}()
            loaded = [name for name in ("nni_exp.config", "nni_exp.strategies") if name in sys.modules]
            from nni_exp.config import AlgorithmConfig, ExperimentConfig
            warnings.simplefilter("ignore")
            config = st.from_type(ExperimentConfig).example()
            algorithm = st.from_type(AlgorithmConfig).example()
            print(json.dumps([loaded, type(config).__name__, isinstance(algorithm, AlgorithmConfig)]))
        """)
        expected_loaded = ["nni_exp.config"] if config_first else []
        assert result == [expected_loaded, "ExperimentConfig", True], config_first


def test_importing_the_fake_loads_no_config_class() -> None:
    """The fake needs only the algorithm table of ``nni_exp.config``: the config classes (a third of the
    fake's import time before issue 10) load on first use."""
    loaded = run_fresh("""
        import json, sys
        import fakes
        print(json.dumps(sorted(name for name in sys.modules if name.startswith("nni_exp.config"))))
    """)
    assert loaded == ["nni_exp.config", "nni_exp.config.diff", "nni_exp.config.known_algorithms"]


def test_the_config_package_names_resolve_whatever_was_imported_first() -> None:
    """``diff`` and ``known_algorithms`` are functions named like their modules: importing the module
    first (as the fake does) must not leave the module where the function should be; every other name
    loads its module on first use, and ``import *`` gives them all."""
    result = run_fresh("""
        import inspect, json
        import nni_exp.config.known_algorithms
        import nni_exp.config.diff
        import nni_exp.config as config
        namespace = {}
        exec("from nni_exp.config import *", namespace)
        print(json.dumps({
            "functions": [inspect.isfunction(config.known_algorithms), inspect.isfunction(config.diff)],
            "all": sorted(name for name in config.__all__ if getattr(config, name, None) is None),
            "star": sorted(set(config.__all__) - set(namespace)),
            "dir": sorted(set(config.__all__) - set(dir(config))),
            "unknown": not hasattr(config, "NoSuchConfig"),
            "loaded_on_use": config.ExperimentConfig.__module__,
        }))
    """)
    assert result == {"functions": [True, True], "all": [], "star": [], "dir": [], "unknown": True,
                      "loaded_on_use": "nni_exp.config.experiment_config"}
