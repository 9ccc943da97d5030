"""The portal's two roles, as Django groups, and the permissions each one holds.

Operators run day-to-day sending; Managers also hold the keys and the money (provider accounts,
sender IDs, credit transfers). Superusers use the Django admin. Views check these permissions,
never group names, so a site may grant a single permission to a single user.
"""

from __future__ import annotations

from django.apps import AppConfig, apps
from django.contrib.auth.models import Group, Permission

OPERATOR = "Operator"
MANAGER = "Manager"

# "app_label.*" grants every permission of an app; anything else is "app_label.codename"; a
# leading "-" takes one away again (patterns apply in order).
OPERATOR_PERMISSIONS = [
    "contacts.*",
    # An opt-out made by keyword (the person asked) or by a Manager is lifted by a Manager only.
    "-contacts.lift_any_optout",
    # Custom contact fields are the organisation's data model: Managers shape it.
    "-contacts.add_contactfield",
    "-contacts.change_contactfield",
    "-contacts.delete_contactfield",
    "messaging.view_message",
    "messaging.add_message",
    "messaging.change_message",
    "messaging.view_delivery",
    "messaging.view_inboundmessage",
    "messaging.change_inboundmessage",
    "providers.view_provideraccount",
    "senders.view_senderid",
    "credits.view_balancesnapshot",
    "credits.view_credittransfer",
    # A recurring send is a send: whoever sends may schedule, pause and change one.
    "recurring.*",
    # Operators use templates (pick them in Compose); Managers write them.
    "message_templates.view_messagetemplate",
    "api.*",  # their own API keys (a key acts with its owner's role, never more)
    "keywords.view_keywordrule",
    "keywords.view_confirmations",
    "keywords.view_autoreply",
    "forwarding.view_endpoint",
    "forwarding.view_attempt",
    # Operators see prices and routes (they send with "Automatic"); Managers set them.
    "routing.view_destinationprice",
    "routing.view_route",
    "quotas.view_quota",  # their departments' quotas and usage
]
MANAGER_PERMISSIONS = [
    *OPERATOR_PERMISSIONS,
    "contacts.lift_any_optout",
    "contacts.add_contactfield",
    "contacts.change_contactfield",
    "contacts.delete_contactfield",
    "message_templates.*",
    "providers.*",
    "senders.*",
    "credits.*",
    "messaging.*",
    "keywords.*",
    "forwarding.*",
    "routing.*",
    "quotas.*",
    "core.view_auditentry",  # the audit trail (read-only for everyone)
    "departments.*",  # create departments and put users in them
]
ROLE_PERMISSIONS = {OPERATOR: OPERATOR_PERMISSIONS, MANAGER: MANAGER_PERMISSIONS}


def permissions_for(patterns: list[str]) -> list[Permission]:
    """The Permission rows that `patterns` name; names of models not yet migrated are skipped."""
    found: dict[int, Permission] = {}
    for pattern in patterns:
        remove = pattern.startswith("-")
        app_label, codename = pattern.removeprefix("-").split(".", 1)
        query = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            query = query.filter(codename=codename)
        for perm in query:
            if remove:
                found.pop(perm.pk, None)
            else:
                found[perm.pk] = perm
    return list(found.values())


def sync_role_permissions(app_config=None, **kwargs) -> None:
    """Give each role group exactly the permissions ROLE_PERMISSIONS lists (post_migrate).

    post_migrate comes once for each app, each creating that app's permissions: the roles are
    set once, after the last app's (each test that empties the database sends it again)."""
    if app_config is not None and app_config is not last_app_with_models():
        return
    for name, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions_for(patterns))


def last_app_with_models() -> AppConfig:
    """The app whose post_migrate comes last (Django sends it to apps with models, in order)."""
    return [config for config in apps.get_app_configs() if config.models_module is not None][-1]
