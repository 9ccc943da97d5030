"""A user in no department: each page of their departments' rows says so once, with what to
do (ask a Manager), in place of the page's usual "nothing yet" and with no button to make
one; no page says it twice."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from smsportal.core.navigation import NAVIGATION
from smsportal.core.roles import MANAGER, OPERATOR
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOTICE = re.compile(r"in no department", re.IGNORECASE)
NOTHING_YET = re.compile(r"No [a-z ]+ yet\b")  # a page's usual empty state ("No lists yet.")

# The pages whose rows are a department's: each says why it is empty, and offers no button to
# make a row (name of the page -> the link it must not offer).
DEPARTMENT_PAGES = {
    "messaging:compose": None,
    "messaging:message_list": "messaging:compose",
    "message_templates:list": "message_templates:create",
    "recurring:list": "recurring:create",
    "contacts:contact_list": "contacts:contact_create",
    "contacts:list_list": "contacts:list_create",
    "quotas:list": "quotas:create",
}


def _loner(role):
    user = UserFactory(username="loner")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.parametrize("role", [OPERATOR, MANAGER])
def test_every_page_in_the_navigation_says_it_at_most_once_and_nothing_else_is_empty(
    client, role, account
):
    loner = _loner(role)
    client.force_login(loner)

    for _label, name, _icon, permission, _group in NAVIGATION:
        if permission and not loner.has_perm(permission):
            continue
        page = client.get(reverse(name))
        assert page.status_code == 200, name
        main = page.content.decode().split("<main", 1)[1]
        notices = len(NOTICE.findall(main))
        assert notices <= 1, f"{name} says {notices} times that the user is in no department"
        if notices:
            assert not NOTHING_YET.search(main), f"{name}: {NOTHING_YET.search(main).group()}"


@pytest.mark.parametrize("role", [OPERATOR, MANAGER])
def test_each_page_of_department_rows_says_why_it_is_empty_and_offers_no_button(
    client, role, account
):
    loner = _loner(role)
    client.force_login(loner)

    for name, create in DEPARTMENT_PAGES.items():
        main = client.get(reverse(name)).content.decode().split("<main", 1)[1]
        assert main.count('id="no-department"') == 1, name
        assert "ask a Manager" in main or "Ask a Manager" in main, name
        if create:
            assert f'href="{reverse(create)}"' not in main, f"{name} offers {create}"
