"""The API's JSON parser: a body's nesting and length are bounded before it is parsed.

Its own module: REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] imports it while DRF's views load, and
governance/core/api.py imports DRF's serializers, which would make the import circular.
"""

from __future__ import annotations

import io

from django.conf import settings
from rest_framework import serializers
from rest_framework.parsers import JSONParser

from governance.core.jsonbounds import JSONBoundsError, json_text_check


class BoundedJSONParser(JSONParser):
    """A JSON request body, its depth and length checked before it is parsed (governance/core/jsonbounds.py):
    a body nested 5,000 deep made json.load raise RecursionError, which DRF does not catch (a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            json_text_check(raw, max_chars=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        except JSONBoundsError as exc:
            field = exc.key or "body"
            raise serializers.ValidationError({field: [exc.message]}) from None
        return super().parse(io.BytesIO(raw), media_type, parser_context)
