"""Compose: the form, its live preview (htmx, on every input), a confirmation step, and the send,
each a small action; the checks and the send are the send service's (`messaging.sending`).

One view serves the page and the preview fragment. Without JavaScript the "Preview" button posts
the form and the same preview comes back in the page.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape as html_escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from smsportal.contacts import selectors as contacts
from smsportal.contacts.models import Contact, OptOut
from smsportal.contacts.scope import lists_of
from smsportal.routing.prices import PriceTable
from smsportal.senders.models import SenderID
from smsportal.senders.selectors import sender_choices_keeping
from smsportal.sms.encoding import (
    GSM7,
    STANDARD,
    analyse,
    character_ceiling,
    distinct_characters,
    gsm_equivalent,
)
from smsportal.sms.phones import parse_phone, split_pasted
from smsportal.sms.placeholders import parse

from .. import confirmation, idempotency, message_types, quota_step, routed, sending
from ..characters import costly_chips, invisible_name
from ..forms import ComposeForm
from ..message_types import measure
from ..personal import compose_estimate
from ..recipients import count_with_lists, resolve


def _character_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def invisible_among(chars: set[str]) -> set[str]:
    """The characters nobody can see among `chars`."""
    return {c for c in chars if invisible_name(c)}


def highlight(text: str, costly: tuple[str, ...] = (), invisible: set[str] | None = None) -> str:
    """The text as HTML: the runs of characters that need a dearer alphabet marked (one
    element per run, so a word is never cut into one element per letter: that breaks Arabic
    joining), and invisible characters shown by name. The text's distinct characters are
    classified once; a regular expression finds the runs, and plain text is escaped whole.
    `invisible`: the invisible characters of a whole text this text is a part of, classified
    once for all its parts (a 1,600-character text has up to 24)."""
    if not costly and invisible is not None and not invisible:
        # A part of a text with nothing to point at (most parts): escaped whole, its
        # characters not even gathered.
        return mark_safe(html_escape(text))  # noqa: S308 (escaped)
    chars = distinct_characters(text)
    invisible = invisible_among(chars) if invisible is None else chars & invisible
    marked = set(costly) - invisible
    if not invisible and not marked:
        return mark_safe(html_escape(text))  # noqa: S308 (escaped)
    alternatives = []
    if invisible:
        alternatives.append(f"(?P<invisible>{_character_class(invisible)})")
    if marked:
        alternatives.append(f"(?P<costly>{_character_class(marked)}+)")
    # An Arabic text with one curly quote is a few hundred runs: the title is translated once,
    # and the runs escaped by the standard library's escape (Django's, which this is, wraps
    # every call for lazy strings).
    mark = f'<mark title="{html_escape(_("Not in the standard SMS alphabet"))}">'
    html, plain_from = [], 0
    for match in re.finditer("|".join(alternatives), text):
        html.append(html_escape(text[plain_from : match.start()]))
        run = match.group()
        if match.lastgroup == "invisible":
            html.append(
                f'<span class="char-name" title="U+{ord(run):04X}">'
                f"{html_escape(invisible_name(run))}</span>"
            )
        else:
            html.append(f"{mark}{html_escape(run)}</mark>")
        plain_from = match.end()
    html.append(html_escape(text[plain_from:]))
    return mark_safe("".join(html))  # noqa: S308 (every character is escaped)


def parts_html(highlighted: list[str], sizes: list[str]) -> str:
    """The preview's parts, one row each: "2/24", the part as highlighted, its size. Made here
    in one pass rather than by a template loop: a 1,600-character Arabic text has 24 parts, and
    the loop (a variable lookup and a localised number per cell) was most of the preview's
    rendering. The numbers need no thousands separator: a long SMS has at most 255 parts (its
    header counts them in one octet)."""
    count = len(highlighted)
    labels = {size: html_escape(size) for size in set(sizes)}  # a few distinct sizes
    rows = []
    for number, (html, size) in enumerate(zip(highlighted, sizes, strict=True), start=1):
        badge = (
            f'<span class="badge text-bg-secondary">{number}/{count}</span>' if count > 1 else ""
        )
        rows.append(
            '<div class="preview-part border rounded p-2 mb-1 bg-body-tertiary small d-flex '
            f'gap-2 align-items-start">{badge}<div class="preview-text flex-grow-1" dir="auto">'
            f'{html}</div><span class="text-body-secondary text-nowrap">{labels[size]}</span></div>'
        )
    return mark_safe("".join(rows))  # noqa: S308 (the parts are escaped by highlight())


DEFAULT_MAX_PARTS = 10  # before an account is chosen


def characters(count: int) -> str:
    """ "153 characters", the size of a part."""
    return ngettext("%(count)s character", "%(count)s characters", count) % {"count": f"{count:,}"}


def character_limit(account, text: str, profile) -> int:
    """Characters beyond which `text` certainly needs more parts than `account` allows, in the
    alphabet its characters need (encoding.character_ceiling)."""
    return character_ceiling(text, account.max_parts if account else DEFAULT_MAX_PARTS, profile)


LIST_COUNTS_SECONDS = 30  # how long the live preview reuses a list's member counts


def chosen_lists(form: ComposeForm) -> list[int]:
    """The chosen lists the message may go to: the chosen department's and shared ones (a list
    of another department is left out, even in the live preview's counts)."""
    chosen = form.data.getlist("lists") if hasattr(form.data, "getlist") else []
    ids = {int(i) for i in chosen if str(i).isdigit()}
    if not ids:
        return []
    usable = form.offered_lists.filter(pk__in=ids)
    return sorted(usable.values_list("pk", flat=True))


def recipients_of(form: ComposeForm, *, live: bool = False):
    """Pasted numbers and the members of the chosen lists, without opted-out numbers. `live`
    (the preview as staff type) only counts the lists' members; the send resolves them all."""
    pasted = form.data.get("recipients", "")
    region = settings.PHONE_DEFAULT_REGION
    list_ids = chosen_lists(form)
    if live and list_ids:
        members, blocked = cache.get_or_set(
            f"compose:list-counts:{list_ids}",
            lambda: contacts.list_counts(list_ids),
            LIST_COUNTS_SECONDS,
        )
        valid = [p.e164 for raw in split_pasted(pasted) if (p := parse_phone(raw, region)).valid]
        overlap = contacts.members_among(list_ids, valid) if valid else []
        return count_with_lists(pasted, region, members, blocked, overlap, contacts.opted_out)
    return resolve(pasted, region, listed=contacts.members(list_ids), opted_out=contacts.opted_out)


def preview_context(form: ComposeForm, *, live: bool = False) -> dict:
    """Everything the preview shows, counted as the chosen account will send it. A text longer
    than the account could ever send is answered at once with the limit, nothing analysed."""
    form.is_valid()
    account = form.cleaned_data.get("account")
    text = form.data.get("text", "")
    kind = form.kind
    context = text_preview(text, kind, bool(form.cleaned_data.get("binary_udh")), account)
    if context["too_long"]:
        return context
    summary = recipients_of(form, live=live)
    context["type_preview"] = type_preview(form, kind, context["analysis"], text)
    context["summary"] = summary
    if form.automatic:
        context["routing"] = routing_preview(form, summary, text)
        # The summary beside the Send button says the split's cost (it said "estimated cost"
        # with no figure: there is no one account to price it).
        context["cost"] = context["routing"]["cost"]
    if account:
        capabilities = account.backend.capabilities
        context["capabilities"] = capabilities
        context["cost"], context["cost_lines"] = preview_cost(
            account, summary, context["analysis"].segments, chosen_lists(form)
        )
        context["quota_left"] = quota_step.room_left(form.cleaned_data.get("department"), account)
        context["default_sender_only"] = not capabilities.sender_per_message
    profile = account.backend.encoding_profile if account else STANDARD
    personalise_preview(context, form, text, kind, profile)
    return context


def text_preview(text: str, kind: str, with_udh: bool, account) -> dict:
    """The preview's account of the text itself, as `account` will send it: its alphabet, its
    parts (each shown), the characters that cost a dearer alphabet, the standard characters
    that would replace them, and any problem; `too_long` (and the limit, nothing analysed) for a
    text longer than the account could ever send. Compose's preview, and the change of a
    scheduled message's text (messaging/_text_preview.html)."""
    profile = account.backend.encoding_profile if account else STANDARD
    limit = character_limit(account, text, profile)
    if len(text) > limit:
        figures = {"count": f"{len(text):,}", "limit": f"{limit:,}"}
        if account:
            problem = _(
                "The text has %(count)s characters; %(account)s allows at most %(parts)s SMS "
                "per message, which holds no more than %(limit)s characters."
            ) % {**figures, "account": account, "parts": f"{account.max_parts:,}"}
        else:
            problem = _(
                "The text has %(count)s characters; at most %(parts)s SMS per message, which "
                "holds no more than %(limit)s characters."
            ) % {**figures, "parts": f"{DEFAULT_MAX_PARTS:,}"}
        return {"too_long": True, "problem": problem, "account": account, "limit": limit}
    analysis = measure(text, kind, with_udh, profile)
    offer = standard_characters_offer(text, analysis, profile)
    costly, better = offer["costly"], offer["gsm_suggestion"]
    # The text as typed, marked, when there is something to point at: an invisible
    # character, or characters the "standard characters" button would replace.
    invisible = invisible_among(distinct_characters(text))
    shows_typed = bool(invisible) or bool(costly and better)
    binary = kind == message_types.BINARY
    sizes = [analysis.units] * len(analysis.parts) if binary else analysis.part_units
    # Each distinct size said once ("153 characters" for every part but the last).
    size_labels = {size: characters(size) for size in set(sizes)}
    return {
        "too_long": False,
        "analysis": analysis,
        "problem": analysis.problem,
        "highlighted": highlight(text, costly, invisible) if shows_typed else "",
        "costly_chips": offer["costly_chips"],
        "shows_typed": shows_typed,
        "parts_html": parts_html(
            [highlight(part, invisible=invisible) for part in analysis.parts],
            [size_labels[size] for size in sizes],
        ),
        "account": account,
        "gsm_suggestion": better,
        "segments_saved": analysis.segments - better.segments if better else 0,
        "too_many_parts": bool(account) and analysis.segments > account.max_parts,
    }


def standard_characters_offer(text: str, analysis, profile) -> dict:
    """The characters of `text` (as `analysis` counted it) that need a dearer alphabet, named
    for staff (`costly_chips`), and the text counted with look-alike standard characters in
    their place when that changes it (`gsm_suggestion`: the "Use standard characters" button,
    messaging/_standard_characters.html). Compose offers it for its text; Send from a file for
    the text every recipient gets."""
    replaced = gsm_equivalent(text)
    costly = analysis.non_gsm if analysis.encoding != GSM7 else ()
    return {
        "costly": costly,
        "costly_chips": costly_chips(costly),
        "gsm_suggestion": analyse(replaced, profile) if replaced != text else None,
    }


REFUSED_SHOWN = 5  # refused numbers named per reason in the preview; the rest are counted


def routing_preview(form: ComposeForm, summary, text: str) -> dict:
    """ "Automatic": how many recipients go through which account, from which sender ID, at what
    cost, and who is refused and why - a few numbers named for each reason, so staff can fix
    them - before anything is sent (`routed.preview`, set-based)."""
    phones = list(summary.phones)
    if getattr(summary, "listed_to_send", 0):
        pasted = set(summary.phones)
        phones += [p for p in listed_phones(chosen_lists(form)) if p not in pasted]
    found = routed.preview(
        body=message_types.body_for(text, form.kind),
        phones=phones,
        sender=form.data.get("sender", ""),
        message_type=message_types.message_type(form.kind),
    )
    return {
        "rows": found.shares,
        "cost": found.cost,
        "to_send": found.recipient_count,
        "refused": len(found.refused),
        "reasons": found.refused_groups(REFUSED_SHOWN),
    }


def listed_phones(list_ids: list[int]):
    """The lists' members who may be messaged (opted-out numbers left out), streamed."""
    return (
        Contact.objects.filter(memberships__contact_list_id__in=list_ids)
        .exclude(phone__in=OptOut.objects.values("phone"))
        .distinct()
        .values_list("phone", flat=True)
        .iterator(chunk_size=10_000)
    )


def preview_cost(account, summary, segments: int, list_ids: list[int]):
    """The estimate, each recipient at its destination's price (routing.prices), and its lines
    [(parts, price per part)] dearest first. The live preview knows a list's members only by
    count: where the account has prices by destination, their numbers are read once (one
    query, cached like the counts) and grouped by price."""
    table = PriceTable.of(account)
    by_price = table.parts_by_price(summary.phones, segments)
    listed = getattr(summary, "listed_to_send", 0)
    if listed and not table.prices:
        by_price[table.default] += listed * segments
    elif listed:
        key = f"compose:list-prices:{list_ids}:{account.pk}:{segments}"
        for price, parts in cache.get_or_set(
            key,
            lambda: list(table.parts_by_price(listed_phones(list_ids), segments).items()),
            LIST_COUNTS_SECONDS,
        ):
            by_price[price] += parts
    lines = sorted(((parts, price) for price, parts in by_price.items() if parts), reverse=True)
    return sum((parts * price for parts, price in lines), Decimal("0")), lines


PERSONAL_KINDS = message_types.PERSONAL_KINDS  # the preview personalises these kinds


def personalise_preview(context: dict, form: ComposeForm, text: str, kind: str, profile) -> None:
    """A text with placeholders: each recipient's own text counted (messaging/personal.py),
    its problems refused, the parts and cost those of the rendered texts."""
    template = parse(text)
    if kind not in PERSONAL_KINDS or not (template.errors or template.is_personal):
        return
    if template.errors:
        context["problem"] = " ".join(str(e) for e in template.errors)
        return
    region = settings.PHONE_DEFAULT_REGION
    pasted = list(
        dict.fromkeys(
            p.e164
            for raw in split_pasted(form.data.get("recipients", ""))
            if (p := parse_phone(raw, region)).valid
        )
    )
    departments = form.fields["department"].queryset
    own = compose_estimate(
        text,
        chosen_lists(form),
        pasted,
        profile,
        departments=list(departments.values_list("pk", flat=True)),
    )
    context["personal"] = own
    if own.problems:
        context["problem"] = own.problem
    account = context.get("account")
    if account:
        context["cost"] = own.cost(account.price_per_segment)
        context["too_many_parts"] = own.longest > account.max_parts


def type_preview(form: ComposeForm, kind: str, analysis, text: str) -> dict:
    """What the preview says about the chosen kind of message (messaging/_type_preview.html)."""
    label, help_text = message_types.KINDS[kind]
    preview = {"kind": kind, "label": label, "help": help_text}
    if kind == message_types.BINARY and getattr(analysis, "binary", None):
        preview["udh"] = message_types.hex_octets(analysis.binary.udh)
        preview["data"] = message_types.hex_octets(analysis.binary.data)
        preview["octets"] = analysis.binary.octets
    if kind == message_types.BARCODE:
        preview["barcode_format"] = dict(message_types.BARCODE_FORMATS).get(
            form.cleaned_data.get("barcode_format", ""), ""
        )
        preview["placeholder"] = message_types.BARCODE_PLACEHOLDER
        preview["has_placeholder"] = message_types.BARCODE_PLACEHOLDER in text
    return preview


def shown_account(form: ComposeForm):
    """The account the form's select shows: the one chosen, else the first offered; None for
    "Automatic"."""
    account = form.cleaned_data.get("account") if form.is_bound and form.is_valid() else None
    if account is None and not form.automatic:
        chosen = form["account"].value()
        field = form.fields["account"]
        account = field.queryset.filter(pk=chosen).first() if chosen else field.queryset.first()
    return account


def sender_select(form: ComposeForm) -> dict:
    """The sender select's choices (senders/_options.html) for the account the form shows. A
    page sent back (preview, confirmation, a refusal) keeps the sender chosen, marked when it
    can no longer be sent from (retired while the page was open); a new one the default."""
    chosen = form.data.get("sender", "") if form.is_bound else None
    choices, _problem = sender_choices_keeping(shown_account(form), chosen)
    if form.automatic:  # any account's sender ID: routing maps it onto each account
        values = SenderID.objects.usable().order_by("value").values_list("value", flat=True)
        choices["senders"] = [{"value": value} for value in dict.fromkeys(values)]
        choices["selected_sender"] = chosen or ""
    return {**choices, "automatic": form.automatic}


def compose_context(form: ComposeForm, preview: dict | None = None) -> dict:
    """The page around the form: the chosen account's sender IDs and balance."""
    return {**sender_select(form), "form": form, "preview": preview}


@permission_required("messaging.add_message", raise_exception=True)
def compose(request: HttpRequest) -> HttpResponse:
    """The page (GET), and each of its actions (POST `action`): `preview`, `gsm` (use standard
    characters), `send` (the confirmation) and `confirm` (the send)."""
    if request.method != "POST":
        return compose_page(request)
    action = ACTIONS.get(request.POST.get("action", "preview"), preview)
    return action(request)


def compose_page(request: HttpRequest) -> HttpResponse:
    """The page, or (htmx, when the department changes) its lists and templates: those of the
    department now chosen, the lists still chosen that it may send to kept."""
    initial = {
        key: request.GET[key] for key in ("account", "text", "department") if key in request.GET
    }
    chosen = [int(i) for i in request.GET.getlist("lists") if i.isdigit()]
    if request.GET.get("list", "").isdigit():
        chosen = [int(request.GET["list"])]
        # "Send to this list": for the list's department, so it is among the lists offered.
        owner = lists_of(request).filter(pk=chosen[0]).values_list("department", flat=True)
        initial.setdefault("department", owner.first())
    if chosen:
        initial["lists"] = chosen
    if "to" in request.GET:
        initial["recipients"] = request.GET["to"]
    form = ComposeForm(initial=initial, user=request.user)
    if request.htmx and request.htmx.target == "department-choices":
        return render(request, "messaging/compose.html#department-choices", {"form": form})
    return render(
        request,
        "messaging/compose.html",
        compose_context(form, opening_preview(form, request.user)),
    )


def opening_preview(form: ComposeForm, user) -> dict | None:
    """The preview of a page opened with its text filled in (a template's "Use", a link), shown
    at once: the live preview only answers a change, so the person saw "Type a message" beside
    a text already typed. It counts the form as the page shows it (the account the select
    shows, the department, numbers and lists filled in), as the first keystroke would post it."""
    text = form.initial.get("text")
    if not text:
        return None
    account = shown_account(form)
    shown = QueryDict(mutable=True)
    shown["text"] = text
    shown["account"] = str(account.pk) if account else ""
    shown["department"] = str(form.chosen_department.pk) if form.chosen_department else ""
    shown["recipients"] = form.initial.get("recipients", "")
    shown.setlist("lists", [str(pk) for pk in form.initial.get("lists", [])])
    return preview_context(ComposeForm(shown, user=user), live=True)


def render_page(request: HttpRequest, form: ComposeForm, **extra) -> HttpResponse:
    context = compose_context(form, extra.pop("preview", None) or preview_context(form))
    return render(request, "messaging/compose.html", {**context, **extra})


def preview(request: HttpRequest) -> HttpResponse:
    """The live preview as staff type (htmx), or the page with it (the "Preview" button)."""
    form = ComposeForm(request.POST, user=request.user)
    if request.htmx:
        return render(request, "messaging/_preview_live.html", preview_context(form, live=True))
    return render_page(request, form)


def use_standard_characters(request: HttpRequest) -> HttpResponse:
    """The text with look-alike standard characters in place of costly ones."""
    form = ComposeForm(with_standard_characters(request.POST), user=request.user)
    if request.htmx:
        return text_replaced(request, "messaging/_text_field.html", form)
    return render_page(request, form)


def with_standard_characters(data: QueryDict) -> QueryDict:
    """The posted form with look-alike standard characters in place of costly ones in its text
    ("Use standard characters", on Compose and Send from a file)."""
    data = data.copy()
    data["text"] = gsm_equivalent(data.get("text", ""))
    return data


def text_replaced(request: HttpRequest, template_name: str, form) -> HttpResponse:
    """The text box holding the form's new text, for htmx to swap in; the event says the form
    changed, as typing does: the preview follows, and a confirmation shown is withdrawn
    (static/js/compose.js)."""
    response = render(request, template_name, {"form": form})
    response["HX-Trigger-After-Settle"] = "compose-changed"
    return response


def draft_for(request: HttpRequest, form: ComposeForm, preview: dict) -> sending.Draft | None:
    """The form as a Draft the send service checked, or None with the reason on the form."""
    if not form.is_valid():
        return None
    if preview["problem"]:
        # Every reason at once: an empty text sent to nobody says both, not one per try.
        form.add_error(None, preview["problem"])
        if not preview.get("too_long") and not preview["summary"].count:
            form.add_error(None, _("There is no recipient to send to."))
        return None
    data = form.cleaned_data
    body, personal = message_types.as_written(data["text"], form.kind)
    if form.automatic:
        return routed_draft_for(request, form, preview, body, personal)
    try:
        return sending.prepare(
            account=data["account"],
            body=body,
            personal=personal,
            sender=data["sender"],
            recipients=preview["summary"].resolved(),
            **form.type_options(),
            scheduled_for=data["scheduled_for"],
            user=request.user,
            department=data.get("department"),
            idempotency_key=idempotency.form_key(request.user, data["token"]),
        )
    except sending.SendRefused as exc:
        form.add_error(None, str(exc))
        return None


def routed_draft_for(request, form, preview, body: str, personal: bool):
    """ "Automatic": a Draft per account the routes choose (messaging.routed)."""
    data = form.cleaned_data
    try:
        return routed.prepare_routed(
            body=body,
            personal=personal,
            sender=data["sender"],
            recipients=preview["summary"].resolved(),
            **form.type_options(),
            scheduled_for=data["scheduled_for"],
            user=request.user,
            department=data.get("department"),
            idempotency_key=idempotency.form_key(request.user, data["token"]),
        )
    except sending.SendRefused as exc:
        form.add_error(None, str(exc))
        return None


def confirm(request: HttpRequest) -> HttpResponse:
    """The confirmation: what the send will do, as the send service prepared it, and its
    fingerprint, for "Confirm and send" to post back (messaging/confirmation.py)."""
    form = ComposeForm(request.POST, user=request.user)
    preview = preview_context(form)
    draft = draft_for(request, form, preview)
    if isinstance(draft, routed.RoutedDraft) and confirmation.already_sent(draft):
        return routed_already_sent(request, draft)
    fingerprint = confirmation_of(request, form, draft) if draft else ""
    return render_page(request, form, preview=preview, draft=draft, confirmation=fingerprint)


def routed_already_sent(request: HttpRequest, draft: routed.RoutedDraft) -> HttpResponse:
    """A routed form posted again once sent (a double click, a second tab, Back): its messages
    (`routed.sent_with_parts`), named and shown as its first send showed them, and nothing
    routed or sent again."""
    sent = [part.existing for part in draft.drafts]
    numbers = ", ".join(f"#{message.pk}" for message in sent)
    messages.info(
        request,
        ngettext(
            "This form was already sent, as message %(numbers)s: nothing was sent again.",
            "This form was already sent, as messages %(numbers)s: nothing was sent again.",
            len(draft.drafts),
        )
        % {"numbers": numbers},
    )
    return redirect(sent[0] if len(sent) == 1 else sent_list_url(sent))


def confirmation_of(request: HttpRequest, form: ComposeForm, draft) -> str:
    return confirmation.fingerprint(
        draft,
        account_choice=form.data.get("account", ""),
        list_ids=chosen_lists(form),
        user=request.user,
    )


def reconfirm_note(posted: str) -> str:
    """Why the confirmation is shown again instead of sending."""
    if posted:
        return _(
            "The message changed after you reviewed it: check the new summary and confirm again."
        )
    return _("Nothing has been sent yet: check the summary and confirm.")


def send(request: HttpRequest) -> HttpResponse:
    """The send, after the confirmation; a second submit of the same form finds its message.
    Only the send the confirmation showed goes: a form changed since (a list added, the text
    or the account changed), or posted without a confirmation, is shown for confirming."""
    form = ComposeForm(request.POST, user=request.user)
    preview = preview_context(form)
    draft = draft_for(request, form, preview)
    if draft is None:
        return render_page(request, form, preview=preview)
    if isinstance(draft, routed.RoutedDraft) and confirmation.already_sent(draft):
        return routed_already_sent(request, draft)
    posted = request.POST.get(confirmation.FIELD, "")
    expected = confirmation_of(request, form, draft)
    if not (confirmation.already_sent(draft) or confirmation.matches(posted, expected)):
        return render_page(
            request,
            form,
            preview=preview,
            draft=draft,
            confirmation=expected,
            confirm_note=reconfirm_note(posted),
        )
    try:
        if isinstance(draft, routed.RoutedDraft):
            sent = routed.send_routed(draft)  # all or none: one transaction
        else:
            message = sending.send(draft)
    except sending.SendRefused as exc:  # a quota filled up since the check (quota_step.take)
        form.add_error(None, str(exc))
        return render_page(request, form, preview=preview)
    if isinstance(draft, routed.RoutedDraft):
        recipients = sum(m.recipient_count for m in sent)
        to = ngettext("%(count)s recipient", "%(count)s recipients", recipients) % {
            "count": f"{recipients:,}"
        }
        if draft.drafts[0].scheduled_for:
            said = ngettext(
                "%(count)s message to %(to)s (one per account the routes chose) scheduled.",
                "%(count)s messages to %(to)s (one per account the routes chose) scheduled.",
                len(sent),
            )
        else:
            said = ngettext(
                "%(count)s message to %(to)s (one per account the routes chose) handed to the "
                "send queue.",
                "%(count)s messages to %(to)s (one per account the routes chose) handed to the "
                "send queue.",
                len(sent),
            )
        if len(sent) == 1:
            message = sent[0]  # the routes chose one account: its page, as a plain send's
        else:
            messages.success(request, said % {"count": f"{len(sent):,}", "to": to})
            return redirect(sent_list_url(sent))
    count = message.recipient_count
    values = {"number": message.pk, "count": f"{count:,}"}
    if message.scheduled_for:
        values["when"] = f"{localtime(message.scheduled_for):%Y-%m-%d %H:%M}"
        done = ngettext(
            "Message #%(number)s to %(count)s recipient is scheduled for %(when)s.",
            "Message #%(number)s to %(count)s recipients is scheduled for %(when)s.",
            count,
        )
    else:  # past tense: still true once the send is done
        done = ngettext(
            "Message #%(number)s to %(count)s recipient was handed to the send queue.",
            "Message #%(number)s to %(count)s recipients was handed to the send queue.",
            count,
        )
    messages.success(request, done % values)
    return redirect(message)


def sent_list_url(sent) -> str:
    """The Messages list showing only the messages one routed send made (one per account)."""
    ids = ",".join(str(message.pk) for message in sent)
    return f"{reverse('messaging:message_list')}?{urlencode({'ids': ids})}"


# The buttons' `action` values. "send" opens the confirmation, whose button says "confirm".
ACTIONS = {"preview": preview, "gsm": use_standard_characters, "send": confirm, "confirm": send}
