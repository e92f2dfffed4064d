"""The efficiency audit in plain words: what it and its metrics measure, why they matter,
what to do when one misses the policy (governance/core/glossary.py explains the shape)."""

from governance.core.glossary import Term as T

AUDIT = T(
    "Efficiency and cost",
    "How fast the model answers, how much it answers per second, the memory and energy it uses, and what a "
    "million answers cost, on the machine that runs it.",
    "Running a model costs money, energy and hardware; AI RMF MEASURE 2.12 asks for its environmental impact "
    "and MAP 3.2 / MANAGE 2.1 for its costs and resources.",
    "Batch requests, move to a cheaper device, or make the model smaller (quantization, distillation); audit again.",
)

METRICS = {
    "p95_latency": T(
        "p95 latency",
        "The time within which 95 of every 100 requests are answered; only 1 in 20 waits longer.",
        "Users notice the slow answers, not the average; p95 shows how slow the slow ones are.",
        "Serve on a faster device, make the model smaller (quantization, distillation), or cut work per request.",
    ),
    "throughput": T(
        "Throughput",
        "How many predictions the model makes per second, at a given batch size.",
        "Throughput decides how many machines a workload needs, and so its cost and energy.",
        "Batch requests together, or use a device that is faster at the batch sizes you serve.",
    ),
    "quantization": T(
        "Quantization",
        "Storing a model's numbers with fewer bits (here 8-bit integers instead of 32-bit floats) on a copy.",
        "A quantized model is smaller and often faster and cheaper, usually at a small cost in accuracy.",
        "Check the accuracy change (and fairness) on the evaluation data before registering the smaller copy.",
    ),
    "distillation": T(
        "Distillation",
        "Training a smaller 'student' model to imitate a larger 'teacher' model's answers.",
        "A student can be much cheaper to run while keeping most of the teacher's accuracy.",
        "Compare the student's accuracy and fairness with the teacher's before using it.",
    ),
    "p95_latency_ms_batch1": T(
        "p95 latency of one request (ms)",
        "The time, in milliseconds, within which 95 of 100 single-row requests are answered.",
        "A budget on it keeps interactive use responsive.",
        "Serve on a faster device or make the model smaller; audit again.",
    ),
    "cost_per_million": T(
        "Cost per million predictions",
        "The price of the device time a million predictions take, from the price table the report names.",
        "It turns speed into money, so options (CPU or GPU, batching, a smaller model) can be compared.",
        "Batch requests, use a cheaper device, or make the model smaller; audit again.",
    ),
    "peak_memory_mib": T(
        "Peak memory (MiB)",
        "The most memory the model used while answering, over the batch sizes measured.",
        "Memory decides which machines can run the model and how many copies fit on one.",
        "Use smaller batches, or make the model smaller (quantization, distillation).",
    ),
}

ALIASES = {"rows_per_s": "throughput", "p95": "p95_latency"}

LABEL = "Efficiency and cost"
