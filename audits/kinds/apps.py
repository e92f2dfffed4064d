from django.apps import AppConfig

from functools import partial

from audits.kinds.registry import KINDS
from audits.runs.params import params_policy_problem
from audits.runs import registry as runs
from governance.catalog.controls import register_controls
from governance.core import glossary
from governance.policies import defaults as policies


class KindsConfig(AppConfig):
    name = "audits.kinds"
    label = "kinds"
    verbose_name = "Audit kinds"

    def ready(self):
        """Each kind registers with the runs table, the evidence map, the glossary and the policies'
        defaults, which sit below it and never import it (docs/architecture.md, "hooks")."""
        for module in KINDS:
            kind, words = module.KIND, module.words
            runs.register(kind)
            register_controls(kind.name, kind.controls)
            for evidence_kind, (label, controls) in kind.further_controls.items():
                register_controls(evidence_kind, controls)
                glossary.register_label(evidence_kind, label)
            glossary.register_kind(kind.name, label=kind.label, audit=words.AUDIT, metrics=words.METRICS,
                                   aliases=getattr(words, "ALIASES", None),
                                   kind_metrics=getattr(words, "KIND_METRICS", None),
                                   outcomes=getattr(words, "OUTCOMES", None))
            policies.register_kind(kind.name, required=getattr(module, "REQUIRED", None),
                                   thresholds=getattr(module, "THRESHOLDS", None),
                                   params=getattr(module, "PARAMS", None), params_key=kind.policy_params_key,
                                   params_check=partial(params_policy_problem, kind.params))
