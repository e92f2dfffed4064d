"""Batched L-inf PGD (training/attacks.py): the same attack as ART's PGD, every epsilon in one batch."""

import numpy as np
import pytest
import torch

from training import attacks
from training.attacks import pgd_linf, pgd_linf_rows
from training.encoding import encode
from training.recipes import digits_cnn_spec, digits_frame, train_from_spec

EPSILONS = [0.0, 0.05, 0.1, 0.3]


@pytest.fixture(scope="module")
def digits_model():
    frame = digits_frame().iloc[:700]
    spec = digits_cnn_spec(training={"epochs": 10, "lr": 3e-3})
    module = train_from_spec(spec, frame.iloc[:600], label_column="label", device=torch.device("cpu")).eval()
    x = encode(frame.iloc[600:], spec["input"])
    return module, x, frame["label"].to_numpy()[600:]


def art_robust_accuracy(module, x, y, eps, steps):
    from art.attacks.evasion import ProjectedGradientDescentPyTorch
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(model=module, loss=torch.nn.CrossEntropyLoss(), input_shape=x.shape[1:],
                                   nb_classes=10, clip_values=(0.0, 1.0), device_type="cpu")
    if eps == 0:
        return float((classifier.predict(x).argmax(axis=1) == y).mean())
    attack = ProjectedGradientDescentPyTorch(classifier, norm=np.inf, eps=eps, eps_step=2.5 * eps / steps,
                                             max_iter=steps, num_random_init=0, batch_size=64, verbose=False)
    return float((classifier.predict(attack.generate(x=x, y=np.eye(10, dtype=np.float32)[y])).argmax(axis=1)
                  == y).mean())


def test_the_robust_accuracy_at_every_epsilon_is_art_s(digits_model):
    module, x, y = digits_model
    ours = pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=5, step_factor=2.5,
                    low=0.0, high=1.0).tolist()
    assert ours == pytest.approx([art_robust_accuracy(module, x, y, eps, 5) for eps in EPSILONS], abs=1e-6)


def test_small_batches_give_the_same_curve_as_one_batch(digits_model):
    module, x, y = digits_model
    run = lambda batch: pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=3,  # noqa: E731
                                 step_factor=2.5, low=0.0, high=1.0, batch_size=batch)
    torch.testing.assert_close(run(37), run(4096))


def test_channels_last_gives_the_same_curve(digits_model):
    module, x, y = digits_model
    run = lambda cl: pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=3,  # noqa: E731
                              step_factor=2.5, low=0.0, high=1.0, channels_last=cl)
    torch.testing.assert_close(run(True), run(False))


def test_the_curve_falls_as_epsilon_grows_and_zero_is_the_clean_accuracy(digits_model):
    module, x, y = digits_model
    curve = pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=3, step_factor=2.5,
                     low=0.0, high=1.0).tolist()
    with torch.no_grad():
        clean = float((module(torch.as_tensor(x)).argmax(1) == torch.as_tensor(y)).float().mean())
    assert curve[0] == pytest.approx(clean)
    assert curve == sorted(curve, reverse=True) and curve[-1] < curve[0] - 0.3


@pytest.mark.parametrize("options, message", [
    ({"steps": 0}, attacks.BAD_STEPS.format(value=0)),
    ({"epsilons": []}, attacks.BAD_EPSILONS.format(value=[])),
    ({"epsilons": [0.1, -1]}, attacks.BAD_EPSILONS.format(value=[0.1, -1])),
])
def test_bad_options_are_refused_naming_them(digits_model, options, message):
    module, x, y = digits_model
    kwargs = {"epsilons": [0.1], "steps": 2, "step_factor": 2.5, "low": 0.0, "high": 1.0, **options}
    with pytest.raises(ValueError) as info:
        pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), **kwargs)
    assert str(info.value) == message


@pytest.mark.gpu
def test_the_cuda_curve_matches_the_cpu_curve_in_float32(digits_model):
    module, x, y = digits_model
    run = lambda device: pgd_linf(module.to(device), torch.as_tensor(x, device=device),  # noqa: E731
                                  torch.as_tensor(y, device=device), epsilons=EPSILONS, steps=3, step_factor=2.5,
                                  low=0.0, high=1.0).cpu()
    cpu = run("cpu")
    assert (run("cuda") - cpu).abs().max() <= 1 / len(y) + 1e-9  # at most one row flips on rounding
    module.cpu()


# ---------------------------------------------------------------------------
# pgd_linf_rows: per-row results, a feature mask and per-feature bounds (the audit's path)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def credit_model():
    """The German credit MLP: 3 numeric columns with their own training ranges, then one-hot groups."""
    from pathlib import Path

    import pandas as pd

    from training.recipes import tabular_mlp_spec

    frame = pd.read_csv(Path(__file__).resolve().parents[2] / "governance" / "demo" / "data" / "german_credit.csv")
    spec = tabular_mlp_spec(frame.iloc[:700], numeric=["credit_amount", "duration", "age"],
                            categorical=["sex", "job", "housing", "saving_accounts", "checking_account", "purpose"],
                            classes=[0, 1], training={"epochs": 30, "lr": 1e-2})
    module = train_from_spec(spec, frame.iloc[:700], label_column="risk", device=torch.device("cpu")).eval()
    x = encode(frame.iloc[700:], spec["input"])
    width = x.shape[1]
    low, high = np.zeros(width, np.float32), np.ones(width, np.float32)
    low[:3], high[:3] = x[:, :3].min(axis=0), x[:, :3].max(axis=0)
    mask = np.zeros(width, np.float32)
    mask[:3] = 1.0  # the numbers move, the categories never do
    return module, np.clip(x, low, high).astype(np.float32), frame["risk"].to_numpy()[700:], low, high, mask


def art_robust_rows(module, x, y, eps, steps, *, low, high, mask):
    from art.attacks.evasion import ProjectedGradientDescentPyTorch
    from art.estimators.classification import PyTorchClassifier

    classifier = PyTorchClassifier(model=module, loss=torch.nn.CrossEntropyLoss(), input_shape=x.shape[1:],
                                   nb_classes=2, clip_values=(low, high), device_type="cpu")
    attack = ProjectedGradientDescentPyTorch(classifier, norm=np.inf, eps=eps, eps_step=2.5 * eps / steps,
                                             max_iter=steps, num_random_init=0, batch_size=64, verbose=False)
    adv = attack.generate(x=x, y=np.eye(2, dtype=np.float32)[y], mask=mask)
    return classifier.predict(adv).argmax(axis=1) == y, adv


# The same algorithm as ART's, so the same rows survive; the only difference allowed is
# float rounding in the projection (ART adds the clipped difference back to the clean input,
# pgd_linf_rows clamps the example), which can move a value by one ulp and, in a rare tie,
# flip a row: at most one row per epsilon, and the perturbations agree to 1e-5.
ROW_TOLERANCE = 1


def test_with_a_mask_and_per_feature_bounds_the_same_rows_survive_as_under_art(credit_model):
    module, x, y, low, high, mask = credit_model
    eps_grid = [0.1, 0.5, 1.0]
    ours = pgd_linf_rows(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=eps_grid, steps=5,
                         step_factor=2.5, low=torch.as_tensor(low), high=torch.as_tensor(high),
                         mask=torch.as_tensor(mask))
    for i, eps in enumerate(eps_grid):
        art_robust, art_adv = art_robust_rows(module, x, y, eps, 5, low=low, high=high, mask=mask)
        assert int((ours.robust[i].numpy() != art_robust).sum()) <= ROW_TOLERANCE
        delta = (art_adv - x).astype(np.float64)
        np.testing.assert_allclose(ours.linf[i].numpy(), np.abs(delta).max(axis=1), atol=1e-5)
        np.testing.assert_allclose(ours.l2[i].numpy(), np.linalg.norm(delta, axis=1), atol=1e-5)
    assert ours.robust[-1].float().mean() < ours.robust[0].float().mean()  # the attack did something


def test_masked_features_keep_their_clean_values_and_the_rest_stay_in_the_ball_and_the_bounds(credit_model):
    from training.attacks import _pgd_batch  # the examples themselves, which pgd_linf_rows only measures

    module, x, y, low, high, mask = credit_model
    eps, n = 0.3, len(x)
    adv = _pgd_batch(module, torch.as_tensor(x), torch.as_tensor(y), eps=torch.full((n, 1), eps), steps=4,
                     step=torch.full((n, 1), 2.5 * eps / 4), low=torch.as_tensor(low), high=torch.as_tensor(high),
                     keep=torch.as_tensor(mask) > 0, amp_dtype=None, tick=lambda: None).numpy()
    assert np.array_equal(adv[:, 3:], x[:, 3:])
    assert (adv >= low).all() and (adv <= high).all()
    assert 0 < np.abs(adv - x).max() <= eps + 1e-6
    rows = pgd_linf_rows(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=[eps], steps=4, step_factor=2.5,
                         low=torch.as_tensor(low), high=torch.as_tensor(high), mask=torch.as_tensor(mask))
    np.testing.assert_allclose(rows.linf[0].numpy(), np.abs(adv - x).max(axis=1), atol=1e-7)


def test_the_robust_flags_average_to_pgd_linf_s_accuracies_and_progress_counts_every_step(digits_model):
    module, x, y = digits_model
    seen = []
    rows = pgd_linf_rows(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=3,
                         step_factor=2.5, low=0.0, high=1.0, batch_size=150,
                         progress=lambda done, total: seen.append((done, total)))
    batches = -(-len(x) * len(EPSILONS) // 150)
    assert seen == [(k, 3 * batches) for k in range(1, 3 * batches + 1)]
    accuracies = pgd_linf(module, torch.as_tensor(x), torch.as_tensor(y), epsilons=EPSILONS, steps=3,
                          step_factor=2.5, low=0.0, high=1.0)
    torch.testing.assert_close(rows.robust.float().mean(dim=1), accuracies)
    assert rows.robust.shape == rows.linf.shape == rows.l2.shape == (len(EPSILONS), len(x))
    assert float(rows.linf[0].max()) == 0.0  # epsilon 0 moves nothing
