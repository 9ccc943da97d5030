"""Message templates: the list (with each one's parts), and for Managers add, edit, delete."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from smsportal.departments.models import Department

from .forms import MessageTemplateForm
from .models import MessageTemplate
from .scope import templates_of


def compose_url(template: MessageTemplate) -> str:
    """Compose with the template's text (and account, and department) filled in, to change
    before sending, and the template shown chosen in its picker."""
    query = {"text": template.text, "template": template.pk}
    if template.account_id:
        query["account"] = template.account_id
    if template.department_id:
        query["department"] = template.department_id
    return reverse("messaging:compose") + "?" + urlencode(query)


@permission_required("message_templates.view_messagetemplate", raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    templates = templates_of(request).select_related("account", "department")
    rows = [{"template": t, "shape": t.shape, "use": compose_url(t)} for t in templates]
    context = {"rows": rows, "no_department": not Department.objects.of(request.user).exists()}
    return render(request, "message_templates/list.html", context)


@permission_required("message_templates.add_messagetemplate", raise_exception=True)
def template_create(request: HttpRequest) -> HttpResponse:
    form = MessageTemplateForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        template = form.save(commit=False)
        template.created_by = request.user
        template.save()
        messages.success(request, _("Template “%(name)s” saved.") % {"name": template})
        return redirect("message_templates:list")
    return render(request, "message_templates/form.html", {"form": form})


@permission_required("message_templates.change_messagetemplate", raise_exception=True)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(templates_of(request), pk=pk)
    form = MessageTemplateForm(request.POST or None, instance=template, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Template “%(name)s” saved.") % {"name": template})
        return redirect("message_templates:list")
    context = {"form": form, "template": template, "shape": template.shape}
    return render(request, "message_templates/form.html", context)


@require_POST
@permission_required("message_templates.delete_messagetemplate", raise_exception=True)
def template_delete(request: HttpRequest, pk: int) -> HttpResponse:
    template = get_object_or_404(templates_of(request), pk=pk)
    template.delete()
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template})
    return redirect("message_templates:list")
