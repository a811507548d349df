"""The names a config may give as a built-in tuner, assessor or advisor ``name``.

With ``nni`` installed, they come from NNI's algorithm registry: its built-in algorithms and those
registered with ``nnictl algo register`` (what NNI's dispatcher accepts). Without it, from nni-exp's
copy of NNI 3.0's built-in list (the names the fake manager's own search accepts). Names are
matched as NNI matches them: case-insensitively, aliases included. Advisors count as tuners (NNI 3.0
runs an advisor as the tuner).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Mapping, Optional

__all__ = ["BUILTIN_TUNERS", "BUILTIN_ASSESSORS", "KnownAlgorithms", "known_algorithms"]

#: NNI 3.0's built-in tuners and advisors (``nni/runtime/default_config/builtin_algorithms.yml``):
#: name -> aliases.
BUILTIN_TUNERS: dict[str, tuple[str, ...]] = {
    "PPO": ("PPOTuner",),
    "SMAC": (),
    "TPE": (),
    "TPE_legacy": (),
    "Random": (),
    "Anneal": (),
    "Evolution": (),
    "Batch": ("BatchTuner",),
    "GridSearch": (),
    "NetworkMorphism": (),
    "Metis": ("MetisTuner",),
    "GP": ("GPTuner",),
    "PBT": ("PBTTuner",),
    "RegularizedEvolutionTuner": (),
    "DNGO": ("DNGOTuner",),
    "Hyperband": (),
    "BOHB": (),
}

#: NNI 3.0's built-in assessors: name -> aliases.
BUILTIN_ASSESSORS: dict[str, tuple[str, ...]] = {"Medianstop": (), "Curvefitting": ()}

AlgorithmKind = Literal["tuner", "assessor", "advisor"]


@dataclass(frozen=True)
class KnownAlgorithms:
    """Known tuners (advisors included) and assessors, each ``name -> aliases``; ``source`` says whence."""

    tuners: Mapping[str, tuple[str, ...]]
    assessors: Mapping[str, tuple[str, ...]]
    source: str

    def _table(self, kind: AlgorithmKind) -> Mapping[str, tuple[str, ...]]:
        return self.assessors if kind == "assessor" else self.tuners

    def names(self, kind: AlgorithmKind) -> list[str]:
        """The names (no aliases) a ``kind`` may have, sorted case-insensitively."""
        return sorted(self._table(kind), key=str.lower)

    def find(self, kind: AlgorithmKind, name: str) -> Optional[str]:
        """The registered name that ``name`` means (any case, or an alias), or None if unknown."""
        wanted = name.lower()
        for known, aliases in self._table(kind).items():
            if wanted in (known.lower(), *(alias.lower() for alias in aliases)):
                return known
        return None


def known_algorithms() -> KnownAlgorithms:
    """The algorithms NNI's registry knows when ``nni`` can be imported, else NNI 3.0's built-ins.

    The registry is read on every call, so algorithms registered meanwhile are seen.
    """
    try:
        from nni.tools.package_utils.config_manager import get_all_algo_meta

        metas = get_all_algo_meta()
        tuners: dict[str, tuple[str, ...]] = {}
        assessors: dict[str, tuple[str, ...]] = {}
        for meta in metas:
            table = assessors if meta.algo_type == "assessor" else tuners
            table[str(meta.name)] = (str(meta.alias),) if meta.alias else ()
    except Exception:  # no nni, or a broken registry: NNI 3.0's built-ins
        return KnownAlgorithms(BUILTIN_TUNERS, BUILTIN_ASSESSORS, "NNI 3.0's built-in algorithms")
    return KnownAlgorithms(tuners, assessors, "NNI's algorithm registry")
