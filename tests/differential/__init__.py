"""Random differential runs: the same generated scenario on the real NNI 3.0 manager and on the fake.

:mod:`.generator` turns a seed into a :class:`~.generator.GeneratedScenario` (plain data, timing-safe),
:mod:`.behaviour` makes its trials (the real ``trial.py`` and the fake's scripted trial, from one
table), :mod:`.session` and :mod:`.driver` play it on a target (NNI's own client on the real manager),
:mod:`.compare` compares the two recordings (knowing the README's deliberate fixes, nni-exp's client
improvements and NNI's parameter race), :mod:`.run` does one seed end to end and :mod:`.shrink` makes
a diverging scenario smaller.
"""
