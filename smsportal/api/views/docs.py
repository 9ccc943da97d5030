"""The schema (/api/schema/) and its two readers, Swagger UI (/api/docs/) and Redoc
(/api/redoc/), served from drf-spectacular-sidecar's static files: nothing from a CDN.

Both pages run under the portal's Content-Security-Policy with no inline script (our templates
load Swagger UI's start-up script from the split view's own URL). Redoc writes its styles into
<style> elements (styled-components) and starts a worker from a blob: URL, so its page alone
adds those two sources; nothing else is widened, and only on that page.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.utils.decorators import method_decorator
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated

from ..authentication import ApiKeyAuthentication

# Staff read the docs logged in to the portal; other systems may fetch the schema with a key.
DOC_AUTH = [SessionAuthentication, ApiKeyAuthentication]


class SchemaView(SpectacularAPIView):
    authentication_classes = DOC_AUTH
    permission_classes = [IsAuthenticated]


class SwaggerView(SpectacularSwaggerSplitView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    template_name = "api/swagger_ui.html"
    url_name = "api-schema"
    title = "SMS Portal API"


REDOC_CSP = {"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}


@method_decorator(csp_update(REDOC_CSP), name="dispatch")
class RedocView(SpectacularRedocView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    template_name = "api/redoc.html"
    url_name = "api-schema"
    title = "SMS Portal API"
