"""Record the scenarios on the real NNI 3.0 manager as normalized transcripts.

Usage (needs ``nni==3.0``; about 3 minutes for all scenarios on 2 CPUs)::

    .venv/bin/python tests/transcripts/record.py                  # every scenario
    .venv/bin/python tests/transcripts/record.py basic grid       # some of them
    .venv/bin/python tests/transcripts/record.py --out /tmp/t     # elsewhere

Each scenario of :mod:`tests.scenarios.scenarios` runs once on the real manager (throw-away ``HOME``
and working directory, free ports). Every step and its answer is saved, normalized (ids, timestamps,
paths, pids, ports and random numbers replaced by placeholders, see
:mod:`tests.scenarios.normalize`), to ``tests/transcripts/data/<scenario>.json``. Like LocalStack's
snapshots, the files are written by this script only: never edit them by hand, re-record them.

``tests/test_transcript_replay.py`` replays them on the in-memory fake; the scenario tests compare
every target with them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import List, Optional

REPO_DIR = Path(__file__).resolve().parents[2]
if str(REPO_DIR) not in sys.path:
    sys.path.insert(0, str(REPO_DIR))

from tests.scenarios.scenarios import SCENARIOS, run_scenario  # noqa: E402
from tests.scenarios.targets import TargetKind, nni_missing_reason  # noqa: E402

DATA_DIR = Path(__file__).resolve().parent / "data"


def transcript_path(scenario: str, directory: Path = DATA_DIR) -> Path:
    """Where the transcript of ``scenario`` is stored."""
    return directory / f"{scenario}.json"


def dump(transcript: dict) -> str:
    """A transcript as stored: indented JSON, one key order, a final newline."""
    return json.dumps(transcript, indent=1, ensure_ascii=False) + "\n"


def record(names: List[str], out: Path, root: Optional[Path] = None) -> int:
    """Record ``names`` on the real manager into ``out``; the number of scenarios that failed."""
    import nni

    out.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="nni-exp-record-", dir=root) as tmp:
        kind = TargetKind("nni", Path(tmp))
        for name in names:
            started = time.monotonic()
            try:
                session = run_scenario(kind, name)
            except Exception as error:  # noqa: BLE001 - report and go on with the others
                failures += 1
                print(f"{name:18} FAILED after {time.monotonic() - started:5.1f} s: {error}", file=sys.stderr)
                continue
            transcript = session.transcript()
            transcript["recorded_with"] = {"nni": str(nni.__version__), "target": "nni"}
            transcript_path(name, out).write_text(dump(transcript))
            print(f"{name:18} {len(session.steps):3d} steps  {time.monotonic() - started:5.1f} s  -> "
                  f"{transcript_path(name, out)}")
    return failures


def main(argv: Optional[List[str]] = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Record scenario transcripts on the real NNI 3.0 manager.")
    parser.add_argument("scenarios", nargs="*", help=f"scenarios to record (default: all of {', '.join(SCENARIOS)})")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help=f"directory of the transcripts (default {DATA_DIR})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    reason = nni_missing_reason()
    if reason:
        print(f"cannot record: {reason}", file=sys.stderr)
        return 2
    return 1 if record(args.scenarios or list(SCENARIOS), args.out) else 0


if __name__ == "__main__":
    sys.exit(main())
