"""The two frameworks, and which evidence speaks to which of their controls.

No model here, so the audit kinds can register their maps when the apps load.
"""

from __future__ import annotations

from django.db import models


class Framework(models.TextChoices):
    AI_RMF = "ai-rmf", "NIST AI RMF 1.0"
    ISO42001 = "iso42001", "ISO/IEC 42001:2023 Annex A"


# Evidence the platform produces itself; each audit kind adds its own map when Django starts
# (`register_controls`, from audits/kinds/).
EVIDENCE_MAP: dict[str, dict[str, list[str]]] = {
    "registry": {Framework.AI_RMF: ["GOVERN 1.6", "MAP 1.1", "MAP 3.3"], Framework.ISO42001: ["A.4.2", "A.6.2.2", "A.9.4"]},
    "report": {Framework.AI_RMF: ["MEASURE 2.1", "GOVERN 4.2"], Framework.ISO42001: ["A.6.2.7", "A.8.3"]},
    "approval": {Framework.AI_RMF: ["GOVERN 1.4", "GOVERN 2.3", "MANAGE 1.1"], Framework.ISO42001: ["A.3.2", "A.6.2.5"]},
    "audit_trail": {Framework.AI_RMF: ["GOVERN 4.3"], Framework.ISO42001: ["A.6.2.8"]},
    "rollback": {Framework.AI_RMF: ["GOVERN 1.7", "MANAGE 2.4"], Framework.ISO42001: ["A.6.2.6"]},
}


def register_controls(kind: str, controls: dict) -> None:
    """An evidence kind's controls: {framework: [ref, ...]}, the first AI RMF ref first."""
    if EVIDENCE_MAP.get(kind, controls) != controls:
        raise ValueError(f"evidence kind {kind!r} is mapped twice, differently")
    EVIDENCE_MAP[kind] = controls


def mapped_refs(kind: str) -> list[tuple[str, str]]:
    return [(framework, ref) for framework, refs in EVIDENCE_MAP[kind].items() for ref in refs]
