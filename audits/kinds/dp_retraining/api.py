"""Thin API views for DP retraining. Audits themselves are requested
through POST /api/v1/audit-runs/ with kind robustness, poisoning, privacy or dp_retraining.

POST /api/v1/retraining-recommendations/<id>/dp-retrain/   an approver starts DP retraining
GET  /api/v1/systems/<slug>/privacy-budget/                epsilon spent per training dataset
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from audits.drift.selectors import retraining_recommendation_get
from audits.kinds.dp_retraining.services import (
    privacy_budgets,
    retraining_from_recommendation,
)
from audits.runs.serializers import AuditRunOut
from governance.core import idempotency
from governance.core.api import BoundedJSONField
from governance.core.exceptions import NotFoundError
from governance.core.parsers import BoundedJSONParser
from governance.core.roles import require
from governance.registry.models import AISystem

NO_SYSTEM = "system: no AI system {slug!r}."


class DpRetrainIn(serializers.Serializer):
    params = BoundedJSONField(required=False, default=dict, help_text=(
        "DP retraining parameters: target_epsilon, delta, max_grad_norm, epochs, batch_size, accountant "
        "(prv or rdp), new_version"))


class BudgetVersion(serializers.Serializer):
    id = serializers.UUIDField()
    version = serializers.CharField()
    epsilon = serializers.FloatField()
    delta = serializers.FloatField()
    created_at = serializers.DateTimeField()


class BudgetOut(serializers.Serializer):
    dataset_sha256 = serializers.CharField()
    epsilon_spent = serializers.FloatField()
    delta_spent = serializers.FloatField()
    limit_epsilon = serializers.FloatField()
    exceeded = serializers.BooleanField()
    versions = BudgetVersion(many=True)


class RecommendationDpRetrainView(APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(request=DpRetrainIn, responses={201: AuditRunOut}, parameters=[idempotency.PARAMETER])
    @idempotency.idempotent
    def post(self, request, pk):
        rec = retraining_recommendation_get(pk=pk, user=request.user)
        data = DpRetrainIn(data=request.data)
        data.is_valid(raise_exception=True)
        run = retraining_from_recommendation(actor=request.user, recommendation=rec,
                                             params=data.validated_data["params"])
        return Response(AuditRunOut(run).data, status=status.HTTP_201_CREATED)


class PrivacyBudgetView(APIView):
    @extend_schema(responses={200: BudgetOut(many=True)})
    def get(self, request, slug):
        system = AISystem.objects.filter(slug=slug).first()
        if system is None:
            raise NotFoundError(NO_SYSTEM.format(slug=slug), field="system")
        require(request.user, "system.view", system)
        return Response(BudgetOut(privacy_budgets(system=system), many=True).data)
