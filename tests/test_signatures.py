"""Item 10 of issue 8: ``Experiment.resume`` and ``Experiment.view`` show NNI 3.0's signatures.

NNI's are plain methods: ``resume(self, port=8080, wait_completion=True, debug=False)`` and
``view(self, port=8080, non_blocking=False)``. nni-exp also accepts the deprecated class-level
form ``Experiment.resume('<id>')``; that must not hide the real signature from
``inspect.signature``, ``help()`` and IDEs.
"""

from __future__ import annotations

import inspect
import pydoc
import warnings

import pytest

from fakes import FakeManager
from nni_exp import Experiment
from nni_exp.errors import ExperimentNotFoundError

from .conftest import make_config, three_second_trial

NNI_SIGNATURES = {
    "resume": ["self", ("port", 8080), ("wait_completion", True), ("debug", False)],
    "view": ["self", ("port", 8080), ("non_blocking", False)],
}


def _shape(signature: inspect.Signature) -> list:
    return [p.name if p.default is inspect.Parameter.empty else (p.name, p.default)
            for p in signature.parameters.values()]


@pytest.mark.parametrize("name", ["resume", "view"])
def test_signature_on_the_class_is_nnis(name: str) -> None:
    method = getattr(Experiment, name)
    assert _shape(inspect.signature(method)) == NNI_SIGNATURES[name]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in inspect.signature(method).parameters.values())
    assert method.__name__ == name and method.__qualname__ == f"Experiment.{name}"
    assert method.__doc__ == Experiment.__dict__[name].__doc__ and "deprecated" in method.__doc__


@pytest.mark.parametrize("name", ["resume", "view"])
def test_signature_on_an_instance_is_bound(name: str) -> None:
    bound = getattr(Experiment(None, backend=FakeManager()), name)
    assert _shape(inspect.signature(bound)) == NNI_SIGNATURES[name][1:]


def test_help_lists_both_methods_with_their_signatures() -> None:
    text = pydoc.render_doc(Experiment, renderer=pydoc.plaintext)
    assert "resume(self, port: 'int' = 8080, wait_completion: 'bool' = True, debug: 'bool' = False)" in text
    assert "view(self, port: 'int' = 8080, non_blocking: 'bool' = False)" in text


def test_the_deprecated_class_form_still_works() -> None:
    fake = FakeManager(three_second_trial, seed=2)
    exp = Experiment(make_config(), backend=fake)
    assert exp.run(port=8080) is True
    exp.stop()
    with pytest.warns(DeprecationWarning, match=r"Experiment.resume\(id\) is deprecated"):
        resumed = Experiment.resume(exp.id, port=8081, wait_completion=False, backend=fake)
    assert resumed is None
    assert fake.manager_at(8081).args.action == "resume"
    with pytest.warns(DeprecationWarning, match=r"Experiment.view\(id\) is deprecated"):
        with pytest.raises(ExperimentNotFoundError, match="nosuchid"):
            Experiment.view("nosuchid", backend=fake)
    # an instance passed to the class attribute is the plain method call, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ExperimentNotFoundError):
            Experiment.view(Experiment(None, id="nosuchid", backend=fake))
    fake.close()
