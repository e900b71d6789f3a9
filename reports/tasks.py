"""Background tasks of the reports app: thin wrappers over services, taking ids, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from . import services


@shared_task(
    bind=True,
    acks_late=True,
    max_retries=3,
    autoretry_for=(OperationalError,),
    retry_backoff=10,
    retry_backoff_max=300,
    retry_jitter=True,
)
def report_run_build(self, run_id: int) -> bool:
    """Build a ReportRun; returns False when it is gone or already taken by a live delivery.

    The task id goes with the claim: a redelivery of this message (its worker was killed) takes the
    run over at once.
    """
    return services.report_run_execute(run_id=run_id, task_id=self.request.id)


@shared_task
def report_runs_requeue() -> int:
    """Beat, every 5 minutes: queue again the report runs no worker has (asked for while Redis was down, or
    whose worker died)."""
    return services.report_runs_requeue()


@shared_task
def rollup_recount(organisation_id: int, month: str) -> None:
    """Count one cell-month's rollup again, and the sums above it (``month``: ISO date of any day of it)."""
    import datetime

    from . import rollups

    rollups.repair(organisation_id, datetime.date.fromisoformat(month))


@shared_task
def rollups_verify() -> int:
    """Beat, nightly: every rollup checked against a fresh count, drift repaired and reported; returns
    the number of cell-months repaired."""
    from . import rollups

    return rollups.verify_and_report().count
