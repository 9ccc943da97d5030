"""`manage.py import_contacts FILE`: the browser's import, from the command line, with a progress
bar on stderr and the rejected rows written beside the file."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from smsportal.contacts.importer import (
    REJECTED_LINE_HEADER,
    REJECTED_REASON_HEADER,
    Options,
    Rejection,
    Summary,
    import_contacts,
    parse_processes_for,
    raw_cells,
)
from smsportal.contacts.models import ContactList
from smsportal.contacts.reading import Table, UnreadableFile, open_table
from smsportal.core.csv_export import csv_line
from smsportal.departments.models import Department


class Command(BaseCommand):
    help = "Import contacts from a CSV or XLSX file (streamed; every rejected row reported)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--department",
            required=True,
            help="the department (name or id) whose contacts these are; its list is --list",
        )
        parser.add_argument("--list", dest="list_name", help="add every imported contact to it")
        parser.add_argument("--region", default=None, help="for numbers without +/00 (e.g. KW)")
        existing = parser.add_mutually_exclusive_group()
        existing.add_argument(
            "--update",
            dest="update",
            action="store_true",
            default=True,
            help="update contacts already known (default)",
        )
        existing.add_argument(
            "--skip-existing",
            dest="update",
            action="store_false",
            help="leave contacts already known as they are",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count; write nothing")
        parser.add_argument(
            "--rejected",
            type=Path,
            default=None,
            help="where to write rejected rows (default: FILE.rejected.csv)",
        )
        parser.add_argument("--quiet-progress", action="store_true")

    def handle(self, *args, file: Path, list_name, region, update, dry_run, rejected, **options):
        if not file.is_file():
            raise CommandError(f"No such file: {file}")
        department = _department(options["department"])
        region = (region or settings.PHONE_DEFAULT_REGION).upper()
        contact_list = None
        if list_name:
            if dry_run:
                contact_list = ContactList.objects.filter(
                    name=list_name, department=department
                ).first()
            else:
                contact_list, _ = ContactList.objects.get_or_create(
                    name=list_name, department=department
                )
        rejected_path = rejected or file.with_name(file.name + ".rejected.csv")
        opts = Options(
            region=region,
            update_existing=update,
            dry_run=dry_run,
            contact_list=contact_list,
            department_id=department.pk,
            parse_processes=parse_processes_for(file.stat().st_size),
        )
        started = time.monotonic()
        with file.open("rb") as stream, _Rejections(rejected_path) as rejections:
            try:
                table = open_table(stream, file.stat().st_size)
                rejections.write_like(table)
                bar = _Bar(table, quiet=options["quiet_progress"])
                summary = import_contacts(table, opts, on_progress=bar, on_rejected=rejections.add)
            except UnreadableFile as exc:
                raise CommandError(str(exc)) from None
            bar.done()
        seconds = time.monotonic() - started
        self.stdout.write(_report(summary, seconds, dry_run))
        if summary.rejected:
            self.stdout.write(f"Rejected rows ({summary.rejected:,}) are in {rejected_path}:")
            for rejection in rejections.first:
                self.stdout.write(f"  line {rejection.line}: {rejection.reason}")
            if summary.rejected > len(rejections.first):
                self.stdout.write(f"  … and {summary.rejected - len(rejections.first):,} more")
        if summary.warned:
            self.stdout.write(f"Imported with a change ({summary.warned:,}):")
            for warning in rejections.warnings:
                self.stdout.write(f"  line {warning.line}: {warning.reason}")
            if summary.warned > len(rejections.warnings):
                self.stdout.write(f"  … and {summary.warned - len(rejections.warnings):,} more")


def _department(given: str) -> Department:
    """The department named (case ignored) or numbered, or an error listing those there are."""
    given = (given or "").strip()
    found = Department.objects.filter(name__iexact=given).first()
    if found is None and given.isdigit():
        found = Department.objects.filter(pk=int(given)).first()
    if found is None:
        known = ", ".join(Department.objects.values_list("name", flat=True)) or "none yet"
        raise CommandError(f"No department “{given}”. Departments: {known}.")
    return found


def _report(summary: Summary, seconds: float, dry_run: bool) -> str:
    rate = summary.rows / seconds if seconds else 0
    verb = "Would import" if dry_run else "Imported"
    lines = [
        f"{verb} {summary.rows:,} rows ({summary.described}) "
        f"in {seconds:.1f} s, {rate:,.0f} rows/s:",
        f"  created {summary.created:,}, updated {summary.updated:,}, "
        f"unchanged {summary.unchanged:,}, rejected {summary.rejected:,}",
    ]
    if summary.added_to_list:
        lines.append(f"  added to the list: {summary.added_to_list:,}")
    lines.append("  columns: " + ", ".join(f"{h} → {what}" for h, what in summary.columns.items()))
    return "\n".join(lines)


class _Rejections:
    """Rejected rows written to a file as they come (a file may hold millions), in the input's
    encoding and delimiter, each after its line and reason: corrected, it imports as it is. The
    first few rejections and warnings are kept to print."""

    SHOWN = 10

    def __init__(self, path: Path) -> None:
        self.path = path
        self.first: list[Rejection] = []
        self.warnings: list[Rejection] = []
        self._file = None
        self._header: list[str] = []
        self._encoding, self._delimiter = "utf-8-sig", ","

    def __enter__(self):
        return self

    def write_like(self, table: Table) -> None:
        self._header = table.header
        self._encoding, self._delimiter = table.encoding or "utf-8-sig", table.delimiter

    def add(self, rows: list[Rejection]) -> None:
        self.warnings.extend([r for r in rows if r.kept][: self.SHOWN - len(self.warnings)])
        rows = [r for r in rows if not r.kept]
        if not rows:
            return
        if self._file is None:
            self._file = self.path.open("w", newline="", encoding=self._encoding, errors="replace")
            header = [REJECTED_LINE_HEADER, REJECTED_REASON_HEADER, *self._header]
            self._file.write(csv_line(header, self._delimiter))
        for r in rows:
            cells = [r.line, r.reason, *raw_cells(r.raw, self._delimiter)]
            self._file.write(csv_line(cells, self._delimiter))
        self.first.extend(rows[: self.SHOWN - len(self.first)])

    def __exit__(self, *exc) -> None:
        if self._file:
            self._file.close()


class _Bar:
    def __init__(self, table, quiet: bool = False) -> None:
        self.table = table
        self.quiet = quiet

    def __call__(self, summary: Summary) -> None:
        if self.quiet:
            return
        total = self.table.size or 1
        done = min(self.table.position(), total)
        filled = int(30 * done / total)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {100 * done // total:3d}%  "
            f"{summary.rows:,} rows, {summary.rejected:,} rejected"
        )
        sys.stderr.flush()

    def done(self) -> None:
        if not self.quiet:
            sys.stderr.write("\n")
