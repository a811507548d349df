"""The ``nni_responses`` pytest fixture: ``requests`` traffic to NNI managers goes to a fake manager.

Configure it per test with the ``nni_responses`` marker, whose keyword arguments are those of
:class:`~nni_exp.testing.responses_adapter.NniResponses`::

    @pytest.mark.nni_responses(passthrough=True, advance_per_request=1.0)
    def test_client(nni_responses):
        exp_id = start_fake_experiment(nni_responses.fake, config, port=8080)
        ...

The fake manager is the ``nni_fake_manager`` fixture when one is defined (the nni-exp pytest
plugin's, configured by its ``nni_fake`` marker), else a fresh :class:`fakes.FakeManager`; a
``fake=`` argument of the marker overrides both.

This module only imports pytest: ``responses`` and the fake are imported when a test uses the
fixture, so the pytest plugin can re-export it without needing the ``test`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterator

import pytest

if TYPE_CHECKING:
    from .responses_adapter import NniResponses

__all__ = ["nni_responses", "MARKER_NAME", "MARKER_HELP"]

MARKER_NAME = "nni_responses"
MARKER_HELP = (
    "nni_responses(fake=None, passthrough=False, advance_per_request=0.0, hosts=('localhost', '127.0.0.1'), "
    "fake_pids=True): options of the nni_responses fixture"
)
_FAKE_FIXTURE = "nni_fake_manager"


def _marker_options(request: pytest.FixtureRequest) -> Dict[str, Any]:
    marker = request.node.get_closest_marker(MARKER_NAME)
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(f"@pytest.mark.{MARKER_NAME} takes keyword arguments only, got {marker.args!r}")
    return dict(marker.kwargs)


@pytest.fixture
def nni_responses(request: pytest.FixtureRequest) -> Iterator[NniResponses]:
    """An active :class:`~nni_exp.testing.responses_adapter.NniResponses` for the test.

    Every ``requests`` call to ``localhost``/``127.0.0.1`` is answered by the fake manager
    (``nni_responses.fake``) without a socket; other URLs fail unless ``passthrough=True``.
    """
    try:
        from .responses_adapter import NniResponses
    except ModuleNotFoundError as error:
        pytest.fail(f"the nni_responses fixture needs the {error.name!r} package (pip install 'nni-exp[test]')",
                    pytrace=False)
    from fakes import FakeManager

    options = _marker_options(request)
    fake = options.pop("fake", None)
    if fake is None:
        try:
            fake = request.getfixturevalue(_FAKE_FIXTURE)
        except pytest.FixtureLookupError:
            fake = None  # no plugin fixture: NniResponses makes a fresh fake
        if not isinstance(fake, FakeManager):
            fake = None
    try:
        adapter = NniResponses(fake, **options)
    except (TypeError, ValueError) as error:
        raise pytest.UsageError(f"@pytest.mark.{MARKER_NAME}: {error}") from None
    with adapter:
        yield adapter
