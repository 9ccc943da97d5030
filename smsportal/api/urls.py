"""/api/v1/… for other systems (API keys; never the portal's log-in), /api/schema/ and the docs.

The API's views answer with problem details themselves, so the portal's log-in redirect
(LoginRequiredMiddleware) is switched off for them: an API client gets 401, not a log-in page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path, re_path

from .views import messages
from .views.docs import RedocView, SchemaView, SwaggerView
from .views.fallback import unknown_endpoint


def api(view_class):
    return login_not_required(view_class.as_view())


urlpatterns = [
    path("v1/messages", api(messages.MessageListView), name="api-messages"),
    path("v1/messages/<int:pk>", api(messages.MessageDetailView), name="api-message"),
    path("v1/messages/<int:pk>/deliveries", api(messages.DeliveryListView), name="api-deliveries"),
    path("v1/messages/<int:pk>/cancel", api(messages.MessageCancelView), name="api-message-cancel"),
    re_path(r"^v1/", login_not_required(unknown_endpoint)),
    path("schema/", login_not_required(SchemaView.as_view()), name="api-schema"),
    # DRF marks its views login-not-required; staff reading the docs are sent to log in.
    path("docs/", login_required(SwaggerView.as_view()), name="api-docs"),
    path("redoc/", login_required(RedocView.as_view()), name="api-redoc"),
]
