"""Copied as ``sitecustomize.py`` into a directory put first on a real trial's ``PYTHONPATH``.

When the trial's interpreter cannot import ``nni``, the directory named by ``NNI_EXP_STANDIN_DIR``
(which holds nni-exp's stand-in ``nni`` package, see :mod:`fakes.local_trials.standin_nni`) goes
to the end of ``sys.path``, after site-packages: an installed ``nni`` always wins. Then the
interpreter's own ``sitecustomize`` runs, if it has one. Standard library only: it runs in any
Python the trial command picks.
"""

import importlib.util
import os
import sys


def _boot() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    standin = os.environ.get("NNI_EXP_STANDIN_DIR")
    if standin and importlib.util.find_spec("nni") is None:
        sys.path.append(standin)
    ours = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401 - the interpreter's own one, if any
    except ImportError:
        if ours is not None:
            sys.modules["sitecustomize"] = ours


if __name__ == "sitecustomize":
    _boot()
