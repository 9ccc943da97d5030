"""Background work of the contacts pages: imports and pushes to remote lists."""

from __future__ import annotations

import logging

from django.db.models import F
from django.utils import timezone
from django_tasks import task

from .importer import Options, Rejection, Summary, import_contacts, parse_processes_for
from .models import ImportJob, ImportRejection, RemoteListPush
from .reading import UnreadableFile, open_table
from .remote import run_push
from .uploads import discard_upload

log = logging.getLogger(__name__)


@task()
def run_import(job_id: int) -> str:
    job = ImportJob.objects.select_related("contact_list").get(pk=job_id)
    # Claimed by its status: a repeated task never imports twice.
    if not ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING
    ):
        return job.status
    options = Options(
        region=job.region,
        update_existing=job.mode == ImportJob.Mode.UPDATE,
        dry_run=job.dry_run,
        contact_list=job.contact_list,
        department_id=job.department_id,
        parse_processes=parse_processes_for(job.bytes_total),
    )
    try:
        return _run(job, options)
    finally:
        discard_upload(job)


def _run(job: ImportJob, options: Options) -> str:
    try:
        with job.file.open("rb") as stream:
            table = open_table(stream, job.file.size, encoding=job.encoding)
            # How it was read, for the report and for writing its rejected rows back alike.
            ImportJob.objects.filter(pk=job.pk).update(
                encoding=table.encoding, delimiter=table.delimiter, header=table.header
            )

            def progress(summary: Summary) -> None:
                ImportJob.objects.filter(pk=job.pk).update(
                    bytes_total=table.size,
                    bytes_read=table.position(),
                    rows=summary.rows,
                    created=summary.created,
                    updated=summary.updated,
                    unchanged=summary.unchanged,
                    rejected=summary.rejected,
                    warned=summary.warned,
                )

            def rejected(rows: list[Rejection]) -> None:
                ImportRejection.objects.bulk_create(
                    [
                        ImportRejection(
                            job=job, line=r.line, raw=r.raw, reason=r.reason[:300], kept=r.kept
                        )
                        for r in rows
                    ],
                    batch_size=1_000,
                )

            import_contacts(table, options, on_progress=progress, on_rejected=rejected)
    except UnreadableFile as exc:
        return _failed(job, str(exc))
    except Exception as exc:
        log.exception("import %s stopped", job.pk)
        _failed(
            job,
            f"The import stopped on an internal error ({type(exc).__name__}); the rows "
            "counted above were imported. Importing the file again is safe.",
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE, bytes_read=F("bytes_total"), finished_at=timezone.now()
    )
    return ImportJob.Status.DONE


def _failed(job: ImportJob, error: str) -> str:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=error, finished_at=timezone.now()
    )
    return ImportJob.Status.FAILED


@task()
def push_list(push_id: int) -> str:
    push = RemoteListPush.objects.select_related("contact_list", "account").get(pk=push_id)
    if push.status != RemoteListPush.Status.RUNNING or push.pushed:
        return push.status
    return run_push(push).status
