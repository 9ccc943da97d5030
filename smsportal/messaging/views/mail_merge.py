"""Send from a file (mail merge): upload a CSV or XLSX, choose its phone column, write the text
with the file's columns as placeholders, see each recipient's own text counted, and send through
the send service. The file is kept only until it is sent (or a day unused), and belongs to the
session that uploaded it; nothing of it becomes a contact."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from smsportal.contacts.reading import UnreadableFile, open_table
from smsportal.contacts.uploads import LimitedUploadHandler
from smsportal.sms.encoding import STANDARD, analyse
from smsportal.sms.placeholders import parse

from .. import confirmation, idempotency, sending
from ..mail_merge import (
    MergeFile,
    guess_phone_column,
    merge_estimate,
    placeholders_of,
    read_rows,
)
from ..mail_merge_forms import MailMergeForm, MergeUploadForm
from ..models import Message
from .compose import (
    reconfirm_note,
    sender_select,
    standard_characters_offer,
    text_replaced,
    with_standard_characters,
)

UPLOAD_DIR = "mail_merge"
SESSION_KEY = "mail_merge_files"
KEEP = timedelta(days=1)  # an upload never sent is deleted after this


@csrf_exempt  # checked below, once the upload handlers are in place
@permission_required("messaging.add_message", raise_exception=True)
def mail_merge_upload(request: HttpRequest) -> HttpResponse:
    # Handlers may be changed only before the body is read, which CSRF's check does.
    request.upload_handlers.insert(0, LimitedUploadHandler(request))
    return _upload(request)


@csrf_protect
def _upload(request: HttpRequest) -> HttpResponse:
    """The file is read far enough to find its columns, then kept for the merge page."""
    form = MergeUploadForm(request.POST or None, request.FILES or None)
    refused = getattr(request, "upload_refused", "")
    if request.method == "POST" and form.is_valid() and not refused:
        upload = form.cleaned_data["file"]
        try:
            table = open_table(upload, upload.size)
        except UnreadableFile as exc:
            form.add_error("file", str(exc))
        else:
            upload.seek(0)
            key = uuid.uuid4().hex
            path = default_storage.save(f"{UPLOAD_DIR}/{key}", upload)
            files = request.session.get(SESSION_KEY, {})
            files[key] = {
                "path": path,
                "name": upload.name[:200],
                "size": upload.size,
                "header": table.header,
                "describe": table.describe,
            }
            request.session[SESSION_KEY] = files
            purge_uploads()
            return redirect("messaging:mail_merge", key=key)
    if refused:
        form.errors["file"] = form.error_class([refused])
    return render(request, "messaging/mail_merge_upload.html", {"form": form})


def purge_uploads(now=None) -> int:
    """Delete uploads older than KEEP (never sent); returns how many."""
    now = now or timezone.now()
    try:
        _dirs, names = default_storage.listdir(UPLOAD_DIR)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in names:
        path = f"{UPLOAD_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) < now - KEEP:
                default_storage.delete(path)
                deleted += 1
        except FileNotFoundError:
            continue  # deleted meanwhile by another request
    return deleted


def _entry(request: HttpRequest, key: str) -> dict | None:
    return request.session.get(SESSION_KEY, {}).get(key)


def _forget(request: HttpRequest, key: str) -> None:
    files = request.session.get(SESSION_KEY, {})
    entry = files.pop(key, None)
    request.session[SESSION_KEY] = files
    if entry:
        default_storage.delete(entry["path"])
        _dirs, names = default_storage.listdir(UPLOAD_DIR)
        upload = entry["path"].rsplit("/", 1)[-1]
        for name in names:
            if name.startswith(f"{upload}.column-"):  # the file as read (read_once)
                default_storage.delete(f"{UPLOAD_DIR}/{name}")


def read_once(entry: dict, column: int | None) -> MergeFile:
    """The upload read for a phone column (every number parsed: what costs), once: kept as JSON
    beside the upload and read back on each keystroke of the preview, which only picks columns
    for its text. Raises UnreadableFile, FileNotFoundError (the upload is gone)."""
    parsed = f"{entry['path']}.column-{'guessed' if column is None else column}.json"
    try:
        with default_storage.open(parsed, "rb") as stream:
            return MergeFile.from_json(stream.read())
    except FileNotFoundError:
        pass
    with default_storage.open(entry["path"], "rb") as stream:
        merge = read_rows(
            stream, entry["size"], region=settings.PHONE_DEFAULT_REGION, phone_column=column
        )
    default_storage.save(parsed, ContentFile(merge.to_json()))
    return merge


def merge_context(form: MailMergeForm, entry: dict) -> dict:
    """Everything the preview shows: the file as read for this text and phone column, each
    recipient's own text counted as the chosen account sends it, and what stops the send."""
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    account = data.get("account")
    text = form.data.get("text", "") if form.is_bound else ""
    column = data.get("phone_column") if form.is_bound else form.initial.get("phone_column")
    context = {"entry": entry, "account": account, "text": text, "problem": ""}
    context["columns"] = columns = placeholders_of(entry["header"], column)
    context["number_column_listed"] = any(listed.is_number for listed in columns)
    try:
        merge = read_once(entry, column).with_opt_outs().for_text(text)
    except UnreadableFile as exc:
        context["problem"] = str(exc)
        return context
    except FileNotFoundError:
        context["problem"] = _("The uploaded file is gone (kept a day unused): upload it again.")
        return context
    context["merge"] = merge
    template = parse(text)
    if not text.strip():
        context["problem"] = _("Write the message.")
        return context
    if template.errors:
        context["problem"] = " ".join(str(e) for e in template.errors)
        return context
    profile = account.backend.encoding_profile if account else STANDARD
    estimate = merge_estimate(text, merge, profile)
    context["personal"] = estimate
    # The text every recipient gets (the placeholders left out, their names are not sent): its
    # characters outside the standard alphabet named, and standard look-alikes offered.
    context["fixed_text"] = fixed = analyse(template.literal, profile)
    context.update(standard_characters_offer(template.literal, fixed, profile))
    problems = [estimate.problem] if estimate.problems else []
    if not merge.recipients:
        problems.append(_("No row of the file can be sent to."))
    if account:
        context["cost"] = estimate.cost(account.price_per_segment)
        if estimate.longest > account.max_parts:
            problems.append(
                _("The longest text needs %(parts)s parts; %(account)s allows at most %(max)s.")
                % {"parts": estimate.longest, "account": account, "max": account.max_parts}
            )
    context["problem"] = " ".join(problems)
    return context


@permission_required("messaging.add_message", raise_exception=True)
def mail_merge(request: HttpRequest, key: str) -> HttpResponse:
    """The merge page (GET), its live preview (htmx POST `action=preview`), the confirmation
    (`send`) and the send (`confirm`)."""
    entry = _entry(request, key)
    action = request.POST.get("action", "preview")
    if entry is None:
        # A second submit of a form already sent finds its message: the person's own, by the
        # key their form's token makes (never by the token as posted, messaging/idempotency.py).
        form_key = idempotency.form_key(request.user, request.POST.get("token"))
        mine = Message.objects.filter(idempotency_key=form_key, created_by=request.user)
        if form_key and (sent := mine.first()):
            return redirect(sent)
        raise Http404(_("No such upload: upload the file again."))
    header = entry["header"]
    if request.method == "POST":
        # "Use standard characters" (`gsm`): the text with look-alikes, as on Compose.
        data = with_standard_characters(request.POST) if action == "gsm" else request.POST
        form = MailMergeForm(header, data, user=request.user)
    else:
        guessed = guess_phone_column(header)
        form = MailMergeForm(header, initial={"phone_column": guessed}, user=request.user)
    if request.htmx and action == "gsm":
        return text_replaced(request, "messaging/mail_merge.html#text-box", form)
    context = merge_context(form, entry)
    if request.htmx and action == "preview":
        # With the list of placeholders, out of band: the phone column chosen names {phone};
        # and the refusal of the last submit cleared, as the preview now speaks for the form.
        return render(
            request,
            "messaging/_mail_merge_preview.html",
            {**context, "form": form, "key": key, "oob": True},
        )
    draft = None
    fingerprint = confirm_note = ""
    if request.method == "POST" and action in ("send", "confirm"):
        draft = _draft(request, form, context)
        if draft:
            # As on Compose (messaging/confirmation.py): only the send the confirmation showed
            # goes; a column, text, account or time changed since, or no confirmation at all,
            # is shown for confirming again.
            fingerprint = confirmation.fingerprint(
                draft, account_choice=form.data.get("account", ""), list_ids=(), user=request.user
            )
            posted = request.POST.get(confirmation.FIELD, "")
            if action == "confirm" and not (
                confirmation.already_sent(draft) or confirmation.matches(posted, fingerprint)
            ):
                action, confirm_note = "send", reconfirm_note(posted)
        if draft and action == "confirm":
            try:
                message = sending.send(draft)
            except sending.SendRefused as exc:  # a quota filled up since the check
                form.add_error(None, str(exc))
            else:
                _forget(request, key)
                messages.success(
                    request,
                    ngettext(
                        "Message #%(pk)s to %(count)s recipient was handed to the send queue.",
                        "Message #%(pk)s to %(count)s recipients was handed to the send queue.",
                        message.recipient_count,
                    )
                    % {"pk": message.pk, "count": f"{message.recipient_count:,}"},
                )
                return redirect(message)
    # The sender select as on the compose page; its account is the one the select shows, while
    # `account` stays the valid choice the preview counts for.
    select = sender_select(form)
    select["sender_account"] = select.pop("account")
    return render(
        request,
        "messaging/mail_merge.html",
        {
            **context,
            **select,
            "form": form,
            "key": key,
            "draft": draft if action == "send" else None,
            "confirmation": fingerprint,
            "confirm_note": confirm_note,
        },
    )


def _draft(request: HttpRequest, form: MailMergeForm, context: dict) -> sending.Draft | None:
    """The form as a Draft the send service checked, or None with the reason on the form."""
    if not form.is_valid():
        return None
    if context["problem"]:
        form.add_error(None, context["problem"])
        return None
    data = form.cleaned_data
    body = data["text"]
    template = parse(body)
    personal = template.is_personal
    if not personal:
        body = template.render({}).text  # "{{" written for a brace: sent as one
    try:
        return sending.prepare(
            account=data["account"],
            body=body,
            personal=personal,
            sender=data["sender"],
            recipients=context["merge"].resolved(),
            **form.type_options(),
            scheduled_for=data["scheduled_for"],
            user=request.user,
            idempotency_key=idempotency.form_key(request.user, data["token"]),
            department=data.get("department"),
        )
    except sending.SendRefused as exc:
        form.add_error(None, str(exc))
        return None
