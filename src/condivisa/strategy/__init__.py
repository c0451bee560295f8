"""Strategy tools of a municipality's energy plan: PESTLE analysis, barriers and opportunities map, Theory of
Change, policy sandbox experiments and the best-practice library with its replication into another plan.

Pure modules: :mod:`condivisa.strategy.artefacts` (models, validation with Italian messages naming the path,
exports to JSON, Markdown, SVG and Mermaid) and :mod:`condivisa.strategy.replication` (copying a best practice).
"""

from condivisa.strategy.artefacts import (
    KIND_LABELS,
    KINDS,
    Artefact,
    BarrierOpportunityMap,
    BestPractice,
    PestleAnalysis,
    SandboxExperiment,
    TheoryOfChange,
    parse_artefact,
    to_json,
    to_markdown,
    toc_mermaid,
    toc_svg,
)
from condivisa.strategy.replication import AlreadyCopiedError, Provenance, StoredArtefact, replicate

__all__ = [
    "KINDS",
    "KIND_LABELS",
    "AlreadyCopiedError",
    "Artefact",
    "BarrierOpportunityMap",
    "BestPractice",
    "PestleAnalysis",
    "Provenance",
    "SandboxExperiment",
    "StoredArtefact",
    "TheoryOfChange",
    "parse_artefact",
    "replicate",
    "to_json",
    "to_markdown",
    "toc_mermaid",
    "toc_svg",
]
