"""ExperimentConfig: construction from platforms, canonicalization steps and every validation rule."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nni_exp.config import ExperimentConfig, LocalConfig, RemoteConfig, UnknownFieldError
from nni_exp.config.algorithm import _AlgorithmConfig
from nni_exp.config.base import is_missing
from nni_exp.errors import ConfigError

from .config_samples import SPACE, config_kwargs


def make(**overrides: Any) -> ExperimentConfig:
    """A valid local config with ``overrides`` (a value of ``...`` deletes the key)."""
    return ExperimentConfig(**config_kwargs(**overrides))


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "code").mkdir()
    return tmp_path


def invalid(config: ExperimentConfig, field: str) -> ConfigError:
    """Validate ``config``, expecting a ConfigError about ``field``; return it."""
    with pytest.raises(ConfigError) as info:
        config.validate()
    assert info.value.field == field
    return info.value


# --- construction from a platform name ------------------------------------------------------


def test_platform_name_builds_an_empty_service_and_placeholders() -> None:
    config = ExperimentConfig("local")
    assert isinstance(config.training_service, LocalConfig)
    for name in ("tuner", "assessor", "advisor"):
        placeholder = getattr(config, name)
        assert isinstance(placeholder, _AlgorithmConfig)
        assert placeholder.name == "_none_"
        assert placeholder.class_args == {}


def test_placeholders_filled_by_the_user_are_used_and_others_dropped() -> None:
    config = ExperimentConfig("local")
    config.trial_concurrency = 1
    config.search_space = SPACE
    config.trial_command = "python t.py"
    assert config.tuner is not None and config.tuner.class_args is not None
    config.tuner.name = "TPE"
    config.tuner.class_args["optimize_mode"] = "maximize"
    data = config.json()
    assert data["tuner"] == {"name": "TPE", "classArgs": {"optimize_mode": "maximize"}}
    assert "assessor" not in data and "advisor" not in data


def test_untouched_placeholder_tuner_means_no_tuner() -> None:
    config = ExperimentConfig("local", trial_concurrency=1, search_space=SPACE, trial_command="x")
    assert str(invalid(config, "tuner")) == "ExperimentConfig: tuner must be set"


def test_platform_list_builds_a_hybrid_service() -> None:
    config = ExperimentConfig(["local", "remote"])
    assert isinstance(config.training_service, list)
    assert [type(s) for s in config.training_service] == [LocalConfig, RemoteConfig]


def test_unknown_platform_name() -> None:
    with pytest.raises(ConfigError, match="^Bad training service platform: nosuch$"):
        ExperimentConfig("nosuch")
    with pytest.raises(ValueError):  # the type NNI raised
        ExperimentConfig(["local", "nosuch"])


def test_platform_name_and_training_service_together() -> None:
    with pytest.raises(ConfigError, match="together with a platform name") as info:
        ExperimentConfig("local", training_service={"platform": "local"})
    assert info.value.field == "training_service"


def test_training_service_dict_with_unknown_platform_fails_on_validation() -> None:
    config = make(training_service={"platform": "nosuch"})
    assert str(invalid(config, "training_service.platform")) == "Bad training service platform: nosuch"


def test_training_service_dict_without_platform() -> None:
    error = invalid(make(training_service={"useActiveGpu": True}), "training_service.platform")
    assert str(error) == "TrainingServiceConfig: platform is not set"


def test_unset_training_service() -> None:
    error = invalid(make(training_service=...), "training_service")
    assert str(error) == "ExperimentConfig: training_service is not set"


# --- canonicalization steps -----------------------------------------------------------------


@pytest.mark.parametrize(("debug", "expected"), [(False, "info"), (True, "debug")])
def test_log_level_default_follows_debug(debug: bool, expected: str) -> None:
    assert make(debug=debug).json()["logLevel"] == expected
    assert make(debug=debug, log_level="trace").json()["logLevel"] == "trace"


@pytest.mark.parametrize(("given", "expected"), [("0,1", [0, 1]), ("3", [3]), (2, [2]), ([1, 0], [1, 0])])
def test_tuner_gpu_indices_are_canonicalized(given: Any, expected: list[int]) -> None:
    assert make(tuner_gpu_indices=given).json()["tunerGpuIndices"] == expected


def test_tuner_gpu_indices_bad_string() -> None:
    error = invalid(make(tuner_gpu_indices="0,a"), "tuner_gpu_indices")
    assert "tuner_gpu_indices" in str(error)


def test_advisor_is_folded_into_tuner() -> None:
    data = make(tuner=..., advisor={"name": "Hyperband", "classArgs": {"R": 60}}).json()
    assert data["tuner"] == {"name": "Hyperband", "classArgs": {"R": 60}}
    assert "advisor" not in data


def test_advisor_and_tuner_together() -> None:
    error = invalid(make(advisor={"name": "Hyperband"}), "advisor")
    assert str(error) == '"advisor" is deprecated. You should only set "tuner".'


def test_shortcut_fields_are_copied_only_when_missing(in_tmp: Path) -> None:
    config = make(
        trial_gpu_number=0,
        nni_manager_ip="10.0.0.1",
        debug=True,
        training_service={
            "platform": "local",
            "trialCommand": "python other.py",
            "trialCodeDirectory": "code",
        },
    )
    service = config.json()["trainingService"]
    assert service["trialCommand"] == "python other.py"  # the service's own value wins
    assert service["trialCodeDirectory"] == os.path.realpath(in_tmp / "code")
    assert service["trialGpuNumber"] == 0  # copied from the top level
    assert service["debug"] is True
    assert "nniManagerIp" not in service  # LocalConfig drops it
    assert isinstance(config.training_service, LocalConfig)
    assert is_missing(config.training_service.trial_gpu_number)  # the original is untouched


@pytest.mark.parametrize("name", ["space.json", "space.yml"])
def test_search_space_file_is_loaded_and_wins(in_tmp: Path, name: str) -> None:
    (in_tmp / "space.json").write_text('{"x": {"_type": "choice", "_value": [1, 2]}}')
    (in_tmp / "space.yml").write_text("x:\n  _type: choice\n  _value: [1, 2]\n")
    data = make(search_space={"other": 1}, search_space_file=name).json()
    assert data["searchSpace"] == SPACE
    assert data["searchSpaceFile"] == os.path.realpath(in_tmp / name)


def test_search_space_file_failures(in_tmp: Path) -> None:
    error = invalid(make(search_space_file="nosuch.json"), "search_space_file")
    expected = (
        f'ExperimentConfig: Failed to load search space file "{os.path.realpath(in_tmp / "nosuch.json")}"'
    )
    assert str(error).startswith(expected + ": FileNotFoundError(")
    (in_tmp / "bad.yml").write_text("x: [1\n")
    assert "Failed to load search space file" in str(
        invalid(make(search_space_file="bad.yml"), "search_space_file")
    )


def test_manager_ip_warning_for_non_local_platforms(caplog: pytest.LogCaptureFixture) -> None:
    remote = {"platform": "remote", "machineList": [{"host": "h", "user": "u", "password": "p"}]}
    with (
        caplog.at_level(logging.WARNING, logger="nni_exp.config"),
        pytest.warns(UserWarning, match="SSH password"),
    ):
        make(training_service=remote).validate()
    assert "nni_manager_ip is not set" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="nni_exp.config"), pytest.warns(UserWarning):
        make(training_service=remote, nni_manager_ip="10.0.0.1").validate()
        make(training_service=[{"platform": "local"}, remote], nni_manager_ip="10.0.0.1").validate()
    assert caplog.text == ""


def test_hybrid_without_manager_ip_only_warns(caplog: pytest.LogCaptureFixture) -> None:
    remote = {"platform": "remote", "machineList": [{"host": "h", "user": "u", "password": "p"}]}
    with caplog.at_level(logging.WARNING, logger="nni_exp.config"), pytest.warns(UserWarning):
        data = make(training_service=[{"platform": "local"}, remote]).json()
    assert [s["platform"] for s in data["trainingService"]] == ["local", "remote"]
    assert "nni_manager_ip is not set" in caplog.text


# --- validation rules (spec 1.5), one test each ---------------------------------------------


@pytest.mark.parametrize("value", ["90s", "1.5h", "2d", "30m", "1H", 3600])
@pytest.mark.parametrize("name", ["max_experiment_duration", "max_trial_duration"])
def test_valid_durations_are_kept_verbatim(name: str, value: Any) -> None:
    assert (
        make(**{name: value}).json()[name.split("_")[0] + "".join(w.title() for w in name.split("_")[1:])]
        == value
    )


@pytest.mark.parametrize("name", ["max_experiment_duration", "max_trial_duration"])
@pytest.mark.parametrize("value", ["10", "1x"])
def test_duration_without_valid_unit(name: str, value: str) -> None:
    error = invalid(make(**{name: value}), name)
    assert str(error) == f'ExperimentConfig: {name}: Bad unit in "{value}", supported units are d, h, m, s'


@pytest.mark.parametrize("name", ["max_experiment_duration", "max_trial_duration"])
@pytest.mark.parametrize("value", ["0s", 0, "-1h"])
def test_duration_not_positive(name: str, value: Any) -> None:
    error = invalid(make(**{name: value}), name)
    assert str(error) == f"ExperimentConfig: {name} must be > 0, got {value!r}"


@pytest.mark.parametrize("name", ["max_experiment_duration", "max_trial_duration"])
def test_duration_of_wrong_type(name: str) -> None:
    assert "type of" in str(invalid(make(**{name: 1.5}), name))


@pytest.mark.parametrize("value", [0, -3])
def test_trial_concurrency_not_positive(value: int) -> None:
    error = invalid(make(trial_concurrency=value), "trial_concurrency")
    assert str(error) == f"ExperimentConfig: trial_concurrency must be > 0, got {value}"


def test_trial_concurrency_missing() -> None:
    error = invalid(make(trial_concurrency=...), "trial_concurrency")
    assert str(error) == "ExperimentConfig: trial_concurrency is not set"


@pytest.mark.parametrize("value", [0, -1])
def test_max_trial_number_not_positive(value: int) -> None:
    error = invalid(make(max_trial_number=value), "max_trial_number")
    assert str(error) == f"ExperimentConfig: max_trial_number must be > 0, got {value}"


@pytest.mark.parametrize("value", ["fatal", "error", "warning", "info", "debug", "trace"])
def test_log_levels_accepted(value: str) -> None:
    assert make(log_level=value).json()["logLevel"] == value


@pytest.mark.parametrize("value", ["verbose", "INFO", ""])
def test_log_level_rejected(value: str) -> None:
    error = invalid(make(log_level=value), "log_level")
    assert str(error) == (
        f"ExperimentConfig: log_level must be one of fatal, error, warning, info, debug, trace, got {value!r}"
    )


def test_missing_tuner() -> None:
    assert str(invalid(make(tuner=...), "tuner")) == "ExperimentConfig: tuner must be set"


def test_tuner_of_wrong_type() -> None:
    assert "type of tuner ('TPE')" in str(invalid(make(tuner="TPE"), "tuner"))


def test_missing_search_space() -> None:
    error = invalid(make(search_space=...), "search_space")
    assert str(error) == "ExperimentConfig: search_space and search_space_file must be set one"


def test_annotation_with_search_space() -> None:
    error = invalid(make(use_annotation=True), "search_space")
    assert str(error) == "ExperimentConfig: search space must not be set when annotation is enabled"
    assert make(use_annotation=True, search_space=...).json()["useAnnotation"] is True


def test_missing_trial_command() -> None:
    error = invalid(make(trial_command=...), "training_service.trial_command")
    assert str(error) == "LocalConfig: type of trial_command (None) is not <class 'str'>"


def test_trial_code_directory_not_a_directory(in_tmp: Path) -> None:
    (in_tmp / "file.py").write_text("")
    for value in ("nosuchdir", "file.py"):
        error = invalid(make(trial_code_directory=value), "training_service.trial_code_directory")
        path = os.path.realpath(in_tmp / value)
        assert str(error) == f'LocalConfig: trial_code_directory "{path}" is not a directory'


@pytest.mark.parametrize(("value", "shown"), [([0, 0], "[0, 0]"), ("1,2,1", "[1, 2, 1]")])
def test_tuner_gpu_indices_duplicates(value: Any, shown: str) -> None:
    error = invalid(make(tuner_gpu_indices=value), "tuner_gpu_indices")
    assert str(error) == f"ExperimentConfig: tuner_gpu_indices: Duplication detected in GPU indices {shown}"


def test_tuner_gpu_indices_negative() -> None:
    error = invalid(make(tuner_gpu_indices=-1), "tuner_gpu_indices")
    assert str(error) == "ExperimentConfig: tuner_gpu_indices: Negative detected in GPU indices [-1]"


def test_experiment_type_must_be_hpo() -> None:
    error = invalid(make(experiment_type="nas"), "experiment_type")
    assert str(error) == "ExperimentConfig: type of experiment_type ('nas') is not typing.Literal['hpo']"


def test_children_are_validated_before_top_level_rules() -> None:
    # both the service (trial_gpu_number < 0) and the top level (trial_concurrency) are wrong
    assert invalid(make(trial_gpu_number=-1, trial_concurrency=0), "training_service.trial_gpu_number")


def test_unknown_tuner_key_reported_before_advisor_rule() -> None:
    with pytest.raises(UnknownFieldError):
        make(tuner={"name": "TPE", "bogus": 1}, advisor={"name": "Hyperband"}).validate()


# --- round trip -----------------------------------------------------------------------------

durations = st.one_of(
    st.none(),
    st.integers(1, 10**6),
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 999), st.sampled_from("smhd")),
)


@settings(max_examples=60, deadline=None)
@given(
    concurrency=st.integers(1, 64),
    max_trials=st.one_of(st.none(), st.integers(1, 10**4)),
    experiment_duration=durations,
    trial_duration=durations,
    name=st.one_of(st.none(), st.text(max_size=12)),
    debug=st.booleans(),
    gpus=st.one_of(st.none(), st.lists(st.integers(0, 15), unique=True, max_size=4)),
    class_args=st.dictionaries(
        st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=5), max_size=3
    ),
)
def test_round_trip_property(
    concurrency: int,
    max_trials: Any,
    experiment_duration: Any,
    trial_duration: Any,
    name: Any,
    debug: bool,
    gpus: Any,
    class_args: dict[str, Any],
) -> None:
    config = make(
        trial_concurrency=concurrency,
        max_trial_number=max_trials,
        max_experiment_duration=experiment_duration,
        max_trial_duration=trial_duration,
        experiment_name=name,
        debug=debug,
        tuner_gpu_indices=gpus,
        tuner={"name": "TPE", "classArgs": class_args},
    )
    data = config.json()
    assert ExperimentConfig(**data).json() == data
    assert ExperimentConfig(**data).canonical_copy() == config.canonical_copy()
    assert ("maxTrialNumber" in data) == (max_trials is not None)
