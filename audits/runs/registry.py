"""The audit kinds a run can be: each kind registers here when Django starts.

A kind lives in one folder, audits/kinds/<kind>/ (probe, runner, controls, thresholds,
figures, templates, words), and one line of audits/kinds/registry.py; the kinds app hands
each `AuditKind` to `register`. The runs app (below the kinds) starts and finishes runs
through this table only, so it never names a kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module

from training.quantization import is_quantized

UNKNOWN_KIND = "kind must be one of: {kinds}."
WRONG_FORMAT = ("The {label} audit needs a {needs} model ({why}); version {version} is a {fmt} model. "
                "Audits that take it: {others}.")
FORMAT_NAMES = {"safetensors": "torch (safetensors + spec)", "skops": "scikit-learn (skops)"}


@dataclass(frozen=True)
class AuditKind:
    name: str
    label: str
    queue: str  # "gpu" for torch-heavy work, "cpu" for the rest
    # Dotted path to run(*, run, progress) -> RunOutcome; imported when a run starts, so pages never import torch.
    runner: str
    description: str
    defaults: dict = field(default_factory=dict)
    # {name: Param} (audits/runs/params.py): every parameter's type, bounds and whether the policy
    # decides it; a request is checked against it before a row is written.
    params: dict = field(default_factory=dict)
    # The key of the policy's audit_requirements[kind] that carries its parameters (drift: its "rule").
    policy_params_key: str = "params"
    # {name: value}: the floor of a verdict-deciding parameter when the policy sets none, for kinds
    # whose defaults are null and resolved when the run starts (drift: its default rule).
    params_floor: dict = field(default_factory=dict)
    # effective params -> (param name, message) when they break a rule between parameters, or None.
    params_check: Callable[[dict], tuple[str, str] | None] | None = None
    # {framework: [control ref, ...]}: the controls this kind's evidence speaks to, the first AI RMF ref first.
    controls: dict = field(default_factory=dict)
    # results -> [{"svg", "caption", "feature", ...}]: charts drawn from stored numbers when a page or report renders.
    figures: Callable[[dict], list[dict]] | None = None
    # results -> extra context for the results template (beyond the run and its figures).
    page_context: Callable[[dict], dict] | None = None
    results_template: str | None = None  # the run page's results section
    report_template: str | None = None  # the signed report's section (else the generic one)
    urls: str | None = None  # dotted path to the kind's own pages and API (audits/kinds/urls.py includes it)
    # The roles that look at this kind's results first when they decide an approval (the inbox).
    reviewers: tuple = ()
    # Charted over time on the system page (and said so when it never ran).
    watched: bool = False
    # results -> {metric: number}: the headline numbers of a run for the over-time chart, for kinds
    # whose history is read from stored results rather than from their policy checks.
    history_points: Callable[[dict], dict] | None = None
    history_limits: dict = field(default_factory=dict)  # metric -> how to read it, under the chart
    # results -> the headline numbers exports show (model cards, OSCAL); None: the stored results.
    headline: Callable[[dict], dict] | None = None
    # Offered by the guided wizard as a first audit (a drift review needs production batches, and
    # DP retraining is a remedy that makes a new version).
    in_wizard: bool = True
    # The artifact formats the kind can audit, and why when it is not all of them: a version of
    # another format is refused when the run is requested, and the wizard does not offer it.
    formats: tuple = ("safetensors", "skops")
    formats_why: str = ""
    # {evidence kind: (label, {framework: [ref, ...]})}: evidence a run of this kind also writes on
    # controls outside its own, with its own outcome (RunOutcome.further), because one outcome for
    # all controls would read an untested explanation as a fairness failure, or the reverse.
    further_controls: dict = field(default_factory=dict)
    # Why the kind cannot audit an int8 copy (training/quantization.py: no gradients, CPU kernels
    # only), or "" when it can: such a version is refused when the run is requested.
    quantized_why: str = ""

    def load_runner(self):
        module, func = self.runner.rsplit(".", 1)
        return getattr(import_module(module), func)

    @property
    def defining_control(self) -> str:
        """The AI RMF subcategory the kind speaks to first (fairness: MEASURE 2.11). When a
        compliance officer marks it "not applicable" for a system, with a reason, a policy's
        requirement of this audit is waived for that system (governance/gate/)."""
        return self.controls["ai-rmf"][0]

    def refusal(self, version) -> str | None:
        """Why this kind cannot audit `version` (its artifact format, or an int8 copy), or None when it can."""
        if self.quantized_why and is_quantized(version.spec):
            parent = getattr(version.parent, "version", None)
            return QUANTIZED.format(label=self.label, version=version.version, why=self.quantized_why,
                                    parent=f" its float parent {parent}" if parent else " the float model")
        if version.artifact_format in self.formats:
            return None
        others = [k.label for k in KINDS.values() if version.artifact_format in k.formats]
        return WRONG_FORMAT.format(label=self.label, needs=" or ".join(FORMAT_NAMES.get(f, f) for f in self.formats),
                                   why=self.formats_why, version=version.version,
                                   fmt=FORMAT_NAMES.get(version.artifact_format, version.artifact_format),
                                   others=", ".join(others) or "none")

    def figures_for(self, results: dict) -> list[dict]:
        return self.figures(results or {}) if self.figures else []


QUANTIZED = ("{label} cannot audit {version}: it is an int8 copy, and {why}. Audit{parent} instead: the int8 "
             "weights are derived from its weights exactly.")

KINDS: dict[str, AuditKind] = {}


def register(kind: AuditKind) -> None:
    if KINDS.get(kind.name, kind) != kind:
        raise ValueError(f"audit kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
