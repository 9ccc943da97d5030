"""Form fields copied per instance without copy.deepcopy (core/field_copies.py): each copy is
what Django's deep copy gives, shares nothing mutable with the class's field, and any field or
widget Django's steps do not describe is still deep-copied."""

from __future__ import annotations

import copy
from unittest import mock

import pytest
from django import forms
from django.forms.widgets import ChoiceWidget
from django.utils.translation import gettext_lazy

from smsportal.core.field_copies import FieldCopies, copy_field, fields_copied_cheaply
from smsportal.departments.models import Department
from smsportal.messaging.forms import ComposeForm
from smsportal.providers.models import ProviderAccount


class Odd(forms.CharField):
    """A field with its own deep copy: left to copy.deepcopy."""

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result.odd_copy = True
        return result


FIELDS = {
    "text": forms.CharField(
        max_length=20, widget=forms.Textarea(attrs={"rows": 3}), validators=[lambda value: None]
    ),
    "kind": forms.ChoiceField(
        choices=[("a", gettext_lazy("A")), ("b", "B"), (3, "three")], widget=forms.RadioSelect
    ),
    "grouped": forms.ChoiceField(choices=[("Group", [("a", "A"), ("b", "B")]), ("c", "C")]),
    "account": forms.ModelChoiceField(ProviderAccount.objects.filter(is_active=True)),
    "departments": forms.ModelMultipleChoiceField(Department.objects.all()),
    "when": forms.SplitDateTimeField(),  # a MultiValueField: deep-copied
    "odd": Odd(),
}


def sql_of(queryset) -> str:
    return "nothing" if queryset.query.is_empty() else str(queryset.query)


def same_copy(made, django):
    """`made` is what Django's deep copy `django` is, attribute by attribute."""
    assert type(made) is type(django)
    assert made.__dict__.keys() == django.__dict__.keys()
    for name, value in django.__dict__.items():
        if name == "widget":
            assert type(made.widget) is type(value)
            assert made.widget.attrs == value.attrs
            if isinstance(value, ChoiceWidget) and isinstance(value.choices, list):
                assert made.widget.choices == value.choices
        elif name == "_queryset":
            assert sql_of(made._queryset) == sql_of(value)
        elif name == "fields":  # a MultiValueField's own fields, deep-copied
            assert [type(f) for f in getattr(made, name)] == [type(f) for f in value]
        else:
            assert getattr(made, name) == value, name


@pytest.mark.parametrize("name", FIELDS)
def test_a_field_is_copied_as_djangos_deep_copy_copies_it(name):
    field = FIELDS[name]
    made, django = copy_field(field, {}), copy.deepcopy(field)
    same_copy(made, django)
    # Nothing mutable is shared with the class's field.
    assert made is not field and made.widget is not field.widget
    assert made.widget.attrs is not field.widget.attrs
    assert made.error_messages is not field.error_messages
    assert made.validators is not field.validators
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        assert made._choices is not field._choices
        assert made.widget._choices is not field.widget._choices
    if isinstance(field, forms.ModelChoiceField):
        assert made.queryset is not field.queryset
        assert made.widget.choices.field is made  # the copy's choices are the copy's queryset


def test_a_change_to_a_copy_leaves_the_class_field_alone():
    field = FIELDS["kind"]
    made = copy_field(field, {})
    made.widget.attrs["class"] = "changed"
    made.error_messages["required"] = "changed"
    made.validators.append(len)
    made.choices = [("z", "Z")]
    assert "class" not in field.widget.attrs
    assert field.error_messages["required"] != "changed"
    assert field.validators == []
    assert [value for value, _label in field.choices] == ["a", "b", 3]
    assert [value for value, _label in field.widget.choices] == ["a", "b", 3]


def test_fields_django_does_not_describe_go_through_deepcopy():
    with mock.patch("smsportal.core.field_copies.copy.deepcopy", wraps=copy.deepcopy) as deep:
        copies = copy.deepcopy(FieldCopies(FIELDS))
        called_for = {id(call.args[0]) for call in deep.call_args_list}
    assert copies["odd"].odd_copy is True
    assert {id(FIELDS["odd"]), id(FIELDS["when"]), id(FIELDS["grouped"])} <= called_for
    assert id(FIELDS["text"]) not in called_for and id(FIELDS["account"]) not in called_for


def test_a_widget_two_fields_share_stays_shared_like_deepcopy_keeps_it():
    shared = {"a": forms.CharField(), "b": forms.CharField()}
    widget = shared["b"].widget = shared["a"].widget  # (a field's constructor copies its widget)
    copies = copy.deepcopy(FieldCopies(shared))
    assert copies["a"].widget is copies["b"].widget is not widget


def test_the_compose_form_gets_its_own_fields_each_time():
    assert isinstance(ComposeForm.base_fields, FieldCopies)
    first, second = ComposeForm(), ComposeForm()
    assert type(first.fields) is dict
    assert first.fields.keys() == ComposeForm.base_fields.keys()
    for name, field in first.fields.items():
        assert field is not second.fields[name] is not ComposeForm.base_fields[name]
        same_copy(field, copy.deepcopy(dict(ComposeForm.base_fields))[name])


def test_a_subclass_declaring_fields_gets_djangos_copy_again():
    @fields_copied_cheaply
    class Parent(forms.Form):
        text = forms.CharField()

    class Child(Parent):
        more = forms.CharField()

    assert isinstance(Parent.base_fields, FieldCopies)
    assert type(Child.base_fields) is dict
    assert Child().fields.keys() == {"text", "more"}
