"""The efficiency probe's arithmetic (audits/kinds/efficiency/probe.py), driven by fake clocks,
fake memory and fake energy readers, against hand-computed values. No test asserts a real time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from audits.kinds.efficiency import probe
from training.architectures import build_model


class FakeClock:
    """Each timed call lasts the next of `durations` (seconds); calls are 10 s apart."""

    def __init__(self, durations):
        self.durations, self.reads, self.call = list(durations), 0, 0

    def __call__(self) -> float:
        start = 10.0 * (self.reads // 2)
        end = self.reads % 2 == 1
        value = start + (self.durations[self.reads // 2] if end else 0.0)
        self.reads += 1
        return value


class FakeMemory:
    method = "fake"

    def __init__(self, peaks):
        self.peaks, self.resets = list(peaks), 0

    def reset(self):
        self.resets += 1

    def peak(self):
        return self.peaks.pop(0)


class FakeEnergy:
    method = "fake meter"

    def __init__(self, readings):
        self.readings = list(readings)

    def read(self):
        return self.readings.pop(0)


def test_percentiles_per_batch_and_per_row_follow_numpys_linear_rule():
    # 1..10 ms: rank 1 + p (n - 1): p50 = 5.5, p95 = 1 + 0.95 * 9 = 9.55, p99 = 9.91; IQR 7.75 - 3.25 = 4.5.
    stats = probe.latency_stats([i / 1000 for i in range(1, 11)], batch_size=4)
    b = stats["per_batch_ms"]
    assert (b["p50"], b["p95"], b["p99"], b["iqr"], b["min"], b["max"]) == pytest.approx((5.5, 9.55, 9.91, 4.5, 1, 10))
    assert b["mean"] == pytest.approx(5.5) and b["std"] == pytest.approx(np.std(range(1, 11), ddof=1))
    assert stats["per_row_ms"]["p95"] == pytest.approx(9.55 / 4)
    assert stats["rows_per_s"] == pytest.approx(4 / 0.0055)
    # Binomial(10, 1/2): P(B <= 1) = 11/1024, so [x(2), x(9)] covers the median with 97.9%.
    assert b["p50_ci"] == pytest.approx([2.0, 9.0])
    assert stats["per_row_ms"]["p50_ci"] == pytest.approx([0.5, 2.25])
    assert stats["relative_spread"] == pytest.approx(7 / 5.5)


@pytest.mark.parametrize("n, expected", [(5, None), (6, [1.0, 6.0]), (10, [2.0, 9.0]), (20, [6.0, 15.0])])
def test_the_medians_interval_comes_from_binomial_order_statistics(n, expected):
    # n = 6: P(B <= 0) = 1/64 < 2.5%, so [x(1), x(6)] (96.9%); n = 5: 2/32 = 6.25% > 5%, no interval.
    # n = 20: P(B <= 5) = 0.0207 <= 2.5% < P(B <= 6) = 0.0577, so [x(6), x(15)].
    assert probe.median_interval(np.arange(1.0, n + 1)) == (None if expected is None else pytest.approx(expected))


def test_cost_per_million_is_the_device_time_a_million_rows_take_at_its_price():
    # 1,000 rows/s: a million rows take 1,000 s; at 0.36 per hour that is 0.36 / 3600 * 1000 = 0.1.
    assert probe.cost_per_million(1000.0, 0.36) == pytest.approx(0.1)
    assert probe.cost_per_million(None, 0.36) is None
    with pytest.raises(ValueError, match=probe.ERR_ROWS_PER_S):
        probe.cost_per_million(0.0, 0.36)
    with pytest.raises(ValueError, match=probe.ERR_PRICE):
        probe.cost_per_million(10.0, -1)


def test_energy_and_co2e_per_prediction_are_the_meters_joules_over_the_rows():
    assert probe.energy_per_1000(12.0, 48) == pytest.approx(250.0)
    # 250 J per 1,000 -> 250,000 J per million = 0.069444 kWh; at 475 g/kWh: 32.986 g.
    assert probe.co2e_per_million(250.0, 475.0) == pytest.approx(250_000 / 3.6e6 * 475)
    assert probe.energy_per_1000(None, 48) is None and probe.co2e_per_million(None, 475.0) is None


def test_warm_up_calls_are_not_timed_and_the_time_budget_stops_repetitions_after_the_minimum():
    calls = []
    # 0.3 s each, budget 1 s: 0.6 s after the minimum of 2, 0.9 s after 3, 1.2 s after 4 -> stop at 4.
    times = probe.time_calls(lambda: calls.append(1), warmup=3, min_repeats=2, repeats=50, max_seconds=1.0,
                             clock=FakeClock([0.3] * 50))
    assert times == pytest.approx([0.3] * 4)
    assert len(calls) == 3 + 4


def test_a_warm_up_lasts_its_calls_and_then_its_seconds():
    calls = []
    clock = iter([0.0, 0.05, 0.1, 0.15, 0.2, 0.25])  # read at the start, then before each call past the minimum
    # Calls 1-2 are the minimum (no clock read); the clock then reads 0.05, 0.1, 0.15 (call 3, 4, 5) and 0.2: stop.
    assert probe.warm_up(lambda: calls.append(1), warmup=2, warmup_seconds=0.2, clock=lambda: next(clock)) == 5
    assert len(calls) == 5
    assert probe.warm_up(lambda: None, warmup=3, warmup_seconds=0.0, clock=lambda: 1 / 0) == 3  # no clock needed


def test_repetitions_stop_at_repeats_when_the_budget_is_not_spent():
    times = probe.time_calls(lambda: None, warmup=0, min_repeats=2, repeats=5, max_seconds=60.0,
                             clock=FakeClock([0.001] * 10))
    assert len(times) == 5


def test_interleaved_timing_takes_turns_and_shares_one_budget():
    order = []
    calls = {"a": lambda b: order.append("a"), "b": lambda b: order.append("b")}
    # a 0.2 s, b 0.3 s per turn; budget 1 s after the minimum of 2 turns: 0.5, 1.0 -> stop at 2 turns.
    times = probe.time_interleaved(calls, None, warmup=1, min_repeats=2, repeats=10, max_seconds=1.0,
                                   clock=FakeClock([0.2, 0.3] * 10))
    assert order == ["a", "b"] * 3
    assert times == {"a": pytest.approx([0.2, 0.2]), "b": pytest.approx([0.3, 0.3])}


def test_each_batch_size_gets_its_latency_memory_and_energy():
    seen = []
    clock = FakeClock([0.002] * 4 + [0.004] * 4)
    memory = FakeMemory([100, 150, 100, 300])  # (held after reset, peak) for each batch size
    energy = FakeEnergy([0.0, 12.0, 12.0, 36.0])
    batches = probe.measure_batches(lambda b: seen.append(b), lambda size: size, batch_sizes=[8, 2], warmup=2,
                                    min_repeats=4, repeats=4, max_seconds=60.0, clock=clock, memory=memory,
                                    energy=energy)
    assert [b["batch_size"] for b in batches] == [2, 8]  # sorted
    two, eight = batches
    assert seen == [2] * 6 + [8] * 6
    assert two["per_batch_ms"]["p50"] == pytest.approx(2.0) and eight["per_batch_ms"]["p50"] == pytest.approx(4.0)
    assert two["rows_per_s"] == pytest.approx(1000.0) and eight["rows_per_s"] == pytest.approx(2000.0)
    assert (two["memory_before_bytes"], two["peak_memory_bytes"], eight["peak_memory_bytes"]) == (100, 150, 300)
    # The meter is read after the warm-up: 12 J over 2 rows x 4 timed calls -> 1,500 J per 1,000; 24 J over 32 -> 750.
    assert two["energy_j_per_1000"] == pytest.approx(1500.0) and eight["energy_j_per_1000"] == pytest.approx(750.0)
    assert memory.resets == 2


def test_priced_batches_carry_cost_and_co2e_or_none():
    rows = [{"batch_size": 1, "rows_per_s": 1000.0, "energy_j_per_1000": 250.0},
            {"batch_size": 8, "rows_per_s": 4000.0, "energy_j_per_1000": None}]
    out = probe.priced(rows, price_per_hour=0.36, grams_per_kwh=475.0)
    assert [b["cost_per_million"] for b in out] == pytest.approx([0.1, 0.025])
    assert out[0]["co2e_g_per_million"] == pytest.approx(32.986, abs=1e-3) and out[1]["co2e_g_per_million"] is None
    assert probe.priced(rows, price_per_hour=None, grams_per_kwh=None)[0]["cost_per_million"] is None


def _rates(pairs):
    return [{"batch_size": b, "rows_per_s": r} for b, r in pairs]


@pytest.mark.parametrize("gpu, expected", [
    ([(1, 10), (8, 400), (32, 1600), (128, 9000)], 32),
    ([(1, 200), (8, 400), (32, 1600), (128, 9000)], 32),  # faster at 1 alone does not count
    ([(1, 10), (8, 20), (32, 30), (128, 40)], None),
    ([(1, 200), (8, 600), (32, 900), (128, 1000)], 1),
])
def test_the_crossover_is_where_the_gpu_becomes_and_stays_faster(gpu, expected):
    cpu = _rates([(1, 100), (8, 500), (32, 800), (128, 900)])
    assert probe.crossover_batch_size(cpu, _rates(gpu)) == expected


@pytest.mark.parametrize("sizes", [[], [0], [1, 2.5], [True], [probe.MAX_BATCH_SIZE + 1], "8"])
def test_batch_sizes_outside_their_bounds_are_refused(sizes):
    with pytest.raises(ValueError, match=probe.ERR_BATCH_SIZES):
        probe.check_batch_sizes(sizes)


@pytest.mark.parametrize("change, message", [
    ({"warmup": -1}, probe.ERR_REPEATS), ({"min_repeats": 1}, probe.ERR_REPEATS),
    ({"repeats": 5, "min_repeats": 10}, probe.ERR_REPEATS), ({"repeats": probe.MAX_REPEATS + 1}, probe.ERR_REPEATS),
    ({"max_seconds": 0}, probe.ERR_MAX_SECONDS), ({"max_seconds": 61}, probe.ERR_MAX_SECONDS),
    ({"outlook_batch_size": 0}, probe.ERR_OUTLOOK_BATCH), ({"warmup_seconds": -1}, probe.ERR_WARMUP_SECONDS),
    ({"warmup_seconds": 11}, probe.ERR_WARMUP_SECONDS),
    ({"register_student": "yes"}, probe.ERR_SWITCH.format(name="register_student")),
])
def test_run_parameters_are_checked_before_any_work(change, message):
    params = {"batch_sizes": [1, 8], "warmup": 1, "min_repeats": 10, "repeats": 20, "max_seconds": 1.0,
              "outlook_batch_size": 8, **change}
    with pytest.raises(ValueError) as err:
        probe.check_params(params)
    assert str(err.value) == message


def _zone(root, name, energy_uj, max_uj):
    zone = root / name
    zone.mkdir()
    (zone / "energy_uj").write_text(str(energy_uj))
    (zone / "max_energy_range_uj").write_text(str(max_uj))
    return zone


def test_rapl_sums_packages_and_survives_the_counter_wrapping(tmp_path):
    a = _zone(tmp_path, "intel-rapl:0", 900, 1000)
    _zone(tmp_path, "intel-rapl:1", 5_000_000, 10**9)
    _zone(tmp_path, "intel-rapl:0:0", 1, 1000)  # a sub-zone (core) is part of its package: not added again
    reader, reason = probe.energy_reader(None, powercap=str(tmp_path))
    assert reason is None and len(reader.zones) == 2
    (a / "energy_uj").write_text("100")  # wrapped: 900 -> 1000 -> 100 is 200 uJ
    (tmp_path / "intel-rapl:1" / "energy_uj").write_text("7000000")
    assert reader.read() == pytest.approx((200 + 2_000_000) / 1e6)


def test_without_rapl_or_nvml_energy_is_not_measurable_and_says_why(tmp_path, monkeypatch):
    reader, reason = probe.energy_reader(None, powercap=str(tmp_path))
    assert reader is None and reason.startswith(f"no RAPL zone under {tmp_path}")
    monkeypatch.setitem(__import__("sys").modules, "pynvml", None)  # nvidia-ml-py absent
    reader, reason = probe.energy_reader(torch.device("cuda"))
    assert reader is None and reason == "nvidia-ml-py (pynvml) is not installed on this worker"


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/clear_refs"), reason="Linux /proc only")
def test_the_peak_rss_reader_sees_memory_allocated_after_its_reset():
    reader = probe.memory_reader(None)
    assert isinstance(reader, probe.ProcPeakRSS)
    reader.reset()
    held = reader.peak()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    grown = reader.peak() - held
    del block
    assert grown >= 48 * 2**20


def test_parameters_are_counted_for_torch_and_scikit_learn_models():
    assert probe.torch_parameter_count(torch.nn.Linear(3, 2)) == 3 * 2 + 2
    x = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0], "c": [2.0, 2, 3, 1]})
    y = [0, 1, 0, 1]
    assert probe.sklearn_parameter_count(LogisticRegression().fit(x, y)) == 3 + 1  # coef_ and intercept_
    # The scaler learns mean_, var_ and scale_ for each of 3 columns.
    assert probe.sklearn_parameter_count(make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)) == 9 + 4
    tree = DecisionTreeClassifier(random_state=0).fit(x, y)
    assert probe.sklearn_parameter_count(tree) == tree.tree_.threshold.size + tree.tree_.value.size


def test_the_quantization_outlook_measures_a_copy_and_leaves_the_model_alone():
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(6, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    before = {k: v.clone() for k, v in module.state_dict().items()}
    x = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    y = np.random.default_rng(1).integers(0, 2, 40)
    # Timed in turns: float32 calls take 2 ms, int8 calls 1 ms: a 2x speed-up.
    out = probe.quantization_outlook(module, x, y, batch_size=8, warmup=0, min_repeats=3, repeats=3, max_seconds=60,
                                     clock=FakeClock([0.002, 0.001] * 3))
    assert out["status"] == "ok" and out["speedup"] == pytest.approx(2.0)
    f, q = out["models"]["float32"], out["models"]["int8_dynamic"]
    assert q["size_bytes"] < f["size_bytes"]
    assert out["size_saving"] == pytest.approx(1 - q["size_bytes"] / f["size_bytes"])
    with torch.no_grad():
        expected = float((module(torch.as_tensor(x)).argmax(1).numpy() == y).mean())
    assert f["accuracy"] == pytest.approx(expected)
    assert out["accuracy_delta"] == pytest.approx(q["accuracy"] - f["accuracy"])
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())
    assert out["fairness_delta"] is None and f["fairness"] is None


def test_the_outlook_takes_fairness_deltas_from_the_callers_judge():
    module = torch.nn.Sequential(torch.nn.Linear(3, 2))
    x, y = np.zeros((6, 3), np.float32), np.zeros(6, int)
    # The judge sees each model's predictions; here it answers 0.30 for float32 and 0.25 for int8.
    answers = iter([{"sex": {"dpd": 0.30, "eod": None}}, {"sex": {"dpd": 0.25, "eod": 0.1}}])
    out = probe.quantization_outlook(module, x, y, batch_size=2, warmup=0, min_repeats=2, repeats=2,
                                     judge=lambda pred: next(answers))
    assert out["fairness_delta"] == {"sex": {"dpd": pytest.approx(-0.05), "eod": None}}


def test_a_model_without_linear_layers_has_no_quantization_outlook():
    out = probe.quantization_outlook(torch.nn.Sequential(torch.nn.ReLU()), np.zeros((4, 3), np.float32),
                                     np.zeros(4, int), batch_size=2)
    assert out == {"status": "not_applicable", "reason": "the model has no Linear layer to quantize"}


def test_a_student_is_the_same_architecture_smaller():
    mlp = {"architecture": "mlp", "params": {"in_features": 10, "hidden": [32, 16], "n_classes": 2}}
    assert probe.student_spec(mlp)["params"] == {"in_features": 10, "hidden": [8, 4], "n_classes": 2}
    cnn = {"architecture": "cnn", "params": {"in_channels": 1, "height": 8, "width": 8, "n_classes": 10}}
    student = probe.student_spec(cnn)["params"]
    assert (student["channels"], student["hidden"]) == ([8, 16], 32)  # from SmallCNN's defaults (16, 32) and 64
    assert probe.student_spec({"architecture": "resnet", "params": {}}) is None


def test_the_distilled_student_learns_the_teachers_answers_and_is_compared_like_the_quantized_copy():
    spec = {"architecture": "mlp", "params": {"in_features": 4, "hidden": [32, 16], "n_classes": 2},
            "training": {"batch_size": 16}}
    torch.manual_seed(0)
    teacher = build_model(spec)
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    rng = np.random.default_rng(0)
    x_train, x = rng.normal(size=(200, 4)).astype(np.float32), rng.normal(size=(50, 4)).astype(np.float32)
    y = rng.integers(0, 2, 50)
    # Timed in turns: the teacher's calls take 3 ms, the student's 1 ms: a 3x speed-up.
    out = probe.distillation_outlook(teacher, spec, x_train, x, y, batch_size=8, epochs=2, warmup=0, min_repeats=3,
                                     repeats=3, max_seconds=60, clock=FakeClock([0.003, 0.001] * 3))
    assert out["status"] == "ok" and out["speedup"] == pytest.approx(3.0)
    t, s = out["models"]["teacher"], out["models"]["student"]
    assert t["parameters"] == 4 * 32 + 32 + 32 * 16 + 16 + 16 * 2 + 2
    assert s["parameters"] == 4 * 8 + 8 + 8 * 4 + 4 + 4 * 2 + 2
    assert out["student_params"]["hidden"] == [8, 4] and s["size_bytes"] < t["size_bytes"]
    assert 0.0 <= out["agreement_with_teacher"] <= 1.0
    assert out["accuracy_delta"] == pytest.approx(s["accuracy"] - t["accuracy"])
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())


def test_distillation_epochs_are_bounded():
    params = {"batch_sizes": [1], "warmup": 0, "min_repeats": 2, "repeats": 2, "max_seconds": 1.0}
    probe.check_params({**params, "distillation_epochs": None})
    with pytest.raises(ValueError) as err:
        probe.check_params({**params, "distillation_epochs": probe.MAX_EPOCHS + 1})
    assert str(err.value) == probe.ERR_EPOCHS


def test_in_turns_every_size_gets_its_share_of_the_calls_and_its_figures_pool_all_turns():
    seen = []
    # 2 turns: each size gets ceil(4 / 2) = 2 timed calls per turn after 1 warm-up call.
    # Size 2 answers in 2 ms in the first turn and 6 ms in the second (a busy moment), size 8 in 4 ms.
    clock = FakeClock([0.002] * 2 + [0.004] * 2 + [0.006] * 2 + [0.004] * 2)  # the timed calls only
    memory = FakeMemory([100, 150, 100, 300, 90, 170, 100, 250])
    energy = FakeEnergy([0.0, 4.0, 4.0, 12.0, 12.0, 16.0, 16.0, 24.0])
    progress = []
    batches = probe.measure_batches(lambda b: seen.append(b), lambda size: size, batch_sizes=[8, 2], warmup=1,
                                    min_repeats=4, repeats=4, max_seconds=60.0, clock=clock, memory=memory,
                                    energy=energy, turns=2, progress=progress.append)
    assert seen == [2] * 3 + [8] * 3 + [2] * 3 + [8] * 3
    two, eight = batches
    assert two["repeats"] == 4 and two["per_batch_ms"]["p50"] == pytest.approx(4.0)  # median of 2, 2, 6, 6
    assert eight["per_batch_ms"]["p50"] == pytest.approx(4.0)
    # held: the least after any reset; peak: the most in any turn
    assert (two["memory_before_bytes"], two["peak_memory_bytes"]) == (90, 170)
    assert (eight["memory_before_bytes"], eight["peak_memory_bytes"]) == (100, 300)
    # energy pooled over the turns: 4 + 4 J over 2 rows x 4 calls -> 1,000 J per 1,000; 8 + 8 J over 32 -> 500.
    assert two["energy_j_per_1000"] == pytest.approx(1000.0) and eight["energy_j_per_1000"] == pytest.approx(500.0)
    assert progress == [25, 50, 75, 100]


@pytest.mark.parametrize("turns", [0, -1, 1.5, True, probe.MAX_TURNS + 1])
def test_turns_outside_their_bounds_are_refused(turns):
    with pytest.raises(ValueError, match=probe.ERR_TURNS):
        probe.measure_batches(lambda b: None, lambda size: size, batch_sizes=[1], turns=turns)
