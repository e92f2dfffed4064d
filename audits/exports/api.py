"""Machine-readable exports: OSCAL catalogs and assessment results, model cards. Thin: check access,
call one selector, render."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.views import APIView

from audits.exports.model_card import model_card_markdown
from audits.exports.selectors import (
    model_card_for_version,
    oscal_assessment_results,
    oscal_catalog,
)
from governance.core.roles import require
from governance.registry.models import AISystem, ModelVersion
from governance.registry.selectors import version_scope


def _download(body: str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json(document: dict, filename: str) -> HttpResponse:
    return _download(json.dumps(document, indent=2, ensure_ascii=False) + "\n", filename=filename,
                     content_type="application/json")


class OscalCatalogExport(APIView):
    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request, framework):
        """The controls catalog of one framework ("ai-rmf" or "iso42001") as an OSCAL 1.1.3 catalog."""
        require(request.user, "system.view")
        return _json(oscal_catalog(framework=framework), f"{framework}.oscal-catalog.json")


class OscalAssessmentResultsExport(APIView):
    @extend_schema(parameters=[OpenApiParameter("version", str, required=False,
                                                description="A version's name (e.g. 1.0.0): its results only")],
                   responses={(200, "application/json"): OpenApiTypes.OBJECT})
    def get(self, request, slug):
        """One AI system's control statuses, findings and audit observations as OSCAL assessment results."""
        system = get_object_or_404(AISystem.objects.select_related("owner"), slug=slug)
        require(request.user, "system.view", system)
        version = version_scope(system=system, label=request.query_params.get("version"))
        name = f"{slug}-{version.version}" if version else slug
        return _json(oscal_assessment_results(system=system, version=version), f"{name}.oscal-assessment-results.json")


class ModelCardExport(APIView):
    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT, (200, "text/markdown"): OpenApiTypes.STR})
    def get(self, request, version_id, fmt):
        """The model card of one version, as JSON (``.json``) or Markdown (``.md``)."""
        version = get_object_or_404(
            ModelVersion.objects.select_related("system__owner", "created_by", "parent", "train_dataset",
                                                "eval_dataset"), pk=version_id)
        require(request.user, "system.view", version.system)
        card = model_card_for_version(version=version)
        name = f"{version.system.slug}-{version.version}.model-card"
        if fmt == "md":
            return _download(model_card_markdown(card), filename=f"{name}.md", content_type="text/markdown; charset=utf-8")
        return _json(card, f"{name}.json")
