"""``nni-exp run``: the main job, on the fake manager."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nni_exp.cli import load_trial_function, main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "quickstart" / "config.yml"


def test_run_example_on_the_fake(capsys):
    assert main(["run", str(EXAMPLE), "--trial", "fake_trial:objective", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "RUNNING" in out and "Experiment " in out and ": DONE" in out
    assert out.count("SUCCEEDED") == 12
    assert "Best (maximize): trial " in out


def test_run_default_trial_quiet(capsys):
    assert main(["run", str(EXAMPLE), "--quiet", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "RUNNING" not in out.split("Experiment")[0]  # no progress lines
    assert "Best (maximize)" in out


def test_run_exit_code_on_error(tmp_path, capsys):
    config = tmp_path / "config.yml"
    config.write_text(EXAMPLE.read_text().replace("name: TPE", "name: NoSuchTuner"))
    (tmp_path / "search_space.json").write_text((EXAMPLE.parent / "search_space.json").read_text())
    assert main(["run", str(config)]) == 1
    assert ": ERROR (tuner_command_channel: Tuner did not connect" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["run", "missing.yml"], "missing.yml"),
    (["run", str(EXAMPLE), "--trial", "nocolon"], "MODULE:FUNCTION"),
    (["run", str(EXAMPLE), "--trial", "no_such_module_xyz:f"], "no_such_module_xyz"),
    (["run", str(EXAMPLE), "--trial", "fake_trial:missing"], "has no function 'missing'"),
    (["run", str(EXAMPLE), "--backend", "nni", "--seed", "1"], "only apply to the fake backend"),
])
def test_run_bad_usage_exits_2(args, message, capsys):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_config_exits_2(tmp_path, capsys):
    config = tmp_path / "config.yml"
    config.write_text("trialConcurrency: 0\n")
    assert main(["run", str(config)]) == 2
    assert "nni-exp: " in capsys.readouterr().err


def test_usage_without_command(capsys):
    assert main([]) == 2


def test_load_trial_function_search_path(tmp_path):
    (tmp_path / "my_trials_mod.py").write_text("def f(params, trial):\n    return 1\n")
    assert load_trial_function("my_trials_mod:f", [tmp_path])({}, None) == 1


def test_console_script_runs():
    result = subprocess.run([sys.executable, "-m", "nni_exp.cli", "run", str(EXAMPLE), "--quiet"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Best (maximize)" in result.stdout
