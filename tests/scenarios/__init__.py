"""One scenario suite, three targets.

Each scenario (:mod:`tests.scenarios.scenarios`) is written once against a *target*
(:mod:`tests.scenarios.targets`): the in-memory fake (``fake``), the fake manager HTTP server launched
like the real manager (``server``) and the real NNI 3.0 manager (``nni``). A scenario drives a
:class:`~tests.scenarios.session.Session`, which performs each step on the target and records it, with
its answer normalized (:mod:`tests.scenarios.normalize`), as a *transcript*. The transcripts of the real
manager are stored under ``tests/transcripts/data/`` and replayed against the in-memory fake by
``tests/test_transcript_replay.py``.

Nothing in this package imports ``nni``: the fake targets and the replay run without it.
"""
