"""`{% template_picker %}`: the Compose page's "start from a template" menu, each template with
its parts, filling the text box (static/js/templates.js); the text stays editable."""

from __future__ import annotations

from django import template
from django.db.models import Q

from ..scope import templates_of

register = template.Library()


@register.inclusion_tag("message_templates/_picker.html", takes_context=True)
def template_picker(context, department=None) -> dict:
    """The templates of `department` (the one Compose is sending for) and those of no
    department; without one, all the person's departments' (message_templates/scope.py)."""
    user = context["request"].user
    if not user.has_perm("message_templates.view_messagetemplate"):
        return {"choices": []}
    templates = templates_of(context["request"]).select_related("account")
    if department is not None:
        templates = templates.filter(Q(department=department) | Q(department__isnull=True))
    # Opened from a template's "Use" (message_templates/views.py compose_url): shown chosen.
    chosen = context["request"].GET.get("template", "")
    choices = [{"template": t, "shape": t.shape, "chosen": str(t.pk) == chosen} for t in templates]
    return {"choices": choices}
