"""Thin API views for drift reviews: production batches, schedules, retraining recommendations.

POST /api/v1/batches/                         a pipeline token with batches:write, or the owner
GET|POST /api/v1/drift-schedules/             people (reading: any role; setting: audit.request)
GET /api/v1/retraining-recommendations/       people; ?system=<slug>&status=open|...|unresolved
POST /api/v1/retraining-recommendations/<id>/resolve/
"""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from audits.drift import services as drift
from audits.drift.models import (
    DriftSchedule,
    RecommendationStatus,
    RetrainingRecommendation,
)
from audits.drift.selectors import (
    retraining_recommendation_get,
    retraining_recommendations,
)
from governance.core import idempotency
from governance.core.exceptions import NotFoundError
from governance.core.parsers import BoundedJSONParser
from governance.registry.models import (
    AISystem,
    Dataset,
    ModelVersion,
    PipelineToken,
    TokenScope,
)
from governance.registry.filters import (
    SYSTEM_HELP,
    VERSION_HELP,
    SystemFilter,
    VersionFilter,
    system_lookup,
    versions_matching,
)
from governance.registry.tokens import PipelineTokenAuthentication, TokenScopePermission

NO_SYSTEM = "system: no AI system {slug!r}."
NO_VERSION = "version: no version {version!r} of {system}."
TRUE = {"1", "true", "yes", "on"}


def _system(slug: str) -> AISystem:
    system = AISystem.objects.filter(slug=slug).first()
    if system is None:
        raise NotFoundError(NO_SYSTEM.format(slug=slug), field="system")
    return system


def _version(system: AISystem, version: str) -> ModelVersion:
    """A version by its name within the system ("1.0.0"), or by its id."""
    mv = ModelVersion.objects.select_related("system", "eval_dataset", "train_dataset").filter(
        system=system, version=version).first()
    if mv is None:
        try:
            mv = ModelVersion.objects.select_related("system", "eval_dataset", "train_dataset").filter(
                system=system, pk=version).first()
        except Exception:  # noqa: BLE001 - not a UUID: it was meant as a name
            mv = None
    if mv is None:
        raise NotFoundError(NO_VERSION.format(version=version, system=system.slug), field="version")
    return mv


# --- batches ------------------------------------------------------------------------------

class BatchIn(serializers.Serializer):
    system = serializers.SlugField()
    version = serializers.CharField(max_length=64, help_text="The version name (e.g. 1.0.0) or its id")
    file = serializers.FileField(allow_empty_file=True, help_text="CSV (with a header row) or Parquet")
    label_column = serializers.CharField(required=False, allow_blank=True, default="",
                                         help_text="The label column, when the batch carries labels")
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    review = serializers.BooleanField(required=False, default=False,
                                      help_text="Request a drift review of this batch now (also ?review=1)")


class BatchOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")

    class Meta:
        model = Dataset
        fields = ["id", "system", "name", "role", "file_format", "sha256", "size_bytes", "n_rows", "schema",
                  "created_at"]


class BatchView(APIView):
    """Upload one production batch; it is checked against the version's schema first."""

    authentication_classes = [PipelineTokenAuthentication, *api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    permission_classes = [TokenScopePermission]
    required_scope = TokenScope.BATCHES_WRITE.value
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": BatchIn},
                   parameters=[OpenApiParameter("review", bool, required=False), idempotency.PARAMETER],
                   responses={201: BatchOut})
    @idempotency.idempotent
    def post(self, request):
        data = BatchIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = _system(v["system"])
        actor = request.auth if isinstance(request.auth, PipelineToken) else request.user
        result = drift.production_batch_register(
            actor_or_token=actor, system=system, version=_version(system, v["version"]), upload=v["file"],
            label_column=v["label_column"] or None, name=v["name"],
            review=v["review"] or request.query_params.get("review", "").lower() in TRUE,
        )
        body = BatchOut(result.batch).data
        review = result.review
        body["review"] = None if review is None else {
            "id": str(review.pk), "status": review.status, "url": f"/api/v1/audit-runs/{review.pk}/"}
        return Response(body, status=status.HTTP_201_CREATED)


# --- schedules ----------------------------------------------------------------------------

class ScheduleIn(serializers.Serializer):
    system = serializers.SlugField()
    version = serializers.CharField(max_length=64)
    crontab = serializers.CharField(max_length=120, help_text="'minute hour day-of-month month day-of-week' "
                                    "in UTC, or @hourly, @daily, @weekly, @monthly")
    enabled = serializers.BooleanField(required=False, default=True)


class ScheduleOut(serializers.ModelSerializer):
    system = serializers.CharField(source="system.slug")
    version = serializers.CharField(source="version.version")
    version_id = serializers.UUIDField(source="version.pk")
    periodic_task = serializers.CharField(source="periodic_task.name")
    last_run_at = serializers.DateTimeField(source="periodic_task.last_run_at", allow_null=True)  # never run yet

    class Meta:
        model = DriftSchedule
        fields = ["system", "version", "version_id", "crontab", "enabled", "periodic_task", "last_run_at",
                  "updated_at"]


class ScheduleFilter(django_filters.FilterSet):
    system = SystemFilter()
    version = VersionFilter()

    class Meta:
        model = DriftSchedule
        fields = ["system", "version"]


class ScheduleView(ListAPIView):
    serializer_class = ScheduleOut
    parser_classes = [BoundedJSONParser, FormParser]
    queryset = DriftSchedule.objects.select_related("system", "version", "periodic_task").order_by("system__slug")
    filterset_class = ScheduleFilter

    @extend_schema(request=ScheduleIn, responses={201: ScheduleOut})
    def post(self, request):
        data = ScheduleIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = _system(v["system"])
        schedule = drift.drift_schedule_set(actor=request.user, system=system, version=_version(system, v["version"]),
                                            crontab=v["crontab"], enabled=v["enabled"])
        return Response(ScheduleOut(schedule).data, status=status.HTTP_201_CREATED)


# --- retraining recommendations -----------------------------------------------------------

class RecommendationOut(serializers.ModelSerializer):
    system = serializers.CharField(source="version.system.slug")
    version = serializers.CharField(source="version.version")
    version_id = serializers.UUIDField(source="version.pk")
    audit_run = serializers.UUIDField(source="audit_run.pk")
    batch = serializers.UUIDField(source="batch.pk", allow_null=True, default=None)
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True, default=None)
    new_version = serializers.CharField(source="new_version.version", allow_null=True, default=None)

    class Meta:
        model = RetrainingRecommendation
        fields = ["id", "system", "version", "version_id", "audit_run", "batch", "status", "reason", "breaches",
                  "created_at", "resolved_by", "resolved_at", "resolution_note", "new_version"]


STATUS_FILTER = OpenApiParameter("status", str, enum=[*RecommendationStatus.values, "unresolved"], required=False)


class RecommendationListView(ListAPIView):
    serializer_class = RecommendationOut
    filter_backends = []  # filtered by the selector below

    @extend_schema(parameters=[OpenApiParameter("system", str, required=False, description=SYSTEM_HELP),
                               STATUS_FILTER,
                               OpenApiParameter("version", str, required=False, description=VERSION_HELP)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        params = self.request.query_params
        status_value = params.get("status", "")  # its values are checked against STATUS_FILTER's enum (core.api)
        system = system_lookup(params["system"]) if params.get("system") else None
        rows = retraining_recommendations(system=system, status=status_value)
        if params.get("version"):
            rows = rows.filter(version__in=versions_matching(params["version"], system=system))
        return rows


class ResolveIn(serializers.Serializer):
    status = serializers.ChoiceField(choices=[RecommendationStatus.ACCEPTED, RecommendationStatus.DISMISSED,
                                              RecommendationStatus.DONE])
    note = serializers.CharField(required=False, allow_blank=True, default="")
    new_version = serializers.CharField(required=False, allow_blank=True, default="",
                                        help_text="The retrained version's name or id (with status done)")


class RecommendationResolveView(APIView):
    parser_classes = [BoundedJSONParser, FormParser]

    @extend_schema(request=ResolveIn, responses={200: RecommendationOut})
    def post(self, request, pk):
        rec = retraining_recommendation_get(pk=pk, user=request.user)
        data = ResolveIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        new_version = _version(rec.version.system, v["new_version"]) if v["new_version"] else None
        rec = drift.retraining_recommendation_resolve(actor=request.user, recommendation=rec, status=v["status"],
                                                      note=v["note"], new_version=new_version)
        return Response(RecommendationOut(rec).data)
