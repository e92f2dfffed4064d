"""The filters every list of the API names the same way: `system` and `version`, each by its
human name or its id. An unknown system or version is a 400 that says where the accepted ones
are listed, never an empty page that reads like "nothing to see"."""

from __future__ import annotations

import uuid

import django_filters
from django_filters.constants import EMPTY_VALUES

from governance.core.exceptions import ApplicationError
from governance.registry.models import AISystem, ModelVersion

NO_SYSTEM = "system: no AI system {value!r} (give its slug or id); GET /api/v1/systems/ lists them."
NO_VERSION = "version: no model version {value!r} (give its id, or its name with system); GET /api/v1/versions/ lists them."
SYSTEM_HELP = "The AI system's slug (e.g. credit-scoring) or id"
# The 400 lists what would have been accepted (extra.accepted), as every refused value does; a long
# registry is cut, and the message says where the whole list is.
LISTED = 100
VERSION_HELP = "The model version's id, or its name (e.g. 1.0.0) together with system"


def system_lookup(value: str) -> AISystem:
    """An AI system by slug, or by id (slugs are lowercase words, so a number is an id)."""
    system = AISystem.objects.filter(slug=value).first()
    if system is None and str(value).isdigit():
        system = AISystem.objects.filter(pk=int(value)).first()
    if system is None:
        accepted = list(AISystem.objects.order_by("slug").values_list("slug", flat=True)[:LISTED])
        raise ApplicationError(NO_SYSTEM.format(value=value), field="system", extra={"accepted": accepted})
    return system


def versions_matching(value: str, *, system: AISystem | None = None):
    """The versions a `version` filter names: one id, or a name (1.0.0) within ``system`` or any system."""
    try:
        qs = ModelVersion.objects.filter(pk=uuid.UUID(str(value)))
    except ValueError:
        qs = ModelVersion.objects.filter(version=value)
    if system is not None:
        qs = qs.filter(system=system)
    if not qs.exists():
        known = ModelVersion.objects.filter(system=system) if system is not None else ModelVersion.objects.all()
        accepted = list(known.order_by("version").values_list("version", flat=True).distinct()[:LISTED])
        raise ApplicationError(NO_VERSION.format(value=value), field="version", extra={"accepted": accepted})
    return qs


class SystemFilter(django_filters.CharFilter):
    def __init__(self, field_name: str = "system", **kwargs):
        kwargs.setdefault("label", SYSTEM_HELP)
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        return qs.filter(**{self.field_name: system_lookup(value)})


class VersionFilter(django_filters.CharFilter):
    def __init__(self, field_name: str = "version", **kwargs):
        kwargs.setdefault("label", VERSION_HELP)
        super().__init__(field_name=field_name, **kwargs)

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        system_value = self.parent.data.get("system") if self.parent is not None else None
        system = system_lookup(system_value) if system_value else None
        return qs.filter(**{f"{self.field_name}__in": versions_matching(value, system=system)})
