"""DRF's browsable API, under a policy that lets its own templates' style attributes apply.

The site's Content-Security-Policy applies no style attribute (governance/settings.py); DRF's
templates hide their forms and modals with `style="display: none"`, which would then show.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers

BROWSABLE_API_CSP = {"style-src-attr": [UNSAFE_INLINE]}


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            # django-csp's middleware reads this, as its @csp_replace decorator would set it (replaced:
            # 'none' beside another source is not a policy).
            response._csp_replace = {**(getattr(response, "_csp_replace", None) or {}), **BROWSABLE_API_CSP}
        return super().render(data, accepted_media_type, renderer_context)
