"""KwtSMS (kwtsms.com): HTTP GET per command under /API/<command>/, and an email-to-SMS transport.

Seed: ../shared/seeds/001_b30d3dd716602982.txt; PROVIDERS.md "KwtSMS".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.mail import EmailMessage

from smsportal.contacts.phones import international_digits
from smsportal.messaging.encoding import GSM7, analyse

from . import http
from .base import (
    Backend,
    Balance,
    Capabilities,
    OutgoingMessage,
    ProviderError,
    Recipient,
    SendResult,
    SubmitResult,
    SubmitStatus,
    TransientError,
)

BATCH = 200  # the seed: "send to 200 numbers in one command"
LANG_ENGLISH, LANG_ARABIC_WINDOWS, LANG_ARABIC_UTF8, LANG_UNICODE = "1", "2", "3", "4"
_OK = re.compile(r"^OK:([^:\s]+):(\d+):(\d+):(-?\d+(?:\.\d+)?):(\d+)$")
_BALANCE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*/\s*(-?\d+(?:\.\d+)?)$")
_SENDER_SPLIT = re.compile(r"[\n\r,]+")


class KwtSMSBackend(Backend):
    kind = "kwtsms"
    label = "KwtSMS"
    default_base_url = "http://www.kwtsms.com/API/"
    capabilities = Capabilities(bulk_size=BATCH, balance=True, sender_ids=True)

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        return {
            "transport": forms.ChoiceField(
                choices=[("http", "HTTP API"), ("smtp", "Email (SMTP) — no confirmation")],
                initial="http",
                help_text="By email, KwtSMS gives no answer at all: bad parameters or no "
                "balance go unreported, and deliveries stay 'submitted, no confirmation'.",
            ),
            "arabic_lang": forms.ChoiceField(
                choices=[
                    (LANG_ARABIC_UTF8, "3 — Arabic in UTF-8"),
                    (LANG_ARABIC_WINDOWS, "2 — Arabic in Windows-1256"),
                    (LANG_UNICODE, "4 — Unicode"),
                ],
                initial=LANG_ARABIC_UTF8,
                label="lang for non-GSM text",
            ),
            "smtp_address": forms.EmailField(initial="sms@kwtsms.com", label="SMTP address"),
        }

    # --- wire ------------------------------------------------------------------------------

    def _url(self, command: str) -> str:
        return f"{self.base_url.rstrip('/')}/{command}/"

    def _call(self, command: str, **params) -> str:
        query = {"username": self.account.username, "password": self.account.password, **params}
        # The seed documents GET only; the message goes in the query string (spaces as '+').
        return http.call(self.account, command, self._url(command), query, method="GET")

    # --- account ---------------------------------------------------------------------------

    def balance(self) -> Balance:
        body = self._call("balance")
        self._raise_if_error(body)
        match = _BALANCE.match(body)
        if not match:
            raise http.unexpected(self.account, "balance", body)
        return Balance(amount=Decimal(match[1]), purchased=Decimal(match[2]), raw=body)

    def sender_ids(self) -> list[str]:
        body = self._call("senderid")
        self._raise_if_error(body)
        # Decision (PROVIDERS.md): several IDs may come one per line or comma-separated.
        values = [value.strip() for value in _SENDER_SPLIT.split(body) if value.strip()]
        if not values or any(" " in v or ":" in v for v in values):
            raise http.unexpected(self.account, "senderid", body)
        return values

    # --- sending ---------------------------------------------------------------------------

    def lang_for(self, text: str) -> str:
        """1 for GSM-7 text; otherwise the account's choice for Arabic/Unicode (3 by default)."""
        if analyse(text).encoding == GSM7:
            return LANG_ENGLISH
        return str(self.options.get("arabic_lang") or LANG_ARABIC_UTF8)

    def encoded_message(self, text: str, lang: str) -> str | bytes:
        if lang == LANG_ARABIC_WINDOWS:
            try:
                return text.encode("cp1256")  # requests percent-encodes these bytes as they are
            except UnicodeEncodeError:
                raise ProviderError(
                    "The text has characters Windows-1256 cannot carry; choose lang 3 or 4 "
                    "for this account.",
                    code="lang",
                ) from None
        return text

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        if len(recipients) > BATCH:
            raise ValueError(f"KwtSMS takes at most {BATCH} numbers per call")
        lang = self.lang_for(message.text)
        mobiles = ",".join(international_digits(r.phone) for r in recipients)
        if self.options.get("transport") == "smtp":
            return self._send_by_mail(message, recipients, mobiles, lang)
        body = self._call(
            "send",
            sender=message.sender,
            mobile=mobiles,
            lang=lang,
            message=self.encoded_message(message.text, lang),
        )
        return self.parse_send(body, recipients)

    def parse_send(self, body: str, recipients: Sequence[Recipient]) -> SendResult:
        """`OK:MSG-ID:NUMBERS:POINTS-CHARGED:BALANCE-AFTER:UNIX-TIMESTAMP` or an error."""
        self._raise_if_error(body)
        match = _OK.match(body)
        if not match:
            # Decision: anything that is neither OK:… nor ERR… is garbage; the caller records
            # the batch as unknown (it may have been sent).
            raise http.unexpected(self.account, "send", body)
        message_id, numbers, _points, balance_after, _ts = match.groups()
        try:
            balance = Balance(amount=Decimal(balance_after), raw=body)
        except InvalidOperation:
            raise http.unexpected(self.account, "send", body) from None
        if int(numbers) != len(recipients):
            # Fewer numbers accepted than sent, and no word on which: none can be called sent.
            return SendResult(
                [
                    SubmitResult(
                        r,
                        SubmitStatus.UNKNOWN,
                        provider_message_id=message_id,
                        error_code="partial",
                        error_text=f"KwtSMS accepted {numbers} of {len(recipients)} numbers "
                        "without saying which.",
                    )
                    for r in recipients
                ],
                balance_after=balance,
                raw=body,
            )
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, provider_message_id=message_id)
                for r in recipients
            ],
            balance_after=balance,
            raw=body,
        )

    def _send_by_mail(
        self, message: OutgoingMessage, recipients: Sequence[Recipient], mobiles: str, lang: str
    ) -> SendResult:
        # The seed's body: one key:value per line; spaces in sender and text become '+'.
        body = "\n".join(
            [
                f"username:{self.account.username}",
                f"password:{self.account.password}",
                f"sender:{message.sender.replace(' ', '+')}",
                f"mobile:{mobiles}",
                f"lang:{lang}",
                f"text:{message.text.replace(' ', '+')}",
            ]
        )
        to = self.options.get("smtp_address") or "sms@kwtsms.com"
        try:
            EmailMessage(subject="SMS", body=body, to=[to]).send(fail_silently=False)
        except OSError as exc:  # smtplib errors are OSErrors; nothing was accepted
            raise TransientError(
                f"The mail server refused the KwtSMS email ({type(exc).__name__}).",
                request_sent=False,
                code="smtp",
            ) from None
        text = "Sent by email: KwtSMS gives no confirmation and no error."
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, error_text=text, confirmed=False)
                for r in recipients
            ]
        )

    def _raise_if_error(self, body: str) -> None:
        if body.upper().startswith("ERR"):
            # Decision (PROVIDERS.md): any ERR… answer is a refusal, shown verbatim.
            code = body.split(":", 1)[0].strip()
            raise ProviderError(
                f"KwtSMS refused the request: {body}", code=code, provider_text=body
            )
