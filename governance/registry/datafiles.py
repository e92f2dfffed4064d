"""Read uploaded tables (CSV or Parquet) and check them against a declared schema."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings

from governance.core.exceptions import ApplicationError

ACCEPTED_TABLES = "Accepted data formats: CSV (comma-separated, with a header row) or Parquet."
PARQUET_MAGIC = b"PAR1"
UNREADABLE = "The file could not be read as {fmt}: {problem}. {accepted}"
TOO_MANY_ROWS = "The file has {count} rows; the limit is {limit:,} (TABLE_MAX_ROWS)."
TOO_MANY_COLUMNS = "The file has {count:,} columns; the limit is {limit:,} (TABLE_MAX_COLUMNS)."
TOO_MANY_CELLS = "The file has {count} cells (rows x columns); the limit is {limit:,} (TABLE_MAX_CELLS)."
TOO_LARGE_EXPANDED = ("The file expands to {size:,} bytes once decoded; the limit is {limit:,} bytes "
                      "(TABLE_MAX_BYTES).")
NUL_IN_HEADER = "Column {position} of the header has a NUL byte in its name."
NUL_IN_CELL = "Column '{column}' holds a NUL byte (data row {row}); text cells cannot hold one."
EMPTY_COLUMN_NAME = "Column {position} of the header has no name; every column needs one."
DUPLICATE_COLUMN = "Column name '{column}' appears more than once in the header; each column needs its own name."
NESTED_COLUMN = "Column '{column}' is of type {type}; only flat columns (numbers, text, booleans, dates) are accepted."
NOT_FINITE = ("Column '{column}' holds {value!s} (data row {row}); numbers must be finite. Leave a missing value empty (CSV) "
              "or null (Parquet).")
# The same words as the drift batches' check (audits/drift/services.py), which now rarely sees a file first.
NOT_NUMERIC = ("Column '{column}' must be numeric (the schema declares it a numeric feature), "
               "but data row {row} holds {value!r}.")
# What a CSV cell means by "missing": only an empty cell. pandas' defaults also read "NaN", "NA",
# "null", "None", ... as missing, and "NaN" and "inf" as numbers; here a numeric column holding
# any of those words is refused by name, and text columns keep them as the words they are.
CSV_OPTIONS = {"keep_default_na": False, "na_values": [""]}


def table_format(data: bytes) -> str:
    if data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        return "parquet"
    try:
        data[:65536].decode("utf-8")
    except UnicodeDecodeError:
        raise ApplicationError(ACCEPTED_TABLES, field="file") from None
    return "csv"


def read_table(data, fmt: str | None = None, *, field: str = "file") -> pd.DataFrame:
    """A table from uploaded bytes, its size and header checked before pandas expands it; or from a
    binary file object that pandas reads as a stream (then `fmt` is required: the format is known
    from the record, and the file was checked when it was registered)."""
    if isinstance(data, (bytes, bytearray)):
        fmt = fmt or table_format(data)
        frame = _read_parquet(bytes(data), field) if fmt == "parquet" else _read_csv(bytes(data), field)
    elif fmt is None:
        raise ValueError("read_table needs fmt for a file object")
    else:
        try:
            frame = pd.read_parquet(data) if fmt == "parquet" else pd.read_csv(data, **CSV_OPTIONS)
        except Exception as exc:  # pandas raises many types for malformed files
            raise ApplicationError(UNREADABLE.format(fmt=fmt.upper(), problem=exc, accepted=ACCEPTED_TABLES),
                                   field=field) from None
    if frame.empty:
        raise ApplicationError("The file has no data rows.", field=field)
    return frame


def _limits() -> tuple[int, int, int]:
    return settings.TABLE_MAX_ROWS, settings.TABLE_MAX_COLUMNS, settings.TABLE_MAX_CELLS


def _check_shape(rows: int, columns: int, field: str) -> None:
    max_rows, max_columns, max_cells = _limits()
    if columns > max_columns:
        raise ApplicationError(TOO_MANY_COLUMNS.format(count=columns, limit=max_columns), field=field)
    if rows > max_rows:
        raise ApplicationError(TOO_MANY_ROWS.format(count=f"{rows:,}", limit=max_rows), field=field)
    if rows * columns > max_cells:
        raise ApplicationError(TOO_MANY_CELLS.format(count=f"{rows * columns:,}", limit=max_cells), field=field)


def _check_header(names: list, field: str) -> None:
    """Names as the file spells them: pandas renames a duplicate to `x.1` and an empty one to
    `Unnamed: 3`, so a schema could end up naming columns the file never had."""
    seen = set()
    for position, name in enumerate(names, start=1):
        name = str(name)
        if "\x00" in name:
            raise ApplicationError(NUL_IN_HEADER.format(position=position), field=field,
                                   extra={"column_position": position})
        if not name.strip():
            raise ApplicationError(EMPTY_COLUMN_NAME.format(position=position), field=field,
                                   extra={"column_position": position})
        if name in seen:
            raise ApplicationError(DUPLICATE_COLUMN.format(column=name), field=field, extra={"column": name})
        seen.add(name)


def _expanded_bytes(metadata, arrow_schema: pa.Schema) -> int:
    """What the columns take once decoded, from the footer: a fixed-width column is rows x its width
    (dictionary and run-length encodings make the footer's own sizes small for repeated values); a
    text column at least its uncompressed pages, plus an offset per row."""
    total = 0
    for position, column in enumerate(arrow_schema):
        try:
            width = column.type.bit_width  # numbers, booleans, dates; a ValueError for text and binary
        except ValueError:
            width = None
        if width:
            total += metadata.num_rows * max(1, width // 8)
            continue
        pages = sum(metadata.row_group(g).column(position).total_uncompressed_size
                    for g in range(metadata.num_row_groups))
        total += pages + 8 * metadata.num_rows
    return total


def _read_csv(data: bytes, field: str) -> pd.DataFrame:
    # On the bytes: a 50 MB upload is not copied into a str to find its header or a NUL byte.
    nul = data.find(b"\x00")
    header_end = data.find(b"\n")
    header_line = (data if header_end < 0 else data[:header_end]).decode("utf-8-sig", errors="replace")
    try:
        header = next(csv.reader([header_line]), [])
    except csv.Error as exc:
        raise ApplicationError(UNREADABLE.format(fmt="CSV", problem=exc, accepted=ACCEPTED_TABLES),
                               field=field) from None
    _check_shape(0, len(header), field)
    _check_header(header, field)  # a NUL byte in the header is named here, by its column's position
    if nul >= 0:
        _refuse_nul_cell(data, nul, header, field)
    max_rows, _, max_cells = _limits()
    # pandas stops reading one row past the bound: a file of 10^8 short rows costs what the bound allows.
    allowed = max(1, min(max_rows, max_cells // max(1, len(header))))
    try:
        frame = pd.read_csv(io.BytesIO(data), nrows=allowed + 1, **CSV_OPTIONS)
    except Exception as exc:  # pandas raises many types for malformed files
        raise ApplicationError(UNREADABLE.format(fmt="CSV", problem=exc, accepted=ACCEPTED_TABLES),
                               field=field) from None
    if len(frame) > allowed:
        if allowed == max_rows:
            raise ApplicationError(TOO_MANY_ROWS.format(count=f"more than {max_rows:,}", limit=max_rows), field=field)
        raise ApplicationError(TOO_MANY_CELLS.format(count=f"more than {max_cells:,}", limit=max_cells), field=field)
    return frame


def _refuse_nul_cell(data: bytes, nul: int, header: list[str], field: str):
    row = data.count(b"\n", 0, nul)  # the header is line 1, so line n is data row n - 1
    # The fields before the NUL on its line say which column it is in (a quoted multi-line cell aside).
    before = data[data.rfind(b"\n", 0, nul) + 1:nul].decode("utf-8", errors="replace")
    position = max(1, len(next(csv.reader([before]), [])))
    column = header[position - 1] if position <= len(header) else f"#{position}"
    raise ApplicationError(NUL_IN_CELL.format(column=column, row=row), field=field,
                           extra={"column": column, "row": row})


def _read_parquet(data: bytes, field: str) -> pd.DataFrame:
    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        metadata = parquet.metadata
        arrow_schema = parquet.schema_arrow
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ... for a malformed footer
        raise ApplicationError(UNREADABLE.format(fmt="PARQUET", problem=exc, accepted=ACCEPTED_TABLES),
                               field=field) from None
    # The footer says what the file expands to; nothing is decompressed before it is checked.
    _check_shape(metadata.num_rows, metadata.num_columns, field)
    _check_header(arrow_schema.names, field)
    for column in arrow_schema:
        if pa.types.is_nested(column.type):
            raise ApplicationError(NESTED_COLUMN.format(column=column.name, type=column.type), field=field,
                                   extra={"column": column.name})
    expanded = _expanded_bytes(metadata, arrow_schema)  # flat columns: one Parquet column per field
    if expanded > settings.TABLE_MAX_BYTES:
        raise ApplicationError(TOO_LARGE_EXPANDED.format(size=expanded, limit=settings.TABLE_MAX_BYTES), field=field)
    try:
        table = parquet.read()
    except Exception as exc:
        raise ApplicationError(UNREADABLE.format(fmt="PARQUET", problem=exc, accepted=ACCEPTED_TABLES),
                               field=field) from None
    # In Parquet a missing value is a null, and NaN is a number a computation produced: pandas turns
    # both into NaN, so NaN is refused here, while the table still tells them apart.
    for name, column in zip(table.column_names, table.columns):
        if pa.types.is_floating(column.type) and pc.any(pc.is_nan(column)).as_py():
            row = int(np.argmax(pc.fill_null(pc.is_nan(column), False).to_numpy(zero_copy_only=False))) + 1
            raise ApplicationError(NOT_FINITE.format(column=name, value="NaN", row=row), field=field,
                                   extra={"column": name, "row": row, "value": "NaN"})
    return table.to_pandas()


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
    for column in declared:
        numeric = column in schema["features"] and column not in schema["categorical"]
        check_values(frame[column], column=column, numeric=numeric, field=field)


def check_values(values: pd.Series, *, column: str, numeric: bool, field: str = "file") -> None:
    """A declared column's values: numbers finite (a missing value is a blank, never NaN or inf), text
    without NUL bytes, and a numeric feature holding numbers. The message names the column and row."""
    if pd.api.types.is_bool_dtype(values):
        return
    if pd.api.types.is_numeric_dtype(values):
        bad = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            _refuse(NOT_FINITE, column, values, int(bad.argmax()), field)
        return
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return  # dates, categories: pandas parsed them; nothing here can be NaN text or NUL
    present = values.notna().to_numpy()
    text = values.astype(str)
    nul = present & text.str.contains("\x00", regex=False).to_numpy()
    if nul.any():
        row = int(nul.argmax())
        raise ApplicationError(NUL_IN_CELL.format(column=column, row=row + 1), field=field,
                               extra={"column": column, "row": row + 1})
    if not numeric:
        return
    numbers = pd.to_numeric(values.where(present, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    not_finite = present & ~np.isfinite(numbers) & ~np.isnan(numbers)
    bad = present & np.isnan(numbers)
    words = text.str.strip().str.lower().isin(["nan", "inf", "-inf", "+inf", "infinity", "-infinity"]).to_numpy()
    if (not_finite | (bad & words)).any():
        _refuse(NOT_FINITE, column, values, int((not_finite | (bad & words)).argmax()), field)
    if bad.any():
        _refuse(NOT_NUMERIC, column, values, int(bad.argmax()), field)


def _refuse(message: str, column: str, values: pd.Series, position: int, field: str):
    value = values.iloc[position]
    raise ApplicationError(message.format(column=column, row=position + 1, value=value), field=field,
                           extra={"column": column, "row": position + 1, "value": str(value)})
