"""Privacy probes: membership inference, model inversion, and the before/after view of DP retraining.

Membership inference asks whether a model's outputs give away which rows it was trained
on. We train ART's learned black-box attack (an attack classifier on the target's class
probabilities and the true label, as in Shokri et al. 2017 but fitted on known members and
non-members instead of shadow models) on part of them and evaluate it on the rest, with
ART's rule-based attack ("correctly classified means member", Yeom et al. 2018) as the
baseline. Following Carlini et al., 2022, "Membership Inference Attacks From First
Principles" (IEEE S&P), we report the true-positive rate at a low false-positive rate (1%
and 0.1%) next to AUC and balanced accuracy: an attack that
confidently identifies a few members is a privacy failure even when its average accuracy
is near chance. A rate of 0.1% can only be measured with at least 1000 evaluated
non-members; below 1/n_non_members we report "insufficient_data" rather than a number.
Each measured TPR carries the members it found out of those scored and their 95%
Clopper-Pearson interval (audits/kinds/intervals.py). The interval is conditional on the
threshold read off the non-members' scores: it covers the uncertainty in the members found,
not that in the threshold.

Model inversion runs ART's MIFace (Fredrikson et al., CCS 2015) against an image model: it
ascends the model's class probability from a neutral start and we compare each
reconstruction with that class's mean training image.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import balanced_accuracy_score, roc_auc_score, roc_curve
from torch import nn

from audits.kinds.fairness.probe import default_bins, group_labels
from audits.kinds.intervals import clopper_pearson
from training.encoding import encode, encoded_width
from training.recipes import labels_to_index
from training.train import predict_proba, resolve_device, set_seed

ATTACK_MODEL_TYPES = ("rf", "gb", "lr", "nn")
LOW_FPRS = (0.01, 0.001)
MAX_ROC_POINTS = 200
MIN_ROWS_PER_SPLIT = 5
CARLINI_2022 = 'Carlini et al., 2022, "Membership Inference Attacks From First Principles", IEEE S&P'
BAGDASARYAN_2019 = (
    'Bagdasaryan, Poursaeed & Shmatikov, 2019, "Differential Privacy Has Disparate Impact on Model Accuracy", NeurIPS'
)

BAD_FRACTION = "attack_train_fraction must be a number strictly between 0 and 1, not {value!r}."
BAD_ATTACK_MODEL = "attack_model_type must be one of {allowed}, not {value!r}."
TOO_FEW_ROWS = (
    "{which} has {n} rows; the attack needs at least {needed} so that its training and evaluation "
    "halves each hold {minimum}."
)
MISSING_COLUMN = "The {which} data has no column {column!r}."
UNKNOWN_LABELS = "The label column {column!r} holds values the model does not know: {values}. Model classes: {classes}."
NOT_AN_IMAGE_MODEL = "Model inversion needs an image model (input kind 'image'), not {kind!r}."
UNKNOWN_CLASSES = "Classes {classes} are not among the model's classes {known}."
MISSING_CLASS_MEANS = "class_means has no mean image for classes {classes}."
BAD_CLASS_MEAN = "The mean image for class {label!r} has {size} values; the model's input has {expected} ({shape})."
BAD_MAX_ITER = "max_iter must be a positive integer, not {value!r}."
SCORES_MISMATCH = "is_member and scores must be equally long 1-D arrays holding both members and non-members."


# --- metrics (pure numpy; tested on hand-computed vectors) -------------------------------


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, *, target_fpr: float, n_negatives: int,
               n_positives: int | None = None) -> dict:
    """Best TPR over ROC points with FPR <= target_fpr (Carlini et al. 2022, Sec. IV).

    With n negatives the smallest non-zero FPR is 1/n, so a target below it cannot be
    measured: "insufficient_data" instead of a TPR read off the FPR = 0 point. Given the
    number of positives, the TPR comes with the positives found and their 95% interval.
    """
    min_fpr = 1.0 / n_negatives
    if target_fpr * n_negatives < 1 - 1e-9:
        return {"fpr": target_fpr, "tpr": None, "status": "insufficient_data", "min_resolvable_fpr": min_fpr}
    within = np.asarray(fpr) <= target_fpr + 1e-12
    best = float(np.asarray(tpr)[within].max())
    point = {"fpr": target_fpr, "tpr": best, "status": "ok", "min_resolvable_fpr": min_fpr}
    if n_positives:
        found = int(round(best * n_positives))  # roc_curve's TPRs are counts over n_positives
        point.update(found=found, n_positives=int(n_positives), tpr_ci=clopper_pearson(found, n_positives))
    return point


def downsample_curve(x: np.ndarray, y: np.ndarray, *, max_points: int = MAX_ROC_POINTS) -> dict:
    """At most max_points evenly spaced along the curve, always keeping both ends."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.arange(len(x))
    if len(x) > max_points:
        keep = np.unique(np.linspace(0, len(x) - 1, max_points).round().astype(int))
    return {"fpr": [round(float(v), 6) for v in x[keep]], "tpr": [round(float(v), 6) for v in y[keep]]}


def attack_metrics(is_member, scores, decisions=None) -> dict:
    """Balanced accuracy, AUC, TPR at low FPR and the ROC of one attack's member scores.

    `decisions` are the attack's own 0/1 calls; without them, scores >= 0.5 count as "member".
    """
    is_member, scores = np.asarray(is_member).astype(int), np.asarray(scores, dtype=float)
    if is_member.ndim != 1 or is_member.shape != scores.shape or len(np.unique(is_member)) != 2:
        raise ValueError(SCORES_MISMATCH)
    decisions = (scores >= 0.5).astype(int) if decisions is None else np.asarray(decisions).astype(int)
    fpr, tpr, _ = roc_curve(is_member, scores)
    n_negatives, n_positives = int((is_member == 0).sum()), int((is_member == 1).sum())
    return {
        "balanced_accuracy": float(balanced_accuracy_score(is_member, decisions)),
        "auc": float(roc_auc_score(is_member, scores)),
        "tpr_at_low_fpr": [tpr_at_fpr(fpr, tpr, target_fpr=f, n_negatives=n_negatives, n_positives=n_positives)
                           for f in LOW_FPRS],
        "roc": downsample_curve(fpr, tpr),
    }


# --- shared helpers --------------------------------------------------------------------


def _as_device(device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def _labels(frame: pd.DataFrame, spec: dict, label_column: str, which: str) -> np.ndarray:
    if label_column not in frame.columns:
        raise ValueError(MISSING_COLUMN.format(which=which, column=label_column))
    unknown = sorted({str(v) for v in frame[label_column].unique()} - {str(c) for c in spec["classes"]})
    if unknown:
        raise ValueError(UNKNOWN_LABELS.format(column=label_column, values=unknown, classes=spec["classes"]))
    return labels_to_index(frame[label_column], spec["classes"])


def _art_classifier(module: nn.Module, spec: dict, device: torch.device):
    """ART's view of the model: probabilities out, on a copy so the caller's module is untouched."""
    from art.estimators.classification import PyTorchClassifier

    shape = tuple(spec["input"]["shape"]) if spec["input"]["kind"] == "image" else (encoded_width(spec["input"]),)
    return PyTorchClassifier(
        # Softmax so that predictions are probabilities: the attacks' features, and MIFace's
        # cost 1 - p(class), are defined on probabilities, not logits.
        model=nn.Sequential(copy.deepcopy(module).cpu().eval(), nn.Softmax(dim=1)),
        loss=nn.NLLLoss(),  # required by ART's constructor; none of these attacks trains through it
        input_shape=shape,
        nb_classes=len(spec["classes"]),
        clip_values=(0.0, 1.0) if spec["input"]["kind"] == "image" else None,
        device_type="gpu" if device.type == "cuda" else "cpu",
    )


def _split(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    cut = int(round(fraction * n))
    return order[:cut], order[cut:]


def _check_sizes(members: pd.DataFrame, non_members: pd.DataFrame, fraction: float) -> None:
    for which, frame in (("members", members), ("non_members", non_members)):
        needed = int(np.ceil(MIN_ROWS_PER_SPLIT / min(fraction, 1 - fraction)))
        if len(frame) < needed:
            raise ValueError(TOO_FEW_ROWS.format(which=which, n=len(frame), needed=needed, minimum=MIN_ROWS_PER_SPLIT))


# --- membership inference ----------------------------------------------------------------


def _check_attack_options(fraction, attack_model_type) -> None:
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError(BAD_FRACTION.format(value=fraction))
    if attack_model_type not in ATTACK_MODEL_TYPES:
        allowed = ", ".join(map(repr, ATTACK_MODEL_TYPES))
        raise ValueError(BAD_ATTACK_MODEL.format(value=attack_model_type, allowed=allowed))


def _black_box(classifier, attack_model_type: str, seed: int, train: tuple, evaluate: tuple):
    """Fit ART's learned attack on (labels, probabilities) of known members/non-members.

    train = (y_members, p_members, y_non_members, p_non_members); evaluate = (y, p).
    Returns the attack's member probabilities and its own 0/1 calls on the evaluation rows.
    """
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBox

    attack = MembershipInferenceBlackBox(classifier, input_type="prediction", attack_model_type=attack_model_type)
    if attack_model_type != "nn":  # sklearn attack models: fix their randomness too
        attack.attack_model.set_params(random_state=seed)
    y_m, p_m, y_n, p_n = train
    attack.fit(y=y_m, test_y=y_n, pred=p_m, test_pred=p_n)
    y, p = evaluate
    return attack.infer(None, y, pred=p, probabilities=True).ravel(), attack.infer(None, y, pred=p).ravel()


def membership_inference(
    module: nn.Module,
    spec: dict,
    members: pd.DataFrame,
    non_members: pd.DataFrame,
    *,
    label_column: str,
    attack_train_fraction: float = 0.5,
    attack_model_type: str = "rf",
    seed: int = 0,
    device=None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """ART black-box (learned) and rule-based membership inference; metrics on held-out rows.

    attack_model_type: the learned attack's classifier, "rf" (default), "gb", "lr" or "nn"
    (ART's 100-epoch network: much slower).
    """
    from art.attacks.inference.membership_inference import MembershipInferenceBlackBoxRuleBased

    _check_attack_options(attack_train_fraction, attack_model_type)
    _check_sizes(members, non_members, attack_train_fraction)
    y_m, y_n = _labels(members, spec, label_column, "members"), _labels(non_members, spec, label_column, "non_members")
    X_m, X_n = encode(members, spec["input"]), encode(non_members, spec["input"])
    set_seed(seed)
    rng = np.random.default_rng(seed)
    train_m, eval_m = _split(len(X_m), attack_train_fraction, rng)
    train_n, eval_n = _split(len(X_n), attack_train_fraction, rng)
    classifier = _art_classifier(module, spec, _as_device(device))
    p_m, p_n = classifier.predict(X_m), classifier.predict(X_n)
    if progress:
        progress(20)

    eval_y = np.concatenate([y_m[eval_m], y_n[eval_n]])
    is_member = np.concatenate([np.ones(len(eval_m), int), np.zeros(len(eval_n), int)])
    scores, decisions = _black_box(
        classifier, attack_model_type, seed, train=(y_m[train_m], p_m[train_m], y_n[train_n], p_n[train_n]),
        evaluate=(eval_y, np.concatenate([p_m[eval_m], p_n[eval_n]])),
    )
    if progress:
        progress(80)
    # The rule has a single operating point, so its 0/1 call is its score (ART 1.20's
    # probabilities=True output for binary models gives every row the same values).
    rule = MembershipInferenceBlackBoxRuleBased(classifier).infer(
        np.concatenate([X_m[eval_m], X_n[eval_n]]), np.eye(len(spec["classes"]))[eval_y])
    if progress:
        progress(100)
    return {
        "members": len(members),
        "non_members": len(non_members),
        "attack_train": {"members": len(train_m), "non_members": len(train_n)},
        "attack_eval": {"members": len(eval_m), "non_members": len(eval_n)},
        "min_resolvable_fpr": 1.0 / len(eval_n),
        "target_model": {
            "member_accuracy": float((p_m.argmax(axis=1) == y_m).mean()),
            "non_member_accuracy": float((p_n.argmax(axis=1) == y_n).mean()),
        },
        "attacks": {
            "black_box": {"attack": "MembershipInferenceBlackBox", "attack_model_type": attack_model_type,
                          "input_type": "prediction", **attack_metrics(is_member, scores, decisions)},
            "rule_based": {"attack": "MembershipInferenceBlackBoxRuleBased",
                           **attack_metrics(is_member, rule.astype(float), rule)},
        },
        "reference": CARLINI_2022,
    }


# --- model inversion -----------------------------------------------------------------------


def class_mean_images(spec: dict, frame: pd.DataFrame, *, label_column: str) -> dict:
    """Mean encoded image per class present in `frame` ({class: nested list [C][H][W]})."""
    X = encode(frame, spec["input"])
    y = _labels(frame, spec, label_column, "training")
    return {spec["classes"][i]: X[y == i].mean(axis=0).tolist() for i in np.unique(y)}


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    """Pearson correlation of two images' pixels; None when either is flat (undefined)."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 1e-12 else None


def _cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a.ravel() @ b.ravel() / norm) if norm > 1e-12 else None


def image_similarity(reconstruction: np.ndarray, target: np.ndarray) -> dict:
    """MSE, cosine similarity and pixel correlation (an SSIM-like structure term)."""
    r, t = np.asarray(reconstruction, dtype=float), np.asarray(target, dtype=float)
    return {"mse": float(np.mean((r - t) ** 2)), "cosine": _cosine(r, t), "correlation": _correlation(r, t)}


def _mean_images(spec: dict, classes: list, class_means: dict) -> np.ndarray:
    shape = tuple(spec["input"]["shape"])
    # Means that went through JSON come back keyed by str(class).
    lookup = {c: class_means[c] if c in class_means else class_means.get(str(c)) for c in classes}
    missing = [c for c, image in lookup.items() if image is None]
    if missing:
        raise ValueError(MISSING_CLASS_MEANS.format(classes=missing))
    out = []
    for label in classes:
        image = np.asarray(lookup[label], dtype=np.float32)
        if image.size != int(np.prod(shape)):
            raise ValueError(
                BAD_CLASS_MEAN.format(label=label, size=image.size, expected=int(np.prod(shape)), shape=list(shape)))
        out.append(image.reshape(shape))
    return np.stack(out)


def model_inversion(
    module: nn.Module,
    spec: dict,
    *,
    class_means: dict,
    classes: list | None = None,
    max_iter: int = 100,
    learning_rate: float = 0.1,
    seed: int = 0,
    device=None,
) -> dict:
    """MIFace reconstruction of one image per class, compared with the class's mean image.

    class_means: {class: mean training image in encoded units (pixels / scale, so in [0, 1]),
    flat or [C][H][W]}; class_mean_images() builds it. The attack starts every class from
    the average of those means (as ART's MNIST example does), so `baseline` (start vs. class
    mean) is what the attack had before learning anything from the model. Reconstructions
    come back as raw arrays ([C][H][W] lists of floats in [0, 1]) for the UI to render.
    """
    from art.attacks.inference.model_inversion import MIFace

    kind = spec["input"]["kind"]
    if kind != "image":
        raise ValueError(NOT_AN_IMAGE_MODEL.format(kind=kind))
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter <= 0:
        raise ValueError(BAD_MAX_ITER.format(value=max_iter))
    classes = list(spec["classes"]) if classes is None else list(classes)
    unknown = [c for c in classes if c not in spec["classes"]]
    if unknown:
        raise ValueError(UNKNOWN_CLASSES.format(classes=unknown, known=spec["classes"]))
    means = _mean_images(spec, classes, class_means)
    set_seed(seed)
    classifier = _art_classifier(module, spec, _as_device(device))
    start = np.repeat(means.mean(axis=0, keepdims=True), len(classes), axis=0)
    # threshold=1.0 keeps every class active for exactly max_iter steps (ART stops a class
    # early only when its cost 1 - p(class) falls below the threshold or stops improving).
    attack = MIFace(classifier, max_iter=max_iter, window_length=max_iter, threshold=1.0,
                    learning_rate=float(learning_rate), batch_size=len(classes), verbose=False)
    index = np.array([spec["classes"].index(c) for c in classes])
    recon = attack.infer(start.copy(), index)
    confidence = classifier.predict(recon)[np.arange(len(classes)), index]
    return {
        "method": "MIFace (Fredrikson et al., CCS 2015) via ART",
        "max_iter": max_iter,
        "learning_rate": float(learning_rate),
        "image_format": "raw arrays [C][H][W], floats in [0, 1]",
        "classes": [_inversion_row(c, i, recon, means, start, confidence, classes) for i, c in enumerate(classes)],
        "identified_fraction": float(np.mean([_nearest(recon[i], means) == i for i in range(len(classes))])),
    }


def _nearest(image: np.ndarray, means: np.ndarray) -> int:
    return int(np.argmin(((means - image[None]) ** 2).reshape(len(means), -1).mean(axis=1)))


def _inversion_row(label, i, recon, means, start, confidence, classes) -> dict:
    return {
        "class": label,
        "model_confidence": float(confidence[i]),
        "similarity": image_similarity(recon[i], means[i]),
        "baseline": image_similarity(start[i], means[i]),
        # Closest class mean to the reconstruction: when it is the attacked class, the
        # reconstruction carries class-specific features of the training data.
        "nearest_class_mean": classes[_nearest(recon[i], means)],
        "image": np.round(recon[i].astype(float), 4).tolist(),
    }


# --- before / after DP retraining ----------------------------------------------------------



def sensitive_groups(column: pd.Series) -> pd.Series:
    """Group labels for one sensitive column, as the fairness audit names them: categories as
    text, age in its life-stage bins, other many-valued numbers in quartiles (per-value groups
    of a column like age would be one or two rows each, too small to compare accuracies)."""
    labels = group_labels(column, default_bins([column.name]).get(str(column.name)))
    return pd.Series(labels, index=column.index, dtype=object)


def _group_rows(groups: pd.Series, y, pred_before, pred_after, positive: int | None) -> list[dict]:
    rows = []
    for name in sorted(groups.unique()):
        mask = (groups == name).to_numpy()
        row = {"group": name, "n": int(mask.sum())}
        for when, pred in (("before", pred_before), ("after", pred_after)):
            row[f"accuracy_{when}"] = float((pred[mask] == y[mask]).mean())
            row[f"selection_rate_{when}"] = None if positive is None else float((pred[mask] == positive).mean())
        row["accuracy_change"] = row["accuracy_after"] - row["accuracy_before"]
        rows.append(row)
    return rows


def _gap(rows: list[dict], when: str) -> float:
    values = [r[f"accuracy_{when}"] for r in rows]
    return float(max(values) - min(values))


def dp_comparison(
    before_module: nn.Module,
    after_module: nn.Module,
    spec: dict,
    *,
    train_frame: pd.DataFrame,
    test_frame: pd.DataFrame,
    label_column: str,
    sensitive_columns: list[str],
    positive_class=None,
    seed: int = 0,
    device=None,
) -> dict:
    """Utility, membership-inference exposure and per-group accuracy before and after DP retraining.

    Members are train_frame (what both models were trained on), non-members test_frame.
    DP-SGD's clipping and noise cost under-represented groups the most accuracy (Bagdasaryan
    et al., NeurIPS 2019), so per-group accuracy and selection rate (share predicted as
    positive_class; default the second of two classes, None for multi-class) are reported
    for every sensitive column, with the gap between the best and worst group.
    """
    for column in [label_column, *sensitive_columns]:
        if column not in test_frame.columns:
            raise ValueError(MISSING_COLUMN.format(which="test", column=column))
    device = _as_device(device)
    y_test = _labels(test_frame, spec, label_column, "test")
    y_train = _labels(train_frame, spec, label_column, "training")
    X_test, X_train = encode(test_frame, spec["input"]), encode(train_frame, spec["input"])
    if positive_class is None and len(spec["classes"]) == 2:
        positive_class = spec["classes"][1]
    if positive_class is not None and positive_class not in spec["classes"]:
        raise ValueError(UNKNOWN_CLASSES.format(classes=[positive_class], known=spec["classes"]))
    positive = None if positive_class is None else spec["classes"].index(positive_class)

    preds, utility = {}, {"test_accuracy": {}, "train_accuracy": {}}
    for when, module in (("before", before_module), ("after", after_module)):
        module = copy.deepcopy(module).to(device)  # leave the caller's module where it was
        preds[when] = predict_proba(module, X_test, device=device).argmax(axis=1)
        train_pred = predict_proba(module, X_train, device=device).argmax(axis=1)
        utility["test_accuracy"][when] = float((preds[when] == y_test).mean())
        utility["train_accuracy"][when] = float((train_pred == y_train).mean())
    for metric in utility.values():
        metric["change"] = metric["after"] - metric["before"]
    # A model that gives everyone the same decision can keep most of its accuracy on skewed
    # data; the share of rows given each class shows it.
    utility["predicted_shares"] = {when: {str(c): float((pred == i).mean()) for i, c in enumerate(spec["classes"])}
                                   for when, pred in preds.items()}

    attacks = {when: membership_inference(m, spec, train_frame, test_frame, label_column=label_column,
                                          seed=seed, device=device)
               for when, m in (("before", before_module), ("after", after_module))}
    groups = {}
    for column in sensitive_columns:
        rows = _group_rows(sensitive_groups(test_frame[column]), y_test, preds["before"], preds["after"], positive)
        groups[column] = {"groups": rows, "accuracy_gap_before": _gap(rows, "before"),
                          "accuracy_gap_after": _gap(rows, "after")}
    return {
        "utility": utility,
        "membership_inference": {
            **attacks,
            "auc_change": {name: attacks["after"]["attacks"][name]["auc"] - attacks["before"]["attacks"][name]["auc"]
                           for name in attacks["before"]["attacks"]},
        },
        "positive_class": positive_class,
        "groups": groups,
        "references": [CARLINI_2022, BAGDASARYAN_2019],
    }
