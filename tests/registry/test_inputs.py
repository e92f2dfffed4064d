"""Inputs are bounded before they are expanded: every bad upload is a 400 that names the field (and
the column), and nothing is written: no row, no trail entry, no file in MEDIA_ROOT."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as examples
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from audits.runs.models import AuditRun
from governance.registry.models import Dataset, ModelVersion
from governance.trail.models import AuditLogEntry
from training.architectures import build_model
from training.artifacts import skops_artifact, torch_artifact

pytestmark = pytest.mark.django_db

SCHEMA = {"features": ["amount", "colour"], "label": "y", "categorical": ["colour"]}
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def nothing_written(credit_system, settings):
    """Counts before the request; after it, the same counts and the same files in MEDIA_ROOT."""
    def files():
        return sorted(p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())

    before = (Dataset.objects.count(), ModelVersion.objects.count(), AuditRun.objects.count(),
              AuditLogEntry.objects.count(), files())
    yield
    assert (Dataset.objects.count(), ModelVersion.objects.count(), AuditRun.objects.count(),
            AuditLogEntry.objects.count(), files()) == before


def parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def post_dataset(api, data: bytes, *, schema=SCHEMA, name="data.csv"):
    return api("alice").post("/api/v1/datasets/", {
        "system": "credit", "name": "x", "role": "test", "schema": schema if isinstance(schema, str) else json.dumps(schema),
        "file": SimpleUploadedFile(name, data)}, format="multipart")


def post_version(api, *, artifact: bytes, spec=None):
    payload = {"system": "credit", "version": "9.9.9", "artifact": SimpleUploadedFile("m.bin", artifact)}
    if spec is not None:
        payload["spec"] = spec if isinstance(spec, str) else json.dumps(spec)
    return api("alice").post("/api/v1/versions/", payload, format="multipart")


def assert_400(response, *, field: str, says: str, column: str | None = None):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["extra"]["field"] == field
    assert says in body["message"], body["message"]
    if column is not None:
        assert body["extra"]["column"] == column
        assert f"'{column}'" in body["message"]


# Tables: values and header.

@pytest.mark.parametrize("csv,column,says", [
    (b"amount,colour,y\n1,red,0\nNaN,blue,1\n", "amount", "holds NaN (data row 2)"),
    (b"amount,colour,y\n1,red,0\ninf,blue,1\n", "amount", "holds inf (data row 2)"),
    (b"amount,colour,y\n1,red,0\n-Infinity,blue,1\n", "amount", "numbers must be finite"),
    (b"amount,colour,y\n1,red,0\ntwelve,blue,1\n", "amount", "data row 2 holds 'twelve'"),
    (b"amount,colour,y\n1,re\x00d,0\n", "colour", "holds a NUL byte (data row 1)"),
    (b"amount,colour,amount,y\n1,red,2,0\n", "amount", "appears more than once in the header"),
])
def test_a_bad_value_or_header_is_a_400_naming_the_column(api, nothing_written, csv, column, says):
    assert_400(post_dataset(api, csv), field="file", says=says, column=column)


@pytest.mark.parametrize("csv,says", [
    (b"amount,,y\n1,red,0\n", "Column 2 of the header has no name"),
    (b"amount,col\x00our,y\n1,red,0\n", "Column 2 of the header has a NUL byte"),
])
def test_a_header_without_a_name_is_a_400_naming_its_position(api, nothing_written, csv, says):
    r = post_dataset(api, csv)
    assert_400(r, field="file", says=says)
    assert r.json()["extra"]["column_position"] == 2


def test_a_parquet_nan_is_refused_and_its_null_is_a_missing_value(api, credit_system):
    nan = pa.table({"amount": [1.0, float("nan")], "colour": ["red", "blue"], "y": [0, 1]})
    before = Dataset.objects.count()
    assert_400(post_dataset(api, parquet(nan), name="d.parquet"), field="file", says="holds NaN (data row 2)",
               column="amount")
    assert Dataset.objects.count() == before
    null = pa.table({"amount": [1.0, None], "colour": ["red", None], "y": [0, 1]})
    r = post_dataset(api, parquet(null), name="d.parquet")
    assert r.status_code == 201, r.json()


def test_a_parquet_nul_byte_in_text_is_refused(api, nothing_written):
    table = pa.table({"amount": [1.0, 2.0], "colour": ["red", "bl\x00ue"], "y": [0, 1]})
    assert_400(post_dataset(api, parquet(table), name="d.parquet"), field="file", says="NUL byte", column="colour")


def test_a_parquet_column_of_lists_is_refused_naming_it(api, nothing_written):
    table = pa.table({"amount": [[1.0], [2.0, 3.0]], "colour": ["red", "blue"], "y": [0, 1]})
    assert_400(post_dataset(api, parquet(table), name="d.parquet"), field="file", says="only flat columns",
               column="amount")


def test_a_blank_cell_in_a_feature_is_a_missing_value_the_data_quality_audit_measures(api, credit_system):
    r = post_dataset(api, b"amount,colour,y\n1,red,0\n,,1\n")
    assert r.status_code == 201, r.json()
    assert r.json()["n_rows"] == 2


def test_a_missing_label_is_still_refused(api, nothing_written):
    assert_400(post_dataset(api, b"amount,colour,y\n1,red,0\n2,blue,\n"), field="file", says="(the label) has missing")


# Tables: sizes, from the footer or the header before anything is expanded.

def test_a_parquet_file_over_the_row_limit_is_refused_from_its_footer_alone(api, nothing_written, settings,
                                                                             monkeypatch):
    settings.TABLE_MAX_ROWS = 1_000
    data = parquet(pa.table({"amount": np.zeros(1_001), "colour": ["red"] * 1_001, "y": np.zeros(1_001, "int8")}))

    def never(*args, **kwargs):
        raise AssertionError("the row groups were read")

    monkeypatch.setattr(pq.ParquetFile, "read", never)
    assert_400(post_dataset(api, data, name="d.parquet"), field="file",
               says="The file has 1,001 rows; the limit is 1,000 (TABLE_MAX_ROWS).")


def test_a_parquet_file_that_expands_past_the_limit_is_refused_from_its_footer(api, nothing_written, settings):
    settings.TABLE_MAX_BYTES = 10_000
    data = parquet(pa.table({"amount": np.zeros(20_000), "colour": ["red"] * 20_000, "y": np.zeros(20_000, "int8")}))
    assert len(data) < 10_000  # zeros compress: the upload itself is small
    assert_400(post_dataset(api, data, name="d.parquet"), field="file", says="(TABLE_MAX_BYTES)")


def test_a_csv_over_the_row_limit_is_read_only_one_row_past_it(api, nothing_written, settings, monkeypatch):
    settings.TABLE_MAX_ROWS = 10
    read = []
    real = pd.read_csv
    monkeypatch.setattr(pd, "read_csv", lambda *a, **kw: read.append(kw.get("nrows")) or real(*a, **kw))
    data = b"amount,colour,y\n" + b"1,red,0\n" * 10_000
    assert_400(post_dataset(api, data), field="file", says="more than 10 rows; the limit is 10 (TABLE_MAX_ROWS)")
    assert read == [11]


def test_a_csv_with_too_many_columns_is_refused_from_its_header(api, nothing_written, monkeypatch):
    monkeypatch.setattr(pd, "read_csv", lambda *a, **kw: pytest.fail("pandas read the file"))
    header = ",".join(f"c{i}" for i in range(100_000)).encode()
    assert_400(post_dataset(api, header + b"\n" + b"1," * 99_999 + b"1\n"), field="file",
               says="The file has 100,000 columns; the limit is 1,000 (TABLE_MAX_COLUMNS).")


def test_a_csv_over_the_cell_limit_is_refused(api, nothing_written, settings):
    settings.TABLE_MAX_CELLS = 30  # 3 columns: 10 rows allowed
    assert_400(post_dataset(api, b"amount,colour,y\n" + b"1,red,0\n" * 11), field="file",
               says="more than 30 cells (rows x columns); the limit is 30 (TABLE_MAX_CELLS)")


def test_the_credit_data_stays_within_the_default_bounds(credit_system):
    # The fixture registered both splits through the same checks.
    assert sorted(Dataset.objects.values_list("n_rows", flat=True)) == [300, 700]


# JSON fields: nesting bounded before anything recurses.

def test_a_schema_nested_5000_deep_is_a_400_naming_schema(api, nothing_written):
    assert_400(post_dataset(api, b"amount,colour,y\n1,red,0\n", schema=DEEP), field="schema",
               says="Nested more than 20 levels deep")


def test_a_spec_nested_5000_deep_is_a_400_naming_spec(api, nothing_written, credit_model):
    artifact, _ = credit_model
    assert_400(post_version(api, artifact=artifact, spec='{"architecture": ' + DEEP + "}"), field="spec",
               says="Nested more than 20 levels deep")


def test_a_json_body_nested_5000_deep_is_a_400_naming_its_key(api, nothing_written, credit_system):
    _, version = credit_system
    body = '{"version": "%s", "kind": "fairness", "params": %s}' % (version.pk, DEEP)
    r = api("alice").post("/api/v1/audit-runs/", body, content_type="application/json")
    assert_400(r, field="params", says="Nested more than 20 levels deep")


def test_nan_in_a_json_field_is_a_400(api, nothing_written, credit_system):
    _, version = credit_system
    r = api("alice").post("/api/v1/versions/", {
        "system": "credit", "version": "9.9.9", "artifact": SimpleUploadedFile("m.bin", b"x" * 16),
        "spec": '{"architecture": "mlp", "params": {"dropout": NaN}}'}, format="multipart")
    assert_400(r, field="spec", says="Value must be valid JSON.")  # DRF's strict JSON; NaN is not JSON


# Models: the spec's type and size, before torch allocates anything.

@pytest.mark.parametrize("spec,field,says", [
    ("[1, 2]", "spec", "it must be a JSON object, not an array"),
    ('"mlp"', "spec", "not JSON"),  # a string value is read as JSON text, and `mlp` is not JSON
    ("mlp", "spec", "Value must be valid JSON"),
    ({"architecture": ["mlp"], "params": {}, "input": {"kind": "tabular"}}, "spec.architecture",
     "Unknown architecture 'list'"),
    ({"architecture": "mlp", "params": [1], "input": {"kind": "tabular"}}, "spec.params", "'params' must be an object"),
    ({"architecture": "mlp", "params": {"in_features": 4, "hidden": "64", "n_classes": 2},
      "input": {"kind": "tabular"}}, "spec.params.hidden", "'hidden' must be list"),
    ({"architecture": "mlp", "params": {"in_features": 4, "hidden": [8], "n_classes": 2, "dropout": 1.5},
      "input": {"kind": "tabular"}}, "spec.params.dropout", "'dropout' must be in [0, 1)"),
    ({"architecture": "mlp", "params": {"in_features": 4, "hidden": [8]}, "input": {"kind": "tabular"}},
     "spec.params.n_classes", "missing params ['n_classes']"),
    ({"architecture": "cnn", "params": {"in_channels": 1, "height": 2, "width": 8, "n_classes": 2},
      "input": {"kind": "image"}}, "spec.params.height", "too small for 2 pooling blocks"),
    ({"architecture": "mlp", "params": {}, "input": "tabular"}, "spec.input", "'input' must be an object"),
])
def test_a_malformed_spec_is_a_400_naming_its_key(api, nothing_written, credit_model, spec, field, says):
    artifact, _ = credit_model
    assert_400(post_version(api, artifact=artifact, spec=spec), field=field, says=says)


@pytest.mark.parametrize("architecture,params,says", [
    ("mlp", {"in_features": 100_000, "hidden": [100_000] * 16, "n_classes": 2}, "parameters; the limit is 20,000,000"),
    ("mlp", {"in_features": 20_000, "hidden": [20_000], "n_classes": 2}, "400,060,002 parameters"),
    ("cnn", {"in_channels": 1, "height": 2_000, "width": 2_000, "n_classes": 2, "channels": [1], "hidden": 1},
     "activations per sample; the limit is 1,000,000"),
])
def test_a_model_too_large_is_refused_from_its_spec_before_torch_allocates(api, nothing_written, credit_model,
                                                                            monkeypatch, architecture, params, says):
    import torch

    for layer in ("Linear", "Conv2d"):
        monkeypatch.setattr(torch.nn, layer, lambda *a, **kw: pytest.fail("a layer was allocated"))
    artifact, _ = credit_model
    spec = {"architecture": architecture, "params": params, "input": {"kind": "tabular"}}
    assert_400(post_version(api, artifact=artifact, spec=spec), field="spec.params", says=says)


def test_the_size_computed_from_a_spec_is_the_size_torch_builds():
    from training.architectures import model_size
    from training.recipes import digits_cnn_spec

    for spec in (digits_cnn_spec(), {"architecture": "mlp", "params": {"in_features": 37, "hidden": [64, 32],
                                                                        "n_classes": 2}}):
        assert model_size(spec)[0] == sum(p.numel() for p in build_model(spec).parameters())


# Models: a skops file must hold a fitted classifier.

@pytest.mark.parametrize("value,says", [
    ({"coef": [1.0, 2.0]}, "holds a dict, not a scikit-learn estimator"),
    (StandardScaler().fit(np.zeros((4, 2))), "holds a StandardScaler, which has no callable predict"),
    (LogisticRegression(), "holds a LogisticRegression that is not fitted"),
])
def test_a_skops_file_without_a_fitted_classifier_is_a_400_naming_the_artifact(api, nothing_written, value, says):
    assert_400(post_version(api, artifact=skops_artifact(value)), field="artifact", says=says)


def test_a_fitted_skops_classifier_is_still_registered(api, credit_system, credit_pipeline):
    r = post_version(api, artifact=skops_artifact(credit_pipeline))
    assert r.status_code == 201, r.json()
    assert r.json()["artifact_format"] == "skops"


def test_a_small_torch_model_is_still_registered(api, credit_system):
    spec = {"architecture": "mlp", "params": {"in_features": 4, "hidden": [8], "n_classes": 2},
            "input": {"kind": "tabular", "features": []}}
    r = post_version(api, artifact=torch_artifact(build_model(spec)), spec=spec)
    assert r.status_code == 201, r.json()



# Any JSON at all, as a spec or a schema: an answer below 500, never a RecursionError or a TypeError.

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["architecture", "params", "input", "kind", "hidden", "features", "label", "sensitive",
                         "categorical", "in_features", "n_classes", "x"]), children, max_size=4),
    max_leaves=12)
SPEC_LIKE = st.fixed_dictionaries({"architecture": JSON | st.sampled_from(["mlp", "cnn"]), "params": JSON,
                                   "input": JSON | st.just({"kind": "tabular"})})


@examples(max_examples=60, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=JSON | SPEC_LIKE)
def test_any_json_spec_is_answered_below_500(api, credit_system, credit_model, spec):
    artifact, _ = credit_model
    r = post_version(api, artifact=artifact, spec=json.dumps(spec))
    assert r.status_code in (400, 409) or r.status_code == 201, r.content
    if r.status_code == 400:
        assert r.json()["extra"]["field"].split(".")[0] in {"spec", "artifact"}


@examples(max_examples=40, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(schema=JSON)
def test_any_json_schema_is_answered_below_500(api, credit_system, schema):
    r = post_dataset(api, b"amount,colour,y\n1,red,0\n2,blue,1\n", schema=json.dumps(schema))
    assert r.status_code in (400, 201), r.content
