"""Departments: the parts of the organisation that own contacts, lists, templates, messages,
conversations and API keys, and that quotas are set for.

A user may belong to several departments; superusers see every department. This app sits just
above core (beside the provider accounts), so every feature app can point its rows at a
department without an import cycle.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


class DepartmentQuerySet(models.QuerySet):
    def of(self, user) -> DepartmentQuerySet:
        """The departments whose rows `user` may see and use: all for a superuser, their own
        for anyone else (none for a user in no department, who can then send nothing)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        return self.filter(members=user)


class Department(models.Model):
    name = models.CharField(_("name"), max_length=100)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="departments",
        blank=True,
        verbose_name=_("members"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="department_name_unique_ci",
                violation_error_message=_("A department with this name already exists."),
            )
        ]

    def __str__(self) -> str:
        return self.name
