"""The manifest survives killed and concurrent writers (issue 8, item 3).

Writers are separate processes (``tests/manifest_writers.py``): nni-exp's
:class:`~nni_exp.manifest_file.ManifestFile` and, mixed in, NNI's own nnictl ``Experiments``. Each
prints a record's id once its write returned: such a record must never be missing afterwards, and
the file must never be empty or invalid JSON. The figures of each test are printed (``-s``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Optional

import pytest
import requests

from nni_exp.manifest_file import LAST_GOOD_SUFFIX, ManifestFile

from .manifest_writers import record

TESTS_DIR = Path(__file__).resolve().parent
WRITER = TESTS_DIR / "manifest_writers.py"
#: Records already in the manifest when the writers start (so that a write takes a while).
PREFILLED = 300


def start_writer(kind: str, home: Path, prefix: str, start: int, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WRITER), kind, str(home), prefix, str(start), str(count)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


def prefill(home: Path, count: int = PREFILLED) -> set[str]:
    """``count`` records written in one go (as a manifest that has seen many experiments)."""
    home.mkdir(parents=True, exist_ok=True)
    records = {f"old{index}": record(f"old{index}") for index in range(count)}
    (home / ".experiment").write_text(json.dumps(records, indent=4), encoding="utf-8")
    return set(records)


def manifest_state(home: Path) -> tuple[Optional[dict[str, Any]], int]:
    """The manifest's records (None when it is not a valid JSON object) and its size in bytes."""
    raw = (home / ".experiment").read_bytes()
    try:
        data = json.loads(raw)
    except ValueError:
        return None, len(raw)
    return (data if isinstance(data, dict) else None), len(raw)


# ---------------------------------------------------------------------------- kill -9 of a writer


def test_a_writer_killed_mid_write_leaves_a_valid_manifest_with_every_record(tmp_path: Path) -> None:
    rng = random.Random(8003)
    home = tmp_path / "home"
    expected = prefill(home)
    kills = invalid = lost_total = 0
    next_index = 0
    for _ in range(40):
        writer = start_writer("ours", home, "k", next_index, 10_000)
        assert writer.stdout is not None
        first = writer.stdout.readline()  # at least one write done: the next ones are under way
        assert first, writer.stderr.read() if writer.stderr else ""
        time.sleep(rng.uniform(0, 0.03))
        writer.send_signal(signal.SIGKILL)
        rest, _ = writer.communicate(timeout=10)
        kills += 1
        acknowledged = [first.strip(), *rest.split()]
        expected.update(acknowledged)
        next_index += len(acknowledged) + 1  # the write in progress may or may not have landed
        records, size = manifest_state(home)
        if records is None:
            invalid += 1
            break
        lost = expected - set(records)
        lost_total += len(lost)
        if lost:
            break
    print(f"\nmanifest kill test: {kills} kills, {len(expected) - PREFILLED} acknowledged writes, "
          f"{invalid} empty/invalid manifests, {lost_total} records lost")
    assert invalid == 0, f"manifest left empty or invalid ({size} bytes) after kill {kills}"
    assert lost_total == 0, f"kill {kills} lost {sorted(lost)[:10]}"
    assert kills == 40
    ManifestFile(home).add(record("after"))  # the next write removes the killed writers' temporary files
    assert [name for name in os.listdir(home) if name.endswith(".tmp")] == []
    assert expected | {"after"} <= set(ManifestFile(home).read())


# ---------------------------------------------------------------------------- concurrent writers


def test_concurrent_writers_lose_no_record_and_readers_never_see_one_disappear(tmp_path: Path) -> None:
    home = tmp_path / "home"
    expected = prefill(home, 100)
    writers = [start_writer("ours", home, f"w{number}-", 0, 75) for number in range(4)]
    reader = ManifestFile(home)
    seen: set[str] = set()
    disappeared: list[str] = []
    reads = 0
    while any(writer.poll() is None for writer in writers):
        current = set(reader.read())  # no lock, as NNI's readers and the fake server's routes
        reads += 1
        disappeared.extend(sorted(seen - current)[:3])
        seen |= current
    for writer in writers:
        out, err = writer.communicate(timeout=30)
        assert writer.returncode == 0, err
        expected.update(out.split())
    final = set(reader.read())
    print(f"\nconcurrent writers: 4 processes, {len(expected) - 100} records written, {reads} unlocked reads, "
          f"{len(disappeared)} records seen disappearing, {len(expected - final)} lost")
    assert len(expected) == 100 + 4 * 75
    assert expected - final == set()
    assert disappeared == [], f"an unlocked read missed records it had seen before: {disappeared}"


def test_mixed_with_nnis_own_writer_ours_lose_nothing(tmp_path: Path) -> None:
    """nnictl's ``Experiments`` checks for other lock files only before taking its own, so it can
    write beside one of ours: whatever it drops of ours is written again; what NNI loses is counted."""
    home = tmp_path / "home"
    expected = prefill(home, 100)
    nni = start_writer("nnictl", home, "nni-", 0, 100)
    ours = [start_writer("ours", home, f"ours{number}-", 0, 100) for number in range(2)]
    written: dict[str, set[str]] = {}
    for name, writer in [("nni", nni), ("ours0", ours[0]), ("ours1", ours[1])]:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        written[name] = set(out.split())
    records, _ = manifest_state(home)
    assert records is not None
    final = set(records)
    ours_written = written["ours0"] | written["ours1"]
    lost_ours = ours_written - final
    lost_nni = written["nni"] - final
    lost_old = expected - final
    print(f"\nmixed writers: nnictl wrote {len(written['nni'])} and lost {len(lost_nni)}; nni-exp wrote "
          f"{len(ours_written)} and lost {len(lost_ours)}; prefilled lost {len(lost_old)}")
    assert len(ours_written) == 200 and len(written["nni"]) == 100
    assert lost_ours == set()


# ---------------------------------------------------------------------------- unreadable manifest


def test_an_unreadable_manifest_is_never_overwritten_with_fewer_records(tmp_path: Path) -> None:
    """A non-atomic writer killed mid-write leaves half a file: a read falls back to the last-known-good
    copy, and a write keeps those records and moves the unreadable bytes aside."""
    home = tmp_path / "home"
    manifest = ManifestFile(home)
    for index in range(5):
        manifest.add(record(f"e{index}"))
    text = (home / ".experiment").read_text()
    (home / ".experiment").write_text(text[: len(text) // 2])  # half-written, as by nnictl killed mid-write
    assert set(ManifestFile(home).read()) == {f"e{index}" for index in range(5)}
    ManifestFile(home).add(record("new"))
    assert set(json.loads((home / ".experiment").read_text())) == {f"e{index}" for index in range(5)} | {"new"}
    aside = [name for name in os.listdir(home) if name.startswith(".experiment.corrupt.")]
    assert len(aside) == 1 and (home / aside[0]).read_text() == text[: len(text) // 2]
    assert (home / (".experiment" + LAST_GOOD_SUFFIX)).read_text() == (home / ".experiment").read_text()


def test_a_manifest_rewritten_in_place_is_read_whole(tmp_path: Path) -> None:
    """An unlocked read during an in-place rewrite (NNI's writers) waits for the whole file."""
    home = tmp_path / "home"
    manifest = ManifestFile(home)
    manifest.add(record("e0"))
    text = (home / ".experiment").read_text()
    (home / ".experiment").write_text("")  # truncated: the writer has not written yet

    def finish_writing() -> None:
        time.sleep(0.05)
        (home / ".experiment").write_text(text)

    writer = threading.Thread(target=finish_writing)
    writer.start()
    try:
        assert set(ManifestFile(home).read()) == {"e0"}
    finally:
        writer.join()


# ---------------------------------------------------------------------------- the fake server's metadata


@pytest.mark.parametrize("_run", range(1))
def test_fake_server_metadata_never_404_under_a_concurrent_writer(tmp_path: Path, _run: int) -> None:
    from .test_fake_server import ServerProcess

    server = ServerProcess(tmp_path, "metaxp01")
    try:
        server.launch()
        home = server.home / "nni-experiments"
        prefill_records = {**ManifestFile(home).read(), **{f"old{i}": record(f"old{i}") for i in range(300)}}
        (home / ".experiment").write_text(json.dumps(prefill_records, indent=4))
        writer = start_writer("ours", home, "m", 0, 150)
        polls = not_found = 0
        session = requests.Session()
        while writer.poll() is None or polls < 50:
            response = session.get(server.url("/experiment-metadata"), timeout=10)
            polls += 1
            if response.status_code == 404:
                not_found += 1
            else:
                assert response.status_code == 200 and response.json()["id"] == "metaxp01"
        _, err = writer.communicate(timeout=30)
        assert writer.returncode == 0, err
        print(f"\nmetadata under a concurrent writer: {polls} polls, {not_found} answered 404")
        assert not_found == 0
    finally:
        server.kill()
