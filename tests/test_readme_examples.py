"""The README's Python examples run: plain blocks are executed, test blocks run under pytest with the plugin."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parent.parent / "README.md"


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
