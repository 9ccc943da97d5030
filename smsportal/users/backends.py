"""Logging in with a username and password, and the signed-in user loaded for each request.

Django's ModelBackend, with what every request asks about its user read in fewer queries, and
read afresh on every request (nothing is kept in the session, so a change applies to the very
next request, in every browser the person is signed in with):

- the user, their preferences (language, time zone, digits: core.locale.UserPreferences) and
  whether they have two-factor log-in on (users.middleware.TwoFactorMiddleware), in one query
  instead of three;
- their permissions, their own and their groups', in one query instead of two (`has_perm`).
"""

from __future__ import annotations

from django.contrib.auth import BACKEND_SESSION_KEY, get_user_model
from django.contrib.auth import backends as auth_backends
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsportal.core.prepared import Prepared

PATH = "smsportal.users.backends.ModelBackend"
# What sessions begun before this backend name as theirs (see carry_over).
DJANGOS_PATH = "django.contrib.auth.backends.ModelBackend"


def user_with_preference(user_id: int):
    """The user, their preference row joined and `two_factor_on` annotated (a queryset)."""
    users = get_user_model()._default_manager.select_related("preference")
    return users.annotate(two_factor_on=confirmed_app_exists()).filter(pk=user_id)


# Asked on every request: its SQL compiled once (core/prepared.py), the row read every time.
_session_user = Prepared(user_with_preference, int)


class ModelBackend(auth_backends.ModelBackend):
    def get_user(self, user_id):
        """The user for a session, their preference row joined (None cached when they have
        none) and `two_factor_on` set: whether a confirmed authenticator app is theirs now."""
        found = _session_user(user_id)
        if not found:
            return None
        user = found[0]
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        if (
            obj is None
            and user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser  # has_perm never asks; Django's lists every one
            and not hasattr(user_obj, "_perm_cache")
        ):
            user_obj._perm_cache = permissions_of(user_obj)
        return super().get_all_permissions(user_obj, obj)


def confirmed_app_exists() -> RawSQL:
    """Whether the user of the row has a confirmed authenticator app, as SQL written out: the
    same `EXISTS` as `Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))`,
    which took longer to compile than the rest of the user's query (on every request)."""
    quote = connection.ops.quote_name
    devices, user_field = TOTPDevice._meta, TOTPDevice._meta.get_field("user")
    # Names from the models' own metadata, nothing from a request.
    sql = (
        f"EXISTS (SELECT 1 FROM {quote(devices.db_table)} AS device "  # noqa: S608
        f"WHERE device.{quote(user_field.column)} = "
        f"{quote(get_user_model()._meta.db_table)}.{quote(user_field.target_field.column)} "
        f"AND device.{quote(devices.get_field('confirmed').column)})"
    )
    return RawSQL(sql, (), output_field=BooleanField())  # noqa: S611


def permission_rows(user_id: int):
    """(app label, codename) of the user's own permissions and their groups', one query."""
    fields = ("content_type__app_label", "codename")
    own = Permission.objects.filter(user=user_id).values_list(*fields).order_by()
    groups = Permission.objects.filter(group__user=user_id).values_list(*fields).order_by()
    return own.union(groups)


# Asked on every request of a user who is not a superuser (has_perm): compiled once, read afresh.
_permission_rows = Prepared(permission_rows, int)


def permissions_of(user) -> set[str]:
    """`app_label.codename` of every permission the user holds, their own and their groups',
    in one query (ModelBackend asks two)."""
    return {f"{app}.{codename}" for app, codename in _permission_rows(user.pk)}


def carry_over(session) -> None:
    """A session begun before this backend names Django's ModelBackend: name this one instead,
    which finds the same users by the same password hash, so nobody is logged out by the
    change. (Django accepts a session only from a backend still in AUTHENTICATION_BACKENDS.)"""
    if session.get(BACKEND_SESSION_KEY) == DJANGOS_PATH:
        session[BACKEND_SESSION_KEY] = PATH
