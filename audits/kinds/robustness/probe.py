"""Evasion robustness probe: how accuracy falls under small, bounded input perturbations.

Pure functions, no Django. Results are plain JSON-serialisable structures (an
undefined value is None).

White box (torch models, `robustness_probe`): FGSM (one signed-gradient step,
Goodfellow et al. 2015) through ART's `PyTorchClassifier` and `FastGradientMethod`,
and PGD (Madry et al. 2018, no random start) through training/attacks.py
`pgd_linf_rows`: every (row, epsilon) pair of the curve in batches that stay on the
device, so a GPU runs the whole curve in `pgd_steps` forward/backward passes per batch
instead of ART's one epsilon at a time with every gradient copied through NumPy. It is
the same algorithm as ART's `ProjectedGradientDescentPyTorch` (num_random_init=0),
which stays as the reference (`pgd_backend="art"`; tests/kinds/robustness compare the
two curves). Both are untargeted L-inf attacks that use the true labels.

Epsilon is measured in the model's *encoded* input units, the units of
`training.encoding.encode`:
- image inputs: pixel intensity on the [0, 1] scale (raw value / spec "scale");
- tabular inputs: standard deviations of the training data (numeric features
  are standardised), so eps=0.1 lets an attacker move each numeric feature by a
  tenth of its training standard deviation.

Tabular inputs keep their meaning: only numeric columns are attacked (ART's
`mask`, the native PGD's `mask`), one-hot groups are never touched, and every numeric
column is clipped to its training range from `feature_layout` (ART's per-feature
`clip_values`, then `np.clip` again afterwards as a guarantee; the native PGD clips
to the same bounds at every step). Rows are clipped into that
range before the attack as well, so the clean and the attacked inputs live in
the same box and the L-inf bound holds for every row.

A sample counts as robust at eps only if the model is right on it and on every
adversarial example found for it at eps or below: an example found inside a
smaller ball is also inside the larger one, so the curve never rises.

Black box (scikit-learn, `blackbox_robustness_probe`): ART's decision-based
`HopSkipJump` (Chen et al. 2020) on a small sample, through a
`BlackBoxClassifier` around `predict_proba` of the estimator's encoded
representation (the output of a Pipeline's preprocessing steps, or the raw
numeric frame). It searches for the smallest L2 perturbation that flips the
decision, so its curve reads "robust accuracy within an L2 budget".

Every curve point carries its counts (`count` rows attacked, `robust_count` still right)
and the 95% Clopper-Pearson interval of its robust accuracy (audits/kinds/intervals.py),
so a verdict can allow for how few rows were sampled.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from audits.kinds.intervals import clopper_pearson
from training.attacks import pgd_linf_rows
from training.encoding import encode, feature_layout
from training.recipes import labels_to_index
from training.train import resolve_device

ATTACKS = ("fgsm", "pgd")
# "native": training/attacks.py, every (row, epsilon) pair batched on the device; "art": ART's
# ProjectedGradientDescentPyTorch one epsilon at a time, the reference it is tested against.
PGD_BACKENDS = ("native", "art")
GROUP_ATTACK = "pgd"
# Madry et al. 2018 (appendix): step = 2.5 * eps / steps lets PGD reach the edge of the
# ball from any start and still move along it.
PGD_STEP_FACTOR = 2.5
CONTINUOUS_MIN_DISTINCT = 11  # a numeric sensitive column with more than 10 values is binned
GROUP_QUANTILES = 4
MISSING_LABEL = "missing"
EPSILON_UNITS = {
    "image": "pixel intensity on the [0, 1] scale (raw value divided by the spec's scale)",
    "tabular": "standard deviations of the training data (numeric features are standardised)",
}
# In words a reader can use: the attack moves numbers only, as the model's own preprocessing
# encodes them (a StandardScaler makes one unit one standard deviation).
BLACKBOX_UNITS = ("total (L2) change over the numeric inputs as the model's own preprocessing scales them "
                  "(standard deviations, when it standardises them); categories never change")
HSJ_INIT_SIZE = 100  # random starting points tried per sample, as in ART's own default

ERR_ATTACKS = "attacks must be a non-empty subset of {accepted}; got {got!r}"
ERR_EPSILONS = "epsilons must be a non-empty list of finite numbers >= 0"
ERR_PGD_STEPS = "pgd_steps must be an integer >= 1"
ERR_PGD_BACKEND = "pgd_backend must be one of {accepted}; got {got!r}"
ERR_MAX_SAMPLES = "max_samples must be an integer >= 1"
ERR_MAX_ITER = "max_iter and max_eval must be integers >= 1"
ERR_EMPTY = "frame is empty: the probe needs at least one row"
ERR_LENGTH = "frame has {n} rows but {name} has {m}; every input needs exactly one value per row"
ERR_LABELS = "y holds labels the model does not know: {unknown}; the model's classes are {classes}"
ERR_SENSITIVE = "sensitive must be a pandas DataFrame or a dict of column name -> values"
ERR_NO_PREDICT_PROBA = "estimator must be a fitted classifier with predict_proba and classes_"
ERR_NOT_NUMERIC = (
    "the estimator takes the frame as is, so every column must be numeric; non-numeric columns: {columns}. "
    "Wrap preprocessing and model in a scikit-learn Pipeline so the probe can attack the encoded features"
)
ERR_NOTHING_TO_ATTACK = "no feature can be perturbed: every encoded column is binary (one-hot) or constant"
ERR_NON_FINITE = ("the model's outputs are not finite (NaN or infinite) on {n} of {m} unperturbed rows; a model "
                  "whose outputs are not numbers cannot be judged robust (nor accurate), so the audit stops here")


# ---------------------------------------------------------------------------
# Shared checks
# ---------------------------------------------------------------------------


def _predicted(classifier, x: np.ndarray, *, clean: bool, batch_size: int | None = None) -> np.ndarray:
    """The class index the model predicts per row. argmax of a NaN row is 0, a real class, so a
    model that outputs NaN would keep "predicting" class 0 under every attack and read robust:
    on clean rows that stops the probe (ERR_NON_FINITE); on perturbed rows the row is counted
    as broken (-1 matches no label), since the attack made the model stop answering."""
    scores = classifier.predict(x) if batch_size is None else classifier.predict(x, batch_size=batch_size)
    scores = np.asarray(scores, dtype=float)
    finite = np.isfinite(scores).all(axis=1)
    if clean and not finite.all():
        raise ValueError(ERR_NON_FINITE.format(n=int((~finite).sum()), m=len(finite)))
    labels = scores.argmax(axis=1)
    labels[~finite] = -1
    return labels


def _check_int(value, minimum: int, message: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(message)


def _check_epsilons(epsilons) -> list[float]:
    try:
        values = [float(e) for e in epsilons]
    except (TypeError, ValueError):
        raise ValueError(ERR_EPSILONS) from None
    if not values or any(not math.isfinite(e) or e < 0 for e in values):
        raise ValueError(ERR_EPSILONS)
    return sorted(set(values))


def _check_attacks(attacks) -> list[str]:
    names = [attacks] if isinstance(attacks, str) else list(attacks or [])
    if not names or any(a not in ATTACKS for a in names):
        raise ValueError(ERR_ATTACKS.format(accepted=list(ATTACKS), got=attacks))
    return list(dict.fromkeys(names))


def _label_indices(y, classes: list) -> np.ndarray:
    known = set(classes)
    unknown = sorted({str(v) for v in np.asarray(y).tolist() if v not in known})
    if unknown:
        raise ValueError(ERR_LABELS.format(unknown=unknown[:10], classes=list(classes)))
    return labels_to_index(np.asarray(y), list(classes))


def _sample_rows(n: int, max_samples: int, seed: int) -> np.ndarray:
    """A seeded subset, kept in the frame's order so results map back to rows."""
    if n <= max_samples:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_samples, replace=False))


def _norms(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = delta.reshape(len(delta), int(np.prod(delta.shape[1:]))).astype(np.float64)
    return np.abs(flat).max(axis=1, initial=0.0), np.linalg.norm(flat, axis=1)


def _mean_or_none(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def _ratio(num: int, den: int) -> float | None:
    return float(num) / den if den else None


def _report(progress: Callable[[int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(int(100 * done / max(total, 1)))


# ---------------------------------------------------------------------------
# White box: torch modules
# ---------------------------------------------------------------------------


def input_bounds(spec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, attackable) arrays shaped like one encoded input.

    Numeric and image columns are attackable inside their training range; one-hot
    columns are fixed (low 0, high 1, never perturbed).
    """
    input_spec = spec["input"]
    layout = feature_layout(input_spec)
    width = layout[-1]["stop"] if layout else 0
    low, high, attackable = np.zeros(width, np.float32), np.ones(width, np.float32), np.zeros(width, np.float32)
    for f in layout:
        low[f["start"] : f["stop"]], high[f["start"] : f["stop"]] = f["min"], f["max"]
        attackable[f["start"] : f["stop"]] = f["kind"] in ("numeric", "image")
    # A constant training column has min == max; ART refuses an empty box, and the
    # column cannot move anyway, so give it room and hold it fixed.
    flat = high <= low
    high[flat], attackable[flat] = low[flat] + 1.0, 0.0
    shape = tuple(input_spec["shape"]) if input_spec["kind"] == "image" else (width,)
    return low.reshape(shape), high.reshape(shape), attackable.reshape(shape)


def _as_device(device) -> torch.device:
    if isinstance(device, torch.device):
        return device
    return resolve_device(device)


@contextlib.contextmanager
def art_classifier(module: torch.nn.Module, spec: dict, device: torch.device):
    """ART's PyTorchClassifier around the module; the module goes back where it was afterwards."""
    from art.estimators.classification import PyTorchClassifier

    params = list(module.parameters())
    home = params[0].device if params else torch.device("cpu")
    was_training = module.training
    low, high, _ = input_bounds(spec)
    uniform = spec["input"]["kind"] == "image" and np.all(low == low.flat[0]) and np.all(high == high.flat[0])
    clip = (float(low.flat[0]), float(high.flat[0])) if uniform else (low, high)
    module.eval()
    try:
        yield PyTorchClassifier(
            model=module,
            loss=torch.nn.CrossEntropyLoss(),
            input_shape=low.shape,
            nb_classes=len(spec["classes"]),
            clip_values=clip,
            device_type="gpu" if device.type == "cuda" else "cpu",
        )
    finally:
        module.to(home)
        module.train(was_training)


def _attack(classifier, attack: str, epsilon: float, pgd_steps: int, batch_size: int):
    from art.attacks.evasion import FastGradientMethod, ProjectedGradientDescentPyTorch

    if attack == "fgsm":
        return FastGradientMethod(classifier, norm=np.inf, eps=epsilon, eps_step=epsilon, batch_size=batch_size)
    step = PGD_STEP_FACTOR * epsilon / pgd_steps
    return ProjectedGradientDescentPyTorch(
        classifier, norm=np.inf, eps=epsilon, eps_step=step, max_iter=pgd_steps, num_random_init=0,
        batch_size=batch_size, verbose=False,
    )


def _craft(classifier, spec: dict, x: np.ndarray, y_idx: np.ndarray, *, attack: str, epsilon: float,
           pgd_steps: int, batch_size: int) -> np.ndarray:
    if epsilon == 0 or len(x) == 0:
        return x.copy()
    low, high, attackable = input_bounds(spec)
    onehot = np.eye(len(spec["classes"]), dtype=np.float32)[y_idx]
    mask = attackable if not attackable.all() else None
    adv = _attack(classifier, attack, epsilon, pgd_steps, batch_size).generate(x=x, y=onehot, mask=mask)
    # ART already honours the mask and the clip values; enforcing both again here makes
    # the guarantee independent of the attack implementation.
    adv = np.clip(adv, low, high)
    return np.where(attackable > 0, adv, x).astype(np.float32)


def craft_adversarial(
    module: torch.nn.Module,
    spec: dict,
    x: np.ndarray,
    y: np.ndarray,
    *,
    attack: str = "pgd",
    epsilon: float,
    pgd_steps: int = 10,
    device=None,
    batch_size: int = 256,
) -> np.ndarray:
    """Adversarial versions of already-encoded inputs `x` (labels `y` as class indices).

    Only attackable columns move, by at most `epsilon` (L-inf, encoded units), and
    every value stays inside the training range of its column.
    """
    _check_attacks([attack])
    _check_epsilons([epsilon])
    _check_int(pgd_steps, 1, ERR_PGD_STEPS)
    x = np.clip(np.asarray(x, dtype=np.float32), *input_bounds(spec)[:2])
    with art_classifier(module, spec, _as_device(device)) as classifier:
        return _craft(classifier, spec, x, np.asarray(y, dtype=np.int64), attack=attack, epsilon=float(epsilon),
                      pgd_steps=pgd_steps, batch_size=batch_size)


def _feature_split(spec: dict) -> tuple[list[str], list[str]]:
    layout = feature_layout(spec["input"])
    attackable = [f["name"] for f in layout if f["kind"] in ("numeric", "image") and f["max"] > f["min"]]
    return attackable, [f["name"] for f in layout if f["name"] not in attackable]


def _sensitive_groups(sensitive, n: int) -> dict[str, np.ndarray]:
    """Group label per row for each sensitive column; many-valued numbers become quartile bins."""
    if isinstance(sensitive, pd.DataFrame):
        columns = {str(c): sensitive[c] for c in sensitive.columns}
    elif isinstance(sensitive, dict):
        columns = {str(k): v for k, v in sensitive.items()}
    else:
        raise ValueError(ERR_SENSITIVE)
    groups = {}
    for name, values in columns.items():
        col = values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
        if len(col) != n:
            raise ValueError(ERR_LENGTH.format(n=n, name=f"sensitive[{name!r}]", m=len(col)))
        numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
        if numeric and col.nunique(dropna=True) >= CONTINUOUS_MIN_DISTINCT:
            col = pd.qcut(col, GROUP_QUANTILES, duplicates="drop")
        labels = col.astype(object).where(col.notna(), MISSING_LABEL).astype(str)
        groups[name] = labels.to_numpy()
    return groups


def _curve_point(epsilon: float, correct: np.ndarray, broken: np.ndarray, linf: np.ndarray, l2: np.ndarray) -> dict:
    """linf, l2: per row, the norms of the perturbation of the example that broke it (read for flipped rows only)."""
    flipped = correct & broken
    return {
        "epsilon": epsilon,
        **_robust_counts(~broken),
        "attack_success_rate": _ratio(int(flipped.sum()), int(correct.sum())),
        "mean_linf": _mean_or_none(linf[flipped]),
        "mean_l2": _mean_or_none(l2[flipped]),
    }


def _robust_counts(robust: np.ndarray) -> dict:
    """Robust accuracy with its counts and its 95% Clopper-Pearson interval."""
    k, n = int(robust.sum()), int(robust.size)
    return {"robust_accuracy": float(robust.mean()), "robust_accuracy_ci": clopper_pearson(k, n),
            "count": n, "robust_count": k}


def _attack_curve(classifier, spec, x, y_idx, correct, *, attack, epsilons, pgd_steps, batch_size, tick):
    """One curve through ART, one epsilon at a time; returns it with the per-epsilon 'broken'
    masks for the group breakdown."""
    broken = ~correct  # a misclassified row is already lost at eps = 0
    best = x.copy()
    curve, masks = [], {}
    for eps in epsilons:
        if eps > 0:
            adv = _craft(classifier, spec, x, y_idx, attack=attack, epsilon=eps, pgd_steps=pgd_steps,
                         batch_size=batch_size)
            fooled = _predicted(classifier, adv, clean=False, batch_size=batch_size) != y_idx
            newly = fooled & ~broken
            best[newly] = adv[newly]
            broken = broken | newly
            tick()
        curve.append(_curve_point(eps, correct, broken, *_norms(best - x)))
        masks[eps] = broken.copy()
    return curve, masks


def _native_pgd_curve(module, spec, x, y_idx, correct, *, epsilons, pgd_steps, batch_size, device, advance):
    """The PGD curve through training/attacks.py: every (row, epsilon) pair in batches on the
    device, `pgd_steps` forward/backward passes per batch. The same attack, mask, bounds and
    bookkeeping as `_attack_curve`; `advance(share)` reports the share of the work done."""
    positive = [eps for eps in epsilons if eps > 0]
    # A row the model already gets wrong is lost at every epsilon; attacking it would change nothing.
    attacked = np.flatnonzero(correct)
    fooled = np.zeros((len(positive), len(x)), dtype=bool)
    linf_at, l2_at = np.zeros_like(fooled, dtype=np.float64), np.zeros_like(fooled, dtype=np.float64)
    if positive and len(attacked):
        low, high, attackable = input_bounds(spec)
        on = lambda a: torch.as_tensor(a, device=device)  # noqa: E731
        module.to(device)
        rows = pgd_linf_rows(
            module, on(x[attacked]), on(y_idx[attacked]), epsilons=positive, steps=pgd_steps,
            step_factor=PGD_STEP_FACTOR, low=on(low), high=on(high),
            mask=None if attackable.all() else on(attackable), batch_size=batch_size,
            progress=lambda done, total: advance(done / total),
        )
        fooled[:, attacked] = ~rows.robust.cpu().numpy()
        linf_at[:, attacked], l2_at[:, attacked] = rows.linf.cpu().numpy(), rows.l2.cpu().numpy()
    advance(1.0)
    broken = ~correct  # a misclassified row is already lost at eps = 0
    linf, l2 = np.zeros(len(x)), np.zeros(len(x))
    curve, masks = [], {}
    for eps in epsilons:
        if eps > 0:
            j = positive.index(eps)
            # A row keeps the example of the smallest epsilon that broke it: the curve never rises.
            newly = fooled[j] & ~broken
            linf[newly], l2[newly] = linf_at[j, newly], l2_at[j, newly]
            broken = broken | newly
        curve.append(_curve_point(eps, correct, broken, linf, l2))
        masks[eps] = broken.copy()
    return curve, masks


def _group_robustness(groups: dict[str, np.ndarray], masks: dict[float, np.ndarray]) -> tuple[dict, float | None]:
    table, gap = {}, None
    for name, labels in groups.items():
        table[name] = {}
        for group in sorted(set(labels.tolist())):
            rows = labels == group
            table[name][group] = [
                {"epsilon": eps, "robust_accuracy": float((~broken[rows]).mean()), "count": int(rows.sum())}
                for eps, broken in masks.items()
            ]
        for i in range(len(masks)):
            accs = [points[i]["robust_accuracy"] for points in table[name].values()]
            if len(accs) > 1:
                gap = max(gap or 0.0, max(accs) - min(accs))
    return table, gap


def robustness_probe(
    module: torch.nn.Module,
    spec: dict,
    frame: pd.DataFrame,
    y,
    *,
    epsilons=(0.0, 0.05, 0.1, 0.2, 0.3),
    attacks=ATTACKS,
    pgd_steps: int = 10,
    sensitive=None,
    max_samples: int = 1000,
    seed: int = 0,
    device=None,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 256,
    pgd_backend: str = "native",
) -> dict:
    """Clean and robust accuracy of a torch model over an epsilon grid, per attack.

    `y` holds labels from spec["classes"], one per row of `frame`; `sensitive`
    (a DataFrame or dict aligned with `frame` by position) adds robust accuracy per
    group for PGD (or the first attack when PGD is not run). `batch_size` is ART's batch
    and, for the native PGD, the number of (row, epsilon) pairs attacked at once.
    """
    if pgd_backend not in PGD_BACKENDS:
        raise ValueError(ERR_PGD_BACKEND.format(accepted=list(PGD_BACKENDS), got=pgd_backend))
    epsilons = _check_epsilons(epsilons)
    attacks = _check_attacks(attacks)
    _check_int(pgd_steps, 1, ERR_PGD_STEPS)
    _check_int(max_samples, 1, ERR_MAX_SAMPLES)
    if len(frame) == 0:
        raise ValueError(ERR_EMPTY)
    if len(y) != len(frame):
        raise ValueError(ERR_LENGTH.format(n=len(frame), name="y", m=len(y)))
    groups = _sensitive_groups(sensitive, len(frame)) if sensitive is not None else {}
    device = _as_device(device)
    torch.manual_seed(seed)
    np.random.seed(seed)

    rows = _sample_rows(len(frame), max_samples, seed)
    y_idx = _label_indices(np.asarray(y)[rows], spec["classes"])
    low, high, _ = input_bounds(spec)
    x = np.clip(encode(frame.iloc[rows], spec["input"]), low, high).astype(np.float32)
    n_positive = sum(e > 0 for e in epsilons)
    total, done = len(attacks) * n_positive + 1, [0]

    def tick() -> None:
        done[0] += 1
        _report(progress, done[0], total)

    def advancer():
        """For the native PGD, which reports a share of its whole curve: its n_positive ticks
        come in as shares, and the bar is told only when its whole percent changes."""
        base, last = done[0], [None]

        def advance(share: float) -> None:
            pct = int(100 * (base + share * n_positive) / total)
            if pct != last[0]:
                last[0] = pct
                if progress is not None:
                    progress(pct)
            if share >= 1.0:
                done[0] = base + n_positive
        return advance

    _report(progress, 0, total)
    curves, masks_by_attack = {}, {}
    with art_classifier(module, spec, device) as classifier:
        correct = _predicted(classifier, x, clean=True, batch_size=batch_size) == y_idx
        for attack in attacks:
            if attack == "pgd" and pgd_backend == "native":
                curves[attack], masks_by_attack[attack] = _native_pgd_curve(
                    module, spec, x, y_idx, correct, epsilons=epsilons, pgd_steps=pgd_steps, batch_size=batch_size,
                    device=device, advance=advancer(),
                )
                continue
            curves[attack], masks_by_attack[attack] = _attack_curve(
                classifier, spec, x, y_idx, correct, attack=attack, epsilons=epsilons, pgd_steps=pgd_steps,
                batch_size=batch_size, tick=tick,
            )
    group_attack = GROUP_ATTACK if GROUP_ATTACK in attacks else attacks[0]
    sampled_groups = {name: labels[rows] for name, labels in groups.items()}
    group_table, gap = _group_robustness(sampled_groups, masks_by_attack[group_attack]) if groups else ({}, None)
    attackable, fixed = _feature_split(spec)
    tick()
    return {
        "clean_accuracy": float(correct.mean()),
        "curves": curves,
        "attackable_features": attackable,
        "fixed_features": fixed,
        "group_robustness": group_table,
        "max_group_gap": gap,
        "n_samples": int(len(rows)),
        "device": str(device),
        "params": {
            "epsilons": epsilons,
            "epsilon_units": EPSILON_UNITS[spec["input"]["kind"]],
            "norm": "linf",
            "attacks": attacks,
            "pgd_steps": pgd_steps,
            "pgd_step_size": f"{PGD_STEP_FACTOR} * epsilon / pgd_steps",
            "pgd_random_init": False,
            "pgd_implementation": ("training.attacks.pgd_linf_rows (PyTorch, every row and epsilon batched)"
                                   if pgd_backend == "native" else "ART ProjectedGradientDescentPyTorch"),
            "group_attack": group_attack if groups else None,
            "max_samples": max_samples,
            "seed": seed,
            "perturbation_norms": "means over successful adversarial examples (originally correct rows that flipped)",
        },
    }


# ---------------------------------------------------------------------------
# Black box: scikit-learn estimators
# ---------------------------------------------------------------------------


def _blackbox_representation(estimator, frame: pd.DataFrame):
    """(encoded matrix, predict_proba on it, column names).

    A Pipeline is split before its last step, so the attack perturbs the features the
    final model sees; anything else must take a numeric frame as is.
    """
    steps = getattr(estimator, "steps", None)
    if steps and len(steps) > 1:
        pre, final = estimator[:-1], estimator[-1]
        z = pre.transform(frame)
        z = z.toarray() if hasattr(z, "toarray") else np.asarray(z)
        try:
            names = [str(n) for n in pre.get_feature_names_out()]
        except (AttributeError, ValueError):
            names = [f"x{i}" for i in range(z.shape[1])]
        return z.astype(np.float32), final.predict_proba, names
    bad = [str(c) for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise ValueError(ERR_NOT_NUMERIC.format(columns=", ".join(bad)))
    columns = list(frame.columns)

    def predict(z: np.ndarray) -> np.ndarray:
        # Keep the column names the estimator was fitted with (avoids sklearn's warning).
        return estimator.predict_proba(pd.DataFrame(z, columns=columns))

    return frame.to_numpy(dtype=np.float32), predict, [str(c) for c in columns]


def _seeded_starts(classifier, x: np.ndarray, y_idx: np.ndarray, mask, low, high, seed: int):
    """A misclassified starting point per row, drawn like ART's own but from a seeded generator.

    ART's HopSkipJump draws its starting points from an unseeded RandomState; giving it
    `x_adv_init` makes the whole attack reproducible. Returns (starts, found): rows
    without a start are not attacked (ART would fall back to its unseeded draws).
    """
    rng = np.random.default_rng(seed)
    starts, found = x.copy(), np.zeros(len(x), dtype=bool)
    for i in range(len(x)):
        draws = rng.uniform(low, high, size=(HSJ_INIT_SIZE, *x.shape[1:])).astype(np.float32)
        draws = draws * mask + x[i] * (1 - mask)
        hits = np.flatnonzero(_predicted(classifier, draws, clean=False) != y_idx[i])
        if len(hits):
            starts[i], found[i] = draws[hits[0]], True
    return starts, found


def blackbox_robustness_probe(
    estimator,
    frame: pd.DataFrame,
    y,
    *,
    epsilons=(0.25, 0.5, 1.0, 2.0),
    max_samples: int = 50,
    max_iter: int = 10,
    max_eval: int = 1000,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """HopSkipJump against a scikit-learn classifier that has no gradients.

    Only originally correct rows are attacked. Binary (one-hot) and constant columns
    of the encoded representation are held fixed, so categories stay valid; other
    columns stay inside the range seen in `frame`.
    """
    from art.attacks.evasion import HopSkipJump
    from art.estimators.classification import BlackBoxClassifier

    if not (hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_")):
        raise ValueError(ERR_NO_PREDICT_PROBA)
    epsilons = _check_epsilons(epsilons)
    _check_int(max_samples, 1, ERR_MAX_SAMPLES)
    _check_int(max_iter, 1, ERR_MAX_ITER)
    _check_int(max_eval, 1, ERR_MAX_ITER)
    if len(frame) == 0:
        raise ValueError(ERR_EMPTY)
    if len(y) != len(frame):
        raise ValueError(ERR_LENGTH.format(n=len(frame), name="y", m=len(y)))
    classes = list(estimator.classes_)
    z_all, predict, names = _blackbox_representation(estimator, frame)
    low, high = z_all.min(axis=0), z_all.max(axis=0)
    binary = np.all((z_all == 0) | (z_all == 1), axis=0)
    mask = (~binary & (high > low)).astype(np.float32)
    if not mask.any():
        raise ValueError(ERR_NOTHING_TO_ATTACK)
    high = np.where(high > low, high, low + 1.0).astype(np.float32)

    rows = _sample_rows(len(frame), max_samples, seed)
    y_idx = _label_indices(np.asarray(y)[rows], classes)
    x = z_all[rows]
    classifier = BlackBoxClassifier(predict, input_shape=x.shape[1:], nb_classes=len(classes), clip_values=(low, high))
    _report(progress, 0, 2)
    correct = _predicted(classifier, x, clean=True) == y_idx
    np.random.seed(seed)  # HopSkipJump's gradient estimates draw from the global generator
    adv = x.copy()
    starts, found = _seeded_starts(classifier, x, y_idx, mask, low, high, seed)
    attacked = np.flatnonzero(correct & found)
    if len(attacked):
        hsj = HopSkipJump(classifier, targeted=False, norm=2, max_iter=max_iter, max_eval=max_eval,
                          init_eval=min(100, max_eval), init_size=HSJ_INIT_SIZE, verbose=False)
        adv[attacked] = hsj.generate(x=x[attacked], x_adv_init=starts[attacked], mask=mask)
    _report(progress, 1, 2)
    flipped = correct & (_predicted(classifier, adv, clean=False) != y_idx)
    linf, l2 = _norms(adv - x)
    curve = [
        {
            "epsilon": eps,
            **_robust_counts(correct & ~(flipped & (l2 <= eps))),
            "attack_success_rate": _ratio(int((flipped & (l2 <= eps)).sum()), int(correct.sum())),
        }
        for eps in epsilons
    ]
    _report(progress, 2, 2)
    return {
        "clean_accuracy": float(correct.mean()),
        "robust_accuracy": float((correct & ~flipped).mean()),
        "attack_success_rate": _ratio(int(flipped.sum()), int(correct.sum())),
        "mean_l2": _mean_or_none(l2[flipped]),
        "mean_linf": _mean_or_none(linf[flipped]),
        "curves": {"hopskipjump": curve},
        "attackable_features": [n for n, m in zip(names, mask) if m],
        "fixed_features": [n for n, m in zip(names, mask) if not m],
        "n_samples": int(len(rows)),
        "n_attacked": int(len(attacked)),
        "device": "cpu",
        "params": {
            "attack": "hopskipjump",
            "norm": "l2",
            "epsilons": epsilons,
            "epsilon_units": BLACKBOX_UNITS,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "max_samples": max_samples,
            "seed": seed,
            "perturbation_norms": "means over successful adversarial examples (originally correct rows that flipped)",
        },
    }
