"""A background job as people and integrators see it: what it is, who asked, how far it got.

The task runner (django-tasks, database backend: `django_tasks_db.DBTaskResult`) keeps the queue;
this record is ours: its state and progress are what the API (`/api/v1/jobs/{id}/`) and the
portal's progress bar show, its heartbeat is how a job whose worker died is found again
(`jobs.services.jobs_recover`), and `unique_key` is how a scheduled job is enqueued once per
period however many workers run."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import JobState


class Job(models.Model):
    kind = models.CharField(_("kind"), max_length=64)
    state = models.CharField(_("state"), max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    # The file a job reads (an import's spreadsheet), kept until the job is done with it.
    data = models.BinaryField(_("input file"), null=True, blank=True)
    phase = models.CharField(_("phase"), max_length=32, blank=True, default="")
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    rows_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    # The requester's regions when the job was asked for (codes; empty with `everywhere`): who may
    # see the job, and what it was allowed to touch. The job itself acts with the requester's
    # scope as it is when the job runs.
    everywhere = models.BooleanField(_("every region"), default=False)
    region_codes = models.JSONField(_("region codes"), default=list, blank=True)
    # The HTTP status the same work would have answered synchronously, and its answer.
    outcome_status = models.PositiveSmallIntegerField(_("outcome status"), null=True, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True, default="")
    unique_key = models.CharField(_("unique key"), max_length=128, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        indexes = [
            models.Index(fields=["created_by", "-id"], name="job_requester_idx"),
            # Running jobs by heartbeat: what `jobs_recover` scans.
            models.Index(fields=["state", "heartbeat_at"], name="job_state_heartbeat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"

    @property
    def percent(self) -> int | None:
        if not self.rows_total:
            return 100 if self.state == JobState.SUCCEEDED else None
        return min(100, self.rows_done * 100 // self.rows_total)


class JobFile(models.Model):
    """The file a job made (a large export), kept in the database so that any web server can
    serve it whichever worker made it, for its requester only, until `expires_at`
    (`UCJ_EXPORT_FILE_HOURS`); the workers' upkeep then deletes it (`jobs.services.job_files_expire`).

    What its owner must still hold to download it is kept with it: the capability (`export`),
    and whether it holds personal data unmasked (then the personal-data right too)."""

    job = models.OneToOneField(
        Job, on_delete=models.CASCADE, primary_key=True, related_name="file", verbose_name=_("job")
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=128)
    data = models.BinaryField(_("file"))
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    rows = models.PositiveIntegerField(_("rows"))
    personal_data = models.BooleanField(_("holds personal data unmasked"), default=False)
    capability = models.CharField(_("capability needed to download"), max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("job's file")
        verbose_name_plural = _("jobs' files")

    def __str__(self) -> str:
        return f"{self.name} (job #{self.job_id})"
