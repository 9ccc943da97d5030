"""`{% template_picker %}`: the Compose page's "start from a template" menu, each template with
its parts, filling the text box (static/js/templates.js); the text stays editable."""

from __future__ import annotations

from django import template

from ..scope import templates_of

register = template.Library()


@register.inclusion_tag("message_templates/_picker.html", takes_context=True)
def template_picker(context) -> dict:
    user = context["request"].user
    if not user.has_perm("message_templates.view_messagetemplate"):
        return {"choices": []}
    # The person's departments' templates only (message_templates/scope.py).
    templates = templates_of(context["request"]).select_related("account")
    choices = [{"template": t, "shape": t.shape} for t in templates]
    return {"choices": choices}
