"""Load the controls catalog shipped in governance/catalog/data/ (see SOURCES.md there).

Idempotent: controls are keyed by (framework, ref); a later catalog revision updates the
rows in place and never duplicates them, and crosswalk links are synced to the file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from governance.catalog.models import (
    Control,
    ControlAssessment,
    CrosswalkLink,
    Framework,
)
from governance.registry.models import AISystem

CATALOG_DIR = Path(__file__).resolve().parent / "data"
AI_RMF_FILE = "nist_ai_rmf_1_0.json"
ISO_FILE = "iso_iec_42001_annex_a.json"
CROSSWALK_FILE = "crosswalk_ai_rmf_iso42001.json"
FUNCTION_ORDER = ["GOVERN", "MAP", "MEASURE", "MANAGE"]


@dataclass
class CatalogStats:
    created: int = 0
    updated: int = 0
    links: int = 0


def read_catalog_file(name: str, directory: Path = CATALOG_DIR) -> dict:
    return json.loads((directory / name).read_text(encoding="utf-8"))


def _sort_key(framework: str, ref: str) -> str:
    """Natural order: GOVERN 1.2 < GOVERN 1.10; MAP before MEASURE as in the framework."""
    numbers = [int(n) for n in re.findall(r"\d+", ref)]
    prefix = FUNCTION_ORDER.index(ref.split()[0]) if framework == Framework.AI_RMF else 0
    return f"{prefix:02d}" + "".join(f"{n:04d}" for n in numbers)


def _ai_rmf_rows(data: dict) -> list[dict]:
    rows = []
    for function in data["functions"]:
        for category in function["categories"]:
            for sub in category["subcategories"]:
                rows.append(
                    {
                        "framework": Framework.AI_RMF,
                        "ref": sub["id"],
                        "title": "",
                        "text": sub["text"],
                        "group_ref": function["id"],
                        "group_title": function["title"],
                        "group_description": function.get("description", ""),
                        "category_ref": category["id"],
                        "category_title": category["title"],
                    }
                )
    return rows


def _iso_rows(data: dict) -> list[dict]:
    rows = []
    for objective in data["objectives"]:
        subs = {s["id"]: s["title"] for s in objective.get("sub_objectives", [])}
        for control in objective["controls"]:
            sub = control.get("sub_objective", "")
            rows.append(
                {
                    "framework": Framework.ISO42001,
                    "ref": control["id"],
                    "title": control["title"],
                    "text": "",
                    "group_ref": objective["id"],
                    "group_title": objective["title"],
                    "group_description": "",
                    "category_ref": sub,
                    "category_title": subs.get(sub, ""),
                }
            )
    return rows


@transaction.atomic
def catalog_load(directory: Path = CATALOG_DIR) -> CatalogStats:
    stats = CatalogStats()
    ai_rmf = read_catalog_file(AI_RMF_FILE, directory)
    iso = read_catalog_file(ISO_FILE, directory)
    crosswalk = read_catalog_file(CROSSWALK_FILE, directory)
    clauses = {m["ai_rmf"]: m.get("iso42001_clauses", []) for m in crosswalk["mappings"]}

    controls: dict[tuple[str, str], Control] = {}
    for row in _ai_rmf_rows(ai_rmf) + _iso_rows(iso):
        row["sort_key"] = _sort_key(row["framework"], row["ref"])
        row["iso_clauses"] = clauses.get(row["ref"], []) if row["framework"] == Framework.AI_RMF else []
        key = (row.pop("framework"), row.pop("ref"))
        control, created = Control.objects.update_or_create(framework=key[0], ref=key[1], defaults=row)
        controls[key] = control
        stats.created += int(created)
        stats.updated += int(not created)

    wanted = {}
    for mapping in crosswalk["mappings"]:
        for iso_ref in mapping.get("iso42001", []):
            pair = (controls[(Framework.AI_RMF, mapping["ai_rmf"])].pk, controls[(Framework.ISO42001, iso_ref)].pk)
            wanted[pair] = " ".join(mapping.get("notes", []))
    existing = {(link.ai_rmf_id, link.iso_id): link for link in CrosswalkLink.objects.all()}
    CrosswalkLink.objects.filter(pk__in=[link.pk for pair, link in existing.items() if pair not in wanted]).delete()
    CrosswalkLink.objects.bulk_create(
        [CrosswalkLink(ai_rmf_id=a, iso_id=i, notes=n) for (a, i), n in wanted.items() if (a, i) not in existing]
    )
    stats.links = len(wanted)

    # Systems registered before a catalog revision get assessments for new controls too.
    for system in AISystem.objects.all():
        assessments_ensure(system=system)
    return stats


def assessments_ensure(*, system: AISystem) -> int:
    """One assessment per catalog control for this system; creates only what is missing."""
    have = set(ControlAssessment.objects.filter(system=system).values_list("control_id", flat=True))
    missing = [ControlAssessment(system=system, control_id=pk) for pk in Control.objects.values_list("pk", flat=True) if pk not in have]
    ControlAssessment.objects.bulk_create(missing)
    return len(missing)
