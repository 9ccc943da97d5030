"""What every request asks about its signed-in user (users/backends.py): the user, their
preferences and whether two-factor log-in is on in one query, their permissions in one more; read
afresh each request, so a change made anywhere applies to the very next one."""

from __future__ import annotations

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from smsportal.core.models import Preference
from smsportal.core.roles import OPERATOR
from smsportal.users import backends
from tests.factories import UserFactory
from tests.users.helpers import log_in_with_code, turn_on

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.users.floor_urls")]


def test_a_signed_in_request_reads_its_session_and_its_user_and_nothing_else(
    client, manager, django_assert_num_queries
):
    client.force_login(manager)
    with django_assert_num_queries(2):  # the session, the user with preference and two-factor
        assert client.get("/floor/").status_code == 200


def test_permissions_are_read_in_one_query(operator_client, django_assert_num_queries):
    with django_assert_num_queries(3):  # + the user's own and their groups' permissions
        assert operator_client.get("/floor/operators/").status_code == 200


def test_a_role_taken_away_applies_to_the_next_request(operator_client, operator):
    assert operator_client.get("/floor/operators/").status_code == 200
    operator.groups.remove(Group.objects.get(name=OPERATOR))

    assert operator_client.get("/floor/operators/").status_code == 403


def test_a_permission_granted_to_the_user_alone_counts(client):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="single")
    user.user_permissions.add(Permission.objects.get(codename="view_message"))
    client.force_login(user)

    assert client.get("/floor/operators/").status_code == 200
    assert backends.permissions_of(user) == {"messaging.view_message"}


def test_a_language_and_time_zone_chosen_apply_on_the_next_request(operator_client, operator):
    assert operator_client.get("/floor/").content == b"en-gb UTC"
    operator_client.post(
        reverse("preferences"), {"language": "ar", "time_zone": "Asia/Kuwait", "digits": "latin"}
    )
    assert operator_client.get("/floor/").content == b"ar Asia/Kuwait"

    # Changed elsewhere (another browser, the admin): this session follows at once.
    Preference.objects.filter(user=operator).update(language="en-gb", time_zone="")
    assert operator_client.get("/floor/").content == b"en-gb UTC"
    Preference.objects.filter(user=operator).delete()
    assert operator_client.get("/floor/", headers={"accept-language": "ar"}).content == (
        b"ar UTC"  # no preference: the browser's language again
    )


def test_two_factor_turned_on_elsewhere_logs_out_even_a_fragment(client, manager):
    client.force_login(manager)  # a browser left logged in before two-factor was turned on
    assert client.get("/floor/").status_code == 200
    turn_on(manager)  # in another browser

    response = client.get(reverse("messaging:compose"), HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_session_verified_by_a_code_goes_on(client, manager, django_assert_num_queries):
    device, _codes = turn_on(manager)
    log_in_with_code(client, manager, device)

    with django_assert_num_queries(3):  # + the device that verified the session
        assert client.get("/floor/").status_code == 200


def test_a_session_begun_with_djangos_backend_stays_signed_in(client, operator):
    client.force_login(operator, backend=backends.DJANGOS_PATH)

    assert client.get("/floor/operators/").status_code == 200
    assert client.session[BACKEND_SESSION_KEY] == backends.PATH


def test_the_compose_preview_asks_nothing_more_of_the_user(operator_client):
    """The live preview (posted on every keystroke): no separate query for the preference,
    the two-factor device or the permissions of the user's groups."""
    from tests.factories import ProviderAccountFactory

    account = ProviderAccountFactory(kind="kwtsms")
    data = {"account": account.pk, "recipients": "+96550000001", "text": "Hi", "action": "preview"}
    with CaptureQueriesContext(connection) as seen:
        answer = operator_client.post(reverse("messaging:compose"), data, HTTP_HX_REQUEST="true")

    assert answer.status_code == 200
    statements = [query["sql"] for query in seen.captured_queries]
    about_the_user = [s for s in statements if "core_preference" in s or "otp_totp" in s]
    assert len(about_the_user) == 1 and "auth_user" in about_the_user[0]
    assert sum("auth_permission" in s for s in statements) == 1
