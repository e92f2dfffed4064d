"""Poisoning probes: how easily a backdoor is implanted, and which training rows carry one.

Pure functions, no Django. Results are plain JSON-serialisable structures (an
undefined value is None).

Susceptibility (`backdoor_susceptibility`): on a copy of the training data, ART's
`PoisoningAttackBackdoor` stamps a trigger on a fraction of rows and relabels them
to a target class; the model is retrained with the version's own recipe (the same
steps as `training.recipes.train_from_spec`, on the encoded arrays) and we measure
clean accuracy and the attack success rate. Triggers: for images ART's
`add_pattern_bd` (a 4-pixel checkerboard near the bottom-right corner at full
intensity); for tabular data the first two numeric features set to their training
maximum (extreme but in range). Tabular data also gets label-flipping sensitivity.

Detection (`detect_poison`) on the registered training data. The default method,
"raw-strip", works in three steps, each answering one question:

1. Which rows belong together? Per class, 2, 3 and 4 k-means clusters on the
   *raw encoded inputs* (PCA to 10 dims). A pixel-pattern trigger is the same on
   every poisoned row, so in input space the poisoned rows of the target class sit
   apart from its genuine rows. The network's penultimate activations do not
   separate them (measured on digits: 2-means on activations split the poison
   76/68 across both clusters): the backdoored network encodes the trigger *and*
   the source digit.
2. Which cluster is mislabelled? Leave-one-out k-NN (k=20) in input space: a
   poisoned row looks like its source class, so its neighbours' majority label
   differs from its own. The cluster must be relabelled more often than the rest of
   its class. This is a comparison within the class, not an absolute threshold,
   because poisoned rows with the same source digit also neighbour each other and
   vote for the poison label, more so as the poisoning rate grows.
3. Is it a backdoor? STRIP-style persistence (Gao et al. 2019, "STRIP: a defence
   against trojan attacks"): superimpose each row on rows of other classes
   (pixel-wise maximum, so a trigger survives) and count how often the model still
   predicts the row's label. A backdoored row keeps it (>= 0.96 measured) because
   the trigger decides; genuine clusters of other classes stay at 0.05-0.75. A
   cluster is flagged when its mean persistence is >= 0.9 and step 2 holds; step 2
   is what keeps a persistent but genuine class (digit 8: strokes superimposed on
   anything look like an 8) from being flagged.

Why not ART's own defaults: with the poison about half of the target class,
"poison is the smaller cluster" fails. Measured on digits with a 10% pattern
backdoor (seed 0): ActivationDefence "smaller" precision 0.14 / recall 0.52,
"distance" on penultimate activations 0.07 / 0.54, "silhouette-scores" 0.14-0.22 /
1.0, spectral signatures 0.10-0.20 / 0.20-0.80 for any expected_pp_poison in
0.1-0.5. "raw-strip" reached precision >= 0.95 and recall >= 0.94 for every target
class at 10% and 15% poisoning (80% training splits, one seed per target), and for 7
of 10 targets at 5% (a weakly learnt backdoor, attack success ~0.6, is not
persistent enough to be flagged). It costs N_PARTNERS forward passes over the
training rows and one k-NN query. ART's
methods stay available as "activation-distance" (ActivationDefence with
cluster_analysis="distance") and "spectral" (SpectralSignatureDefense scores), both
on the penultimate activations (`module.features`). ActivationDefence's
"relative-size" analysis is not offered: it crashes with numpy >= 2.2.
For tabular data "raw-strip" superimposes numeric columns by maximum and takes the
partner's categories. It is validated on image backdoors only: on German credit with
this module's own tabular trigger (two numeric features at their maximum, 10% of the
rows) it flagged nothing (recall 0; nothing on the clean model either), because the
triggered rows sit far out in input space and are each other's only neighbours, so
step 2 sees no mislabelling. "spectral" found that case with precision 0.19 and
recall 0.96.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from audits.kinds.robustness.probe import art_classifier
from training.architectures import build_model
from training.encoding import encode, feature_layout
from training.recipes import labels_to_index, training_settings
from training.train import predict_proba, resolve_device, set_seed, train_classifier

METHODS = ("raw-strip", "activation-distance", "spectral")
CLUSTER_COUNTS = (2, 3, 4)  # several splits, because a weak trigger can share a 2-way cluster with a style
PCA_DIMS = 10
N_NEIGHBORS = 20
N_PARTNERS = 16
PERSISTENCE_THRESHOLD = 0.9
SPECTRAL_EXPECTED_POISON = 0.33  # ART's defaults
SPECTRAL_EPS_MULTIPLIER = 1.5
TRIGGER_DISTANCE = 2  # add_pattern_bd's default: the pattern ends 2 pixels from the bottom-right edge
TABULAR_TRIGGER_FEATURES = 2

ERR_RATES = "rates must be a non-empty list of numbers in (0, 1)"
ERR_TARGET = "target_class {target!r} is not one of the model's classes {classes}"
ERR_LABEL_COLUMN = "label_column {name!r} is not a column of {frame}"
ERR_EMPTY = "{name} is empty: the probe needs at least one row"
ERR_LENGTH = "frame has {n} rows but {name} has {m}; every input needs exactly one value per row"
ERR_LABELS = "labels the model does not know: {unknown}; the model's classes are {classes}"
ERR_METHOD = "method must be one of {accepted}; got {got!r}"
ERR_NO_TRIGGER = "no backdoor trigger fits this input: {reason}"
ERR_POISON_ROWS = "poison_rows must be row labels of frame; unknown: {unknown}"
ERR_CLASS_TOO_SMALL = "method {method!r} needs at least {need} rows of every class; class {cls!r} has {got}"


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _labels(values, classes: list) -> np.ndarray:
    known = set(classes)
    unknown = sorted({str(v) for v in np.asarray(values).tolist() if v not in known})
    if unknown:
        raise ValueError(ERR_LABELS.format(unknown=unknown[:10], classes=list(classes)))
    return labels_to_index(np.asarray(values), list(classes))


def _plain(value):
    """A numpy scalar as the plain Python value JSON expects."""
    return value.item() if isinstance(value, np.generic) else value


def _as_device(device) -> torch.device:
    return device if isinstance(device, torch.device) else resolve_device(device)


def _report(progress: Callable[[int], None] | None, done: int, total: int) -> None:
    if progress is not None:
        progress(int(100 * done / max(total, 1)))


@contextlib.contextmanager
def _on(module: nn.Module, device: torch.device):
    """Run the module on `device` in eval mode, then put it back where it was."""
    params = list(module.parameters())
    home = params[0].device if params else torch.device("cpu")
    was_training = module.training
    module.to(device).eval()
    try:
        yield module
    finally:
        module.to(home)
        module.train(was_training)


def _predict(module: nn.Module, x: np.ndarray, device: torch.device) -> np.ndarray:
    with _on(module, device):
        return predict_proba(module, x, device=device).argmax(axis=1)


def retrain_on_arrays(spec: dict, x: np.ndarray, y_idx: np.ndarray, *, device=None) -> nn.Module:
    """The version's own recipe, as in training.recipes.train_from_spec, on already-encoded arrays.

    Poisoning happens after encoding (a trigger is defined in encoded units), so the
    retrain skips the encoding step and changes nothing else.
    """
    settings = training_settings(spec)
    set_seed(settings["seed"])  # the initial weights come from the seed too
    model = build_model(spec)
    train_classifier(
        model, x, y_idx, epochs=settings["epochs"], batch_size=settings["batch_size"], lr=settings["lr"],
        seed=settings["seed"], device=_as_device(device),
    )
    return model.cpu()


# ---------------------------------------------------------------------------
# Backdoor susceptibility and label flipping
# ---------------------------------------------------------------------------


def backdoor_trigger(spec: dict) -> tuple[Callable[[np.ndarray], np.ndarray], dict]:
    """(perturbation on encoded arrays, JSON description) for the spec's input kind."""
    layout = feature_layout(spec["input"])
    if spec["input"]["kind"] == "image":
        from art.attacks.poisoning.perturbations import add_pattern_bd

        _, height, width = spec["input"]["shape"]
        if min(height, width) < TRIGGER_DISTANCE + 2:
            raise ValueError(ERR_NO_TRIGGER.format(reason=f"images must be at least {TRIGGER_DISTANCE + 2} pixels"))
        value = layout[0]["max"]

        def stamp(x: np.ndarray) -> np.ndarray:
            return add_pattern_bd(x, distance=TRIGGER_DISTANCE, pixel_value=value, channels_first=True)

        return stamp, {"kind": "pixel-pattern", "pattern": "art add_pattern_bd", "distance": TRIGGER_DISTANCE,
                       "pixel_value": value}
    numeric = [f for f in layout if f["kind"] == "numeric" and f["max"] > f["min"]][:TABULAR_TRIGGER_FEATURES]
    if not numeric:
        raise ValueError(ERR_NO_TRIGGER.format(reason="the input has no numeric feature with a training range"))

    def set_extremes(x: np.ndarray) -> np.ndarray:
        x = x.copy()
        for f in numeric:
            x[:, f["start"]] = f["max"]
        return x

    return set_extremes, {"kind": "numeric-extremes", "features": [f["name"] for f in numeric],
                          "encoded_values": [f["max"] for f in numeric]}


def implant_backdoor(x: np.ndarray, y_idx: np.ndarray, *, trigger: Callable, rate: float, target: int, seed: int):
    """Poisoned copies of (x, y) and the positions of the poisoned rows (drawn from non-target rows)."""
    from art.attacks.poisoning import PoisoningAttackBackdoor

    candidates = np.flatnonzero(y_idx != target)
    n = min(int(round(rate * len(x))), len(candidates))
    rows = np.sort(np.random.default_rng(seed).choice(candidates, size=n, replace=False))
    x_out, y_out = x.copy(), y_idx.copy()
    if n:
        stamped, _ = PoisoningAttackBackdoor(trigger).poison(x[rows], y=np.full(n, target))
        x_out[rows], y_out[rows] = stamped, target
    return x_out, y_out, rows


def _flip_labels(y_idx: np.ndarray, n_classes: int, *, rate: float, seed: int) -> tuple[np.ndarray, int]:
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(y_idx), size=int(round(rate * len(y_idx))), replace=False)
    flipped = y_idx.copy()
    # Any other class, uniformly: for two classes that is the opposite label.
    flipped[rows] = (y_idx[rows] + rng.integers(1, n_classes, size=len(rows))) % n_classes
    return flipped, len(rows)


def _check_rates(rates) -> list[float]:
    try:
        values = [float(r) for r in rates]
    except (TypeError, ValueError):
        raise ValueError(ERR_RATES) from None
    if not values or any(not 0 < r < 1 for r in values):
        raise ValueError(ERR_RATES)
    return sorted(set(values))


def _encoded(spec: dict, frame: pd.DataFrame, label_column: str, name: str):
    if len(frame) == 0:
        raise ValueError(ERR_EMPTY.format(name=name))
    if label_column not in frame.columns:
        raise ValueError(ERR_LABEL_COLUMN.format(name=label_column, frame=name))
    return encode(frame, spec["input"]), _labels(frame[label_column], spec["classes"])


def _scores(model: nn.Module, x_test, y_test, trigger, target: int, device) -> tuple[float, float | None]:
    clean = float((_predict(model, x_test, device) == y_test).mean())
    others = y_test != target
    if not others.any():
        return clean, None
    hit = _predict(model, trigger(x_test[others]), device) == target
    return clean, float(hit.mean())


def backdoor_susceptibility(
    spec: dict,
    train_frame: pd.DataFrame,
    test_frame: pd.DataFrame,
    *,
    label_column: str,
    rates=(0.01, 0.05, 0.10),
    target_class=None,
    seed: int = 0,
    device=None,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Retrain on backdoored copies of the training data; clean accuracy and attack success per rate.

    target_class defaults to the last of spec["classes"] (for two classes, the
    conventional positive outcome, e.g. 1 = approve). The attack success rate is the
    fraction of triggered test rows of other classes that the model assigns to it.
    """
    classes = list(spec["classes"])
    rates = _check_rates(rates)
    target_class = classes[-1] if target_class is None else target_class
    if target_class not in classes:
        raise ValueError(ERR_TARGET.format(target=target_class, classes=classes))
    target = classes.index(target_class)
    x_train, y_train = _encoded(spec, train_frame, label_column, "train_frame")
    x_test, y_test = _encoded(spec, test_frame, label_column, "test_frame")
    trigger, description = backdoor_trigger(spec)
    device = _as_device(device)
    tabular = spec["input"]["kind"] == "tabular"
    total, done = 1 + len(rates) * (2 if tabular else 1), 0
    _report(progress, 0, total)

    base_clean, base_asr = _scores(retrain_on_arrays(spec, x_train, y_train, device=device), x_test, y_test,
                                   trigger, target, device)
    done += 1
    _report(progress, done, total)
    backdoor, flips = [], []
    for i, rate in enumerate(rates):
        x_p, y_p, rows = implant_backdoor(x_train, y_train, trigger=trigger, rate=rate, target=target, seed=seed + i)
        clean, asr = _scores(retrain_on_arrays(spec, x_p, y_p, device=device), x_test, y_test, trigger, target, device)
        backdoor.append({"rate": rate, "n_poisoned": int(len(rows)), "clean_accuracy": clean,
                         "attack_success_rate": asr})
        done += 1
        _report(progress, done, total)
        if tabular:
            y_f, n_flipped = _flip_labels(y_train, len(classes), rate=rate, seed=seed + i)
            acc, _ = _scores(retrain_on_arrays(spec, x_train, y_f, device=device), x_test, y_test, trigger, target,
                             device)
            flips.append({"rate": rate, "n_flipped": n_flipped, "clean_accuracy": acc,
                          "accuracy_drop": base_clean - acc})
            done += 1
            _report(progress, done, total)
    return {
        "target_class": _plain(target_class),
        "trigger": description,
        "baseline": {"clean_accuracy": base_clean, "attack_success_rate": base_asr},
        "backdoor": backdoor,
        "label_flip": flips if tabular else None,
        "device": str(device),
        "params": {"rates": rates, "seed": seed, "training": training_settings(spec),
                   "n_train": int(len(x_train)), "n_test": int(len(x_test))},
    }


# ---------------------------------------------------------------------------
# Detection
# ---------------------------------------------------------------------------


def _superimpose(spec: dict, x: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """Pixel-wise (or numeric-column-wise) maximum, so a trigger survives; categories come from the partner."""
    flat_x, flat_p = x.reshape(len(x), -1), partner.reshape(len(partner), -1)
    out = flat_p.copy()
    for f in feature_layout(spec["input"]):
        if f["kind"] in ("numeric", "image"):
            cols = slice(f["start"], f["stop"])
            out[:, cols] = np.maximum(flat_x[:, cols], flat_p[:, cols])
    return out.reshape(x.shape)


def _persistence(module, spec, x, y_idx, *, seed: int, device) -> np.ndarray:
    """Per row: how often the model keeps the row's label when it is superimposed on other-class rows."""
    rng = np.random.default_rng(seed)
    others_by_class = {c: np.flatnonzero(y_idx != c) for c in np.unique(y_idx)}
    kept = np.zeros(len(x))
    for _ in range(N_PARTNERS):
        partners = np.empty(len(x), dtype=np.int64)
        for c, others in others_by_class.items():
            rows = np.flatnonzero(y_idx == c)
            partners[rows] = rng.choice(others, size=len(rows)) if len(others) else rows
        kept += _predict(module, _superimpose(spec, x, x[partners]), device) == y_idx
    return kept / N_PARTNERS


def _neighbour_votes(x: np.ndarray, y_idx: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out k-NN in input space: (majority label differs, fraction of neighbours that differ)."""
    from sklearn.neighbors import NearestNeighbors

    flat = x.reshape(len(x), -1)
    k = min(N_NEIGHBORS, len(x) - 1)
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(flat).kneighbors(flat)
    labels = y_idx[idx[:, 1:]]  # column 0 is the row itself
    counts = np.stack([(labels == c).sum(axis=1) for c in range(n_classes)], axis=1)
    return counts.argmax(axis=1) != y_idx, (labels != y_idx[:, None]).mean(axis=1)


def _class_splits(flat: np.ndarray, seed: int):
    """(k, cluster of each row) for each k in CLUSTER_COUNTS that the class is big enough for."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    if len(flat) < 2 * CLUSTER_COUNTS[0]:
        return
    dims = min(PCA_DIMS, len(flat) - 1, flat.shape[1])
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(flat)
    for k in CLUSTER_COUNTS:
        if len(flat) >= 2 * k:
            yield k, KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(reduced)


def _raw_strip(module, spec, x, y_idx, *, seed: int, device) -> tuple[np.ndarray, np.ndarray, dict]:
    classes = list(spec["classes"])
    persistence = _persistence(module, spec, x, y_idx, seed=seed, device=device)
    relabelled, disagreement = _neighbour_votes(x, y_idx, len(classes))
    flat = x.reshape(len(x), -1)
    flagged, per_class = np.zeros(len(x), dtype=bool), {}
    for c in np.unique(y_idx):
        rows, clusters = np.flatnonzero(y_idx == c), []
        for k, assign in _class_splits(flat[rows], seed):
            for j in range(k):
                members, rest = rows[assign == j], rows[assign != j]
                if not len(members) or not len(rest):
                    continue
                # Flag a cluster that is both a backdoor (persistent) and mislabelled (relabelled
                # more often than the rest of its class); either alone also fits genuine rows.
                hit = bool(persistence[members].mean() >= PERSISTENCE_THRESHOLD
                           and relabelled[members].mean() > relabelled[rest].mean())
                flagged[members] |= hit
                clusters.append({"n_clusters": k, "size": int(len(members)),
                                 "persistence": float(persistence[members].mean()),
                                 "relabel_rate": float(relabelled[members].mean()), "flagged": hit})
        per_class[str(classes[c])] = {"n_rows": int(len(rows)), "n_flagged": int(flagged[rows].sum()),
                                      "mean_persistence": float(persistence[rows].mean()), "clusters": clusters}
    return flagged, (persistence + disagreement) / 2, per_class


def _penultimate(module, x: np.ndarray, device) -> np.ndarray:
    with _on(module, device), torch.no_grad():
        out = [module.features(torch.as_tensor(x[i : i + 4096], device=device)).cpu().numpy()
               for i in range(0, len(x), 4096)]
    return np.concatenate(out).reshape(len(x), -1)


def _check_class_sizes(method: str, y_idx: np.ndarray, classes: list, need: int) -> None:
    counts = np.bincount(y_idx, minlength=len(classes))
    for c, got in enumerate(counts):
        if got < need:
            raise ValueError(ERR_CLASS_TOO_SMALL.format(method=method, need=need, cls=_plain(classes[c]), got=int(got)))


def _activation_distance(module, spec, x, y_idx, *, seed: int, device):
    from art.defences.detector.poison import ActivationDefence
    from art.utils import segment_by_class

    classes = list(spec["classes"])
    _check_class_sizes("activation-distance", y_idx, classes, PCA_DIMS + 1)
    onehot = np.eye(len(classes), dtype=np.float32)[y_idx]
    features = _penultimate(module, x, device)
    np.random.seed(seed)  # ART's KMeans has no random_state of its own
    with art_classifier(module, spec, device) as classifier:
        defence = ActivationDefence(classifier, x, onehot)
        # ART reads the last layer (the logits); hand it the penultimate activations instead.
        defence.activations_by_class = segment_by_class(features, onehot, len(classes))
        _, is_clean = defence.detect_poison(nb_clusters=2, nb_dims=PCA_DIMS, reduce="PCA", cluster_analysis="distance")
    flagged = np.asarray(is_clean) == 0
    per_class = {str(classes[c]): {"n_rows": int((y_idx == c).sum()), "n_flagged": int(flagged[y_idx == c].sum())}
                 for c in range(len(classes))}
    return flagged, flagged.astype(float), per_class  # a cluster-level decision: every flagged row scores 1


def _spectral(module, spec, x, y_idx, *, seed: int, device):
    from art.defences.detector.poison import SpectralSignatureDefense

    classes = list(spec["classes"])
    _check_class_sizes("spectral", y_idx, classes, 2)
    features = _penultimate(module, x, device)
    flagged, score, per_class = np.zeros(len(x), dtype=bool), np.zeros(len(x)), {}
    for c in range(len(classes)):
        rows = np.flatnonzero(y_idx == c)
        s = SpectralSignatureDefense.spectral_signature_scores(features[rows]).ravel()
        cutoff = np.quantile(s, max(1 - SPECTRAL_EPS_MULTIPLIER * SPECTRAL_EXPECTED_POISON, 0.0))
        flagged[rows] = s >= cutoff  # ART keeps score < cutoff as clean
        score[rows] = s / s.max() if s.max() > 0 else 0.0
        per_class[str(classes[c])] = {"n_rows": int(len(rows)), "n_flagged": int(flagged[rows].sum())}
    return flagged, score, per_class


_DETECTORS = {"raw-strip": _raw_strip, "activation-distance": _activation_distance, "spectral": _spectral}


def detect_poison(
    module: nn.Module,
    spec: dict,
    frame: pd.DataFrame,
    y,
    *,
    method: str = "raw-strip",
    seed: int = 0,
    device=None,
    poison_rows=None,
) -> dict:
    """Suspicious training rows (by frame index label), most suspicious first.

    Pass `poison_rows` (index labels of rows known to be poisoned, for validation)
    to get precision and recall of the flags.
    """
    if method not in METHODS:
        raise ValueError(ERR_METHOD.format(accepted=list(METHODS), got=method))
    if len(frame) == 0:
        raise ValueError(ERR_EMPTY.format(name="frame"))
    if len(y) != len(frame):
        raise ValueError(ERR_LENGTH.format(n=len(frame), name="y", m=len(y)))
    truth = None
    if poison_rows is not None:
        wanted = set(pd.Index(poison_rows).tolist())
        unknown = sorted(str(r) for r in wanted - set(frame.index.tolist()))
        if unknown:
            raise ValueError(ERR_POISON_ROWS.format(unknown=unknown[:10]))
        truth = frame.index.isin(list(wanted))
    device = _as_device(device)
    set_seed(seed)
    x, y_idx = encode(frame, spec["input"]), _labels(y, spec["classes"])
    flagged, score, per_class = _DETECTORS[method](module, spec, x, y_idx, seed=seed, device=device)
    order = sorted(np.flatnonzero(flagged), key=lambda i: (-score[i], i))
    labels = frame.index.tolist()
    result = {
        "method": method,
        "suspicious": [{"row": _plain(labels[i]), "score": float(score[i])} for i in order],
        "n_flagged": int(flagged.sum()),
        "per_class": per_class,
        "params": _detector_params(method, seed),
    }
    if truth is not None:
        tp = int((flagged & truth).sum())
        result["precision"] = tp / int(flagged.sum()) if flagged.any() else None
        result["recall"] = tp / int(truth.sum()) if truth.any() else None
    return result


def _detector_params(method: str, seed: int) -> dict:
    if method == "raw-strip":
        return {"seed": seed, "features": "raw encoded inputs", "cluster_counts": list(CLUSTER_COUNTS),
                "pca_dims": PCA_DIMS, "n_neighbors": N_NEIGHBORS, "n_partners": N_PARTNERS,
                "persistence_threshold": PERSISTENCE_THRESHOLD, "superimposition": "elementwise maximum",
                "score": "(persistence + neighbour disagreement) / 2"}
    if method == "activation-distance":
        return {"seed": seed, "features": "penultimate activations", "nb_clusters": 2, "nb_dims": PCA_DIMS,
                "reduce": "PCA", "cluster_analysis": "distance"}
    return {"seed": seed, "features": "penultimate activations", "expected_pp_poison": SPECTRAL_EXPECTED_POISON,
            "eps_multiplier": SPECTRAL_EPS_MULTIPLIER}
