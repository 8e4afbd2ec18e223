"""Writes outside the counters that change coverage answers (targets, premium rates, regions,
branch offices): each moves the coverage data version on (see `coverage.caching`)."""

from django.db.models.signals import m2m_changed, post_delete, post_save

from core.data_version import data_version_bump
from villages.models import BranchOffice, District, Province, Regency, Village

from .models import PremiumRate, Target


def _changed(sender, **kwargs) -> None:
    data_version_bump()


def connect() -> None:
    for model in (Target, PremiumRate, Province, Regency, District, Village, BranchOffice):
        post_save.connect(_changed, sender=model, dispatch_uid=f"coverage-version-save-{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"coverage-version-delete-{model.__name__}")
    m2m_changed.connect(_changed, sender=BranchOffice.regencies.through, dispatch_uid="coverage-version-branches")
