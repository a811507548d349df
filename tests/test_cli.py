"""``nni-exp run``: the main job, on the fake manager."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nni_exp.cli import load_trial_function, main
from nni_exp.testing.trial import nni_is_installed

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "quickstart" / "config.yml"


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Experiments go to ``~/nni-experiments``: a throw-away home."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path / "home"


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


@pytest.mark.skipif(not nni_is_installed(), reason="without nni the fake approximates a custom tuner by random "
                                                   "sampling: its missing module fails nothing")
def test_run_exit_code_on_error(tmp_path, capsys):
    # a custom tuner is not checked before the run: its missing module fails the experiment
    config = tmp_path / "config.yml"
    custom = "className: no_such_module_xyz.Tuner\n  codeDirectory: ."
    config.write_text(EXAMPLE.read_text().replace("name: TPE", custom))
    (tmp_path / "search_space.json").write_text((EXAMPLE.parent / "search_space.json").read_text())
    assert main(["run", str(config)]) == 1
    assert ": ERROR (tuner_command_channel: Tuner did not connect" in capsys.readouterr().out


def _bad_config(tmp_path, capsys, text, *args):
    """Run a config written next to the example's search space; (exit code, stderr)."""
    (tmp_path / "search_space.json").write_text((EXAMPLE.parent / "search_space.json").read_text())
    config = tmp_path / "config.yml"
    config.write_text(text)
    code = main(["run", str(config), "--quiet", *args])
    err = capsys.readouterr().err
    return code, err


def _one_error_line(err):
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nni-exp: "), err
    return lines[0]


def test_unknown_tuner_name_exits_2_naming_the_known_ones(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text().replace("name: TPE", "name: TPEE"))
    assert code == 2
    line = _one_error_line(err)
    assert "config.yml: tuner.name: unknown built-in tuner 'TPEE' (did you mean 'TPE'?)" in line
    assert all(name in line for name in ("Anneal", "Random", "GridSearch", "Hyperband"))


def test_unknown_assessor_name_exits_2(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text() + "assessor:\n  name: MedianStopper\n")
    assert code == 2
    line = _one_error_line(err)
    assert "assessor.name: unknown built-in assessor 'MedianStopper'" in line and "Curvefitting" in line


def test_annotation_exits_2(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text() + "useAnnotation: true\n")
    assert code == 2
    assert "config.yml: useAnnotation: annotation " in _one_error_line(err)


def test_bad_search_space_file_exits_2_with_line_and_column(tmp_path, capsys):
    (tmp_path / "space.yml").write_text("x:\n  _type: choice\n  _value: [1, 2\ny: 3\n")
    text = EXAMPLE.read_text().replace("search_space.json", "space.yml")
    code, err = _bad_config(tmp_path, capsys, text)
    assert code == 2
    line = _one_error_line(err)
    assert "config.yml: searchSpaceFile: search space file " in line and "space.yml" in line
    assert "is not valid YAML" in line and "(line 4, column 2)" in line
    assert "Mark object" not in line


def test_missing_search_space_file_exits_2(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text().replace("search_space.json", "nosuch.json"))
    assert code == 2
    assert "nosuch.json\" cannot be read: No such file or directory" in _one_error_line(err)


def test_unknown_field_exits_2_with_a_suggestion(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text() + "maxTrialNumbr: 3\n")
    assert code == 2
    assert _one_error_line(err).endswith("config.yml: maxTrialNumbr: unknown field (did you mean 'maxTrialNumber'?)")


def test_wrong_type_exits_2_in_yaml_terms(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, EXAMPLE.read_text().replace("maxTrialNumber: 12", "maxTrialNumber: a"))
    assert code == 2
    assert _one_error_line(err).endswith('config.yml: maxTrialNumber: expected an integer, got "a" (a string)')


V1_CONFIG = """\
authorName: default
experimentName: example_mnist_pytorch
trialConcurrency: 2
maxExecDuration: 1h
maxTrialNum: 6
trainingServicePlatform: local
searchSpacePath: search_space.json
useAnnotation: false
tuner:
  builtinTunerName: TPE
  classArgs:
    optimize_mode: maximize
trial:
  command: python3 mnist.py
  codeDir: .
  gpuNum: 0
"""


def test_v1_config_runs_with_a_notice(tmp_path, capsys):
    (tmp_path / "search_space.json").write_text((EXAMPLE.parent / "search_space.json").read_text())
    (tmp_path / "cli_v1_trial.py").write_text("def objective(params, trial):\n    return params['dropout']\n")
    config = tmp_path / "config.yml"
    config.write_text(V1_CONFIG)
    assert main(["run", str(config), "--quiet", "--trial", "cli_v1_trial:objective", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert "nni-exp: " + str(config) + ": converted from NNI's v1 config format" in captured.err
    assert "ignored v1 fields that NNI 3.0 no longer supports: authorName" in captured.err
    assert captured.out.count("SUCCEEDED") == 6


def test_v1_config_errors_name_the_v1_field(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, V1_CONFIG.replace("codeDir: .", "codeDir: nosuchdir"))
    assert code == 2
    line = _one_error_line(err)
    assert "config.yml (NNI v1 format): trial.codeDir: " in line and "nosuchdir\" is not a directory" in line


def test_unconvertible_v1_config_exits_2(tmp_path, capsys):
    code, err = _bad_config(tmp_path, capsys, V1_CONFIG + "multiPhase: true\n")
    assert code == 2
    assert "config.yml (NNI v1 format): multiPhase: multi-phase experiments are not supported" in _one_error_line(err)


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


def test_console_script_runs(home):
    result = subprocess.run([sys.executable, "-m", "nni_exp.cli", "run", str(EXAMPLE), "--quiet"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(home)})
    assert result.returncode == 0, result.stderr
    assert "Best (maximize)" in result.stdout


# ---------------------------------------------------------------------------------------------- real trials


def _trial_rows(out):
    return [line.split() for line in out.splitlines() if " SUCCEEDED " in line or " FAILED " in line]


def test_run_runs_the_trial_command_for_real(home, capsys):
    assert main(["run", str(EXAMPLE), "--max-trials", "3"]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("nni-exp's fake NNI manager: each trial runs `python3 trial.py` in ")
    assert str(EXAMPLE.parent) in first
    rows = _trial_rows(out)
    assert len(rows) == 3 and all(row[2] == "SUCCEEDED" for row in rows)
    for trial_id, _, _, metric, *_ in rows:
        trial_dir = next((home / "nni-experiments").glob(f"*/environments/local-env/trials/{trial_id}"))
        log = (trial_dir / "trial.log").read_text()
        assert "Connect to trial command channel http://localhost:" in log  # trial.py ran, through the channel
        assert 0 <= float(metric) <= 1
    assert "Best (maximize): trial " in out


def test_simulate_says_so(capsys):
    assert main(["run", str(EXAMPLE), "--simulate", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("SIMULATION on nni-exp's fake NNI manager: trialCommand is NOT run")
    assert "s virtual]" in out  # progress times are labelled virtual
    header = next(line for line in out.splitlines() if line.startswith("trial "))
    assert "invented" in header and "metric" not in header
    assert "simulated best (maximize)" in out


def _no_limit_config(tmp_path, command):
    config = tmp_path / "nolimit.yml"
    config.write_text(
        "searchSpace: {x: {_type: uniform, _value: [0, 1]}}\n"
        f"trialCommand: {json.dumps(command)}\n"
        "trialCodeDirectory: .\n"
        "trialConcurrency: 2\n"
        "tuner: {name: Random}\n"
        "trainingService: {platform: local}\n")
    return config


def test_simulate_without_limits_stops_after_100_trials(tmp_path, capsys):
    config = _no_limit_config(tmp_path, "python3 trial.py")
    assert main(["run", str(config), "--simulate", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "sets no maxTrialNumber or maxExperimentDuration: --simulate stops after 100 trials" in captured.err
    assert len(_trial_rows(captured.out)) == 100


def test_max_trials_caps_a_config_without_limits(tmp_path, capsys):
    config = _no_limit_config(tmp_path, "true")
    assert main(["run", str(config), "--max-trials", "2", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "no maxTrialNumber" not in captured.err
    assert len(_trial_rows(captured.out)) == 2


def test_max_duration_caps_a_config_without_limits(tmp_path, capsys):
    config = _no_limit_config(tmp_path, "python3 trial.py")
    assert main(["run", str(config), "--simulate", "--max-duration", "35s", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert 0 < len(_trial_rows(out)) < 10  # 10 virtual seconds per trial, 2 at a time


def test_a_config_without_limits_gets_a_notice(tmp_path):
    config = _no_limit_config(tmp_path, "true")
    from nni_exp.cli import _apply_limits, _parser
    from nni_exp.config import ExperimentConfig

    options = _parser().parse_args(["run", str(config)])
    notices = _apply_limits(ExperimentConfig.load(config), options)
    assert notices == ["the config sets no maxTrialNumber or maxExperimentDuration: the experiment runs until you "
                       "stop it (Ctrl-C), as with nnictl; cap it with --max-trials N or --max-duration D"]


@pytest.mark.parametrize("args,message", [
    (["--max-trials", "0"], "expected a number > 0"),
    (["--max-trials", "many"], "expected a whole number"),
    (["--max-duration", "soon"], "expected a duration such as 90s"),
    (["--max-duration", "0s"], "expected a duration > 0"),
    (["--simulate", "--trial", "fake_trial:objective"], "not allowed with argument"),
])
def test_bad_limits_exit_2(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["run", str(EXAMPLE), *args])
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_every_trial_failed_exits_1_with_the_first_stderr(tmp_path, capsys):
    config = _no_limit_config(tmp_path, """python3 -c 'import sys; sys.exit("no luck here")'""")
    assert main(["run", str(config), "--max-trials", "2", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "nni-exp: every trial failed. First failed trial " in err
    assert "/environments/local-env/trials/" in err and "trial.stderr" in err
    assert err.rstrip().endswith("no luck here")


def test_a_trial_python_without_nni_gets_a_hint(tmp_path, capsys):
    config = _no_limit_config(tmp_path, """python3 -c 'raise ModuleNotFoundError("No module named \\x27nni\\x27")'""")
    assert main(["run", str(config), "--max-trials", "1", "--quiet"]) == 1
    assert "The trial's Python has no nni: activate the environment" in capsys.readouterr().err


@pytest.mark.real_nni
def test_the_example_runs_on_the_real_manager(home, capsys, monkeypatch):
    """The same NNI-style project under ``--backend nni``: its python3 must have nni (an activated venv)."""
    from nni_exp.testing.backends import nni_missing_reason

    if nni_missing_reason():
        pytest.skip(nni_missing_reason())
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    from nni_exp.testing.backends import free_port

    port = free_port()
    assert main(["run", str(EXAMPLE), "--backend", "nni", "--max-trials", "2", "--port", str(port)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("Real NNI manager: each trial runs `python3 trial.py` in ")
    assert f"Web UI: http://localhost:{port}" in out
    rows = _trial_rows(out)
    assert len(rows) == 2 and all(row[2] == "SUCCEEDED" and 0 <= float(row[3]) <= 1 for row in rows)
