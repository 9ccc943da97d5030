"""A form's fields copied for each instance the way Django copies them, minus `copy.deepcopy`.

Django gives every form instance its own fields: `BaseForm.__init__` runs
`copy.deepcopy(self.base_fields)`, and each field's `__deepcopy__` does little (a shallow copy
of the field and its widget, a new dict of attributes, error messages and validators, a new list
of choices, a new queryset). But it does it through `copy`'s generic machinery —
`__reduce_ex__`, `_reconstruct`, a memo lookup per object, and a deep copy of every choice and
its lazily translated label — which made the copy of the compose form's 12 fields about 0.5 ms
of every live preview (the form is built on each keystroke), a tenth of the request's floor.

`fields_copied_cheaply(FormClass)` keeps Django's semantics and does the same steps directly
for the field and widget classes whose `__deepcopy__` is one of Django's own (listed below);
a field or widget of any other class (its own `__deepcopy__`, `__copy__` or pickling hooks, a
MultiValueField) is copied by `copy.deepcopy` exactly as before. The copies share nothing
mutable with the class's fields: `tests/core/test_field_copies.py` compares them with Django's.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import TypeVar

from django import forms
from django.forms import fields as django_fields
from django.forms import models as django_models
from django.forms import widgets as django_widgets
from django.utils.functional import Promise

# Django's own __deepcopy__ of fields and widgets that this module knows how to do directly.
_FIELD_COPIES = {
    django_fields.Field.__deepcopy__: "field",
    django_fields.ChoiceField.__deepcopy__: "choice",
    django_models.ModelChoiceField.__deepcopy__: "model_choice",
}
_WIDGET_COPIES = {
    django_widgets.Widget.__deepcopy__: "widget",
    django_widgets.ChoiceWidget.__deepcopy__: "choice_widget",
}


@cache
def _copied_plainly(cls: type) -> bool:
    """Whether `copy.copy` of an instance of `cls` is "a new instance with the same __dict__":
    no hooks of its own for copying or pickling, no slots."""
    return (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and getattr(cls, "__getstate__", object.__getstate__) is object.__getstate__
        and not hasattr(cls, "__setstate__")
        and not hasattr(cls, "__copy__")
        and all("__slots__" not in vars(base) for base in cls.__mro__)
    )


def _shallow(obj):
    """`copy.copy(obj)` for an object `_copied_plainly`."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def _is_flat(choices) -> bool:
    """A list of (value, label) pairs of strings, numbers or lazy strings (no groups): what
    `copy.deepcopy` would give back as a new list holding the very same pairs."""
    return type(choices) is list and all(
        type(choice) is tuple
        and len(choice) == 2
        and all(item is None or isinstance(item, (str, int, float, Promise)) for item in choice)
        for choice in choices
    )


def _copy_widget(widget, memo: dict):
    if id(widget) in memo:  # a widget two fields share stays shared, as deepcopy keeps it
        return memo[id(widget)]
    kind = _WIDGET_COPIES.get(type(widget).__deepcopy__)
    if kind is None or not _copied_plainly(type(widget)):
        return copy.deepcopy(widget, memo)
    new = _shallow(widget)
    new.attrs = widget.attrs.copy()
    if kind == "choice_widget":
        choices = widget.choices
        if _is_flat(choices):  # already normalized when set: the setter's work is done
            new._choices = list(choices)
        else:
            new.choices = copy.copy(choices)
    memo[id(widget)] = new
    return new


def copy_field(field: forms.Field, memo: dict) -> forms.Field:
    """What `copy.deepcopy(field, memo)` gives, made directly when Django's own copy applies."""
    if id(field) in memo:
        return memo[id(field)]
    kind = _FIELD_COPIES.get(type(field).__deepcopy__)
    flat = kind != "choice" or _is_flat(field._choices)
    if kind is None or not flat or not _copied_plainly(type(field)):
        return copy.deepcopy(field, memo)
    new = _shallow(field)  # Field.__deepcopy__
    memo[id(field)] = new
    new.widget = _copy_widget(field.widget, memo)
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if kind == "choice":  # ChoiceField.__deepcopy__: a new list of the same pairs
        new._choices = list(field._choices)
    elif kind == "model_choice" and field.queryset is not None:  # ModelChoiceField's
        new.queryset = field.queryset.all()
    return new


class FieldCopies(dict):
    """A form class's `base_fields` whose deep copy (each instance's `fields`) is made by
    `copy_field`: a plain dict, as `copy.deepcopy` of a dict gives."""

    def __deepcopy__(self, memo: dict) -> dict:
        copies = {}
        memo[id(self)] = copies
        for name, field in self.items():
            copies[name] = copy_field(field, memo)
        return copies


F = TypeVar("F", bound=type[forms.BaseForm])


def fields_copied_cheaply(form_class: F) -> F:
    """Class decorator: the form's instances get their fields by `copy_field`. (A subclass
    declaring fields gets Django's plain `base_fields` again, and Django's copy.)"""
    form_class.base_fields = FieldCopies(form_class.base_fields)
    return form_class
