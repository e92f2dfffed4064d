"""The data quality audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Data quality",
    "Missing values, duplicates, imbalance, leakage, label errors and representation of groups in the data.",
    "Bad data makes every later audit unreliable (ISO/IEC 42001 A.7.4).",
    "Fix the data at its source and register a corrected dataset.",
)

# How this audit's stored outcomes read (governance/core/glossary.py, KIND_OUTCOMES): a run
# with warnings and no failure is stored "inconclusive", so the gate and the controls wait for
# a person, but there is no confidence interval to straddle anything.
OUTCOMES = {
    "inconclusive": (
        "warning",
        "Warning: no check failed, but some findings need a person to look at the data (each warning says "
        "why); the controls stay in progress until someone has reviewed them.",
    ),
}

METRICS = {
    # --- data quality -------------------------------------------------------------------------
    "missing_values": T(
        "Missing values",
        "How many cells of each column are empty.",
        "Gaps are often filled with defaults that hide real information or bias the model.",
        "Fix the data source, or document how gaps are filled and check that it does not harm any group.",
    ),
    "constant_columns": T(
        "Constant columns",
        "Columns that hold the same value in every row.",
        "They carry no information and often reveal a broken extraction.",
        "Drop them or fix the extraction.",
    ),
    "duplicate_rows": T(
        "Duplicate rows",
        "Rows that appear more than once, sometimes with different labels.",
        "Duplicates overweight some cases; conflicting labels confuse the model.",
        "De-duplicate and resolve conflicting labels with the data owner.",
    ),
    "class_imbalance": T(
        "Class imbalance",
        "How much more common the majority outcome is than the minority one.",
        "A model can look accurate by always predicting the common outcome.",
        "Report per-class metrics; rebalance or reweight the training data.",
    ),
    "representation": T(
        "Representation",
        "Whether each group of a sensitive feature appears in the data about as often as in the population served.",
        "Under-represented groups get less accurate and less fair decisions.",
        "Collect more data for the group, or state the limitation in the intended use.",
    ),
    "split_leakage": T(
        "Train/test leakage",
        "Test rows that also appear (exactly or nearly) in the training data.",
        "Leaked rows make the audit look better than the model really is.",
        "Rebuild the test split without overlapping rows and audit again.",
    ),
    "single_feature_leakage": T(
        "Single-feature leakage",
        "A single column that predicts the label almost perfectly.",
        "It usually means the label leaked into the inputs, so the model will fail in real use.",
        "Remove the column or find out how it encodes the outcome.",
    ),
    "label_errors": T(
        "Label errors",
        "Rows whose label disagrees with what similar rows suggest (confident learning).",
        "Wrong labels teach the model wrong lessons and distort every metric.",
        "Have a person review the listed rows and correct the labels.",
    ),
}

LABEL = "Data quality"
