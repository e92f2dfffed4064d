"""The efficiency audit's charts and headline figures, drawn from stored results (no torch)."""

from __future__ import annotations

import math

from governance.core.charts import line_chart

MIB = 1024 * 1024
DEVICE_NAMES = {"cpu": "CPU", "cuda": "GPU"}


def headline(results: dict) -> dict:
    """The figures the budgets read and the exports show, from the audited device (the first):
    p95 latency at batch 1 (ms), cost per million and rows/s per batch size, peak memory (MiB)."""
    main = (results.get("devices") or [{}])[0]
    batches = {b["batch_size"]: b for b in main.get("batches") or []}
    one = batches.get(1) or {}
    peaks = [b["peak_memory_bytes"] for b in batches.values() if b.get("peak_memory_bytes") is not None]
    return {"p95_latency_ms_batch1": (one.get("per_batch_ms") or {}).get("p95"),
            "cost_per_million": {size: b.get("cost_per_million") for size, b in batches.items()},
            "peak_memory_mib": max(peaks) / MIB if peaks else None,
            "rows_per_s": {size: b.get("rows_per_s") for size, b in batches.items()}}


def export_headline(results: dict) -> dict:
    """The numbers a model card and the OSCAL results show (at most a dozen): size, start-up,
    latency and memory, throughput and cost at batch 1 and the largest batch, energy at the largest
    (a figure the worker could not measure is None, which the exports leave out)."""
    if "devices" not in results:
        return results
    main = (results.get("devices") or [{}])[0]
    batches = main.get("batches") or []
    h = headline(results)
    out = {"parameters": results.get("parameters"), "artifact_bytes": results.get("artifact_bytes"),
           "ready_s": results.get("ready_s"), "p95_latency_ms_batch1": h["p95_latency_ms_batch1"],
           "peak_memory_mib": h["peak_memory_mib"]}
    for b in {b["batch_size"]: b for b in (batches[:1] + batches[-1:])}.values():
        out[f"batch_{b['batch_size']}"] = {"rows_per_s": b.get("rows_per_s"),
                                           "cost_per_million": b.get("cost_per_million")}
    if batches:  # energy at the largest batch only: a dozen numbers at most (model_card.MAX_METRICS_PER_AUDIT)
        out[f"batch_{batches[-1]['batch_size']}"]["energy_j_per_1000"] = batches[-1].get("energy_j_per_1000")
    outlook = results.get("outlook") or {}
    if outlook.get("status") == "ok":
        out["int8_quantization"] = {"speedup": outlook.get("speedup"), "accuracy_delta": outlook.get("accuracy_delta")}
    return out


def _log2_ticks(sizes: list[int]) -> list[tuple[float, str]]:
    return [(math.log2(s), f"{s:,}") for s in sizes]


def throughput_chart(results: dict) -> str:
    """Rows per second against batch size (log2 axis), one line per device."""
    devices = results.get("devices") or []
    sizes = sorted({b["batch_size"] for d in devices for b in d["batches"]})
    series = [{"name": f"{DEVICE_NAMES.get(d['device'], d['device'])} rows/s",
               "points": [(math.log2(b["batch_size"]), b["rows_per_s"]) for b in d["batches"]]} for d in devices]
    if not sizes:
        return ""
    return line_chart(series, title="Throughput by batch size", x_label="batch size (rows, log scale)",
                      y_label="rows per second", y_range=None, x_ticks=_log2_ticks(sizes),
                      x_range=(math.log2(sizes[0]) - 0.25, math.log2(sizes[-1]) + 0.25) if len(sizes) > 1 else None)


def latency_chart(results: dict) -> str:
    """p50 and p95 per-batch latency (ms) against batch size, per device."""
    devices = results.get("devices") or []
    sizes = sorted({b["batch_size"] for d in devices for b in d["batches"]})
    series = []
    for d in devices:
        name = DEVICE_NAMES.get(d["device"], d["device"])
        for q in ("p50", "p95"):
            series.append({"name": f"{name} {q}", "points": [(math.log2(b["batch_size"]), b["per_batch_ms"][q])
                                                             for b in d["batches"]]})
    if not sizes:
        return ""
    return line_chart(series, title="Latency of one batch by batch size", x_label="batch size (rows, log scale)",
                      y_label="milliseconds per batch", y_range=None, x_ticks=_log2_ticks(sizes),
                      x_range=(math.log2(sizes[0]) - 0.25, math.log2(sizes[-1]) + 0.25) if len(sizes) > 1 else None)


def efficiency_figures(results: dict) -> list[dict]:
    figures = [
        {"feature": "throughput", "svg": throughput_chart(results),
         "caption": "Rows answered per second at each batch size (median batch latency). Larger batches share "
                    "fixed costs, until the device is saturated."},
        {"feature": "latency", "svg": latency_chart(results),
         "caption": "Median and 95th-percentile time to answer one batch: what a caller waits for."},
    ]
    return [f for f in figures if f["svg"]]
