"""Data quality report for a training set (and optionally its test split).

Pure functions, no Django. ``data_quality_report`` runs every check and returns
one entry per check, always in the same order, so a report template can rely
on the shape::

    {"name": "missing_values", "status": "pass" | "warn" | "fail", "count": 2,
     "examples": [...], "detail": {...}, "explanation": "One plain sentence."}

Row numbers in examples and details are 0-based *positions* in the frame
passed in (not index labels), so they are unambiguous whatever the index.

A check that does not apply (no test split, no sensitive columns) passes with
``detail["skipped"]`` saying why, and its explanation says it was not run.
"""

import math

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.neighbors import KDTree
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler, TargetEncoder
from sklearn.tree import DecisionTreeClassifier

# A feature column missing this share of its values (or more) fails the check.
MISSING_FAIL_SHARE = 0.5
# Majority / minority class count above this ratio warns (80/20 in a binary task).
IMBALANCE_WARN_RATIO = 4.0
# Representation: a significant gap of at least REPRESENTATION_MIN_GAP warns; a
# group below half its expected share fails (it is badly under-represented).
REPRESENTATION_ALPHA = 0.05
REPRESENTATION_MIN_GAP = 0.05
UNDER_REPRESENTED_RATIO = 0.5
# Cross-split duplicates: any warns; this share of the test split or more fails.
SPLIT_LEAKAGE_FAIL_SHARE = 0.01
# Label-error candidates: this share of rows or more warns. Never a fail: they are
# leads for a reviewer, and a weak model on noisy-but-honest data flags many.
LABEL_ERROR_WARN_SHARE = 0.01
# Ranked label-error candidates kept in the detail, so the JSON stays bounded.
MAX_LABEL_CANDIDATES = 1000
SHARES_SUM_TOLERANCE = 1e-3
LEAKAGE_TREE_DEPTH = 3

ERR_NOT_DATAFRAME = "{name} must be a pandas DataFrame."
ERR_NO_FEATURES = "feature_columns must name at least one column."
ERR_MISSING_COLUMN = "Column '{column}' is missing from {name}."
ERR_LABEL_IS_FEATURE = "label_column '{column}' is also listed in feature_columns."
ERR_N_FOLDS = "n_folds must be an integer >= 2, got {value!r}."
ERR_LEAKAGE_AUC = "leakage_auc must be a number in (0.5, 1], got {value!r}."
ERR_TOLERANCE = "near_duplicate_tol must be a number >= 0, got {value!r}."
ERR_MAX_EXAMPLES = "max_examples must be an integer >= 0, got {value!r}."
ERR_RANDOM_STATE = "random_state must be an integer >= 0, got {value!r}."
ERR_SHARES = (
    "population_shares['{column}'] must map each group to a share >= 0, "
    "the shares adding up to 1."
)
ERR_SHARES_COLUMN = "population_shares names '{column}', which is not in sensitive_columns."
ERR_REFERENCE_AND_SHARES = "Give reference or population_shares, not both."


def data_quality_report(
    train,
    test=None,
    *,
    feature_columns,
    label_column,
    sensitive_columns=(),
    population_shares=None,
    reference=None,
    near_duplicate_tol=1e-6,
    leakage_auc=0.98,
    n_folds=5,
    random_state=0,
    max_examples=5,
):
    """Run the data-quality checks on ``train`` (and ``test`` where given).

    Checks, in order: missing_values, constant_columns, duplicate_rows,
    class_imbalance, representation, split_leakage, single_feature_leakage,
    label_errors. See each ``check_*`` function for its rule.
    """
    features = list(feature_columns)
    sensitive = list(sensitive_columns)
    _check_inputs(train, test, reference, features=features, label=label_column,
                  sensitive=sensitive, shares=population_shares)
    _check_options(near_duplicate_tol=near_duplicate_tol, leakage_auc=leakage_auc,
                   n_folds=n_folds, max_examples=max_examples, random_state=random_state)
    train = train.reset_index(drop=True)
    test = None if test is None else test.reset_index(drop=True)
    k = int(max_examples)
    checks = [
        check_missing_values(train, test, columns=_unique(features + [label_column] + sensitive),
                             label_column=label_column, max_examples=k),
        check_constant_columns(train, columns=features, max_examples=k),
        check_duplicate_rows(train, columns=features + [label_column], label_column=label_column,
                             max_examples=k),
        check_class_imbalance(train[label_column], n_folds=n_folds),
        check_representation(train, columns=sensitive, population_shares=population_shares,
                             reference=reference, max_examples=k),
        check_split_leakage(train, test, columns=features, tol=near_duplicate_tol,
                            max_examples=k),
        check_single_feature_leakage(train, columns=features, label_column=label_column,
                                     threshold=leakage_auc, n_folds=n_folds,
                                     random_state=random_state, max_examples=k),
        check_label_errors(train, columns=features, label_column=label_column,
                           n_folds=n_folds, random_state=random_state, max_examples=k),
    ]
    return {
        "checks": checks,
        "n_rows": {"train": int(len(train)), "test": None if test is None else int(len(test))},
        "params": {
            "feature_columns": [str(c) for c in features],
            "label_column": str(label_column),
            "sensitive_columns": [str(c) for c in sensitive],
            "near_duplicate_tol": float(near_duplicate_tol),
            "leakage_auc": float(leakage_auc),
            "n_folds": int(n_folds),
            "random_state": int(random_state),
            "max_examples": k,
            "label_error_model": "one-hot + standardise + LogisticRegression, out-of-fold",
            "row_numbers": "0-based positions",
        },
    }


def _check(name, status, count, examples, detail, explanation):
    return {"name": name, "status": status, "count": int(count), "examples": examples,
            "detail": detail, "explanation": explanation}


def _skipped(name, reason, explanation):
    return _check(name, "pass", 0, [], {"skipped": reason}, explanation)


def _unique(columns):
    return list(dict.fromkeys(columns))


def _is_numeric(series):
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _label_text(value):
    """Labels and groups as JSON keys: ints stay readable, numpy types become str."""
    if isinstance(value, (np.integer, np.bool_)):
        value = value.item()
    return str(value)


# ------------------------------------------------------------ simple checks


def check_missing_values(train, test, *, columns, label_column, max_examples=5):
    """Missing count and fraction per column and split. Fails when the label has
    gaps in train or a column misses MISSING_FAIL_SHARE of its values; warns on any gap."""
    detail, found = {}, []
    for split, frame in (("train", train), ("test", test)):
        if frame is None:
            continue
        missing = frame[[c for c in columns if c in frame.columns]].isna().sum()
        detail[split] = {}
        for column, count in missing.items():
            fraction = int(count) / len(frame) if len(frame) else 0.0
            detail[split][str(column)] = {"count": int(count), "fraction": fraction}
            if count:
                found.append({"split": split, "column": str(column), "count": int(count),
                              "fraction": fraction})
    found.sort(key=lambda e: -e["fraction"])
    label_gaps = detail["train"].get(str(label_column), {}).get("count", 0)
    columns_hit = {e["column"] for e in found}
    if label_gaps or any(e["fraction"] >= MISSING_FAIL_SHARE for e in found):
        status = "fail"
    else:
        status = "warn" if found else "pass"
    explanation = (f"{len(columns_hit)} column(s) have missing values"
                   f"{f', including {label_gaps} missing label(s)' if label_gaps else ''}."
                   if found else "No column has missing values.")
    return _check("missing_values", status, len(columns_hit), found[:max_examples], detail,
                  explanation)


def check_constant_columns(train, *, columns, max_examples=5):
    """Feature columns with at most one distinct non-missing value carry no signal."""
    constant = [str(c) for c in columns if train[c].nunique(dropna=True) <= 1]
    explanation = (f"{len(constant)} feature column(s) hold a single value and carry no signal."
                   if constant else "Every feature column holds more than one value.")
    return _check("constant_columns", "warn" if constant else "pass", len(constant),
                  constant[:max_examples], {"columns": constant}, explanation)


def check_duplicate_rows(train, *, columns, label_column, max_examples=5):
    """Rows repeating an earlier row (features and label), and groups of rows with
    equal features but different labels, which no model can fit. Rows are
    compared by 64-bit row hashes (pandas hash_pandas_object): a collision is
    vanishingly unlikely at data-set sizes."""
    features = [c for c in columns if c != label_column]
    row_hash = pd.util.hash_pandas_object(train[columns], index=False).to_numpy()
    positions = pd.Series(np.arange(len(train)))
    first = positions.groupby(row_hash).transform("min").to_numpy()
    duplicates = np.flatnonzero(first != np.arange(len(train)))
    feature_hash = pd.util.hash_pandas_object(train[features], index=False)
    labels_per_group = train[label_column].groupby(feature_hash.to_numpy()).nunique()
    conflicting = int((labels_per_group > 1).sum())
    examples = [[int(first[i]), int(i)] for i in duplicates[:max_examples]]
    detail = {"duplicate_rows": int(len(duplicates)),
              "share": len(duplicates) / len(train) if len(train) else 0.0,
              "conflicting_label_groups": conflicting,
              "example_format": "[first row, duplicate row]"}
    status = "warn" if len(duplicates) or conflicting else "pass"
    explanation = (f"{len(duplicates)} row(s) repeat an earlier row and {conflicting} group(s) "
                   "of identical features carry different labels."
                   if status == "warn" else "No row repeats another.")
    return _check("duplicate_rows", status, len(duplicates), examples, detail, explanation)


def check_class_imbalance(labels, *, n_folds=5):
    """Label counts, minority share and majority/minority ratio. Fails with fewer
    than two classes; warns above IMBALANCE_WARN_RATIO or when a class has fewer
    rows than cross-validation folds."""
    counts = labels.value_counts(dropna=True)
    by_label = {_label_text(k): int(v) for k, v in counts.items()}
    detail = {"counts": by_label, "minority_share": None, "imbalance_ratio": None}
    if len(counts) < 2:
        return _check("class_imbalance", "fail", len(counts), [], detail,
                      "The label has fewer than two classes, so nothing can be learned.")
    minority = counts.idxmin()
    detail["minority_share"] = int(counts.min()) / int(counts.sum())
    detail["imbalance_ratio"] = int(counts.max()) / int(counts.min())
    status = ("warn" if detail["imbalance_ratio"] > IMBALANCE_WARN_RATIO
              or counts.min() < n_folds else "pass")
    explanation = (f"The smallest class '{_label_text(minority)}' holds "
                   f"{detail['minority_share']:.1%} of the labelled rows "
                   f"(ratio {detail['imbalance_ratio']:.1f} to the largest).")
    examples = [{"label": _label_text(minority), "count": int(counts.min())}]
    return _check("class_imbalance", status, len(counts), examples, detail, explanation)


# ---------------------------------------------------------- representation


def check_representation(train, *, columns, population_shares=None, reference=None,
                         max_examples=5):
    """Share of each sensitive group in train against ``reference`` data or the
    declared ``population_shares``, with a chi-square goodness-of-fit p-value.

    Per column: fails when a declared group holds less than
    UNDER_REPRESENTED_RATIO of its expected share; warns when the fit is
    rejected at REPRESENTATION_ALPHA and some group is off by at least
    REPRESENTATION_MIN_GAP, or when train holds groups the yardstick lacks.
    """
    name = "representation"
    if not columns:
        return _skipped(name, "no sensitive columns",
                        "Representation was not checked: no sensitive columns were given.")
    if population_shares is None and reference is None:
        observed = {str(c): _shares(train[c]) for c in columns}
        return _check(name, "warn", 0, [], {"observed": observed, "skipped": "no yardstick"},
                      "Group shares were measured but not compared: give reference data "
                      "or population shares.")
    detail, flagged, statuses = {}, [], []
    for column in columns:
        if population_shares is not None:
            expected = {str(k): float(v) for k, v in population_shares.get(column, {}).items()}
        else:
            expected = _shares(reference[column])
        if not expected:
            detail[str(column)] = {"status": "warn", "skipped": "no expected shares",
                                   "observed": _shares(train[column])}
            statuses.append("warn")
            continue
        result = _column_representation(train[column], expected)
        detail[str(column)] = result
        statuses.append(result["status"])
        flagged += [{"column": str(column), **g} for g in result["groups"] if g["flagged"]]
    flagged.sort(key=lambda g: g["difference"])
    status = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    explanation = (f"{len(flagged)} group(s) differ from their expected share by at least "
                   f"{REPRESENTATION_MIN_GAP:.0%} or are under-represented."
                   if flagged else "Group shares match the expected shares.")
    if status != "pass" and not flagged:
        explanation = ("Some groups or columns could not be compared: the expected shares "
                       "do not name them.")
    return _check(name, status, len(flagged), flagged[:max_examples], detail, explanation)


def _shares(series):
    counts = series.value_counts(dropna=True)
    total = int(counts.sum())
    return {_label_text(k): int(v) / total for k, v in counts.items()} if total else {}


def _column_representation(series, expected):
    counts = series.value_counts(dropna=True)
    observed = {}
    for key, value in counts.items():
        observed[_label_text(key)] = observed.get(_label_text(key), 0) + int(value)
    total = sum(observed.values())
    declared = [g for g, share in expected.items() if share > 0]
    undeclared = sorted(g for g in observed if g not in declared)
    groups = []
    for group in list(expected) + undeclared:
        exp = expected.get(group)
        share = observed.get(group, 0) / total if total else 0.0
        diff = None if exp is None else share - exp
        under = exp is not None and exp > 0 and share < UNDER_REPRESENTED_RATIO * exp
        groups.append({"group": group, "count": observed.get(group, 0), "observed_share": share,
                       "expected_share": exp, "difference": diff if diff is not None else 0.0,
                       "under_represented": bool(under),
                       "flagged": bool(under or (diff is not None
                                                 and abs(diff) >= REPRESENTATION_MIN_GAP))})
    statistic = p_value = None
    if len(declared) >= 2:
        f_obs = np.array([observed.get(g, 0) for g in declared], dtype=float)
        shares = np.array([expected[g] for g in declared])
        if f_obs.sum() > 0:
            test = stats.chisquare(f_obs, f_obs.sum() * shares / shares.sum())
            statistic, p_value = float(test.statistic), float(test.pvalue)
    max_gap = max((abs(g["difference"]) for g in groups if g["expected_share"] is not None),
                  default=0.0)
    if any(g["under_represented"] for g in groups):
        status = "fail"
    elif undeclared or (p_value is not None and p_value < REPRESENTATION_ALPHA
                        and max_gap >= REPRESENTATION_MIN_GAP):
        status = "warn"
    else:
        status = "pass"
    return {"status": status, "chi2_statistic": statistic, "p_value": p_value,
            "max_gap": max_gap, "undeclared_groups": undeclared, "groups": groups}


# --------------------------------------------------------------- split leakage


def check_split_leakage(train, test, *, columns, tol=1e-6, max_examples=5):
    """Test rows whose features repeat a train row exactly, or nearly: every
    numeric feature within ``tol`` after standardising with the train mean and
    standard deviation, every categorical feature equal. Such rows inflate test
    scores. Warns on any; fails from SPLIT_LEAKAGE_FAIL_SHARE of the test split."""
    name = "split_leakage"
    if test is None:
        return _skipped(name, "no test split",
                        "Train/test leakage was not checked: no test split was given.")
    both = pd.concat([train[columns], test[columns]], ignore_index=True)
    hashes = pd.util.hash_pandas_object(both, index=False).to_numpy()
    train_hash, test_hash = hashes[: len(train)], hashes[len(train):]
    first_train = pd.Series(np.arange(len(train))).groupby(train_hash).min()
    exact = np.isin(test_hash, first_train.index.to_numpy())
    matrix = _near_duplicate_matrix(both, n_train=len(train), tol=tol)
    near = np.zeros(len(test), dtype=bool)
    nearest = np.zeros(len(test), dtype=int)
    if len(train) and len(test):
        distance, index = KDTree(matrix[: len(train)], metric="chebyshev").query(
            matrix[len(train):], k=1)
        nearest = index[:, 0]
        near = (distance[:, 0] <= tol) & ~exact
    examples = _leak_examples(exact, near, test_hash, first_train, nearest, max_examples)
    count = int(exact.sum() + near.sum())
    share = count / len(test) if len(test) else 0.0
    status = "fail" if share >= SPLIT_LEAKAGE_FAIL_SHARE else "warn" if count else "pass"
    detail = {"exact": int(exact.sum()), "near": int(near.sum()), "share_of_test": share,
              "tolerance": float(tol)}
    explanation = (f"{count} test row(s) ({share:.1%}) repeat a train row exactly or nearly."
                   if count else "No test row repeats a train row.")
    return _check(name, status, count, examples, detail, explanation)


def _near_duplicate_matrix(both, *, n_train, tol):
    """Numeric columns standardised with train statistics (missing -> 0 plus a
    missing flag); categorical columns as shared integer codes. Flags and codes are
    scaled past ``tol`` so a different category or missingness is never "near"."""
    apart = 2.0 * tol + 1.0
    parts = []
    for column in both.columns:
        series = both[column]
        if _is_numeric(series):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            train_values = values[:n_train]
            mean = np.nanmean(train_values) if np.isfinite(train_values).any() else 0.0
            std = np.nanstd(train_values) if np.isfinite(train_values).any() else 0.0
            missing = ~np.isfinite(values)
            parts.append(np.where(missing, 0.0, (values - mean) / (std if std > 0 else 1.0)))
            parts.append(missing * apart)
        else:
            codes, _ = pd.factorize(series.astype(str))
            parts.append(codes * apart)
    return np.column_stack(parts)


def _leak_examples(exact, near, test_hash, first_train, nearest, max_examples):
    examples = []
    for test_row in np.flatnonzero(exact | near)[:max_examples]:
        if exact[test_row]:
            train_row = int(first_train[test_hash[test_row]])
        else:
            train_row = int(nearest[test_row])
        examples.append({"kind": "exact" if exact[test_row] else "near",
                         "train_row": train_row, "test_row": int(test_row)})
    return examples


# ------------------------------------------------- model-based checks (out of fold)


def _labelled(train, label_column):
    """Rows with a label, their 0-based positions and the cross-validation folds,
    or a reason why cross-validation cannot run."""
    keep = train[label_column].notna().to_numpy()
    y = train[label_column][keep].map(_label_text).to_numpy()
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        return None, "needs two classes with at least two rows each"
    return (np.flatnonzero(keep), y, classes, int(counts.min())), None


def _folds(n_folds, smallest_class, random_state):
    return StratifiedKFold(n_splits=min(n_folds, smallest_class), shuffle=True,
                           random_state=random_state)


def _auc(y, proba, classes):
    if len(classes) == 2:
        return float(roc_auc_score(y == classes[1], proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes))


def check_single_feature_leakage(train, *, columns, label_column, threshold=0.98, n_folds=5,
                                 random_state=0, max_examples=5):
    """Features that alone predict the label almost perfectly: a depth-3 tree on
    the one feature (categoricals target-encoded), scored by out-of-fold ROC AUC
    (one-vs-rest macro for multiclass). AUC >= ``threshold`` fails: such a
    feature is usually the label in disguise or recorded after the outcome."""
    name = "single_feature_leakage"
    labelled, reason = _labelled(train, label_column)
    if labelled is None:
        return _skipped(name, reason, f"Single-feature leakage was not checked: it {reason}.")
    rows, y, classes, smallest = labelled
    cv = _folds(n_folds, smallest, random_state)
    tree = DecisionTreeClassifier(max_depth=LEAKAGE_TREE_DEPTH, random_state=random_state)
    scores = {}
    for column in columns:
        series = train[column].iloc[rows]
        if _is_numeric(series):
            x = series.to_numpy(dtype=float, na_value=np.nan).reshape(-1, 1)
            model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), tree)
        else:
            x = series.astype(str).to_numpy().reshape(-1, 1)
            # Inner cross-fitting with a seeded splitter keeps the encoding reproducible.
            inner = KFold(n_splits=cv.n_splits, shuffle=True, random_state=random_state)
            model = make_pipeline(TargetEncoder(cv=inner), tree)
        proba = cross_val_predict(model, x, y, cv=cv, method="predict_proba")
        scores[str(column)] = _auc(y, proba, classes)
    leaking = sorted((c for c, s in scores.items() if s >= threshold), key=lambda c: -scores[c])
    examples = [{"feature": c, "auc": scores[c]} for c in leaking[:max_examples]]
    explanation = (f"{len(leaking)} feature(s) alone predict the label with ROC AUC >= "
                   f"{threshold}: check they are not the label in disguise."
                   if leaking else "No single feature predicts the label almost perfectly.")
    detail = {"auc": scores, "threshold": float(threshold),
              "model": f"depth-{LEAKAGE_TREE_DEPTH} tree per feature, out-of-fold"}
    return _check(name, "fail" if leaking else "pass", len(leaking), examples, detail,
                  explanation)


def _label_model(train, columns, random_state):
    """The simple out-of-fold model: one-hot categoricals, standardised numerics
    (median-imputed), multinomial logistic regression."""
    numeric = [c for c in columns if _is_numeric(train[c])]
    categorical = [c for c in columns if c not in numeric]
    steps = [("num", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                   StandardScaler()), numeric)]
    if categorical:
        steps.append(("cat", OneHotEncoder(handle_unknown="ignore"), categorical))
    x = train[columns].copy()
    for c in categorical:
        x[c] = x[c].astype(str)
    for c in numeric:
        x[c] = x[c].to_numpy(dtype=float, na_value=np.nan)
    model = make_pipeline(ColumnTransformer(steps),
                          LogisticRegression(max_iter=1000, random_state=random_state))
    return model, x


def confident_learning(labels, proba, classes):
    """Label-error candidates by confident learning (Northcutt, Jiang & Chuang,
    "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021).

    ``proba`` holds out-of-fold probabilities, columns in ``classes`` order.
    Class j's threshold t_j is the mean probability of j over rows labelled j
    (its average self-confidence). A row is a candidate when its given label's
    probability is below that label's threshold and some other class reaches its
    own threshold; the suggested label is the most probable such class.
    Candidates are ranked by self-confidence, lowest (most suspicious) first,
    as the paper's and cleanlab's default ranking.

    Returns (thresholds, list of (position, given index, suggested index,
    self-confidence, suggested probability)), ranked.
    """
    given = np.searchsorted(classes, labels)
    rows = np.arange(len(labels))
    thresholds = np.array([proba[given == j, j].mean() for j in range(len(classes))])
    self_confidence = proba[rows, given]
    above = proba >= thresholds
    above[rows, given] = False
    candidate = (self_confidence < thresholds[given]) & above.any(axis=1)
    suggested = np.argmax(np.where(above, proba, -1.0), axis=1)
    order = np.flatnonzero(candidate)
    order = order[np.argsort(self_confidence[order], kind="stable")]
    ranked = [(int(i), int(given[i]), int(suggested[i]), float(self_confidence[i]),
               float(proba[i, suggested[i]])) for i in order]
    return thresholds, ranked


def check_label_errors(train, *, columns, label_column, n_folds=5, random_state=0,
                       max_examples=5):
    """Rows whose label the rest of the data contradicts, by confident learning
    on out-of-fold probabilities. Warns from LABEL_ERROR_WARN_SHARE of the
    labelled rows (never fails: see LABEL_ERROR_WARN_SHARE)."""
    name = "label_errors"
    labelled, reason = _labelled(train, label_column)
    if labelled is None:
        return _skipped(name, reason, f"Label errors were not searched for: it {reason}.")
    rows, y, classes, smallest = labelled
    model, x = _label_model(train.iloc[rows], columns, random_state)
    proba = cross_val_predict(model, x, y, cv=_folds(n_folds, smallest, random_state),
                              method="predict_proba")
    thresholds, ranked = confident_learning(y, proba, classes)
    candidates = [{"row": int(rows[i]), "given": str(classes[g]), "suggested": str(classes[s]),
                   "self_confidence": conf, "suggested_confidence": other}
                  for i, g, s, conf, other in ranked]
    share = len(candidates) / len(rows)
    status = "warn" if share >= LABEL_ERROR_WARN_SHARE else "pass"
    detail = {
        "thresholds": {str(c): float(t) for c, t in zip(classes, thresholds)},
        "share": share,
        "candidates": candidates[:MAX_LABEL_CANDIDATES],
        "truncated": len(candidates) > MAX_LABEL_CANDIDATES,
        "model": "one-hot + standardise + LogisticRegression, out-of-fold",
    }
    explanation = (f"{len(candidates)} row(s) ({share:.1%}) carry a label the rest of the "
                   "data contradicts; review them, most suspicious first."
                   if candidates else "No row's label is contradicted by the rest of the data.")
    return _check(name, status, len(candidates), candidates[:max_examples], detail, explanation)


# ------------------------------------------------------------------ validation


def _is_number(value):
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, (bool, np.bool_)) and math.isfinite(value))


def _is_count(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _check_inputs(train, test, reference, *, features, label, sensitive, shares):
    for name, frame in (("train", train), ("test", test), ("reference", reference)):
        if frame is not None and not isinstance(frame, pd.DataFrame):
            raise TypeError(ERR_NOT_DATAFRAME.format(name=name))
    if not features:
        raise ValueError(ERR_NO_FEATURES)
    if label in features:
        raise ValueError(ERR_LABEL_IS_FEATURE.format(column=label))
    needed = [("train", train, _unique(features + [label] + sensitive)),
              ("test", test, features),
              ("reference", reference, sensitive)]
    for name, frame, columns in needed:
        for column in columns if frame is not None else ():
            if column not in frame.columns:
                raise ValueError(ERR_MISSING_COLUMN.format(column=column, name=name))
    if shares is not None and reference is not None:
        raise ValueError(ERR_REFERENCE_AND_SHARES)
    for column, groups in (shares or {}).items():
        if column not in sensitive:
            raise ValueError(ERR_SHARES_COLUMN.format(column=column))
        values = list(groups.values()) if isinstance(groups, dict) else None
        if (not values or not all(_is_number(v) and v >= 0 for v in values)
                or abs(sum(values) - 1.0) > SHARES_SUM_TOLERANCE):
            raise ValueError(ERR_SHARES.format(column=column))


def _check_options(*, near_duplicate_tol, leakage_auc, n_folds, max_examples, random_state):
    if not _is_number(near_duplicate_tol) or near_duplicate_tol < 0:
        raise ValueError(ERR_TOLERANCE.format(value=near_duplicate_tol))
    if not _is_number(leakage_auc) or not 0.5 < leakage_auc <= 1:
        raise ValueError(ERR_LEAKAGE_AUC.format(value=leakage_auc))
    if not _is_count(n_folds) or n_folds < 2:
        raise ValueError(ERR_N_FOLDS.format(value=n_folds))
    if not _is_count(max_examples) or max_examples < 0:
        raise ValueError(ERR_MAX_EXAMPLES.format(value=max_examples))
    if not _is_count(random_state) or random_state < 0:
        raise ValueError(ERR_RANDOM_STATE.format(value=random_state))
