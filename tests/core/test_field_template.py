"""`_field.html`, the one way a form field is drawn: lists of choices as Bootstrap checks."""

from __future__ import annotations

from django import forms
from django.template.loader import render_to_string


class Days(forms.Form):
    days = forms.MultipleChoiceField(
        label="On",
        choices=[("0", "Monday"), ("1", "Tuesday")],
        widget=forms.CheckboxSelectMultiple,
    )
    kind = forms.ChoiceField(
        choices=[("text", "Text"), ("flash", "Flash")], widget=forms.RadioSelect
    )


def test_checkbox_and_radio_lists_are_drawn_as_checks_not_text_boxes():
    form = Days(data={"days": ["1"], "kind": "flash"})
    days = render_to_string("_field.html", {"field": form["days"]})
    kind = render_to_string("_field.html", {"field": form["kind"]})

    assert "form-control" not in days + kind
    assert days.count('class="form-check-input"') == 2
    assert '<legend class="form-label fs-6 mb-1">On</legend>' in days
    assert 'value="1" id="id_days_1" class="form-check-input" checked>' in days
    assert '<label class="form-check-label" for="id_days_0">Monday</label>' in days
    assert 'value="flash" id="id_kind_1" required class="form-check-input" checked>' in kind


def test_a_list_with_an_error_is_marked_invalid():
    form = Days(data={"kind": "flash"})
    form.is_valid()
    days = render_to_string("_field.html", {"field": form["days"]})
    assert days.count('class="form-check-input is-invalid"') == 2
    assert "This field is required." in days
