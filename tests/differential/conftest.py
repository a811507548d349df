"""Seeds of the differential runs: the fixed CI set, or ``--nni-differential=N`` (a long run), or
``--nni-differential-seed=S`` (replay one); the options are registered in the root ``conftest.py``."""

from __future__ import annotations

from typing import List

import pytest

#: Seeds run in every CI run (about two minutes of real-manager time together): 78 kills a running
#: and a finished trial; 15 imports data and adds a customized trial; 148 is GridSearch with the
#: duration limit up and the trial limit down under concurrency 2; 3 stops and resumes.
CI_SEEDS = (78, 15, 148, 3)


def selected_seeds(config: pytest.Config) -> List[int]:
    """The seeds this run plays."""
    chosen = list(config.getoption("nni_differential_seed", default=[]) or [])
    if chosen:
        return chosen
    count = int(config.getoption("nni_differential", default=0) or 0)
    if count > 0:
        start = int(config.getoption("nni_differential_start", default=1000))
        return list(range(start, start + count))
    return list(CI_SEEDS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``differential_seed`` over :func:`selected_seeds`."""
    if "differential_seed" in metafunc.fixturenames:
        metafunc.parametrize("differential_seed", selected_seeds(metafunc.config), ids=lambda seed: f"seed{seed}")
