"""Keyword rules are the organisation's (each account's), but a list is its department's
(docs/departments.md): the Keywords page names and links only the lists the person may see, a
rule's form offers only their own, and a list action another department set stays as it was."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from smsportal.contacts.models import ContactList
from smsportal.core.roles import MANAGER, OPERATOR
from smsportal.departments.models import Department
from smsportal.keywords.models import AutoReply, KeywordRule
from smsportal.messaging.inbound import receive
from smsportal.providers.backends.base import InboundSMS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HIDDEN = "a list of another department"


def _member(username: str, role: str, department: Department):
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    department.members.add(user)
    return user


@pytest.fixture
def world(account):
    alpha = Department.objects.create(name="Alpha")
    bravo = Department.objects.create(name="Bravo")
    zulu = ContactList.objects.create(name="Zulu list", department=bravo)
    news = ContactList.objects.create(name="Bravo news", department=bravo, shared=True)
    rule = KeywordRule.objects.create(
        account=account, keyword="JOIN", add_to_list=zulu, remove_from_list=news
    )
    return {
        "alpha": alpha,
        "zulu": zulu,
        "news": news,
        "rule": rule,
        "alpha_list": ContactList.objects.create(name="Alpha list", department=alpha),
        "alice": _member("alice", OPERATOR, alpha),
        "bob": _member("bob", OPERATOR, bravo),
        "manager": _member("alpha-manager", MANAGER, alpha),
    }


def _page_as(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("keywords:list")).content.decode()


def test_the_rules_name_only_the_lists_the_person_may_see(client, world, admin_user):
    page = _page_as(client, world["alice"])

    assert "Zulu list" not in page
    assert world["zulu"].get_absolute_url() not in page
    assert HIDDEN in page
    assert "Bravo news" in page  # shared: every department sees it
    for insider in (world["bob"], admin_user):
        page = _page_as(client, insider)
        assert "Zulu list" in page and world["zulu"].get_absolute_url() in page
        assert HIDDEN not in page


def test_a_reply_names_only_the_lists_the_person_may_see(
    client, world, account, admin_user, django_capture_on_commit_callbacks
):
    """A number nobody wrote to is everyone's thread, so every department sees its reply."""
    with django_capture_on_commit_callbacks(execute=True):
        receive(account, InboundSMS(sender="+96597119440", recipient="", text="JOIN", raw={}))
    assert AutoReply.objects.get().notes[0] == {"code": "added_to", "list": "Zulu list"}

    page = _page_as(client, world["alice"])
    assert "+96597119440" in page
    assert "Zulu list" not in page
    assert f"added to {HIDDEN}" in page
    assert "was not on <bdi>Bravo news</bdi>" in page
    for insider in (world["bob"], admin_user):
        assert "added to <bdi>Zulu list</bdi>" in _page_as(client, insider)


def _posted(rule: KeywordRule, **changes) -> dict:
    data = {
        "account": rule.account_id,
        "keyword": rule.keyword,
        "match": rule.match,
        "reply": rule.reply,
        "add_to_list": rule.add_to_list_id or "",
        "remove_from_list": rule.remove_from_list_id or "",
        "forward_to": rule.forward_to,
        "is_active": "on",
    }
    return data | changes


def test_editing_keeps_another_departments_list_and_offers_only_ones_own(client, world):
    rule, alpha_list = world["rule"], world["alpha_list"]
    client.force_login(world["manager"])
    edit = reverse("keywords:rule_edit", args=[rule.pk])

    form = client.get(edit).content.decode()
    assert "Zulu list" not in form
    assert HIDDEN in form and "Bravo news" in form
    answer = client.post(
        edit,
        _posted(rule, reply="Welcome", add_to_list=alpha_list.pk, remove_from_list=alpha_list.pk),
    )

    assert answer.status_code == 302
    rule.refresh_from_db()
    assert rule.reply == "Welcome"
    assert (rule.add_to_list, rule.remove_from_list) == (world["zulu"], world["news"])


def test_a_new_rule_cannot_point_at_another_departments_list(client, world):
    client.force_login(world["manager"])
    for other in (world["zulu"], world["news"]):
        data = _posted(world["rule"], keyword="NEW", add_to_list=other.pk, remove_from_list="")

        answer = client.post(reverse("keywords:rule_create"), data)

        assert answer.status_code == 200
        assert "add_to_list" in answer.context["form"].errors
    assert not KeywordRule.objects.filter(keyword="NEW").exists()
