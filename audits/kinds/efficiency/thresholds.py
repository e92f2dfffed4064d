"""The efficiency audit's defaults: no budgets (the audit is informational evidence until a
policy sets some) and the example price table its costs are computed from.

Budgets a compliance officer may set in a policy (admin -> policy -> audit_requirements):

    "efficiency": {"thresholds": {
        "p95_latency_ms_batch1": {"max": 20},      # p95 latency of one row alone, milliseconds
        "cost_per_million": {"max": 0.50},         # at the batch size the policy names (default 1)
        "peak_memory_mib": {"max": 2048}},         # the largest peak over the batch sizes measured
     "price_table": {...}}                         # optional: replaces PRICE_TABLE below

A budget check passes when the measured figure is within it and fails otherwise; a figure this
worker could not measure leaves its check inconclusive. Latency is judged on its point value
(the p95 itself already describes the slow tail); the median's interval is shown beside it.

PRICE_TABLE: device kind -> price per hour of the device running the model, and the grid's
carbon intensity. The figures are *examples*, to be replaced with the organisation's own
contract prices and supplier's grid factor:
- cpu: AWS EC2 c6i.xlarge (4 vCPU, Linux, on-demand, us-east-1) at USD 0.17 per hour, as listed
  on aws.amazon.com/ec2/pricing/on-demand in 2024;
- cuda: AWS EC2 g5.xlarge (one NVIDIA A10G) at USD 1.006 per hour, same source and date;
- 475 g CO2e per kWh: the world average carbon intensity of electricity generation reported by
  the IEA (Global Energy & CO2 Status Report 2019).
Every report states the table it used, with its date and source.
"""

PRICE_TABLE = {
    "currency": "USD",
    "as_of": "2024-06",
    "source": "examples: AWS EC2 on-demand list prices, us-east-1 (aws.amazon.com/ec2/pricing/on-demand); "
              "IEA Global Energy & CO2 Status Report 2019 (world average grid intensity)",
    "devices": {
        "cpu": {"per_hour": 0.17, "what": "AWS c6i.xlarge, 4 vCPU"},
        "cuda": {"per_hour": 1.006, "what": "AWS g5.xlarge, 1x NVIDIA A10G"},
    },
    "grams_co2e_per_kwh": 475.0,
}

# Policy metrics and the results figure each reads (runner.py).
BUDGET_METRICS = ("p95_latency_ms_batch1", "cost_per_million", "peak_memory_mib")

# No tier sets budgets by default: without them the audit records, it does not decide.
THRESHOLDS = {"low": {}, "medium": {}, "high": {}}
