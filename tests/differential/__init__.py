"""Random differential runs: the same generated scenario on the real NNI 3.0 manager and on the fake.

:mod:`.generator` turns a seed into a :class:`~.generator.GeneratedScenario` (plain data),
:mod:`.behaviour` makes its trials (the real ``trial.py`` and the fake's scripted trial, from one
table), :mod:`.driver` plays it on a target through a recording session, and :mod:`.compare` compares
the two recordings, knowing the README's deliberate fixes and NNI's parameter race.
"""
