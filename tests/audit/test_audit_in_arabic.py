"""The audit page in Arabic: every action, every kind of object, every recorded field and every
detail an action records is named in Arabic; what people typed is shown as typed."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from smsportal.audit import views
from smsportal.audit.labels import DETAILS
from smsportal.core import audit
from smsportal.core.models import Preference
from smsportal.departments.models import Department
from smsportal.providers.models import ProviderAccount
from tests.core.test_arabic_pages import user_content
from tests.factories import UserFactory
from tests.support.portal_data import populate
from tests.support.untranslated import english_words

pytestmark = pytest.mark.django_db

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
BRANDS = {"ID", "IP", "API", "URL"}  # said as they are in Arabic too


def test_every_action_kind_field_and_detail_of_the_page_is_in_arabic(client, sandbox_account):
    superuser = UserFactory(username="admin", is_superuser=True, is_staff=True)
    Preference.objects.create(user=superuser, language="ar")
    accounts = populate(sandbox_account, superuser)
    account = accounts["kwtsms"]
    account.is_active, account.max_parts = False, 4  # before → after, a yes/no among them
    account.save()
    Department.objects.get(name="Quota sales").members.add(UserFactory(username="sara"))
    details = {name: 3 for name in DETAILS} | {"what": "contacts", "filters": {"q": "ali"}}
    for event in audit.EVENTS:
        audit.record(event, account, actor=superuser, **details)
    for what in ("quota usage", "rejected rows of an import", "audit trail", "deliveries"):
        audit.record("exported", actor=superuser, what=what)
    client.force_login(superuser)

    page = client.get(reverse("audit:index"), {"action": ""}).content.decode()
    more = client.get(reverse("audit:index"), {"action": "changed"}).content.decode()

    assert '<html lang="ar" dir="rtl">' in page
    assert "أُضيف:" in page + more  # a department's new member
    assert "مخفي #" in page + more and "hidden #" not in page + more  # a secret's fingerprint
    assert "<bdi>لا</bdi>" in more and ">true<" not in more  # the account made inactive
    typed = user_content() | {"ali"}
    left = english_words(page, typed) + english_words(more, typed)
    assert left == [], "English left on the audit page in Arabic:\n" + "\n".join(left)


def test_every_recorded_field_has_its_name_in_arabic():
    """A field added to a recorded model without its words in audit/labels.py fails here."""
    missing = []
    with translation.override("ar"):
        for model in auditlog.get_models():
            entry = SimpleNamespace(content_type=ContentType.objects.get_for_model(model))
            for field in auditlog.get_model_fields(model)["include_fields"]:
                label = views._label(entry, field)
                if set(LATIN_WORD.findall(label)) - BRANDS:
                    missing.append(f"{model._meta.label}.{field}: {label}")
            kind = views.kind_name(entry.content_type)
            if set(LATIN_WORD.findall(kind)) - BRANDS:
                missing.append(f"{model._meta.label}: {kind}")
    assert missing == []


def test_the_page_in_english_is_unchanged(manager_client):
    account = ProviderAccount.objects.create(name="Main", kind="kwtsms", username="u")
    audit.record("token_rotated", account)
    page = manager_client.get(reverse("audit:index")).content.decode()
    assert "Rotated a callback token" in page and "Provider account" in page
    assert "Any action" in page and "Object type" in page
