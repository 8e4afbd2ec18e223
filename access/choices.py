"""Roles and what each may do."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    PROVINCE_OFFICER = "province_officer", _("Province officer (Dinas PMD provinsi)")
    REGENCY_OFFICER = "regency_officer", _("Regency officer (Dinas PMD kabupaten/kota)")
    BRANCH_OFFICER = "branch_officer", _("Branch officer (BPJS Ketenagakerjaan)")
    VIEWER = "viewer", _("Viewer (aggregates only)")
    INTEGRATION = "integration", _("Integration client")


class Capability(models.TextChoices):
    READ_WORKERS = "read_workers", _("Read workers")
    WRITE_WORKERS = "write_workers", _("Register, edit, import, submit workers and end their service")
    MANAGE_ENROLLMENT = "manage_enrollment", _("Activate, renew and lapse memberships")
    EXPORT = "export", _("Export lists")
    READ_COVERAGE = "read_coverage", _("Read coverage figures")
    MANAGE_TARGETS = "manage_targets", _("Set targets of the regencies in scope")
    RECONCILE = "reconcile", _("Reconcile the registry with BPJS Ketenagakerjaan's membership list")
    ADMIN = "admin", _("Manage users, clients, targets, rates and regions")


class AccessKind(models.TextChoices):
    PERSONAL_DATA = "personal_data", _("Personal data shown")
    EXPORT = "export", _("Export")
    NIK_LOOKUP = "nik_lookup", _("Exact-NIK lookup without the personal-data right")


_OFFICER_READ = {Capability.READ_WORKERS, Capability.EXPORT, Capability.READ_COVERAGE}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(Capability.values),
    Role.PROVINCE_OFFICER: frozenset(
        _OFFICER_READ | {Capability.WRITE_WORKERS, Capability.MANAGE_TARGETS, Capability.RECONCILE}
    ),
    Role.REGENCY_OFFICER: frozenset(_OFFICER_READ | {Capability.WRITE_WORKERS}),
    Role.BRANCH_OFFICER: frozenset(_OFFICER_READ | {Capability.MANAGE_ENROLLMENT, Capability.RECONCILE}),
    Role.VIEWER: frozenset({Capability.READ_COVERAGE}),
}
READ_ONLY_CAPABILITIES = frozenset(_OFFICER_READ)
