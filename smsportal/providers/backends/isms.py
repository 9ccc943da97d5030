"""ISMS (sms.com.my): HTTP GET/POST pages under /websmsapi/; pushes delivery reports and incoming
SMS to our webhooks.

What ISMS documents, and the decisions taken where it says nothing: docs/providers.md#isms.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from smsportal.sms.encoding import UCS2, analyse
from smsportal.sms.phones import international_digits, parse_phone
from smsportal.sms.status import DeliveryStatus

from . import http
from .base import (
    AuthenticationError,
    Backend,
    Balance,
    Capabilities,
    InboundSMS,
    InsufficientCredit,
    InvalidContent,
    InvalidRecipient,
    MessageType,
    OutgoingMessage,
    ProtocolError,
    ProviderError,
    Recipient,
    SendResult,
    StatusUpdate,
    SubmitResult,
    SubmitStatus,
    TransferOutcome,
    TransferRefused,
    TransferResult,
    TransientError,
)

SEQNO_MAX = 20
BARCODE_TYPES = {"EMS", "Nokia", "MMS", "textmsg", "textlink"}

# Return codes: (error class or None for success, sentence for staff).
CODES: dict[str, tuple[type[ProviderError] | None, str]] = {
    "1701": (None, "Sent."),
    "1702": (AuthenticationError, "ISMS refused the username or password."),
    "1703": (TransientError, "ISMS had an internal error; try again later."),
    "1704": (InsufficientCredit, "The ISMS account has not enough credits."),
    "1705": (InvalidRecipient, "ISMS says the mobile number is invalid."),
    "1706": (InvalidContent, "ISMS refused the message or the sender ID."),
    "1707": (None, "Credit transfer done."),
    "1708": (TransferRefused, "ISMS says the customer account for the transfer is invalid."),
    "1709": (TransferRefused, "ISMS says the credit value is invalid."),
    "1718": (None, "ISMS had already received this request (same seqno)."),
}

# Delivery report Status -> (our status, sentence). docs/providers.md#isms.
REPORT_STATUS: dict[str, tuple[DeliveryStatus, str]] = {
    "6": (DeliveryStatus.DELIVERED, "Delivered."),
    "7": (DeliveryStatus.UNDELIVERED, "Failed at the network."),
    "8": (DeliveryStatus.EXPIRED, "Expired before delivery."),
    "9": (DeliveryStatus.UNKNOWN, "The network does not know what became of it."),
    "10": (DeliveryStatus.REJECTED, "Rejected by the network."),
    "11": (DeliveryStatus.SUBMITTED, "Queued at the telco."),
    "15": (DeliveryStatus.SUBMITTED, "Queued at the telco."),
    "16": (DeliveryStatus.SUBMITTED, "Queued at the telco."),
    "12": (DeliveryStatus.UNDELIVERED, "The number is not in service."),
    "17": (DeliveryStatus.UNDELIVERED, "The number is not in service."),
    "13": (DeliveryStatus.UNDELIVERED, "The phone is out of coverage."),
    "14": (DeliveryStatus.UNDELIVERED, "The phone is out of coverage."),
}

_ANSWER = re.compile(r"^(\d{4})(?::(.*))?$")
_TWO_NUMBERS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*[,:\s]\s*(-?\d+(?:\.\d+)?)\s*$")


def ucs2_hex(text: str) -> str:
    """The body for Unicode types: UTF-16 big-endian as hex (`ABC` -> `004100420043`)."""
    return text.encode("utf-16-be").hex().upper()


def decode_ucs2_hex(value: str) -> str:
    try:
        return bytes.fromhex(value).decode("utf-16-be")
    except ValueError as exc:  # bad hex digits, odd length, or a broken surrogate
        raise ProtocolError(f"The message is not valid UCS-2 hex ({exc}).", code="hex") from None


class ISMSBackend(Backend):
    kind = "isms"
    label = "ISMS"
    default_base_url = "http://www.sms.com.my/websmsapi/"
    # Document 002: "callbacks come only from" these two addresses.
    callback_addresses = ("210.5.41.23", "103.4.7.156")
    # transfer.aspx moves whole credits: a fraction is refused as 1709 "invalid credit value".
    transfer_step = Decimal("1")
    capabilities = Capabilities(
        bulk_size=1,
        balance=True,
        transfer=True,
        reports_push=True,
        inbound=True,
        flash=True,
        binary=True,
        barcode=True,
        # Decision: ISendSMSNoDR takes "many" numbers, the document gives no limit; 100 per
        # request keeps a POST body small and a refusal's reach limited.
        bulk_size_without_reports=100,
        # Every send carries a seqno ISMS remembers for 24 hours; a repeat answers 1718, so a
        # request whose fate is unknown may be sent again without reaching the phone twice.
        idempotent_retry=True,
    )

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        return {
            "use_unicode_page": forms.BooleanField(
                required=False,
                label=gettext_lazy("Send Unicode through ISendSMSUnicode.aspx"),
                help_text=gettext_lazy(
                    "Unicode text without hex conversion, instead of type 3 with a hex body."
                ),
            )
        }

    def _page(self, page: str) -> str:
        return f"{self.base_url.rstrip('/')}/{page}"

    @functools.cached_property
    def _password(self) -> str:
        # Decrypted once for this backend (a batch's: it builds a request per recipient, and
        # a decryption cost a third of the request's own CPU).
        return self.account.password

    def _call(self, page: str, **params: str) -> str:
        # Parameter names are case sensitive: username, password.
        data = {"username": self.account.username, "password": self._password, **params}
        return http.call(self.account, page, self._page(page), data, method="POST")

    def _code(self, body: str, operation: str) -> tuple[str, str]:
        match = _ANSWER.match(body.strip())
        if not match or match[1] not in CODES:
            raise http.unexpected(self.account, operation, body)
        code, rest = match[1], (match[2] or "").strip()
        error, sentence = CODES[code]
        if error is TransientError:
            raise TransientError(sentence, request_sent=True, code=code, provider_text=body)
        if error is not None:
            raise error(sentence, code=code, provider_text=body)
        return code, rest

    # --- sending ---------------------------------------------------------------------------

    @staticmethod
    def seqno(recipient: Recipient) -> str:
        if not recipient.reference or len(recipient.reference) > SEQNO_MAX:
            raise ValueError("ISMS needs a seqno of 1 to 20 characters for every send")
        return recipient.reference

    def message_type(self, message: OutgoingMessage) -> tuple[str, str]:
        """(`type`, message body) for the text and options. The last text's answer is kept:
        a batch's backend sends one text to each number in its own request."""
        key = (message.type, bool(message.udh), message.text)
        last = self._last_type
        if last is not None and last[0] == key:
            return last[1]
        answer = self._message_type(message)
        self._last_type = (key, answer)  # one assignment: safe between the batch's threads
        return answer

    _last_type: tuple[tuple, tuple[str, str]] | None = None

    def _message_type(self, message: OutgoingMessage) -> tuple[str, str]:
        if message.type == MessageType.BINARY:
            return ("5" if message.udh else "6"), message.text
        unicode = analyse(message.text, self.encoding_profile).encoding == UCS2
        flash = message.type == MessageType.FLASH
        if unicode:
            return ("4" if flash else "3"), ucs2_hex(message.text)
        return ("2" if flash else "1"), message.text

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        if message.type == MessageType.BARCODE:
            return self._send_each(message, recipients, self._send_barcode)
        if not message.want_delivery_report and len(recipients) > 1:
            return self._send_no_report(message, recipients)
        return self._send_each(message, recipients, self._send_one)

    def _send_each(self, message, recipients, send_one) -> SendResult:
        # One recipient per request (ISendSMS answers with one message id). A refusal of this
        # recipient is its result; an error of the whole account propagates to the caller.
        results = []
        for recipient in recipients:
            try:
                results.append(send_one(message, recipient))
            except InvalidRecipient as exc:
                results.append(
                    SubmitResult(
                        recipient, SubmitStatus.FAILED, error_code=exc.code, error_text=str(exc)
                    )
                )
        return SendResult(results)

    def _send_one(self, message: OutgoingMessage, recipient: Recipient) -> SubmitResult:
        kind, body = self.message_type(message)
        unicode_page = self.options.get("use_unicode_page") and kind in ("3", "4")
        page = "ISendSMSUnicode.aspx" if unicode_page else "ISendSMS.aspx"
        if unicode_page:
            body = message.text
        answer = self._call(
            page,
            message=body,
            mobile=international_digits(recipient.phone),
            sender=message.sender,
            type=kind,
            seqno=self.seqno(recipient),
        )
        return self._submitted(recipient, answer, page)

    def _send_barcode(self, message: OutgoingMessage, recipient: Recipient) -> SubmitResult:
        if message.barcode_format not in BARCODE_TYPES:
            raise InvalidContent(
                f"A 2D barcode message needs MsgType one of {', '.join(sorted(BARCODE_TYPES))}."
            )
        answer = self._call(
            "ISendSMS2D.aspx",
            message=message.text,
            mobile=international_digits(recipient.phone),
            sender=message.sender,
            MsgType=message.barcode_format,
            seqno=self.seqno(recipient),
        )
        return self._submitted(recipient, answer, "ISendSMS2D.aspx")

    def _submitted(self, recipient: Recipient, answer: str, page: str) -> SubmitResult:
        code, message_id = self._code(answer, page)
        if code == "1718":
            # The earlier request with this seqno reached ISMS: the message went, once. Its id
            # is not repeated, so a report for it cannot be matched; it stays submitted.
            return SubmitResult(
                recipient, SubmitStatus.SUBMITTED, error_code="1718", error_text=CODES["1718"][1]
            )
        if code != "1701" or (page != "ISendSMSNoDR.aspx" and not message_id):
            raise http.unexpected(self.account, page, answer)
        return SubmitResult(recipient, SubmitStatus.SUBMITTED, provider_message_id=message_id)

    def _send_no_report(
        self, message: OutgoingMessage, recipients: Sequence[Recipient]
    ) -> SendResult:
        kind, body = self.message_type(message)
        answer = self._call(
            "ISendSMSNoDR.aspx",
            message=body,
            mobile=",".join(international_digits(r.phone) for r in recipients),
            sender=message.sender,
            type=kind,
            seqno=self.seqno(recipients[0]),
        )
        code, _ = self._code(answer, "ISendSMSNoDR.aspx")
        text = "" if code == "1701" else CODES[code][1]
        # No message id, so no delivery report will ever come for these: submitted, and never
        # confirmed.
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, error_text=text, confirmed=False)
                for r in recipients
            ],
            raw=answer,
        )

    # --- account ---------------------------------------------------------------------------

    def balance(self) -> Balance:
        body = self._call("creditsLeft.aspx")
        if _ANSWER.match(body.strip()) and body.strip()[:4] in CODES:
            self._code(body, "creditsLeft.aspx")  # an error code: raises
        # Decision (docs/providers.md#isms): two numbers, used then remaining, separated by a comma,
        # colon, space or new line; anything else is an error.
        match = _TWO_NUMBERS.match(body)
        if not match:
            raise http.unexpected(self.account, "creditsLeft.aspx", body)
        try:
            used, remaining = Decimal(match[1]), Decimal(match[2])
        except InvalidOperation:
            raise http.unexpected(self.account, "creditsLeft.aspx", body) from None
        return Balance(amount=remaining, used=used, raw=body)

    def transfer(self, customer: str, amount: Decimal, reference: str) -> TransferResult:
        if not reference or len(reference) > SEQNO_MAX:
            raise ValueError("ISMS needs a seqno of 1 to 20 characters for a transfer")
        body = self._call(
            "transfer.aspx", cust=customer, credit=format(amount, "f"), seqno=reference
        )
        try:
            code, _ = self._code(body, "transfer.aspx")
        except TransferRefused as exc:
            return TransferResult(TransferOutcome.REFUSED, exc.code, str(exc), body)
        if code == "1707":
            return TransferResult(TransferOutcome.DONE, code, CODES[code][1], body)
        if code == "1718":
            # The earlier request with this seqno was received, but its outcome is not repeated:
            # it may have been done or refused. Only the account's statement can tell.
            return TransferResult(
                TransferOutcome.UNKNOWN,
                code,
                "ISMS had already received this transfer (same seqno) and does not repeat its "
                "outcome; check the balance before trying again.",
                body,
            )
        raise http.unexpected(self.account, "transfer.aspx", body)

    # --- pushed to us ----------------------------------------------------------------------

    def parse_delivery_report(self, params: Mapping[str, str]) -> StatusUpdate:
        msg_id = (params.get("MsgId") or "").strip()
        status = (params.get("Status") or "").strip()
        if not msg_id or len(msg_id) > 64:
            raise ProtocolError("The report has no valid MsgId.", code="MsgId")
        if status not in REPORT_STATUS:
            raise ProtocolError(f"The report's Status {status[:20]!r} is not one ISMS documents.")
        ours, sentence = REPORT_STATUS[status]
        return StatusUpdate(
            provider_message_id=msg_id,
            status=ours,
            provider_status=status,
            description=sentence,
            raw=dict(params),
        )

    def parse_inbound(self, params: Mapping[str, str]) -> InboundSMS:
        sender = (params.get("Sender") or "").strip()
        content_type = (params.get("ContentType") or "1").strip()
        raw_text = params.get("Msg") or ""
        if not sender or len(sender) > 32:
            raise ProtocolError("The incoming SMS has no valid Sender.", code="Sender")
        if content_type == "1":
            text = raw_text
        elif content_type in ("2", "3"):  # the document says 2 and, elsewhere, 3 for Unicode
            text = decode_ucs2_hex(raw_text.strip())
        else:
            raise ProtocolError(f"Unknown ContentType {content_type[:10]!r}.", code="ContentType")
        digits = sender.lstrip("+")
        parsed = (
            parse_phone("+" + digits, settings.PHONE_DEFAULT_REGION) if digits.isdigit() else None
        )
        return InboundSMS(
            sender=parsed.e164 if parsed and parsed.valid else sender,
            recipient=(params.get("ShortCode") or "").strip(),
            text=text,
            raw=dict(params),
        )
