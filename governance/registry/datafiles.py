"""Read uploaded tables (CSV or Parquet) and check them against a declared schema."""

from __future__ import annotations

import io

import pandas as pd

from governance.core.exceptions import ApplicationError

ACCEPTED_TABLES = "Accepted data formats: CSV (comma-separated, with a header row) or Parquet."
PARQUET_MAGIC = b"PAR1"


def table_format(data: bytes) -> str:
    if data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        return "parquet"
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        raise ApplicationError(ACCEPTED_TABLES, field="file") from None
    return "csv"


def read_table(data, fmt: str | None = None, *, field: str = "file") -> pd.DataFrame:
    """A table from bytes, or from a binary file object that pandas reads as a stream (then
    `fmt` is required: the format is known from the record)."""
    if isinstance(data, (bytes, bytearray)):
        fmt = fmt or table_format(data)
        data = io.BytesIO(data)
    elif fmt is None:
        raise ValueError("read_table needs fmt for a file object")
    try:
        if fmt == "parquet":
            frame = pd.read_parquet(data)
        else:
            frame = pd.read_csv(data)
    except Exception as exc:  # pandas raises many types for malformed files
        raise ApplicationError(f"The file could not be read as {fmt.upper()}: {exc}. {ACCEPTED_TABLES}", field=field) from None
    if frame.empty:
        raise ApplicationError("The file has no data rows.", field=field)
    return frame


def clean_schema(schema) -> dict:
    """Normalise a declared schema: {"features", "label", "sensitive", "categorical"}."""
    if not isinstance(schema, dict):
        raise ApplicationError('schema must be a JSON object like {"features": [...], "label": "y"}.', field="schema")
    unknown = set(schema) - {"features", "label", "sensitive", "categorical"}
    if unknown:
        raise ApplicationError(f"schema has unknown keys: {', '.join(sorted(unknown))}.", field="schema")
    features = schema.get("features")
    if not isinstance(features, list) or not features or not all(isinstance(f, str) for f in features):
        raise ApplicationError("schema.features must be a non-empty list of column names.", field="schema")
    out = {"features": features, "label": schema.get("label") or None}
    for key in ("sensitive", "categorical"):
        values = schema.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ApplicationError(f"schema.{key} must be a list of column names.", field="schema")
        out[key] = values
    if out["label"] is not None and not isinstance(out["label"], str):
        raise ApplicationError("schema.label must be a column name or null.", field="schema")
    return out


def check_columns(frame: pd.DataFrame, schema: dict, *, require_label: bool = False, field: str = "file") -> None:
    """Every declared column must be present; the message names each missing one."""
    declared = list(dict.fromkeys(schema["features"] + schema["sensitive"] + ([schema["label"]] if schema["label"] else [])))
    missing = [c for c in declared if c not in frame.columns]
    if missing:
        raise ApplicationError(
            f"Column(s) declared in the schema but missing from the file: {', '.join(missing)}.",
            field=field,
            extra={"missing_columns": missing, "columns_in_file": [str(c) for c in frame.columns]},
        )
    if require_label and not schema["label"]:
        raise ApplicationError("This dataset needs a label column (schema.label).", field="schema")
    if schema["label"] and frame[schema["label"]].isna().any():
        raise ApplicationError(f"Column {schema['label']!r} (the label) has missing values.", field=field)
    not_features = [c for c in schema["categorical"] if c not in schema["features"]]
    if not_features:
        raise ApplicationError(f"schema.categorical lists non-features: {', '.join(not_features)}.", field="schema")
