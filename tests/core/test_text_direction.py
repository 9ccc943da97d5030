"""Where staff type an SMS's text, the box takes the direction of what is typed (`dir="auto"`):
on an Arabic page an English text keeps its punctuation where it was typed ("Hello {city}!",
not "!Hello {city}"), and an Arabic one on an English page reads right to left."""

from __future__ import annotations

import pytest

from smsportal.message_templates.forms import MessageTemplateForm
from smsportal.messaging.forms import ComposeForm
from smsportal.messaging.models import Message
from smsportal.messaging.views.messages import RescheduleForm
from smsportal.recurring.forms import RecurringSendForm
from smsportal.routing.forms import DryRunForm
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (ComposeForm, "text"),
        (MessageTemplateForm, "text"),
        (RecurringSendForm, "text"),
        (RescheduleForm, "body"),
        (DryRunForm, "text"),
    ],
)
def test_an_sms_text_box_follows_the_direction_of_its_text(form, field, operator):
    if form is MessageTemplateForm:
        made = form(user=operator)
    elif form is RescheduleForm:  # the change of one scheduled message
        made = form(message=Message(account=ProviderAccountFactory(kind="kwtsms")))
    else:
        made = form()
    assert 'dir="auto"' in str(made[field])


def test_composes_text_box_reads_as_typed_on_an_arabic_page(operator_client):
    page = operator_client.get("/messages/compose/", headers={"Accept-Language": "ar"})
    box = page.content.decode().split('<textarea name="text"')[1].split(">")[0]

    assert 'dir="auto"' in box
