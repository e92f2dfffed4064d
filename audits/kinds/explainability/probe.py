"""Explainability probe: which features drive a binary classifier, and whether that explanation can be trusted.

Pure functions, no Django. Results are plain JSON-serialisable structures (an undefined
value is None). The model is seen through `score(frame) -> P(positive class)` on the raw
columns it reads, so scikit-learn pipelines and torch models are treated alike; torch models
also get gradients (Integrated Gradients) through their module and input spec.

Global importance
- Permutation importance (scikit-learn's `permutation_importance`, Breiman 2001; Fisher, Rudin
  and Dominici 2019): the drop in ROC AUC when one column is shuffled, `n_repeats` times. The
  interval is Student's t over the repeats: it describes this evaluation set (the repeats are
  independent shuffles of it), not other samples of people.
- Integrated Gradients (Sundararajan, Taly and Yan, ICML 2017) from Captum, on the positive
  class's probability, from a reference row (each numeric column's median, each categorical
  column's most frequent value). Attributions of the encoded columns are summed per source
  feature (one-hot groups add up), so by completeness a row's attributions add up to its score
  minus the reference row's score. Global importance is the mean absolute attribution with a
  percentile-bootstrap interval over rows.

Tested explanations (an explanation that fails either is not trustworthy for this model)
- Deletion test (in the spirit of Samek et al. 2017 and Petsiuk et al. 2018's deletion
  metric): replace the top-k features by their reference values, k = 1..K, and record how much
  each row's score moves. The area under that curve is compared with the same area for
  `n_random` random orders: the gap (ranked minus random, a mean over rows) has a Student's t
  interval over rows, and passes when it is above 0. (A permutation p-value over orders is
  shown but not judged: with one dominant feature, random orders that start with it come
  close, and with 9 features no p-value below 1/9 is reachable at k = 1.)
- Model-randomization test (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018):
  the method explains models whose weights were re-initialised (torch) or refitted on shuffled
  labels (scikit-learn: the paper's data-randomization test); its explanations must then change.
  Similarity is Spearman's rank correlation, per row for attributions (averaged over rows, with
  a t interval) and on the importance vector for permutation importance, averaged over the
  randomized models.

Proxy risk
For each feature and each sensitive attribute, how well the feature alone predicts membership
of each group (one vs the rest): scikit-learn's TargetEncoder fitted on the training rows
(numeric features in decile bins, so relations need not be monotone) scores the evaluation
rows, and the ROC AUC has a percentile-bootstrap interval. A feature with at least
`min_importance_share` of the model's importance whose AUC is high is a proxy finding.

Error budget: every check's interval is at 1 - alpha / m (Bonferroni), m = two tests per
method plus one per feature and sensitive attribute, so the run's checks share one alpha.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from training.encoding import encode, feature_layout

ERR_LENGTH = "The frame has {n} rows but y has {m}."
ERR_LABELS = "y must hold 0 and 1 (the positive class as 1), both present; got {values}."
ERR_FEATURES = "features must name columns of the frame; missing: {missing}."
ERR_REPEATS = "n_repeats must be an integer between 2 and 200, not {value!r}."
ERR_RANDOM = "n_random must be an integer between 19 and 999, not {value!r}."
ERR_LEVEL = "confidence_level must be between 0.5 and 1 (exclusive), not {value!r}."
ERR_SHAPE = "The attributions have shape {shape}; expected ({n}, {p}): one column per feature."

CONTINUOUS_MIN_DISTINCT = 11  # a numeric sensitive column with more than 10 values is put in bins
SENSITIVE_QUANTILES = 4
PROXY_BINS = 10  # quantile bins of a numeric feature when it predicts a group


# ---------------------------------------------------------------------------
# Inputs, references and removal
# ---------------------------------------------------------------------------


def check_inputs(frame: pd.DataFrame, y, features: list[str]) -> np.ndarray:
    y = np.asarray(y)
    if len(frame) != len(y):
        raise ValueError(ERR_LENGTH.format(n=len(frame), m=len(y)))
    values = sorted(set(np.unique(y).tolist()))
    if values != [0, 1]:
        raise ValueError(ERR_LABELS.format(values=values))
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise ValueError(ERR_FEATURES.format(missing=", ".join(missing)))
    return y.astype(int)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def reference_row(frame: pd.DataFrame, features: list[str]) -> dict:
    """A typical row: the median of each numeric column, the most frequent value of the others."""
    out = {}
    for f in features:
        col = frame[f].dropna()
        if _is_numeric(frame[f]):
            value = float(col.median()) if len(col) else 0.0
            out[f] = int(round(value)) if pd.api.types.is_integer_dtype(frame[f]) else value
        else:
            out[f] = col.mode().iloc[0] if len(col) else None
    return out


def remove_features(frame: pd.DataFrame, removed, reference: dict) -> pd.DataFrame:
    """The frame with the removed columns set to their reference value in every row."""
    out = frame.copy()
    for f in removed:
        out[f] = pd.Series([reference[f]] * len(out), index=out.index, dtype=frame[f].dtype)
    return out


def _t_interval(values: np.ndarray, level: float) -> list[float]:
    n = len(values)
    mean = float(np.mean(values))
    if n < 2:
        return [mean, mean]
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * np.std(values, ddof=1) / math.sqrt(n))
    return [mean - half, mean + half]


def _check_level(level: float) -> float:
    if not 0.5 < float(level) < 1:
        raise ValueError(ERR_LEVEL.format(value=level))
    return float(level)


# ---------------------------------------------------------------------------
# Global importance
# ---------------------------------------------------------------------------


class _ScoreModel:
    """The model as permutation_importance sees it: only `score` is ever called (by our scorer)."""

    def __init__(self, score: Callable[[pd.DataFrame], np.ndarray], columns: list[str]):
        self.score, self.columns = score, columns

    def fit(self, X, y=None):
        return self


def _auc_scorer(estimator: _ScoreModel, X, y) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, estimator.score(pd.DataFrame(X, columns=estimator.columns))))


def permutation_importances(score, frame: pd.DataFrame, y, *, features: list[str], n_repeats: int = 30,
                            seed: int = 0, confidence_level: float = 0.95) -> list[dict]:
    """[{"feature", "value", "ci", "sd"}]: mean drop in ROC AUC when the feature is shuffled."""
    from sklearn.inspection import permutation_importance

    if isinstance(n_repeats, bool) or not isinstance(n_repeats, int) or not 2 <= n_repeats <= 200:
        raise ValueError(ERR_REPEATS.format(value=n_repeats))
    level = _check_level(confidence_level)
    y = check_inputs(frame, y, features)
    X = frame[features].reset_index(drop=True)
    result = permutation_importance(_ScoreModel(score, features), X, y, scoring=_auc_scorer, n_repeats=n_repeats,
                                    random_state=seed, n_jobs=1)
    return [{"feature": f, "value": float(result.importances_mean[i]), "ci": _t_interval(result.importances[i], level),
             "sd": float(result.importances_std[i])} for i, f in enumerate(features)]


def feature_slices(spec_input: dict) -> list[tuple[str, slice]]:
    """Which columns of the flattened encoded input belong to which source feature."""
    if spec_input["kind"] == "image":
        return [(c, slice(i, i + 1)) for i, c in enumerate(spec_input["columns"])]
    return [(part["name"], slice(part["start"], part["stop"])) for part in feature_layout(spec_input)]


def integrated_gradients(module, spec_input: dict, frame: pd.DataFrame, *, reference: dict, target: int = 1,
                         n_steps: int = 32, device=None) -> np.ndarray:
    """(rows, features) Integrated Gradients (Captum) of P(target), summed per source feature.

    The baseline is the reference row encoded like any other, so each row's attributions add
    up to its score minus the reference row's score (up to Captum's Riemann approximation,
    whose error Captum reports as the convergence delta)."""
    import torch
    from captum.attr import IntegratedGradients

    device = device or torch.device("cpu")
    module = module.to(device).eval()
    x = torch.as_tensor(encode(frame, spec_input), dtype=torch.float32, device=device)
    base_frame = pd.DataFrame([reference]).astype({c: frame[c].dtype for c in reference if c in frame.columns})
    base = torch.as_tensor(encode(base_frame, spec_input), dtype=torch.float32, device=device)

    def forward(inputs):
        return torch.softmax(module(inputs), dim=1)[:, target]

    attributions = IntegratedGradients(forward).attribute(x, baselines=base, n_steps=n_steps,
                                                          internal_batch_size=4096)
    flat = attributions.detach().reshape(len(frame), -1).cpu().numpy().astype(np.float64)
    return np.stack([flat[:, s].sum(axis=1) for _, s in feature_slices(spec_input)], axis=1)


def attribution_importances(attributions: np.ndarray, *, features: list[str], n_bootstrap: int = 200, seed: int = 0,
                            confidence_level: float = 0.95) -> list[dict]:
    """[{"feature", "value", "ci"}]: mean absolute attribution, percentile bootstrap over rows."""
    level = _check_level(confidence_level)
    magnitude = np.abs(np.asarray(attributions, dtype=float))
    if magnitude.ndim != 2 or magnitude.shape[1] != len(features):
        raise ValueError(ERR_SHAPE.format(shape=magnitude.shape, n=len(magnitude), p=len(features)))
    mean = magnitude.mean(axis=0)
    rng = np.random.default_rng(seed)
    n = len(magnitude)
    draws = np.stack([magnitude[rng.integers(0, n, n)].mean(axis=0) for _ in range(n_bootstrap)]) if n_bootstrap \
        else mean[None, :]
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2], axis=0)
    # The percentile interval of a mean always contains it in practice; min/max makes it certain.
    return [{"feature": f, "value": float(mean[i]), "ci": [float(min(low[i], mean[i])), float(max(high[i], mean[i]))]}
            for i, f in enumerate(features)]


def importance_shares(importances: list[dict]) -> dict[str, float]:
    """Each feature's share of the total (negative permutation importances count as 0)."""
    values = {r["feature"]: max(0.0, r["value"]) for r in importances}
    total = sum(values.values())
    return {f: (v / total if total > 0 else 0.0) for f, v in values.items()}


def ranking(importances: list[dict]) -> list[str]:
    """Features from the most to the least important (ties in the given order)."""
    order = sorted(range(len(importances)), key=lambda i: -importances[i]["value"])
    return [importances[i]["feature"] for i in order]


# ---------------------------------------------------------------------------
# Tested explanations
# ---------------------------------------------------------------------------


def deletion_test(score, frame: pd.DataFrame, order: list[str], *, reference: dict, k: int = 5, n_random: int = 99,
                  seed: int = 0, confidence_level: float = 0.95, cache: dict | None = None) -> dict:
    """Does removing the features the explanation ranks first move the model more than random removal?

    "Removing" sets a column to its reference value in every row; a row's damage is the absolute
    change of its score. A row's area is its damage averaged over k = 1..K removed features
    (K = min(k, number of features)), for the explanation's order and for `n_random` random
    orders (averaged). The gap is the mean over rows of ranked minus random area, with a
    Student's t interval over rows: the verdict asks whether the gap is above 0 beyond the
    sampling noise of the rows. `beaten_by` is the share of random orders whose area is at least
    the ranked one: with one dominant feature, orders that happen to start with it come close,
    so it is shown, not judged. `cache` (removed set -> per-row damage) may be shared between
    calls on the same model and rows, so that each subset is scored once.
    """
    if isinstance(n_random, bool) or not isinstance(n_random, int) or not 19 <= n_random <= 999:
        raise ValueError(ERR_RANDOM.format(value=n_random))
    level = _check_level(confidence_level)
    features = list(order)
    depth = max(1, min(int(k), len(features)))
    base = np.asarray(score(frame), dtype=float)
    cache = {} if cache is None else cache

    def damage(removed) -> np.ndarray:
        key = frozenset(removed)
        if key not in cache:
            cache[key] = np.abs(np.asarray(score(remove_features(frame, key, reference)), dtype=float) - base)
        return cache[key]

    ranked = np.stack([damage(features[:j]) for j in range(1, depth + 1)])  # (K, rows)
    rng = np.random.default_rng(seed)
    # Drawn from the sorted names, so every method is compared with the same random orders.
    orders = [list(rng.permutation(sorted(features))) for _ in range(n_random)]
    random = np.stack([np.stack([damage(perm[:j]) for j in range(1, depth + 1)]) for perm in orders])  # (draws, K, rows)
    ranked_rows, random_rows = ranked.mean(axis=0), random.mean(axis=(0, 1))
    gap_rows = ranked_rows - random_rows
    random_areas = random.mean(axis=(1, 2))
    ranked_area = float(ranked_rows.mean())
    return {
        "k": depth, "n_random": n_random, "removed_in_order": features[:depth],
        "ranked_curve": ranked.mean(axis=1).tolist(), "random_mean_curve": random.mean(axis=(0, 2)).tolist(),
        "random_band": np.quantile(random.mean(axis=2), [0.05, 0.95], axis=0).tolist(),
        "ranked_area": ranked_area, "random_mean_area": float(random_rows.mean()),
        "gap": float(gap_rows.mean()), "ci": _t_interval(gap_rows, level), "confidence_level": level,
        "beaten_by": float(np.mean(random_areas >= ranked_area - 1e-12)),
    }


def _row_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of a with the same row of b (NaN where a row is constant)."""
    ra, rb = stats.rankdata(a, axis=1), stats.rankdata(b, axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra ** 2).sum(axis=1) * (rb ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)


def randomization_test(real: np.ndarray, randomized: list[np.ndarray], *, confidence_level: float = 0.95) -> dict:
    """Adebayo et al.'s model-randomization check: how similar the explanations of randomized models are.

    `real` is (rows, features) for a local method or (features,) for a global one; each entry of
    `randomized` has the same shape. The similarity is Spearman's rho (per row, then averaged),
    averaged over the randomized models; with rows, the interval is Student's t over rows of the
    per-row average (a global vector has no interval: it is decided on its value).
    """
    level = _check_level(confidence_level)
    real = np.asarray(real, dtype=float)
    if real.ndim == 1:
        rhos = [float(_row_spearman(real[None, :], np.asarray(r, dtype=float)[None, :])[0]) for r in randomized]
        finite = [r for r in rhos if np.isfinite(r)]
        return {"similarity": float(np.mean(finite)) if finite else None, "ci": None, "per_model": rhos,
                "unit": "importance vector"}
    per_model_rows = np.stack([_row_spearman(real, np.asarray(r, dtype=float)) for r in randomized])
    with warnings.catch_warnings():  # a row constant under every model is NaN: left out, not warned about
        warnings.simplefilter("ignore", RuntimeWarning)
        per_row = np.nanmean(per_model_rows, axis=0)
        per_model = [float(v) if np.isfinite(v) else None for v in np.nanmean(per_model_rows, axis=1)]
    per_row = per_row[np.isfinite(per_row)]
    if not len(per_row):
        return {"similarity": None, "ci": None, "per_model": per_model, "unit": "rows", "rows": 0}
    return {"similarity": float(per_row.mean()), "ci": _t_interval(per_row, level), "per_model": per_model,
            "unit": "rows", "rows": int(len(per_row)), "confidence_level": level}


def randomize_module(module, *, seed: int):
    """A copy of a torch module with every layer re-initialised (the end of Adebayo et al.'s cascade)."""
    import torch

    clone = copy.deepcopy(module)
    torch.manual_seed(seed)
    for layer in clone.modules():
        if hasattr(layer, "reset_parameters"):
            layer.reset_parameters()
    return clone.eval()


# ---------------------------------------------------------------------------
# Groups and proxies
# ---------------------------------------------------------------------------


def sensitive_groups(column: pd.Series) -> pd.Series:
    """Group labels of a sensitive column: numeric columns with many values in quartile bins."""
    if _is_numeric(column) and column.nunique() >= CONTINUOUS_MIN_DISTINCT:
        edges = np.unique(np.quantile(column.dropna(), np.linspace(0, 1, SENSITIVE_QUANTILES + 1)))
        edges[-1] = np.inf
        binned = pd.cut(column, bins=edges, right=False, include_lowest=True)
        labels = binned.map(lambda i: f"[{i.left:g}, {i.right:g})" if pd.notna(i) else "missing")
        return labels.astype(str).where(column.notna(), "missing")
    return column.astype(str).where(column.notna(), "missing")


def group_importances(attributions: np.ndarray, groups: pd.Series, *, features: list[str],
                      min_count: int = 20) -> dict:
    """{group: {"count", "importance": {feature: mean |attribution|}, "counted"}} for one attribute."""
    magnitude = np.abs(np.asarray(attributions, dtype=float))
    labels = np.asarray(groups)
    out = {}
    for group in sorted(set(labels.tolist()), key=str):
        mask = labels == group
        out[str(group)] = {"count": int(mask.sum()), "counted": bool(mask.sum() >= min_count),
                           "importance": dict(zip(features, magnitude[mask].mean(axis=0).tolist()))}
    return out


def group_permutation_importances(score, frame: pd.DataFrame, y: np.ndarray, groups: pd.Series, *,
                                  features: list[str], n_repeats: int, seed: int, min_count: int = 20) -> dict:
    """Like `group_importances`, from permutation importance within each group (models without
    attributions). A group with fewer than `min_count` rows or one class only is not measured."""
    labels = np.asarray(groups)
    out = {}
    for group in sorted(set(labels.tolist()), key=str):
        mask = labels == group
        measurable = mask.sum() >= min_count and 0 < y[mask].sum() < mask.sum()
        rows = permutation_importances(score, frame[mask], y[mask], features=features, n_repeats=n_repeats,
                                       seed=seed) if measurable else []
        out[str(group)] = {"count": int(mask.sum()), "counted": bool(measurable),
                           "importance": {r["feature"]: r["value"] for r in rows}}
    return out


def rank_auc(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """ROC AUC of each row of s against the same row of y (Mann-Whitney: ties count one half).

    y and s are (draws, rows); a row without both classes gives NaN."""
    y, s = np.atleast_2d(y).astype(bool), np.atleast_2d(np.asarray(s, dtype=float))
    ranks = stats.rankdata(s, axis=1)
    n1 = y.sum(axis=1)
    n0 = y.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * y).sum(axis=1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def bootstrap_auc(y: np.ndarray, s: np.ndarray, *, n_bootstrap: int, level: float, rng) -> tuple[float, list]:
    """The AUC and its percentile-bootstrap interval (resamples lacking a class are dropped)."""
    auc = float(rank_auc(y, s)[0])
    if not n_bootstrap:
        return auc, [auc, auc]
    idx = rng.integers(0, len(y), (n_bootstrap, len(y)))
    draws = rank_auc(y[idx], s[idx])
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return auc, [auc, auc]
    low, high = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return auc, [float(min(low, auc)), float(max(high, auc))]


def _feature_codes(fit: pd.Series, scored: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A feature alone as one categorical column, for the fitted and the scored rows: its
    categories, or the decile bins (edges from the fitted rows) of a number."""
    if _is_numeric(fit) and fit.nunique() > PROXY_BINS:
        edges = np.unique(np.quantile(fit.dropna(), np.linspace(0, 1, PROXY_BINS + 1)))[1:-1]
        codes = [np.digitize(c.fillna(fit.median()).to_numpy(dtype=float), edges).astype(str) for c in (fit, scored)]
    else:
        codes = [c.astype(str).where(c.notna(), "missing").to_numpy() for c in (fit, scored)]
    return pd.DataFrame({"value": codes[0]}), pd.DataFrame({"value": codes[1]})


def proxy_scan(frame: pd.DataFrame, *, features: list[str], sensitive: pd.DataFrame, shares: dict[str, float],
               fit_frame: pd.DataFrame | None = None, fit_sensitive: pd.DataFrame | None = None,
               min_importance_share: float = 0.10, n_bootstrap: int = 1000, seed: int = 0,
               confidence_level: float = 0.95, min_group_count: int = 20) -> dict:
    """How well each feature alone predicts each group of each sensitive attribute, on held-out rows.

    The predictor is scikit-learn's TargetEncoder fitted on `fit_frame` (the training rows):
    each value's share of the group there, shrunk towards the overall share. It scores the rows
    of `frame` (the evaluation rows), which it never saw, so the AUC is a fair hold-out figure.
    (Cross-fitting on one set biases a weak feature's AUC below 0.5: leaving a row's fold out
    moves its value's share away from its own label.) Without fitted rows, the first half of
    `frame` (in a seeded shuffle) is fitted and the second half scored.
    Returns {"pairs": [{"feature", "attribute", "group", "auc", "ci", "share", "important"}], ...};
    for an attribute with more than two groups the group the feature predicts best is kept.
    """
    from sklearn.preprocessing import TargetEncoder

    level = _check_level(confidence_level)
    frame, sensitive = frame.reset_index(drop=True), sensitive.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    if fit_frame is None:
        order = rng.permutation(len(frame))
        half = len(frame) // 2
        fit_frame, fit_sensitive = frame.iloc[order[:half]], sensitive.iloc[order[:half]]
        frame, sensitive = (x.iloc[order[half:]].reset_index(drop=True) for x in (frame, sensitive))
    fit_frame, fit_sensitive = fit_frame.reset_index(drop=True), fit_sensitive.reset_index(drop=True)
    candidates = [(f, a) for a in sensitive.columns for f in features if f != a]
    # One error budget for all pairs: each interval at 1 - alpha / m (Bonferroni).
    pair_level = 1 - (1 - level) / max(1, len(candidates))
    codes = {f: _feature_codes(fit_frame[f], frame[f]) for f in features}
    pairs = []
    for feature, attribute in candidates:
        both = sensitive_groups(pd.concat([fit_sensitive[attribute], sensitive[attribute]], ignore_index=True))
        fit_groups, groups = both.iloc[:len(fit_sensitive)].to_numpy(), both.iloc[len(fit_sensitive):].to_numpy()
        names = sorted(set(groups.tolist()))
        best = None
        for group in names[:1] if len(names) == 2 else names:  # with two groups, one question
            fit_target, target = (fit_groups == group).astype(int), (groups == group).astype(int)
            if min(target.sum(), len(target) - target.sum(), fit_target.sum()) < min_group_count \
                    or fit_target.sum() == len(fit_target):
                continue
            encoder = TargetEncoder(target_type="binary").fit(codes[feature][0], fit_target)
            scores = encoder.transform(codes[feature][1])[:, 0]
            auc, ci = bootstrap_auc(target, scores, n_bootstrap=n_bootstrap, level=pair_level, rng=rng)
            if best is None or auc > best["auc"]:
                best = {"group": str(group), "auc": auc, "ci": ci}
        share = float(shares.get(feature, 0.0))
        pairs.append({"feature": feature, "attribute": attribute, "share": share,
                      "important": share >= min_importance_share,
                      **(best or {"group": None, "auc": None, "ci": None})})
    return {"pairs": pairs, "pair_level": pair_level, "n_pairs": len(candidates), "n_scored": int(len(frame)),
            "n_fitted": int(len(fit_frame)), "min_importance_share": min_importance_share}


# ---------------------------------------------------------------------------
# Local explanations
# ---------------------------------------------------------------------------


def _value_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


MIN_SHOWN = 0.005  # contributions are said to two decimals


def occlusion_attributions(score, rows: pd.DataFrame, *, features: list[str], reference: dict) -> np.ndarray:
    """Each feature's local contribution for any model: how much the row's score changes when that
    feature alone is set to its typical value. For a model additive in its features these add up
    to the difference from the typical row, as Integrated Gradients' do; otherwise they need not."""
    base = np.asarray(score(rows), dtype=float)
    out = np.empty((len(rows), len(features)))
    for j, f in enumerate(features):
        out[:, j] = base - np.asarray(score(remove_features(rows, [f], reference)), dtype=float)
    return out


def local_explanations(rows: pd.DataFrame, attributions: np.ndarray, *, features: list[str], scores: np.ndarray,
                       reference: dict, reference_score: float, outcome: str, top: int = 3) -> list[dict]:
    """For each row, its largest contributions and a sentence that says them in plain words."""
    out = []
    for i, (index, row) in enumerate(rows.iterrows()):
        # Contributions that round to 0.00 say nothing (an input at its typical value, say): left out.
        order = [j for j in np.argsort(-np.abs(attributions[i]))[:top] if abs(attributions[i, j]) >= MIN_SHOWN]
        contributions = [{"feature": features[j], "value": _value_text(row[features[j]]),
                          "reference": _value_text(reference[features[j]]),
                          "contribution": float(attributions[i, j])} for j in order]
        out.append({"row": int(index) if isinstance(index, (int, np.integer)) else str(index),
                    "score": float(scores[i]), "reference_score": float(reference_score),
                    "contributions": contributions,
                    "sentence": local_sentence(contributions, score=float(scores[i]), reference_score=reference_score,
                                               outcome=outcome)})
    return out


def local_sentence(contributions: list[dict], *, score: float, reference_score: float, outcome: str) -> str:
    """'duration of 48 lowered the score for risk = 1 most (−0.21; a typical row has 18), then ...'."""
    if not contributions:
        return f"The model's score for {outcome} is {score:.2f}."
    parts = []
    for n, c in enumerate(contributions):
        verb = "raised" if c["contribution"] > 0 else "lowered"
        amount = f"{'+' if c['contribution'] > 0 else '−'}{abs(c['contribution']):.2f}"
        lead = f"{c['feature']} of {c['value']} {verb} the score for {outcome} most" if n == 0 else \
            f"{c['feature']} of {c['value']} {verb} it"
        parts.append(f"{lead} ({amount}; a typical row has {c['reference']})")
    return (f"Score {score:.2f} against {reference_score:.2f} for a typical row: " + "; then ".join(parts) + ".")


# ---------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def single_thread():
    """One torch intra-op thread while the audit runs. Its forward passes are small (hundreds of
    rows) and many; on a busy 2-core worker a second thread made each one 50x slower (measured:
    5 ms against 0.07 ms for a 300 x 30 linear layer), because the threads wait on each other."""
    try:
        import torch
    except ImportError:  # a scikit-learn-only worker
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


METHOD_LABELS = {"permutation": "Permutation importance", "integrated_gradients": "Integrated Gradients (Captum)"}


def _method(name: str, importance: list[dict], *, deletion: dict, randomization: dict) -> dict:
    return {"label": METHOD_LABELS.get(name, name), "importance": importance, "order": ranking(importance),
            "shares": importance_shares(importance), "deletion": deletion, "randomization": randomization}


def explainability_probe(*args, **kwargs) -> dict:
    """The explainability audit of one binary classifier on its evaluation rows (see `_probe`)."""
    with single_thread():
        return _probe(*args, **kwargs)


def _probe(score, frame: pd.DataFrame, y, *, features: list[str], outcome: str,
                         sensitive: pd.DataFrame | None = None, proxy_rows: tuple | None = None,
                         module=None, spec_input: dict | None = None,
                         randomized: list[dict] = (), attribute=None, n_repeats: int = 30, ig_steps: int = 32,
                         deletion_k: int = 5, n_random: int = 99, n_bootstrap: int = 200,
                         confidence_level: float = 0.95, min_importance_share: float = 0.10,
                         min_group_count: int = 20, n_local_rows: int = 5, cases: pd.DataFrame | None = None,
                         seed: int = 0, device=None, progress: Callable[[int], None] | None = None) -> dict:
    """The audit's parts, in order: permutation importance, Integrated Gradients, their tests,
    groups and proxies, local explanations.

    score: frame -> P(positive class). module/spec_input: a torch model, which adds Integrated
    Gradients. randomized: [{"score", "module"}] versions of the model with randomized weights
    (or refitted on shuffled labels). attribute(module, frame) -> (rows, features) replaces
    Integrated Gradients (tests use it to show a broken explainer failing the checks).
    proxy_rows: (frame, sensitive) of the training rows, on which the proxy scan fits its
    predictors before it scores the evaluation rows. cases: rows a user asked about (pasted, or
    from an appeal), indexed by their names, explained like the sampled rows.
    """
    report = progress or (lambda pct: None)
    y = check_inputs(frame, y, features)
    rows_in_file = list(frame.index)  # local explanations name rows by their place in the dataset
    frame = frame.reset_index(drop=True)
    sensitive = sensitive.reset_index(drop=True) if sensitive is not None and len(sensitive.columns) else None
    reference = reference_row(frame, features)
    reference_score = float(np.asarray(score(remove_features(frame.iloc[:1], features, reference)))[0])
    level = _check_level(confidence_level)
    opts = {"n_bootstrap": n_bootstrap, "seed": seed, "confidence_level": level}
    # One error budget for every check (Bonferroni): two tests per method and one per proxy pair.
    n_methods = 2 if (module is not None or attribute is not None) else 1
    n_pairs = sum(f != a for a in (sensitive.columns if sensitive is not None else ()) for f in features)
    n_checks = 2 * n_methods + n_pairs
    test_level = 1 - (1 - level) / n_checks

    report(5)
    methods, damage = {}, {}
    importance = permutation_importances(score, frame, y, features=features, n_repeats=n_repeats, seed=seed,
                                         confidence_level=level)
    random_importance = [np.array([r["value"] for r in permutation_importances(
        m["score"], frame, y, features=features, n_repeats=max(2, n_repeats // 6), seed=seed + 1 + i,
        confidence_level=level)]) for i, m in enumerate(randomized)]
    report(30)
    methods["permutation"] = _method(
        "permutation", importance,
        deletion=deletion_test(score, frame, ranking(importance), reference=reference, k=deletion_k,
                               n_random=n_random, seed=seed, cache=damage,
                               confidence_level=test_level),
        randomization=randomization_test(np.array([r["value"] for r in importance]), random_importance,
                                         confidence_level=test_level)
        if random_importance else None)
    report(50)

    attributions = None
    if module is not None or attribute is not None:
        explain = attribute or (lambda m, f: integrated_gradients(m, spec_input, f, reference=reference,
                                                                  n_steps=ig_steps, device=device))
        attributions = np.asarray(explain(module, frame), dtype=float)
        if attributions.shape != (len(frame), len(features)):
            raise ValueError(ERR_SHAPE.format(shape=attributions.shape, n=len(frame), p=len(features)))
        random_attr = [np.asarray(explain(m["module"], frame), dtype=float) for m in randomized
                       if m.get("module") is not None]
        ig_importance = attribution_importances(attributions, features=features, **opts)
        methods["integrated_gradients"] = _method(
            "integrated_gradients", ig_importance,
            deletion=deletion_test(score, frame, ranking(ig_importance), reference=reference, k=deletion_k,
                                   n_random=n_random, seed=seed, cache=damage,
                               confidence_level=test_level),
            randomization=randomization_test(attributions, random_attr, confidence_level=test_level)
            if random_attr else None)
    report(70)
    primary = "integrated_gradients" if attributions is not None else "permutation"

    groups, proxies = {}, None
    if sensitive is not None:
        for attribute_name in sensitive.columns:
            labels = sensitive_groups(sensitive[attribute_name])
            if attributions is not None:
                groups[attribute_name] = group_importances(attributions, labels, features=features,
                                                           min_count=min_group_count)
            else:
                groups[attribute_name] = group_permutation_importances(
                    score, frame, y, labels, features=features, n_repeats=max(2, n_repeats // 3), seed=seed,
                    min_count=min_group_count)
        fit_frame, fit_sensitive = proxy_rows if proxy_rows is not None else (None, None)
        proxies = proxy_scan(frame, features=features, sensitive=sensitive, shares=methods[primary]["shares"],
                             fit_frame=fit_frame, fit_sensitive=fit_sensitive,
                             min_importance_share=min_importance_share, n_bootstrap=max(1000, n_bootstrap), seed=seed,
                             confidence_level=1 - (1 - level) * n_pairs / n_checks, min_group_count=min_group_count)
    report(90)

    # Locally: Integrated Gradients for a torch model, else each feature set to its typical value.
    def contributions(rows, precomputed=None):
        if precomputed is not None:
            values = precomputed
        elif attributions is not None:
            values = np.asarray(explain(module, rows.reset_index(drop=True)), dtype=float)
        else:
            values = occlusion_attributions(score, rows, features=features, reference=reference)
        return local_explanations(rows, values, features=features, scores=np.asarray(score(rows), dtype=float),
                                  reference=reference, reference_score=reference_score, outcome=outcome)

    local = []
    if n_local_rows:
        rng = np.random.default_rng(seed)
        picked = np.sort(rng.choice(len(frame), size=min(int(n_local_rows), len(frame)), replace=False))
        rows = frame.iloc[picked].set_axis([rows_in_file[i] for i in picked])
        local = contributions(rows, attributions[picked] if attributions is not None else None)
    asked = contributions(cases[features]) if cases is not None and len(cases) else []
    report(100)
    return {
        "n": int(len(frame)), "features": list(features), "outcome": outcome, "primary_method": primary,
        "reference": {f: _value_text(v) if not isinstance(v, str) else v for f, v in reference.items()},
        "reference_score": reference_score, "methods": methods, "groups": groups, "proxies": proxies,
        "groups_method": "integrated_gradients" if attributions is not None else "permutation",
        "local": local, "cases": asked, "n_randomized_models": len(randomized),
        "local_method": "integrated_gradients" if attributions is not None else "occlusion",
        "params": {"n_repeats": n_repeats, "ig_steps": ig_steps, "deletion_k": deletion_k, "n_random": n_random,
                   "n_bootstrap": n_bootstrap, "confidence_level": level,
                   "min_importance_share": min_importance_share, "min_group_count": min_group_count,
                   "n_local_rows": n_local_rows, "seed": seed, "n_checks": n_checks, "check_level": test_level},
    }
