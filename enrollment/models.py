"""Village apparatus workers, their BPJS Ketenagakerjaan enrollment and its history.

`ApparatusWorker` is the person serving a village; `Enrollment` is the current state of the
worker's membership (one per worker); `EnrollmentEvent` is the append-only history of both.
Every write goes through `enrollment.services`, which keeps the three and the coverage
counters consistent in one transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.commit_order import CurrentTransaction
from villages.models import BranchOffice, District, Province, Regency, Village

from .choices import (
    EnrollmentStatus,
    EventKind,
    EventSource,
    FundingSource,
    Institution,
    Position,
    ReconciliationDecision,
    ReconciliationOutcome,
    ReconciliationState,
    Scheme,
    Sex,
    WageBasis,
)

NIK_RE = r"^[0-9]{16}\Z"
KPJ_RE = r"^[0-9]{11}\Z"


class ApparatusWorker(models.Model):
    """A person serving a village: perangkat desa, BPD, RT/RW, PKK, posyandu cadre, linmas, ...

    `serving` is true until the service ends; while it is, the NIK is unique nationwide.
    Village, district, regency and province are denormalized so any level filters directly; the
    services copy the parents from the village (whose foreign key the database checks), so the
    parents carry no database constraint of their own: re-checking them was most of a bulk
    import's commit.
    """

    # Not a field: the codes of its village, district, regency and province as read with its
    # lock (enrollment.writing), with the id of the village they are of; None unless so read.
    region_codes: tuple[int, tuple[str, str, str, str]] | None = None

    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="workers", verbose_name=_("village"))
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", db_constraint=False, verbose_name=_("district")
    )
    # Regency and province are indexed by the composite indexes of Meta (their first column),
    # not by a foreign key index of their own: see there.
    regency = models.ForeignKey(
        Regency,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("regency/city"),
    )
    province = models.ForeignKey(
        Province,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("province"),
    )
    nik = models.CharField(_("NIK"), max_length=16)
    full_name = models.CharField(_("full name"), max_length=150)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    institution = models.CharField(_("institution"), max_length=20, choices=Institution.choices)
    position = models.CharField(_("position"), max_length=20, choices=Position.choices)
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"), null=True, blank=True)
    wage_basis = models.CharField(_("wage basis"), max_length=10, choices=WageBasis.choices)
    monthly_wage = models.PositiveBigIntegerField(_("monthly wage (Rp)"), null=True, blank=True)
    serving = models.BooleanField(_("serving"), default=True)
    # False only for a worker registered before its term start, until the day that start has come
    # and `terms_start` (run daily by `expire_enrollments`) counts it: the coverage counters count
    # serving workers whose term has started, and the state periods begin at the term start.
    term_started = models.BooleanField(_("term started"), default=True, db_default=True)
    # The enrollment's status, copied by the services with every transition, so that lists
    # filter and count by region and status on one index instead of joining the enrollments.
    enrollment_status = models.CharField(
        _("enrollment status"),
        max_length=16,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.NOT_REGISTERED,
        db_default=EnrollmentStatus.NOT_REGISTERED,
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("apparatus worker")
        verbose_name_plural = _("apparatus workers")
        ordering = ["id"]
        permissions = [("view_personal_data", _("Can view personal data (NIK, birth date, phone)"))]
        constraints = [
            models.UniqueConstraint(fields=["nik"], condition=Q(serving=True), name="worker_unique_serving_nik"),
            models.CheckConstraint(condition=Q(nik__regex=NIK_RE), name="worker_nik_shape"),
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=F("term_start")), name="worker_term_order"
            ),
            models.CheckConstraint(condition=Q(birth_date__lt=F("term_start")), name="worker_born_before_term"),
        ]
        # A list of a regency's or province's workers walks (region, id) or, filtered by status,
        # (region, status, id) in page order and stops after the page; a count by region and
        # status is an index-only scan. A plain foreign key index on the region (sorted by row
        # position, not id) made the planner walk a whole province's rows for one page, or
        # filter every worker of a regency by status to count them.
        indexes = [
            models.Index(fields=["nik"], name="worker_nik_idx"),
            models.Index(fields=["regency", "id"], name="worker_regency_idx"),
            models.Index(fields=["province", "id"], name="worker_province_idx"),
            models.Index(fields=["regency", "enrollment_status", "id"], name="worker_regency_status_idx"),
            models.Index(fields=["province", "enrollment_status", "id"], name="worker_province_status_idx"),
            models.Index(fields=["full_name"], name="worker_name_idx"),
            # The few workers whose term has not started yet, for the daily `terms_start`.
            models.Index(fields=["term_start"], condition=Q(term_started=False), name="worker_term_waiting_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_position_display()}, {self.get_institution_display()})"


class Enrollment(models.Model):
    """The worker's BPJS Ketenagakerjaan membership as it stands now (one per worker)."""

    worker = models.OneToOneField(
        ApparatusWorker, on_delete=models.PROTECT, primary_key=True, related_name="enrollment"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=EnrollmentStatus.choices, default=EnrollmentStatus.NOT_REGISTERED
    )
    kpj_number = models.CharField(_("KPJ number"), max_length=11, null=True, blank=True, unique=True)
    scheme = models.CharField(_("scheme"), max_length=3, choices=Scheme.choices, blank=True)
    npp = models.CharField(_("employer registration number (NPP)"), max_length=20, blank=True)
    program_jht = models.BooleanField(_("old-age savings (JHT)"), default=False)
    program_jp = models.BooleanField(_("pension (JP)"), default=False)
    funding_source = models.CharField(_("funding source"), max_length=20, choices=FundingSource.choices, blank=True)
    coverage_start = models.DateField(_("coverage start"), null=True, blank=True)
    paid_until = models.DateField(_("paid until"), null=True, blank=True)
    # The evidence of a membership recorded without its KPJ number: the reconciliation whose BPJS
    # extract confirmed the status (BPJS confirms a status but does not hand out the number).
    evidence_reconciliation = models.ForeignKey(
        "Reconciliation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by reconciliation"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.CheckConstraint(
                condition=Q(kpj_number__isnull=True) | Q(kpj_number__regex=KPJ_RE), name="enrollment_kpj_shape"
            ),
            models.CheckConstraint(
                condition=Q(paid_until__isnull=True)
                | Q(coverage_start__isnull=True)
                | Q(paid_until__gte=F("coverage_start")),
                name="enrollment_paid_until_after_start",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=[EnrollmentStatus.ACTIVE, EnrollmentStatus.LAPSED])
                | (
                    (Q(kpj_number__isnull=False) | Q(evidence_reconciliation__isnull=False))
                    & Q(coverage_start__isnull=False)
                    & Q(paid_until__isnull=False)
                    & ~Q(scheme="")
                ),
                name="enrollment_member_has_evidence_and_period",
            ),
            models.CheckConstraint(
                condition=~Q(scheme=Scheme.BPU) | Q(program_jp=False), name="enrollment_no_jp_for_bpu"
            ),
            models.CheckConstraint(condition=~Q(scheme=Scheme.PU) | ~Q(npp=""), name="enrollment_pu_has_npp"),
        ]
        indexes = [models.Index(fields=["status"], name="enrollment_status_idx")]

    def __str__(self) -> str:
        return f"{self.worker_id}: {self.get_status_display()}"

    @property
    def evidence(self) -> dict[str, object] | None:
        """What shows the membership exists: its KPJ number, or the reconciliation that confirmed it."""
        if self.kpj_number:
            return {"kind": "kpj_number", "reconciliation": None}
        if self.evidence_reconciliation_id is not None:
            return {"kind": "reconciliation", "reconciliation": self.evidence_reconciliation_id}
        return None

    @property
    def programs(self) -> list[str]:
        return ["jkk", "jkm"] + (["jht"] if self.program_jht else []) + (["jp"] if self.program_jp else [])


class WorkerImport(models.Model):
    """One uploaded worker spreadsheet: who, when, the file itself (kept for audit, in the
    database so any server can serve it), its checksum, and what the import did."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    source = models.CharField(_("source"), max_length=16, choices=EventSource.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64, db_index=True)
    data = models.BinaryField(_("file"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    all_or_nothing = models.BooleanField(_("all or nothing"), default=True)
    committed = models.BooleanField(_("written"), default=False)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        verbose_name = _("worker import")
        verbose_name_plural = _("worker imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class Reconciliation(models.Model):
    """One BPJS Ketenagakerjaan extract compared with the registry (enrollment.reconcile_services):
    who uploaded it, when, the file's name and checksum, the region it was compared in (the
    uploader's branch regencies or province, or everything), the counts by outcome, whether its
    accepted rows were applied. The rows are `ReconciliationRow`s; the file itself is not kept."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    upload_date = models.DateField(_("upload date"))
    file_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size (bytes)"))
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64, db_index=True)
    nik_hashed = models.BooleanField(_("keyed-hash NIKs"), default=False)
    # The uploader's scope when it uploaded: a branch office's regencies, a province, or all.
    branch = models.ForeignKey(
        BranchOffice, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("branch")
    )
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("province")
    )
    regency_ids = models.JSONField(_("regencies compared"), default=list, blank=True)
    everything = models.BooleanField(_("every region"), default=False)
    counts = models.JSONField(_("counts by outcome"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=8, choices=ReconciliationState.choices, default=ReconciliationState.CHECKED
    )
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    applied = models.JSONField(_("applied by outcome"), default=dict, blank=True)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"


class ReconciliationRow(models.Model):
    """One outcome of a reconciliation: a row of the extract (or, for `lapse` of a worker the
    extract does not list, no row), what BPJS says, the worker it matched, the proposed
    transition and its values, the decision taken and the event it wrote once applied."""

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(_("row"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ReconciliationOutcome.choices)
    worker = models.ForeignKey(
        ApparatusWorker, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )
    worker_version = models.PositiveIntegerField(_("worker version"), null=True, blank=True)
    # What BPJS says (the NIK or, in keyed-hash mode, its hash).
    nik = models.CharField(_("NIK"), max_length=64, blank=True)
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=6, blank=True)
    bpjs_status = models.CharField(_("BPJS status"), max_length=16, blank=True)
    programs = models.CharField(_("programs"), max_length=32, blank=True)
    paid_until = models.DateField(_("paid until"), null=True, blank=True)
    kpj_number = models.CharField(_("KPJ number"), max_length=11, blank=True)
    npp = models.CharField(_("NPP"), max_length=20, blank=True)
    employer_name = models.CharField(_("employer name"), max_length=150, blank=True)
    # The proposal: a transition kind ("" for none) and its values (dates as ISO text).
    proposed = models.CharField(_("proposed change"), max_length=16, choices=EventKind.choices, blank=True)
    proposed_values = models.JSONField(_("proposed values"), default=dict, blank=True)
    candidates = models.JSONField(_("probable matches"), default=list, blank=True)
    column = models.CharField(_("column"), max_length=32, blank=True)
    message = models.CharField(_("message"), max_length=300, blank=True)
    decision = models.CharField(
        _("decision"),
        max_length=8,
        choices=ReconciliationDecision.choices,
        default=ReconciliationDecision.PENDING,
    )
    applied_event = models.ForeignKey(
        "EnrollmentEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_constraint=False
    )

    class Meta:
        verbose_name = _("reconciliation row")
        verbose_name_plural = _("reconciliation rows")
        ordering = ["reconciliation", "id"]
        indexes = [models.Index(fields=["reconciliation", "outcome", "id"], name="recon_row_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.reconciliation_id}:{self.row_number} {self.outcome}"


class EnrollmentEventQuerySet(models.QuerySet):
    """History is append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError("enrollment history is append-only")

    def delete(self):
        raise PermissionError("enrollment history is append-only")


class EnrollmentEvent(models.Model):
    """One entry of the append-only history of a worker: what changed, when, by whom, from where.

    `changes` maps each changed field to `[old, new]` (dates as ISO strings). Effective dates
    never go backwards for a worker.
    """

    worker = models.ForeignKey(ApparatusWorker, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("event"), max_length=16, choices=EventKind.choices)
    effective_date = models.DateField(_("effective date"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=EventSource.choices)
    from_status = models.CharField(_("from status"), max_length=16, choices=EnrollmentStatus.choices, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, choices=EnrollmentStatus.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    import_batch = models.ForeignKey(
        WorkerImport, on_delete=models.PROTECT, null=True, blank=True, related_name="events", verbose_name=_("import")
    )

    reconciliation = models.ForeignKey(
        "Reconciliation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("reconciliation"),
    )

    # The transaction that wrote the event (core.commit_order), written by the database itself:
    # the change feed serves events in (xact, id) order, which is commit order where ids are not.
    # Events written before the column existed have 0 (and their ids' order).
    xact = models.BigIntegerField(_("writing transaction"), db_default=CurrentTransaction(), editable=False)
    # Where the worker was when the event was written (after the change: a move's new place), set
    # by the database from the worker's row as the event is inserted (migration 0013's trigger),
    # whoever writes it. Not a foreign key: a locator for the change feed of one region, which
    # walks (region, xact, id) instead of the whole country's history (integrations.selectors).
    worker_province_id = models.IntegerField(_("worker's province"), null=True, editable=False)
    worker_regency_id = models.IntegerField(_("worker's regency"), null=True, editable=False)

    objects = EnrollmentEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrollment event")
        verbose_name_plural = _("enrollment events")
        ordering = ["worker_id", "id"]
        indexes = [
            models.Index(fields=["worker", "id"], name="event_worker_idx"),
            models.Index(fields=["xact", "id"], name="event_feed_idx"),  # the change feed's order
            # The feed of one province or regency, in its order (integrations.selectors).
            models.Index(fields=["worker_province_id", "xact", "id"], name="event_feed_province_idx"),
            models.Index(fields=["worker_regency_id", "xact", "id"], name="event_feed_regency_idx"),
            # Moves (a village changed), for the feed of the region a worker left.
            models.Index(
                fields=["xact", "id"],
                name="event_feed_moved_idx",
                condition=models.Q(kind="updated", changes__has_key="village"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.kind} {self.effective_date}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("enrollment history is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("enrollment history is append-only")


class WorkerPeriod(models.Model):
    """The worker's state over a period [valid_from, valid_to): where it served, in which
    institution, whether it served, and its membership. Each change closes the open period
    and opens a new one, so the state on any date is a range lookup: coverage on a past date
    is one aggregate over the periods that contain it. Derived from the same writes as the
    history (not a history itself); the services keep it.
    """

    worker = models.ForeignKey(ApparatusWorker, on_delete=models.CASCADE, related_name="periods")
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+")
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    regency = models.ForeignKey(Regency, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    province = models.ForeignKey(Province, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    institution = models.CharField(_("institution"), max_length=20, choices=Institution.choices)
    serving = models.BooleanField(_("serving"))
    status = models.CharField(_("status"), max_length=16, choices=EnrollmentStatus.choices)
    funding_source = models.CharField(_("funding source"), max_length=20, choices=FundingSource.choices, blank=True)
    paid_until = models.DateField(_("paid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("worker period")
        verbose_name_plural = _("worker periods")
        constraints = [
            models.UniqueConstraint(
                fields=["worker"], condition=Q(valid_to__isnull=True), name="period_one_open_per_worker"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="period_order"
            ),
        ]
        indexes = [models.Index(fields=["valid_from", "valid_to"], name="period_range_idx")]

    def __str__(self) -> str:
        return f"{self.worker_id} {self.valid_from}..{self.valid_to}: {self.status}"
