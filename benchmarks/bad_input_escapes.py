"""How many random bad inputs to nni-exp's public entry points escape as bare errors (issue 8, item 7).

For each entry point of ``tests/bad_input.py`` (the ``Experiment`` API, the config classes and
files, the ``nni-exp`` command line), hypothesis draws ``--examples`` values (seeded:
``derandomize``) and each call is sorted as in ``tests/test_bad_input.py``: accepted, refused with a
typed error, or **escaped** (a bare ``TypeError``/``OverflowError``/... from inside). Also counted:
values that had to be refused but were accepted, and typed errors whose message does not name the
value. Runs on the in-memory fake.

Usage: ``PYTHONPATH=. python benchmarks/bad_input_escapes.py [--examples 300] [--show 3]``
"""

from __future__ import annotations

import argparse
import collections
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List

sys.path.append(str(Path(__file__).resolve().parents[1]))  # the repository, after PYTHONPATH

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.bad_input import ENTRY_POINTS, EntryPoint, outcome, running_context, short_repr  # noqa: E402


def measure(entry: EntryPoint, examples: int) -> Dict[str, Any]:
    counts: Dict[str, Any] = collections.Counter()
    samples: List[str] = []
    context = running_context()

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(entry.values)
    def run(value: Any) -> None:
        counts["tried"] += 1
        result = outcome(entry, context, value)
        if result.bare is not None:
            counts["escaped"] += 1
            samples.append(f"{short_repr(value, 60)} -> {result.bare}")
        elif result.error is None:
            counts["accepted"] += 1
            if entry.must_fail(value):
                counts["wrongly accepted"] += 1
        else:
            counts["typed"] += 1
            if not entry.names(value, result.error):
                counts["unnamed"] += 1
                samples.append(f"{short_repr(value, 60)} -> message without it: {short_repr(str(result.error), 120)}")

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
    finally:
        context.close()
    counts["samples"] = samples
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="values drawn per entry point (default 300)")
    parser.add_argument("--show", type=int, default=3, help="examples shown per entry point with a defect")
    options = parser.parse_args()
    totals: Dict[str, int] = collections.Counter()
    print(f"{'entry point':52} {'tried':>6} {'escaped':>8} {'typed':>6} {'accepted':>8} {'wrongly':>8} {'unnamed':>8}")
    for entry in ENTRY_POINTS:
        counts = measure(entry, options.examples)
        for key in ("tried", "escaped", "typed", "accepted", "wrongly accepted", "unnamed"):
            totals[key] += counts[key]
        print(f"{entry.name:52} {counts['tried']:>6} {counts['escaped']:>8} {counts['typed']:>6} "
              f"{counts['accepted']:>8} {counts['wrongly accepted']:>8} {counts['unnamed']:>8}")
        for sample in counts["samples"][:options.show]:
            print(f"    {sample}".encode("ascii", "backslashreplace").decode("ascii"))
    print(f"{'TOTAL':52} {totals['tried']:>6} {totals['escaped']:>8} {totals['typed']:>6} {totals['accepted']:>8} "
          f"{totals['wrongly accepted']:>8} {totals['unnamed']:>8}")
    return 0 if totals["escaped"] == totals["wrongly accepted"] == totals["unnamed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
