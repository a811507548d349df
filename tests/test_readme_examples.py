"""The README's Python examples run: plain blocks are executed, test blocks run under pytest with the plugin."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

from fakes import FakeManager

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module", autouse=True)
def _search_imported_before_pytester() -> None:
    """Import NNI's search (and numpy) for good, before ``pytester`` snapshots ``sys.modules``.

    ``pytester`` forgets the modules imported during a test, and numpy cannot be imported twice in
    a process: a README block that runs the fake with NNI's search, after another one did, would fail.
    """
    FakeManager().prepare_search()


def python_blocks() -> List[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_examples():
    assert len(python_blocks()) >= 3


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_example_runs(index, pytester):
    block = python_blocks()[index]
    if re.search(r"^def test_", block, flags=re.MULTILINE):
        pytester.makepyfile(test_readme_block=("import pytest\n" + block))
        result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
        result.assert_outcomes(passed=len(re.findall(r"^def test_", block, flags=re.MULTILINE)))
    else:
        namespace: dict = {}
        exec(compile(block, f"README block {index}", "exec"), namespace)  # noqa: S102
        assert namespace, "the block defined nothing"
