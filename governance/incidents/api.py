"""The API: the public intake (no sign-in, throttled, size-bounded) and the incidents (a role)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from governance.core.exceptions import NotFoundError
from governance.core.roles import require
from governance.incidents import selectors, services
from governance.incidents.intake import body_bound, stamp_issue
from governance.incidents.models import (
    TEXT_MAX,
    TEXT_MIN,
    Incident,
    IncidentStatus,
    ReportKind,
    SeriousCategory,
    Severity,
)
from governance.incidents.throttles import PublicReportThrottle, PublicStatusThrottle
from governance.policies.models import Environment
from governance.registry.models import AISystem

NO_SYSTEM = "No AI system {slug!r}."


class PublicReportIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.values)
    text = serializers.CharField(max_length=TEXT_MAX, trim_whitespace=True)
    stamp = serializers.CharField(max_length=400, help_text="From GET on this endpoint, at least a few seconds old")
    website = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                    help_text="Leave empty (a honeypot)")
    version = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    decision_reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    sensitive_attribute = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    sensitive_group = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class PublicReportCreated(serializers.Serializer):
    reference = serializers.CharField(help_text="Shown once: keep it to follow the answer")
    status = serializers.CharField()


class PublicReportStatus(serializers.Serializer):
    status = serializers.CharField()
    answered_at = serializers.DateTimeField(allow_null=True)
    answer = serializers.CharField(allow_blank=True)
    outcome = serializers.CharField(allow_blank=True)


class PublicView(APIView):
    """No sign-in, no session: nothing an outsider sends is read with anyone's rights."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class PublicReportsView(PublicView):
    """GET: what a report needs (a fresh stamp); POST: send a problem report or an appeal."""

    def get_throttles(self):
        return [PublicReportThrottle()] if self.request.method == "POST" else [PublicStatusThrottle()]

    @extend_schema(operation_id="v1_public_systems_reports_form", responses={200: OpenApiTypes.OBJECT}, auth=[])
    def get(self, request, slug):
        system = services.system_accepting_reports(slug=slug)
        return Response({"system": system.name, "kinds": ReportKind.values,
                         "sensitive_attributes": services.sensitive_attributes(system),
                         "text": {"min": TEXT_MIN, "max": TEXT_MAX},
                         "stamp": stamp_issue(system_slug=system.slug, now=timezone.now()),
                         "wait_seconds": settings.PUBLIC_REPORT_MIN_SECONDS})

    @extend_schema(request=PublicReportIn, responses={201: PublicReportCreated}, auth=[])
    def post(self, request, slug):
        body_bound(request)
        system = services.system_accepting_reports(slug=slug)
        data = PublicReportIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        report, reference = services.public_report_submit(
            system=system, kind=v["kind"], text=v["text"], stamp=v["stamp"], honeypot=v["website"],
            version=v["version"], decision_reference=v["decision_reference"],
            sensitive_attribute=v["sensitive_attribute"], sensitive_group=v["sensitive_group"])
        return Response({"reference": reference, "status": report.status}, status=201)


class PublicReportStatusView(PublicView):
    """GET: the status of one's own report (and its answer), by the reference; nothing else."""

    throttle_classes = [PublicStatusThrottle]

    @extend_schema(operation_id="v1_public_systems_reports_status", responses={200: PublicReportStatus}, auth=[])
    def get(self, request, slug, reference):
        report = services.public_report_by_reference(system_slug=slug, reference=reference)
        return Response({"status": report.status, "answered_at": report.answered_at, "answer": report.answer,
                         "outcome": report.outcome})


# --- Inside ------------------------------------------------------------------------------------


class IncidentOut(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    system = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    versions = serializers.SlugRelatedField(slug_field="version", many=True, read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    deadlines = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = ["id", "reference", "system", "versions", "environments", "title", "description", "severity",
                  "serious", "serious_category", "status", "owner", "root_cause", "corrective_action",
                  "corrective_notes", "source", "audit_run", "occurred_at", "aware_at", "opened_at", "closed_at",
                  "deadlines"]

    def get_deadlines(self, obj) -> list[dict]:
        return [{"jurisdiction": d.jurisdiction, "legal_basis": d.legal_basis, "due_at": d.due_at,
                 "reported_at": d.reported_at} for d in obj.deadlines.all()]


class IncidentIn(serializers.Serializer):
    system = serializers.SlugField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10000)
    severity = serializers.ChoiceField(choices=Severity.values, default=Severity.MEDIUM)
    versions = serializers.ListField(child=serializers.CharField(max_length=64), required=False, default=list)
    environments = serializers.ListField(child=serializers.ChoiceField(choices=Environment.values), required=False,
                                         default=list)
    serious = serializers.BooleanField(default=False)
    serious_category = serializers.ChoiceField(choices=SeriousCategory.values, required=False, allow_blank=True,
                                               default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class TransitionIn(serializers.Serializer):
    to = serializers.ChoiceField(choices=IncidentStatus.values)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


def _system(slug) -> AISystem:
    system = AISystem.objects.filter(slug=slug).first()
    if system is None:
        raise NotFoundError(NO_SYSTEM.format(slug=slug), field="system")
    return system


class IncidentListView(APIView):
    @extend_schema(parameters=[OpenApiParameter("system", str, description="An AI system's slug"),
                               OpenApiParameter("status", str, enum=["open", *IncidentStatus.values])],
                   responses={200: IncidentOut(many=True)})
    def get(self, request):
        slug, status = request.query_params.get("system"), request.query_params.get("status", "")
        if slug:
            rows = selectors.incidents_for_system(system=_system(slug), user=request.user, status=status)
        else:
            rows = selectors.incidents_visible(user=request.user)
            rows = rows.exclude(status=IncidentStatus.CLOSED) if status == "open" else (
                rows.filter(status=status) if status else rows)
        return Response(IncidentOut(rows.prefetch_related("deadlines")[:500], many=True).data)

    @extend_schema(request=IncidentIn, responses={201: IncidentOut})
    def post(self, request):
        data = IncidentIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        system = _system(v["system"])
        versions = list(system.versions.filter(version__in=v["versions"]))
        missing = sorted(set(v["versions"]) - {x.version for x in versions})
        if missing:
            raise NotFoundError(f"versions: {system.slug} has no version {missing[0]!r}.", field="versions")
        incident = services.incident_open(
            actor=request.user, system=system, title=v["title"], description=v["description"],
            severity=v["severity"], versions=versions, environments=v["environments"], serious=v["serious"],
            serious_category=v["serious_category"], occurred_at=v["occurred_at"])
        return Response(IncidentOut(incident).data, status=201)


class IncidentDetailView(APIView):
    @extend_schema(responses={200: IncidentOut})
    def get(self, request, number):
        return Response(IncidentOut(selectors.incident_get(pk=number, user=request.user)).data)


class IncidentTransitionView(APIView):
    @extend_schema(request=TransitionIn, responses={200: IncidentOut})
    def post(self, request, number):
        incident = selectors.incident_get(pk=number, user=request.user, action="incident.manage")
        data = TransitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_transition(actor=request.user, incident=incident, **data.validated_data)
        return Response(IncidentOut(selectors.incident_get(pk=incident.pk, user=request.user)).data)


class IncidentRegulatorView(APIView):
    """The facts an Article 73 report asks for (compliance officers, auditors)."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, number):
        require(request.user, "incident.export")
        return Response(selectors.regulator_facts(
            incident=selectors.incident_get(pk=number, user=request.user, action="incident.export")))
