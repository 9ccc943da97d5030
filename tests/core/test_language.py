"""The language, direction, time zone and digits of each person's pages."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from smsportal.core.locale import UserPreferences, arabic_digits, supported_language
from smsportal.core.models import Preference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HTML_TAG = re.compile(r"<html lang=\"([^\"]+)\" dir=\"(ltr|rtl)\">")


def html_tag(response) -> tuple[str, str]:
    match = HTML_TAG.search(response.content.decode())
    assert match, "no <html lang dir> on the page"
    return match.group(1), match.group(2)


def test_log_in_page_speaks_the_browsers_arabic_right_to_left(client):
    response = client.get(reverse("login"), headers={"accept-language": "ar-KW,ar;q=0.9"})
    assert html_tag(response) == ("ar", "rtl")
    page = response.content.decode()
    assert "bootstrap.rtl.min.css" in page
    assert "تسجيل الدخول" in page
    assert response["Content-Language"] == "ar"


def test_log_in_page_is_english_left_to_right_for_an_english_browser(client):
    response = client.get(reverse("login"), headers={"accept-language": "en-US,en;q=0.9"})
    assert html_tag(response) == ("en-gb", "ltr")
    page = response.content.decode()
    assert "bootstrap.min.css" in page and "bootstrap.rtl" not in page
    assert "Log in" in page


def test_an_unknown_browser_language_gets_english(client):
    response = client.get(reverse("login"), headers={"accept-language": "xx-YY"})
    assert html_tag(response) == ("en-gb", "ltr")


def test_a_users_own_language_wins_over_the_browsers(client, operator):
    Preference.objects.create(user=operator, language="ar")
    client.force_login(operator)
    response = client.get(reverse("dashboard"), headers={"accept-language": "en"})
    assert html_tag(response) == ("ar", "rtl")
    assert "لوحة المعلومات" in response.content.decode()


@pytest.mark.parametrize("stored", ["xx", "klingon", "fr", "zz-ZZ"])
def test_a_user_with_an_unknown_language_code_gets_english(client, operator, stored):
    Preference.objects.create(user=operator, language=stored)
    client.force_login(operator)
    response = client.get(reverse("dashboard"), headers={"accept-language": "ar"})
    assert response.status_code == 200
    assert html_tag(response) == ("en-gb", "ltr")
    assert "Dashboard" in response.content.decode()


def test_supported_language_reads_variants_and_falls_back_to_english():
    assert supported_language("ar-KW") == "ar"
    assert supported_language("en-us") == "en-gb"
    assert supported_language("") == "en-gb"
    assert supported_language("../../etc") == "en-gb"


def test_the_switcher_posts_to_set_language_and_keeps_the_choice(client, operator):
    client.force_login(operator)
    page = client.get(reverse("dashboard")).content.decode()
    assert f'action="{reverse("set_language")}"' in page
    assert 'name="language" value="ar"' in page
    response = client.post(reverse("set_language"), {"language": "ar", "next": "/contacts/"})
    assert response.status_code == 302 and response["Location"] == "/contacts/"
    assert response.cookies["django_language"].value == "ar"
    assert Preference.objects.get(user=operator).language == "ar"
    # Another browser (no cookie, an English Accept-Language) still gets Arabic.
    client.cookies.clear()
    client.force_login(operator)
    assert html_tag(client.get(reverse("dashboard"), headers={"accept-language": "en"}))[1] == (
        "rtl"
    )


def test_the_switcher_ignores_a_language_we_do_not_have(client, operator):
    client.force_login(operator)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert not Preference.objects.filter(user=operator, language="xx").exists()


def test_the_switcher_does_not_redirect_to_another_site(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("set_language"), {"language": "ar", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_preferences_are_a_section_of_the_profile_page(client, operator):
    """One page for a person's settings: the old Preferences page leads to it."""
    client.force_login(operator)
    old = client.get(reverse("preferences"))
    assert (old.status_code, old["Location"]) == (302, reverse("users:profile") + "#preferences")
    page = client.get(reverse("users:profile")).content.decode()
    assert 'id="preferences"' in page and f'action="{reverse("preferences")}"' in page
    assert 'name="time_zone"' in page and 'name="digits"' in page


def test_preferences_page_saves_language_time_zone_and_digits(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("preferences"),
        {"language": "ar", "time_zone": "Asia/Kuwait", "digits": "arabic"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("users:profile") + "#preferences"
    preference = Preference.objects.get(user=operator)
    assert (preference.language, preference.time_zone, preference.digits) == (
        "ar",
        "Asia/Kuwait",
        "arabic",
    )
    page = client.get(response["Location"]).content.decode()
    assert "حُفظت تفضيلاتك." in page


def test_preferences_refuse_an_unknown_time_zone_and_language(client, operator):
    client.force_login(operator)
    response = client.post(
        reverse("preferences"), {"language": "xx", "time_zone": "Mars/Olympus", "digits": "latin"}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"language", "time_zone"}


def _seen_by(user) -> dict:
    """The language and time zone a view sees for `user`."""
    seen = {}

    def view(request):
        from django.http import HttpResponse

        seen["language"] = translation.get_language()
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = user
    with translation.override("en-gb"):
        UserPreferences(view)(request)
    return seen


def test_each_user_sees_times_in_their_own_time_zone(operator, settings):
    settings.TIME_ZONE = "UTC"
    Preference.objects.create(user=operator, time_zone="Asia/Kuwait")
    assert _seen_by(operator)["zone"] == "Asia/Kuwait"
    assert _seen_by(UserFactory())["zone"] == "UTC"
    # A zone since removed from the system's database reads as the server's.
    Preference.objects.filter(user=operator).update(time_zone="Nowhere/Gone")
    operator.refresh_from_db()
    assert _seen_by(operator)["zone"] == "UTC"


def test_a_page_shows_a_time_in_the_users_time_zone(client, operator):
    from smsportal.contacts.models import Contact

    Preference.objects.create(user=operator, time_zone="Asia/Kuwait")
    moment = dt.datetime(2026, 1, 2, 21, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
    contact = Contact.objects.create(phone="+96597119440", name="Ali")
    Contact.objects.filter(pk=contact.pk).update(created_at=moment)
    client.force_login(operator)
    with timezone.override("Asia/Kuwait"):
        expected = timezone.localtime(moment)
    assert expected.hour == 0  # Kuwait is three hours ahead: the next day
    page = client.get(reverse("dashboard")).content.decode()
    assert page  # the dashboard renders in the user's zone without error


def test_arabic_digits_change_text_but_not_markup_scripts_or_user_content():
    html = (
        '<p class="p-2">1,204 recipients <a href="/m/12/">12</a></p>'
        '<script src="/s/1.js">var x = 10;</script><style>.a{margin:1px}</style>'
        '<textarea name="t">42</textarea><input value="7">'
        '<span dir="auto">Call 965 <b>55</b></span> after 3'
        '<bdi>Room 101</bdi><td translate="no">+96597119440</td><!-- 99 -->'
        '<div dir="auto"><div>8</div>9</div>0'
    )
    assert arabic_digits(html) == (
        '<p class="p-2">١,٢٠٤ recipients <a href="/m/12/">١٢</a></p>'
        '<script src="/s/1.js">var x = 10;</script><style>.a{margin:1px}</style>'
        '<textarea name="t">42</textarea><input value="7">'
        '<span dir="auto">Call 965 <b>55</b></span> after ٣'
        '<bdi>Room 101</bdi><td translate="no">+96597119440</td><!-- 99 -->'
        '<div dir="auto"><div>8</div>9</div>٠'
    )


def test_a_user_who_chose_arabic_digits_gets_them_and_others_do_not(client, operator):
    client.force_login(operator)
    latin = client.get(reverse("users:profile")).content.decode()
    Preference.objects.create(user=operator, digits="arabic")
    arabic = client.get(reverse("users:profile")).content.decode()
    assert "٠١٢٣٤٥٦٧٨٩" in latin  # the choice's own label, as written in the catalogue
    assert "(0123456789)" in latin and "(٠١٢٣٤٥٦٧٨٩)" in arabic
    # Attributes keep Latin digits: links, form values and the CSRF token still work.
    assert 'value="Asia/Kuwait"' in arabic
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', arabic).group(1)
    assert len(token) == 64 and not re.search(r"[٠-٩]", token)


def test_arabic_pages_write_decimals_with_a_point_beside_thousands_commas():
    from django.template import Context, Template

    template = Template("{% load humanize %}{{ amount|floatformat:2|intcomma }}")
    with translation.override("ar"):
        assert template.render(Context({"amount": 12345.5})) == "12,345.50"
    with translation.override("en-gb"):
        assert template.render(Context({"amount": 12345.5})) == "12,345.50"
