"""Batched L-inf PGD (training/attacks.py): the same attack as ART's PGD, every epsilon in one batch."""

import numpy as np
import pytest
import torch

from training import attacks
from training.attacks import pgd_linf
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
