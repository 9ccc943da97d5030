"""/api/v1/… for other systems (API keys; never the portal's log-in), /api/schema/ and the docs.

The API's views answer with problem details themselves, so the portal's log-in redirect
(LoginRequiredMiddleware) is switched off for them: an API client gets 401, not a log-in page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path, re_path

from .views import contacts, imports, messages, reads
from .views.docs import RedocView, SchemaView, SwaggerView
from .views.fallback import unknown_endpoint


def api(view_class):
    return login_not_required(view_class.as_view())


urlpatterns = [
    path("v1/messages", api(messages.MessageListView), name="api-messages"),
    path("v1/messages/<int:pk>", api(messages.MessageDetailView), name="api-message"),
    path("v1/messages/<int:pk>/deliveries", api(messages.DeliveryListView), name="api-deliveries"),
    path("v1/messages/<int:pk>/cancel", api(messages.MessageCancelView), name="api-message-cancel"),
    path("v1/accounts", api(reads.AccountListView), name="api-accounts"),
    path("v1/sender-ids", api(reads.SenderListView), name="api-sender-ids"),
    path("v1/inbox", api(reads.InboxView), name="api-inbox"),
    path("v1/preview", api(reads.PreviewView), name="api-preview"),
    path("v1/contacts", api(contacts.ContactListView), name="api-contacts"),
    path("v1/contacts/<int:pk>", api(contacts.ContactDetailView), name="api-contact"),
    path("v1/lists", api(contacts.ListListView), name="api-lists"),
    path("v1/lists/<int:pk>", api(contacts.ListDetailView), name="api-list"),
    path("v1/lists/<int:pk>/members", api(contacts.ListMembersView), name="api-list-members"),
    path(
        "v1/lists/<int:pk>/members/<int:contact_id>",
        api(contacts.ListMemberView),
        name="api-list-member",
    ),
    path("v1/opt-outs", api(contacts.OptOutListView), name="api-opt-outs"),
    path("v1/opt-outs/<int:pk>", api(contacts.OptOutDetailView), name="api-opt-out"),
    path("v1/imports", api(imports.ImportListView), name="api-imports"),
    path("v1/imports/<int:pk>", api(imports.ImportDetailView), name="api-import"),
    re_path(r"^v1/", login_not_required(unknown_endpoint)),
    path("schema/", login_not_required(SchemaView.as_view()), name="api-schema"),
    # DRF marks its views login-not-required; staff reading the docs are sent to log in.
    path("docs/", login_required(SwaggerView.as_view()), name="api-docs"),
    path("redoc/", login_required(RedocView.as_view()), name="api-redoc"),
]
