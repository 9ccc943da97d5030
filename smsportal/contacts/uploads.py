"""Import uploads: refused while they stream in once past the limit, and deleted once read.

Django writes an upload to disk as it arrives and checks nothing about its size; a form's
`clean_file` runs only after the whole file is on disk. `LimitedUploadHandler` sits first in the
request's handlers and stops the upload at the limit, so a 1 GiB file costs at most the limit.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import timezone

from .models import ImportJob

log = logging.getLogger(__name__)


def max_upload_bytes() -> int:
    return settings.IMPORT_MAX_UPLOAD_MB * 2**20


def too_big(size: int) -> str:
    return (
        f"The file is {size / 2**20:,.0f} MB or more; the limit is "
        f"{settings.IMPORT_MAX_UPLOAD_MB:,} MB. Split it, or import it with "
        "manage.py import_contacts."
    )


class LimitedUploadHandler(FileUploadHandler):
    """Stops an upload past `max_upload_bytes()`, at once when the request says its size, and
    puts the reason on `request.upload_refused` for the view to show."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        self.request_length = None

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # The whole request body as the client declares it (new_file's `content_length` is the
        # file part's, which browsers never send).
        self.request_length = content_length

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        # The request is a little larger than its file (the other fields): a body over the
        # limit by more than a megabyte holds a file over the limit.
        if self.request_length and self.request_length > self.limit + 2**20:
            self._refuse(self.request_length)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self._refuse(self.received)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) makes the file

    def _refuse(self, size: int):
        self.request.upload_refused = too_big(size)
        # connection_reset: the rest of the body is not read, let alone written.
        raise StopUpload(connection_reset=True)


def discard_upload(job: ImportJob) -> None:
    """Delete the file of a finished import now, or leave it for `purge_uploads` when
    IMPORT_UPLOADS_KEEP_DAYS keeps it; then purge what is due."""
    if settings.IMPORT_UPLOADS_KEEP_DAYS <= 0:
        _delete(job)
    purge_uploads()


def purge_uploads() -> int:
    """Delete the files of imports that ended more than IMPORT_UPLOADS_KEEP_DAYS ago, and of
    previews never started within a day. Returns how many."""
    now = timezone.now()
    ended = ImportJob.objects.filter(
        status__in=[ImportJob.Status.DONE, ImportJob.Status.FAILED],
        finished_at__lt=now - timedelta(days=max(settings.IMPORT_UPLOADS_KEEP_DAYS, 0)),
    )
    abandoned = ImportJob.objects.filter(
        status=ImportJob.Status.PREVIEW, created_at__lt=now - timedelta(days=1)
    )
    count = 0
    for job in (ended | abandoned).exclude(file="").only("pk", "file"):
        _delete(job)
        count += 1
    return count


def _delete(job: ImportJob) -> None:
    if job.file:
        try:
            job.file.delete(save=False)
        except OSError:  # already gone: the row must not point at it any more all the same
            log.warning("import %s: its file %s could not be deleted", job.pk, job.file.name)
        ImportJob.objects.filter(pk=job.pk).update(file="")
