"""The efficiency audit's charts, headline figures and templates (audits/kinds/efficiency/figures.py,
templates/kinds/efficiency/): drawn from stored numbers, with the price table named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string

from audits.exports.model_card import MAX_METRICS_PER_AUDIT, headline_metrics
from audits.kinds.efficiency.figures import (
    efficiency_figures,
    export_headline,
    headline,
    latency_chart,
    throughput_chart,
)
from audits.kinds.efficiency.runner import NO_GPU
from audits.kinds.efficiency.thresholds import PRICE_TABLE


def batch(size, p50, rows_per_s, peak=None):
    return {"batch_size": size, "repeats": 20, "per_batch_ms": {"p50": p50, "p95": 2 * p50, "p99": 3 * p50,
                                                                "p50_ci": [p50 * 0.9, p50 * 1.1]},
            "per_row_ms": {"p50": p50 / size}, "rows_per_s": rows_per_s, "peak_memory_bytes": peak,
            "peak_memory_mib": None if peak is None else peak / 2**20, "energy_j_per_1000": None,
            "cost_per_million": 0.17 / 3600 * 1e6 / rows_per_s, "co2e_g_per_million": None}


def results(devices=("cpu",)):
    blocks = [{"device": d, "memory_method": "peak resident set size", "energy_method": "not measurable on this worker",
               "energy_reason": "no RAPL zone", "price_per_hour": 0.17,
               "batches": [batch(1, 0.1, 10_000.0, 500 * 2**20), batch(32, 0.4, 80_000.0, 520 * 2**20)]}
              for d in devices]
    return {"device": "cpu", "format": "safetensors", "torch_threads": 1, "parameters": 1522, "artifact_bytes": 9000,
            "load_s": 0.01, "ready_s": 0.02, "n_eval_rows": 300, "price_table": PRICE_TABLE, "devices": blocks,
            "params": {"warmup": 5, "min_repeats": 20, "repeats": 100, "max_seconds": 1.0},
            "comparison": {"note": NO_GPU},
            "outlook": {"status": "ok", "method": "quantize_dynamic", "batch_size": 128, "speedup": 1.5,
                        "size_saving": 0.27, "accuracy_delta": -0.01,
                        "models": {"float32": {"p50_ms": 0.3, "p50_ci": [0.29, 0.31], "rows_per_s": 4e5,
                                               "size_bytes": 8853, "accuracy": 0.71},
                                   "int8_dynamic": {"p50_ms": 0.2, "p50_ci": [0.19, 0.21], "rows_per_s": 6e5,
                                                    "size_bytes": 6463, "accuracy": 0.70}}}}


def test_the_headline_reads_the_audited_devices_batch_1_and_its_largest_peak():
    h = headline(results())
    assert h["p95_latency_ms_batch1"] == pytest.approx(0.2)
    assert h["peak_memory_mib"] == pytest.approx(520.0)
    assert h["rows_per_s"] == {1: 10_000.0, 32: 80_000.0}
    assert h["cost_per_million"][1] == pytest.approx(0.17 / 3600 * 1e6 / 10_000)
    assert headline({}) == {"p95_latency_ms_batch1": None, "cost_per_million": {}, "peak_memory_mib": None,
                            "rows_per_s": {}}


def test_exports_get_a_dozen_numbers_at_most_batch_1_and_the_largest_batch():
    r = results()
    r["devices"][0]["batches"][-1]["energy_j_per_1000"] = 250.0  # with energy measured: the fullest card
    names = [m["name"] for m in headline_metrics(export_headline(r))]
    assert len(names) == MAX_METRICS_PER_AUDIT
    assert names == ["artifact_bytes", "batch_1.cost_per_million", "batch_1.rows_per_s", "batch_32.cost_per_million",
                     "batch_32.energy_j_per_1000", "batch_32.rows_per_s", "int8_quantization.accuracy_delta",
                     "int8_quantization.speedup", "p95_latency_ms_batch1", "parameters", "peak_memory_mib", "ready_s"]


def test_the_charts_put_batch_sizes_on_a_log_axis_one_line_per_device():
    svg = throughput_chart(results(("cuda", "cpu")))
    assert svg.startswith("<svg") and "GPU rows/s" in svg and "CPU rows/s" in svg and ">32<" in svg
    assert "CPU p95" in latency_chart(results())
    assert [f["feature"] for f in efficiency_figures(results())] == ["throughput", "latency"]
    assert efficiency_figures({}) == []


def test_the_results_page_and_the_report_state_the_price_table_they_used():
    r = results()
    page = render_to_string("kinds/efficiency/results.html", {"run": SimpleNamespace(results=r), "figures": []})
    report = render_to_string("kinds/efficiency/report.html", {"results": r, "section": {"checks": [], "figures": []}})
    for html in (page, report):
        assert "Price table used (dated 2024-06)" in html and "cpu 0.17 USD/h (AWS c6i.xlarge, 4 vCPU)" in html
        assert NO_GPU in html and "not measurable on this worker (no RAPL zone)" in html
        assert "Speed-up 1.50× (below 1: slower), 27% smaller" in html
    assert "informational evidence" in report
