"""KalaSMS (kalasms.com): one HTTP GET endpoint, smsdo.aspx, where `opt=` names the operation.

What KalaSMS documents, and every decision taken where it says nothing: docs/providers.md#kalasms.
Its document gives no answers at all: every reading of an answer below is such a decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy

from smsportal.sms.phones import international_digits
from smsportal.sms.status import DeliveryStatus

from . import http
from .base import (
    Backend,
    Balance,
    Capabilities,
    InvalidContent,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SendResult,
    StatusUpdate,
    SubmitResult,
    SubmitStatus,
    TransientError,
)

# Decision: a report is a status word. Words we do not know are `unknown`, never `delivered`.
REPORT_WORDS: dict[str, DeliveryStatus] = {
    "delivered": DeliveryStatus.DELIVERED,
    "delivrd": DeliveryStatus.DELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "undeliv": DeliveryStatus.UNDELIVERED,
    "expired": DeliveryStatus.EXPIRED,
    "rejected": DeliveryStatus.REJECTED,
    "pending": DeliveryStatus.SUBMITTED,
    "sent": DeliveryStatus.SUBMITTED,
    "submitted": DeliveryStatus.SUBMITTED,
    "queued": DeliveryStatus.SUBMITTED,
    "unknown": DeliveryStatus.UNKNOWN,
}
DEFAULT_SENDER_CHOICES = {
    "0": "the account's own number",
    "1": "the registered alphanumeric sender",
}
_MESSAGE_ID = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_REPORT_LINE = re.compile(r"^(\d+)\s*[,:;\s]\s*([A-Za-z_ ]+)$")
# Decision: "No lists" / "No reports" (any case) say there is nothing, not a refusal.
_NOTHING = re.compile(r"^no (lists|reports)\.?$", re.IGNORECASE)
_LIST_NAME = re.compile(r"^[\w .\-]{1,50}$")


class KalaSMSBackend(Backend):
    kind = "kalasms"
    label = "KalaSMS"
    default_base_url = "http://www.kalasms.com/core/smsdo.aspx"
    capabilities = Capabilities(
        bulk_size=1,
        # sendsms has no sender parameter: KalaSMS sends from the account's default sender,
        # which `defaultsenderid` sets (choice 0 the account's own number, 1 its registered
        # alphanumeric sender). Compose offers no per-message choice for these accounts.
        sender_per_message=False,
        balance=True,
        remote_lists=True,
        reports_poll=True,
        default_sender_choice=True,
    )

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        return {
            "use_rssendsms": forms.BooleanField(
                required=False,
                label=gettext_lazy("Send through rssendsms"),
                help_text=gettext_lazy(
                    "KalaSMS's second send operation; same parameters and answer."
                ),
            )
        }

    def _call(self, opt: str, **params: str) -> str:
        query = {"opt": opt, "user": self.account.username, "pwd": self.account.password, **params}
        # The document shows GET only. The message is UTF-8, percent-encoded (requests does it).
        return http.call(self.account, opt, self.base_url, query, method="GET")

    def _refusal(self, opt: str, body: str) -> ProviderError:
        # Decision: any answer that is not the operation's documented success is the provider's
        # refusal, shown to staff verbatim.
        shown = self.redact(body)  # before cutting, so no half password survives
        return ProviderError(f"KalaSMS refused {opt}: {shown[:200]}", code=opt, provider_text=body)

    # --- sending ---------------------------------------------------------------------------

    def check_before_send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> None:
        if message.sender:
            raise InvalidContent(
                "KalaSMS cannot send from a sender ID chosen per message: it uses the account's "
                "default sender (make a sender ID the default on the Sender IDs page).",
                code="sender",
            )

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        """One sendsms per recipient. A refusal is that recipient's result; a transport failure
        after the first leaves every earlier result as it was, the one in flight unknown and
        the rest not sent."""
        self.check_before_send(message, recipients)
        # Decision: rssendsms is an account option with sendsms's parameters and answer.
        opt = "rssendsms" if self.options.get("use_rssendsms") else "sendsms"
        results: list[SubmitResult] = []
        for index, recipient in enumerate(recipients):
            try:
                body = self._call(
                    opt, destination=international_digits(recipient.phone), message=message.text
                )
            except (TransientError, ProtocolError) as exc:
                if not results:
                    raise  # nothing was accepted: the caller decides, as for any request
                results += self._interrupted(exc, recipients[index:])
                break
            results.append(self._submitted(recipient, opt, body))
        return SendResult(results)

    def _submitted(self, recipient: Recipient, opt: str, body: str) -> SubmitResult:
        # Decision: a send answers with the message id (digits); anything else is the
        # provider's refusal of this recipient, shown verbatim.
        if _MESSAGE_ID.match(body):
            return SubmitResult(recipient, SubmitStatus.SUBMITTED, provider_message_id=body)
        refusal = self._refusal(opt, body)
        return SubmitResult(recipient, SubmitStatus.FAILED, error_code=opt, error_text=str(refusal))

    @staticmethod
    def _interrupted(exc: ProviderError, rest: Sequence[Recipient]) -> list[SubmitResult]:
        sent = not isinstance(exc, TransientError) or exc.request_sent
        current = SubmitResult(
            rest[0],
            SubmitStatus.UNKNOWN if sent else SubmitStatus.FAILED,
            error_code=exc.code,
            error_text=f"Outcome unknown: {exc}" if sent else f"Not sent: {exc}",
        )
        return [current] + [
            SubmitResult(
                r, SubmitStatus.FAILED, error_code="not-sent", error_text=f"Not sent: {exc}"
            )
            for r in rest[1:]
        ]

    def send_to_remote_list(self, name: str, message: OutgoingMessage) -> SendResult:
        body = self._call("sendbulk", list=name, message=message.text)
        if not _MESSAGE_ID.match(body):
            raise self._refusal("sendbulk", body)
        whole_list = Recipient(phone=f"list:{name}", reference=name)
        return SendResult(
            [SubmitResult(whole_list, SubmitStatus.SUBMITTED, provider_message_id=body)], raw=body
        )

    # --- account ---------------------------------------------------------------------------

    def balance(self) -> Balance:
        body = self._call("displaycredit")
        # Decision: displaycredit answers a number.
        if not _NUMBER.match(body):
            raise self._refusal("displaycredit", body)
        try:
            return Balance(amount=Decimal(body), raw=body)
        except InvalidOperation:
            raise http.unexpected(self.account, "displaycredit", body) from None

    def set_default_sender(self, choice: str) -> None:
        if choice not in DEFAULT_SENDER_CHOICES:
            raise ValueError(f"choice must be one of {', '.join(DEFAULT_SENDER_CHOICES)}")
        body = self._call("defaultsenderid", choice=choice)
        self._expect_ok("defaultsenderid", body)

    # --- delivery reports (we poll) -------------------------------------------------------

    def delivery_status(self, provider_message_id: str) -> StatusUpdate:
        body = self._call("getmessagedelreport", messageid=provider_message_id)
        word = body.strip().lower()
        if not re.fullmatch(r"[a-z_ ]{2,30}", word):
            raise self._refusal("getmessagedelreport", body)
        return StatusUpdate(
            provider_message_id=provider_message_id,
            status=REPORT_WORDS.get(word, DeliveryStatus.UNKNOWN),
            provider_status=word[:40],
            description=f"KalaSMS reports “{word}”.",
            raw={"answer": body},
        )

    def recent_delivery_reports(self) -> list[StatusUpdate]:
        body = self._call("delreport")
        if _NOTHING.match(body.strip()):
            return []
        # Decision: one report per line, "<message id>,<status word>" (comma, colon, semicolon
        # or spaces between). An answer with no such line is the provider's refusal.
        updates = []
        for line in body.splitlines():
            if not line.strip():
                continue
            match = _REPORT_LINE.match(line.strip())
            if not match:
                raise self._refusal("delreport", body)
            word = match[2].strip().lower()
            updates.append(
                StatusUpdate(
                    provider_message_id=match[1],
                    status=REPORT_WORDS.get(word, DeliveryStatus.UNKNOWN),
                    provider_status=word[:40],
                    description=f"KalaSMS reports “{word}”.",
                    raw={"line": line.strip()},
                )
            )
        return updates

    # --- lists stored at KalaSMS ----------------------------------------------------------

    def remote_lists(self) -> list[str]:
        body = self._call("displists")
        if _NOTHING.match(body.strip()):
            return []
        # Decision: one list name per line.
        names = [line.strip() for line in body.splitlines() if line.strip()]
        if not all(_LIST_NAME.match(name) for name in names):
            raise self._refusal("displists", body)
        return names

    def create_remote_list(self, name: str) -> None:
        self._expect_ok("createlist", self._call("createlist", list=name))

    def delete_remote_list(self, name: str) -> None:
        # The document's example misspells the parameter `lis`; we send `list`
        # (docs/providers.md#kalasms).
        self._expect_ok("deletelist", self._call("deletelist", list=name))

    def add_to_remote_list(self, name: str, phone: str) -> None:
        body = self._call("addcontacttolist", list=name, contact=international_digits(phone))
        self._expect_ok("addcontacttolist", body)

    def _expect_ok(self, opt: str, body: str) -> None:
        # Decision: list and sender operations answer OK (any case, optionally followed by a
        # sentence) on success.
        if not re.match(r"^ok\b", body.strip(), re.IGNORECASE):
            raise self._refusal(opt, body)
