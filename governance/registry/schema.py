"""How the OpenAPI schema describes the pipeline tokens (drf-spectacular finds extensions by import)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class PipelineTokenScheme(OpenApiAuthenticationExtension):
    # Without it the gate, batch, rollback and risk-acceptance endpoints are documented as taking
    # no credentials at all, and a client generated from the schema cannot call them.
    target_class = "governance.registry.tokens.PipelineTokenAuthentication"
    name = "pipelineToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": 'A scoped pipeline token: "Token gov_..." (manage.py create_pipeline_token).'}
