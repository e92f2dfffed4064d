"""What every endpoint of the API shares: it refuses what it does not understand.

The OpenAPI schema that drf-spectacular builds from the views is the contract. A query
parameter the schema does not document for that endpoint and method, or a value outside a
documented enum or type, is a 400 that lists what is accepted, before the view runs. An
ignored filter is worse than an error: `?system__slug=` once returned every system's rows and
a PATCH that followed changed the wrong system's control.

The check is a middleware, not a filter backend, because half the endpoints are plain
APIViews that read `request.query_params` themselves and never call a filter backend; the
middleware sees every resolved view, and skips those the schema does not describe (pages,
the schema itself, the docs).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid

from django.conf import settings
from django.http import JsonResponse
from django.urls import get_urlconf
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from governance.core.jsonbounds import JSONBoundsError, json_text_check, json_value_check

UNKNOWN_PARAMETERS = "Unknown query parameter{s} {names}; accepted here: {accepted}."
NO_PARAMETERS = "Unknown query parameter{s} {names}; this endpoint takes none."
NOT_IN_ENUM = "{name}: {value!r} is not accepted; use one of {choices}."
NOT_AN_INTEGER = "{name}: {value!r} is not an integer."
NOT_A_UUID = "{name}: {value!r} is not an id (a UUID)."
INTEGER_OUT_OF_RANGE = "{name}: {value!r} is out of range; accepted: -{maximum} to {maximum}."
NUL_BYTE = "{name}: a NUL byte is not accepted in a query value."
# PostgreSQL's bigint: a larger ?limit= or ?offset= reached the database and came back a 500.
MAX_QUERY_INTEGER = 2**63 - 1
# DRF's own format override (?format=json, ?format=pem on the gate's key): every endpoint takes it.
ALWAYS_ACCEPTED = frozenset({settings.REST_FRAMEWORK.get("URL_FORMAT_OVERRIDE", "format")})

log = logging.getLogger(__name__)
_lock = threading.Lock()
_contracts: dict[str, dict] = {}


def _quoted(names) -> str:
    return ", ".join(f"'{n}'" for n in names)


def documented_query_parameters() -> dict:
    """{(view callback, HTTP method): {parameter name: its OpenAPI schema}} for the current urlconf.

    Built once per process from the same generator that serves /api/schema/, so what is accepted
    and what is documented cannot drift apart."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    contract = _contracts.get(urlconf)
    if contract is None:
        with _lock:
            contract = _contracts.get(urlconf)
            if contract is None:
                try:
                    contract = _build(urlconf)
                except Exception:  # noqa: BLE001
                    # A view whose schema cannot be drawn must not take the gate down with it: the API
                    # answers unchecked, the error is logged, and tests/core/test_api.py fails on it.
                    log.exception("The OpenAPI schema could not be built; query parameters go unchecked.")
                    contract = {}
                _contracts[urlconf] = contract
    return contract


def _build(urlconf) -> dict:
    generator = SchemaGenerator(urlconf=urlconf)
    with GENERATOR_STATS.silence():  # the schema's warnings are for `manage.py spectacular`, not every process
        schema = generator.get_schema(request=None, public=True)
        contract = {}
        for path, _regex, method, callback in generator.endpoints:
            view = generator.create_view(callback, method)
            operation = schema["paths"].get(generator.coerce_path(path, method, view), {}).get(method.lower())
            if operation is None:  # excluded from the schema: not ours to judge
                continue
            params = contract.setdefault((callback, method), {})
            for p in operation.get("parameters", []):
                if p.get("in") == "query":
                    params[p["name"]] = p.get("schema", {})
    return contract


def query_problem(query, documented: dict) -> tuple[str, dict] | None:
    """(message, extra) for the first thing in ``query`` (a QueryDict) the contract refuses, or None."""
    unknown = sorted(set(query) - set(documented) - ALWAYS_ACCEPTED)
    accepted = sorted(documented)
    if unknown:
        s = "s" if len(unknown) > 1 else ""
        message = (UNKNOWN_PARAMETERS.format(s=s, names=_quoted(unknown), accepted=_quoted(accepted)) if accepted
                   else NO_PARAMETERS.format(s=s, names=_quoted(unknown)))
        return message, {"field": unknown[0], "unknown": unknown, "accepted": accepted}
    for name, values in query.lists():
        schema = documented.get(name)
        if schema is None:
            continue
        item = schema.get("items", schema) if schema.get("type") == "array" else schema
        for value in values:
            problem = _value_problem(name, value, item)
            if problem:
                return problem
    return None


def _value_problem(name: str, value: str, schema: dict) -> tuple[str, dict] | None:
    if value == "":  # an empty filter means "no filter", as django-filter reads it
        return None
    if "\x00" in value:  # PostgreSQL refuses NUL in text; it came back a 500
        return NUL_BYTE.format(name=name), {"field": name}
    enum = schema.get("enum")
    if enum:
        choices = [str(c) for c in enum if c not in (None, "")]
        if value not in choices:
            return (NOT_IN_ENUM.format(name=name, value=value, choices=_quoted(choices)),
                    {"field": name, "accepted": choices})
        return None
    if schema.get("type") == "integer":
        try:
            number = int(value)
        except ValueError:
            return NOT_AN_INTEGER.format(name=name, value=value), {"field": name}
        if not -MAX_QUERY_INTEGER <= number <= MAX_QUERY_INTEGER:
            return (INTEGER_OUT_OF_RANGE.format(name=name, value=value, maximum=MAX_QUERY_INTEGER),
                    {"field": name})
    if schema.get("format") == "uuid":
        try:
            uuid.UUID(value)
        except ValueError:
            return NOT_A_UUID.format(name=name, value=value), {"field": name}
    return None


class StrictQueryMiddleware:
    """Refuse undocumented query parameters and values with {"message", "extra"} (400)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not getattr(view_func, "cls", None) or request.method == "OPTIONS":
            return None  # not a DRF view (a page), or a preflight
        method = "GET" if request.method == "HEAD" else request.method
        documented = documented_query_parameters().get((view_func, method))
        if documented is None:
            return None
        problem = query_problem(request.GET, documented)
        if problem is None:
            return None
        message, extra = problem
        return JsonResponse({"message": message, "extra": extra}, status=400,
                            json_dumps_params={"ensure_ascii": False})


class BoundedJSONField(serializers.JSONField):
    """A JSON value with bounded nesting and size, wherever it comes from (a JSON body, a form string)."""

    def to_internal_value(self, data):
        try:
            if getattr(data, "is_json_string", False) or self.binary:
                json_text_check(data)  # a form string: before json.loads recurses into it
            else:
                json_value_check(data)  # a JSON body's value: before json.dumps recurses into it
        except JSONBoundsError as exc:
            raise serializers.ValidationError(exc.message) from None
        return _checked(super().to_internal_value(data))


def _checked(value):
    try:
        json_value_check(value)
    except JSONBoundsError as exc:
        raise serializers.ValidationError(exc.message) from None
    return value


class JSONOrFileField(BoundedJSONField):
    """A JSON value sent as a string (`-F 'spec={...}'`, a JSON body) or as a file part
    (`-F spec=@spec.json`): curl users reach for the second, and DRF's JSONField refuses it."""

    NOT_UTF8 = "The file is not UTF-8 text."
    TOO_LARGE = "The file is larger than {limit} bytes."
    INVALID = "The file is not valid JSON: {error}."
    max_file_bytes = 1024 * 1024

    def get_value(self, dictionary):
        # DRF's JSONField turns every form value into a string, a file part into its file name.
        value = dictionary.get(self.field_name) if hasattr(dictionary, "get") else None
        if hasattr(value, "read"):
            return value
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            if getattr(data, "size", 0) > self.max_file_bytes:
                raise serializers.ValidationError(self.TOO_LARGE.format(limit=self.max_file_bytes))
            raw = data.read(self.max_file_bytes + 1)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise serializers.ValidationError(self.NOT_UTF8) from None
            try:
                json_text_check(text, max_chars=self.max_file_bytes)
                return _checked(json.loads(text))
            except JSONBoundsError as exc:
                raise serializers.ValidationError(exc.message) from None
            except ValueError as exc:
                raise serializers.ValidationError(self.INVALID.format(error=exc)) from None
        return super().to_internal_value(data)
