"""The ``nni_trial`` pytest fixture: run NNI trial code with given parameters, capture its reports.

::

    def test_trial_reports_accuracy(nni_trial):
        run = nni_trial("examples/trial.py", {"lr": 0.01})      # a script: in a subprocess
        run.check()                                              # raises with stderr if it failed
        assert len(run.intermediate) == 10 and run.final > 0.5

        run = nni_trial(my_trial_main, {"lr": 0.01})             # a function: in this process
        assert run.parameter_requests == 1

Works with or without the ``nni`` package (see :mod:`nni_exp.testing.trial`). Every run keeps its
``NNI_OUTPUT_DIR`` under the test's temporary directory (``run.output_dir``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:
    from .trial import TrialRunner

__all__ = ["nni_trial"]


@pytest.fixture
def nni_trial(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TrialRunner]:
    """A :class:`~nni_exp.testing.trial.TrialRunner`: ``nni_trial(target, parameters, **options)``.

    While the test runs, ``import nni`` gives the stand-in trial API when the real package is not
    installed, so trial modules can be imported inside the test.
    """
    from .trial import TrialRunner  # imported when a test uses the fixture, not at plugin load

    with TrialRunner(tmp_path_factory.mktemp("nni_trial")) as runner:
        yield runner
