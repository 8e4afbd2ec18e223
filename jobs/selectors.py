"""Reads of background jobs."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from access.context import may_see_personal_data, scope_for

from .models import Job


def jobs_visible(*, user: Any) -> QuerySet[Job]:
    """The jobs `user` may see, newest first, without their input files: all of them (the
    scheduled ones too) for an admin of every region who may see personal data, one's own for
    everyone else (an import's result quotes its rows)."""
    # select_related: created_by (its username is shown).
    queryset = Job.objects.select_related("created_by").defer("data").order_by("-id")
    if scope_for(user).everything and may_see_personal_data(user):
        return queryset
    return queryset.filter(created_by=user)
