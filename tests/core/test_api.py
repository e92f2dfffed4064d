"""The API refuses what it does not understand: undocumented query parameters and values are a
400 that lists what is accepted; JSON fields take a file part as well as a string."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from rest_framework import serializers

from governance.core.api import (
    JSONOrFileField,
    documented_query_parameters,
    query_problem,
)

pytestmark = pytest.mark.django_db

CONTRACT = {
    "status": {"type": "string", "enum": ["open", "done"]},
    "since_seq": {"type": "integer"},
    "run": {"type": "string", "format": "uuid"},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
    "search": {"type": "string"},
}


def problem(query: str, contract=CONTRACT):
    return query_problem(QueryDict(query), contract)


# --- the rule, on a contract written by hand --------------------------------------------

def test_documented_parameters_and_values_pass():
    assert problem("status=open&since_seq=12&run=6f1c3c2e-8c52-4a3e-9a55-0b3c9b1e1f00&tags=a&tags=b&search=x") is None


def test_format_is_always_accepted_as_drf_reads_it():
    assert problem("format=json", {}) is None


def test_an_empty_value_means_no_filter():
    assert problem("status=&since_seq=") is None


def test_an_unknown_parameter_is_named_with_every_accepted_one():
    message, extra = problem("system__slug=credit&status=open")
    assert message == ("Unknown query parameter 'system__slug'; accepted here: "
                       "'run', 'search', 'since_seq', 'status', 'tags'.")
    assert extra == {"field": "system__slug", "unknown": ["system__slug"],
                     "accepted": ["run", "search", "since_seq", "status", "tags"]}


def test_several_unknown_parameters_are_all_named():
    message, extra = problem("b=1&a=2")
    assert message.startswith("Unknown query parameters 'a', 'b'; accepted here:")
    assert extra["unknown"] == ["a", "b"]


def test_an_endpoint_without_parameters_says_it_takes_none():
    assert problem("page=2", {}) == ("Unknown query parameter 'page'; this endpoint takes none.",
                                     {"field": "page", "unknown": ["page"], "accepted": []})


@pytest.mark.parametrize("query,message,extra", [
    ("status=sideways", "status: 'sideways' is not accepted; use one of 'open', 'done'.",
     {"field": "status", "accepted": ["open", "done"]}),
    ("tags=a&tags=c", "tags: 'c' is not accepted; use one of 'a', 'b'.", {"field": "tags", "accepted": ["a", "b"]}),
    ("since_seq=ten", "since_seq: 'ten' is not an integer.", {"field": "since_seq"}),
    ("run=42", "run: '42' is not an id (a UUID).", {"field": "run"}),
])
def test_a_value_outside_the_documented_enum_or_type_is_refused(query, message, extra):
    assert problem(query) == (message, extra)


# --- the rule, on the real API -----------------------------------------------------------

def test_every_api_endpoint_is_under_contract():
    documented = documented_query_parameters()
    views = {callback.cls.__name__ for callback, _method in documented}
    assert {"AssessmentViewSet", "ApprovalListView", "GateView", "GatePublicKeyView", "ReportViewSet",
            "TrailExportView", "RecommendationListView", "BatchView"} <= views
    assert all(not name.startswith("Spectacular") for name in views)  # the docs and the schema are not judged


def test_a_misspelt_filter_on_a_list_is_a_400_not_every_row(api):
    r = api("carla").get("/api/v1/assessments/", {"system__slug": "credit"})
    assert r.status_code == 400
    assert r.json()["message"] == ("Unknown query parameter 'system__slug'; accepted here: "
                                   "'control', 'framework', 'limit', 'offset', 'status', 'system'.")


def test_a_view_that_reads_its_parameters_by_hand_is_held_to_the_same_contract(api):
    r = api("bob").get("/api/v1/approvals/", {"state": "approved"})
    assert r.status_code == 400
    assert r.json()["extra"]["accepted"] == ["environment", "status", "system", "version"]
    r = api("bob").get("/api/v1/approvals/", {"environment": "moon"})
    assert (r.status_code, r.json()["message"]) == (400, "environment: 'moon' is not accepted; use one of "
                                                          "'production', 'staging'.")


def test_an_integer_parameter_is_checked_before_the_view_runs(api):
    r = api("aude").get("/api/v1/audit-log/export/", {"since_seq": "ten"})
    assert (r.status_code, r.json()) == (400, {"message": "since_seq: 'ten' is not an integer.",
                                               "extra": {"field": "since_seq"}})


def test_a_parameter_on_an_endpoint_that_takes_none_is_refused(api):
    r = api("aude").get("/api/v1/approvals/00000000-0000-0000-0000-000000000000/", {"full": "1"})
    assert (r.status_code, r.json()["message"]) == (400, "Unknown query parameter 'full'; this endpoint takes none.")
    # ...and one that takes some names them
    r = api("aude").get("/api/v1/audit-log/verify/", {"full": "1"})
    assert (r.status_code, r.json()["message"]) == (400, "Unknown query parameter 'full'; accepted here: 'anchor'.")


def test_pages_and_the_docs_are_not_api_endpoints(client):
    assert client.get("/healthz/", {"anything": "1"}).status_code == 200
    assert client.get("/api/schema/", {"format": "json"}).status_code == 200


# --- JSON fields: a string or a file part ----------------------------------------------

class WithSpec(serializers.Serializer):
    spec = JSONOrFileField()


def parsed(value):
    data = WithSpec(data=QueryDict(mutable=True))
    data.initial_data.update({"spec": value})
    return data


def test_a_json_field_reads_a_file_part():
    s = parsed(SimpleUploadedFile("spec.json", b'{"architecture": "mlp", "classes": [0, 1]}'))
    assert s.is_valid(), s.errors
    assert s.validated_data["spec"] == {"architecture": "mlp", "classes": [0, 1]}


def test_a_json_field_still_reads_a_string():
    s = parsed(json.dumps({"a": 1}))
    assert s.is_valid(), s.errors
    assert s.validated_data["spec"] == {"a": 1}


def test_a_file_with_a_byte_order_mark_is_read_as_an_editor_saved_it():
    s = parsed(SimpleUploadedFile("spec.json", '\ufeff{"a": 1}'.encode()))
    assert s.is_valid(), s.errors


@pytest.mark.parametrize("content,message", [
    (b'{"a": ', "The file is not valid JSON: Expecting value: line 1 column 7 (char 6)."),
    (b"\xff\xfe{}", "The file is not UTF-8 text."),
    (b" " * (JSONOrFileField.max_file_bytes + 1), f"The file is larger than {JSONOrFileField.max_file_bytes} bytes."),
])
def test_a_bad_file_part_names_what_is_wrong(content, message):
    s = parsed(SimpleUploadedFile("spec.json", content))
    assert not s.is_valid()
    assert [str(e) for e in s.errors["spec"]] == [message]


@pytest.mark.parametrize("name", ["limit", "offset"])
def test_a_paging_number_beyond_bigint_is_a_400_not_a_database_error(api, name):
    r = api("carla").get("/api/v1/assessments/", {name: "99999999999999999999"})
    assert r.status_code == 400
    assert r.json()["message"] == (f"{name}: '99999999999999999999' is out of range; "
                                   f"accepted: -{2**63 - 1} to {2**63 - 1}.")
    assert r.json()["extra"] == {"field": name}


def test_a_nul_byte_in_a_filter_is_a_400_that_names_the_filter(api):
    r = api("carla").get("/api/v1/assessments/", {"framework": "nist\x00"})
    assert r.status_code == 400
    assert r.json() == {"message": "framework: a NUL byte is not accepted in a query value.",
                        "extra": {"field": "framework"}}
