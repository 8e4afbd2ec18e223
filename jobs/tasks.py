"""The task the runner (django-tasks) runs for every background job."""

from django_tasks import task

from .services import job_run


@task()
def run_job(job_id: int) -> str:
    """Run background job `job_id` (`jobs.services.job_run`)."""
    return job_run(job_id)
