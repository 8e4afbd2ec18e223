"""Who a user or integration client is in UCJ Desa: a role and the region it covers, and the
log of every response that revealed personal data or exported a list."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from villages.models import BranchOffice, Province, Regency

from .choices import AccessKind, Role


class AccessProfile(models.Model):
    """The role and scope of a user. Province officers and viewers may cover a province or a
    regency; regency officers a regency; branch officers a branch office's regencies. An
    integration client covers a province or regency and acts as the matching officer, read-only
    unless `can_write`. Superusers are admins without a profile.

    `rate_limit` raises (or lowers) the request rate of this user's tokens and browser session
    above the server's default (`UCJ_RATE_TOKEN`), e.g. for a client that syncs with several
    connections at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_profile")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    regency = models.ForeignKey(
        Regency, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("regency/city")
    )
    branch = models.ForeignKey(
        BranchOffice, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("branch office")
    )
    can_write = models.BooleanField(_("may write (integration clients)"), default=False)
    rate_limit = models.PositiveIntegerField(
        _("rate limit (requests a minute)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Requests a minute that each token of this user, and its browser session, may make. "
            "Empty: the server's default (UCJ_RATE_TOKEN, 600 a minute unless changed)."
        ),
    )

    class Meta:
        verbose_name = _("access profile")
        verbose_name_plural = _("access profiles")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role=Role.ADMIN, province__isnull=True, regency__isnull=True, branch__isnull=True)
                    | Q(role=Role.PROVINCE_OFFICER, province__isnull=False, regency__isnull=True, branch__isnull=True)
                    | Q(role=Role.REGENCY_OFFICER, province__isnull=True, regency__isnull=False, branch__isnull=True)
                    | Q(role=Role.BRANCH_OFFICER, province__isnull=True, regency__isnull=True, branch__isnull=False)
                    | (
                        Q(role__in=[Role.VIEWER, Role.INTEGRATION], branch__isnull=True)
                        & (
                            Q(province__isnull=False, regency__isnull=True)
                            | Q(province__isnull=True, regency__isnull=False)
                        )
                    )
                ),
                name="access_profile_scope_matches_role",
            ),
            models.CheckConstraint(
                condition=Q(rate_limit__isnull=True) | Q(rate_limit__gte=1), name="access_profile_rate_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        region = self.province or self.regency or self.branch or "*"
        return f"{self.user} ({self.get_role_display()}, {region})"


class AccessLog(models.Model):
    """One response that showed full personal data, or one export: who, when, what."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=AccessKind.choices)
    path = models.CharField(_("path"), max_length=300)
    query = models.CharField(_("query"), max_length=1000, blank=True)
    worker_ids = models.JSONField(_("workers"), default=list, blank=True)
    rows = models.PositiveIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.kind} {self.path}"


class RateCount(models.Model):
    """Requests of one caller (token, user or address) in the current rate-limit window.

    Written by `access.throttling` with one atomic upsert per request; on PostgreSQL
    the table is unlogged (counts are disposable; a crash forgets them) so counting costs no
    disk flush.
    """

    key = models.CharField(_("key"), max_length=200, primary_key=True)
    window_no = models.BigIntegerField(_("window"))
    hits = models.PositiveIntegerField(_("requests"))
    expires = models.BigIntegerField(_("expires (epoch seconds)"), db_index=True)

    class Meta:
        verbose_name = _("rate-limit count")
        verbose_name_plural = _("rate-limit counts")

    def __str__(self) -> str:
        return f"{self.key}: {self.hits}"
