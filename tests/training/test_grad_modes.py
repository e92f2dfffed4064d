"""Choosing the per-sample-gradient mode by measurement (training/grad_modes.py), on a fake clock."""

import pytest

from training.grad_modes import NO_MODE_TRAINS, fastest_mode, measure_modes

KEY = {"architecture": "cnn", "input_shape": [1, 8, 8], "batch_class": 64}


class FakeWorkload:
    """Each mode's step advances a fake clock by its cost; "broken" raises like a mode Opacus refuses."""

    def __init__(self, costs):
        self.now, self.costs, self.built = 0.0, costs, []

    def clock(self):
        return self.now

    def make_step(self, mode):
        self.built.append(mode)
        if mode == "broken":
            raise NotImplementedError("no per-sample gradient for this layer")

        def step():
            self.now += self.costs[mode]
        return step


def test_every_mode_is_measured_interleaved_and_reported_per_step():
    work = FakeWorkload({"ew": 2.0, "hooks": 3.0})
    assert measure_modes(["ew", "hooks"], work.make_step, clock=work.clock, rounds=3, steps=2) == {
        "ew": 2.0, "hooks": 3.0}


def test_the_fastest_mode_that_runs_wins_and_a_mode_that_raises_is_left_out(tmp_path):
    work = FakeWorkload({"ew": 2.0, "hooks": 1.5, "ghost": 4.0})
    mode, source, timings = fastest_mode(["broken", "ew", "hooks", "ghost"], work.make_step, key=KEY,
                                         cache_dir=tmp_path, clock=work.clock)
    assert (mode, source) == ("hooks", "measured")
    assert set(timings) == {"ew", "hooks", "ghost"}


def test_the_choice_is_cached_per_key_and_not_measured_again(tmp_path):
    work = FakeWorkload({"ew": 1.0, "hooks": 2.0})
    fastest_mode(["ew", "hooks"], work.make_step, key=KEY, cache_dir=tmp_path, clock=work.clock)
    work.built.clear()
    assert fastest_mode(["ew", "hooks"], work.make_step, key=KEY, cache_dir=tmp_path, clock=work.clock)[:2] == (
        "ew", "cached")
    assert work.built == []
    other = fastest_mode(["ew", "hooks"], work.make_step, key={**KEY, "batch_class": 256}, cache_dir=tmp_path,
                         clock=work.clock)
    assert other[1] == "measured"


def test_a_cached_mode_that_is_no_longer_a_candidate_is_measured_again(tmp_path):
    work = FakeWorkload({"ew": 1.0, "hooks": 2.0})
    fastest_mode(["ew", "hooks"], work.make_step, key=KEY, cache_dir=tmp_path, clock=work.clock)
    assert fastest_mode(["hooks"], work.make_step, key=KEY, cache_dir=tmp_path, clock=work.clock)[:2] == (
        "hooks", "measured")


def test_no_mode_that_runs_is_an_error_naming_the_modes(tmp_path):
    work = FakeWorkload({})
    with pytest.raises(ValueError) as info:
        fastest_mode(["broken"], work.make_step, key=KEY, cache_dir=tmp_path, clock=work.clock)
    assert str(info.value) == NO_MODE_TRAINS.format(
        modes=["broken"], errors={"broken": "NotImplementedError: no per-sample gradient for this layer"})
