"""KwtSMS (kwtsms.com): HTTP GET per command under /API/<command>/, and an email-to-SMS transport.

What KwtSMS documents, and the decisions taken where it says nothing: docs/providers.md#kwtsms.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from email.charset import QP, Charset

from django import forms
from django.core.mail import EmailMessage, get_connection
from django.utils.translation import gettext_lazy

from smsportal.sms.encoding import GSM7, UCS2, EncodingProfile, analyse
from smsportal.sms.phones import international_digits

from . import http
from .base import (
    Backend,
    Balance,
    Capabilities,
    InvalidContent,
    OutgoingMessage,
    ProviderError,
    Recipient,
    SecretField,
    SendResult,
    SubmitResult,
    SubmitStatus,
    TransientError,
)

BATCH = 200  # the document: "send to 200 numbers in one command"
LANG_ENGLISH, LANG_ARABIC_WINDOWS, LANG_ARABIC_UTF8, LANG_UNICODE = "1", "2", "3", "4"
_OK = re.compile(r"^OK:([^:\s]+):(\d+):(\d+):(-?\d+(?:\.\d+)?):(\d+)$")
_BALANCE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*/\s*(-?\d+(?:\.\d+)?)$")
_SENDER_SPLIT = re.compile(r"[\n\r,]+")
SMTP_TIMEOUT = 30
# The mail body's charset per `lang` (the document: 2 is "Arabic (Windows)", 3 "Arabic (UTF-8)").
# Decision: 1 (English) and 4 (Unicode) go as UTF-8 too, declared in the Content-Type.
MAIL_CHARSETS = {
    LANG_ENGLISH: "utf-8",
    LANG_ARABIC_WINDOWS: "windows-1256",
    LANG_ARABIC_UTF8: "utf-8",
    LANG_UNICODE: "utf-8",
}
MAIL_LINE_MAX = 998  # RFC 5322: longer lines must travel quoted-printable


def line_breaks(text: str) -> list[str]:
    """The characters that end a line anywhere (`str.splitlines`'s set): in KwtSMS's mail, any
    of them would end the field and could start a forged one (`\nmobile:...`)."""
    return [char for char in dict.fromkeys(text) if len(f"a{char}b".splitlines()) > 1]


class KwtSMSBackend(Backend):
    kind = "kwtsms"
    label = "KwtSMS"
    default_base_url = "http://www.kwtsms.com/API/"
    capabilities = Capabilities(bulk_size=BATCH, balance=True, sender_ids=True)

    @classmethod
    def settings_fields(cls) -> dict[str, forms.Field]:
        return {
            "transport": forms.ChoiceField(
                choices=[
                    ("http", gettext_lazy("HTTP API")),
                    ("smtp", gettext_lazy("Email (SMTP) — no confirmation")),
                ],
                label=gettext_lazy("Transport"),
                initial="http",
                help_text=gettext_lazy(
                    "By email, KwtSMS gives no answer at all: bad parameters or no "
                    "balance go unreported, and deliveries stay 'submitted, no confirmation'. "
                    "A text with a line break or a + sign cannot go by email."
                ),
            ),
            "arabic_lang": forms.ChoiceField(
                choices=[
                    (LANG_ARABIC_UTF8, gettext_lazy("3 — Arabic in UTF-8")),
                    (LANG_ARABIC_WINDOWS, gettext_lazy("2 — Arabic in Windows-1256")),
                    (LANG_UNICODE, gettext_lazy("4 — Unicode")),
                ],
                initial=LANG_ARABIC_UTF8,
                label=gettext_lazy("Encoding (lang) of Arabic and other non-standard text"),
                help_text=gettext_lazy(
                    "Windows-1256 carries Arabic and most Western letters, but no emoji: "
                    "such a text is refused before sending."
                ),
            ),
            "smtp_address": forms.EmailField(
                required=False,
                initial="sms@kwtsms.com",
                label=gettext_lazy("KwtSMS's email address"),
            ),
            "smtp_host": forms.CharField(
                required=False,
                label=gettext_lazy("Mail server"),
                help_text=gettext_lazy(
                    "The server that relays the email. Empty: the portal's own mail "
                    "settings (EMAIL_URL)."
                ),
            ),
            "smtp_port": forms.IntegerField(
                required=False, min_value=1, max_value=65535, label=gettext_lazy("Mail server port")
            ),
            "smtp_username": forms.CharField(
                required=False, label=gettext_lazy("Mail server username")
            ),
            "smtp_password": SecretField(label=gettext_lazy("Mail server password")),
            "smtp_security": forms.ChoiceField(
                required=False,
                choices=[
                    ("starttls", "STARTTLS"),
                    ("ssl", gettext_lazy("TLS from the start (SMTPS)")),
                    ("none", gettext_lazy("None (only on a trusted network)")),
                ],
                initial="starttls",
                label=gettext_lazy("Mail server security"),
                help_text=gettext_lazy("The email carries the KwtSMS password: send it encrypted."),
            ),
        }

    @property
    def by_mail(self) -> bool:
        return self.options.get("transport") == "smtp"

    @property
    def preferred_lang(self) -> str:
        return str(self.options.get("arabic_lang") or LANG_ARABIC_UTF8)

    @property
    def encoding_profile(self) -> EncodingProfile:
        transport = "smtp" if self.by_mail else "http"
        return EncodingProfile(
            name=f"kwtsms-{transport}-lang{self.preferred_lang}",
            alphabets=(GSM7, UCS2),
            refusal=self.refusal,
        )

    def refusal(self, text: str, alphabet: str) -> str:
        """Why this account cannot carry `text` (empty when it can): Windows-1256 has no emoji;
        the email format has one line per field and turns every + into a space."""
        lang = LANG_ENGLISH if alphabet == GSM7 else self.preferred_lang
        if lang == LANG_ARABIC_WINDOWS:
            missing = _not_in(text, "cp1256")
            if missing:
                return (
                    f"This account sends Arabic in Windows-1256, which cannot carry "
                    f"{_shown(missing)}. Remove {'it' if len(missing) == 1 else 'them'}, or set "
                    "the account's Arabic encoding to UTF-8 or Unicode."
                )
        if self.by_mail:
            breaks = line_breaks(text)
            if breaks:
                return (
                    "This account sends by email, one line per field: the text cannot hold a "
                    f"line break ({_shown(breaks)}). Put it on one line, or send through the "
                    "HTTP API."
                )
            if "+" in text:
                return (
                    "This account sends by email, where KwtSMS reads every + as a space. "
                    "Write “plus” instead, or send through the HTTP API."
                )
        return ""

    # --- wire ------------------------------------------------------------------------------

    def _url(self, command: str) -> str:
        return f"{self.base_url.rstrip('/')}/{command}/"

    def _call(self, command: str, **params) -> str:
        query = {"username": self.account.username, "password": self.account.password, **params}
        # The document shows GET only; the message goes in the query string (spaces as '+').
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
        # Decision (docs/providers.md#kwtsms): several IDs may come one per line or comma-separated.
        values = [value.strip() for value in _SENDER_SPLIT.split(body) if value.strip()]
        if not values or any(" " in v or ":" in v for v in values):
            raise http.unexpected(self.account, "senderid", body)
        return values

    # --- sending ---------------------------------------------------------------------------

    def lang_for(self, text: str) -> str:
        """1 for GSM-7 text; otherwise the account's choice for Arabic/Unicode (3 by default)."""
        if analyse(text, self.encoding_profile).encoding == GSM7:
            return LANG_ENGLISH
        return self.preferred_lang

    def encoded_message(self, text: str, lang: str) -> str | bytes:
        if lang == LANG_ARABIC_WINDOWS:
            return text.encode("cp1256")  # requests percent-encodes these bytes as they are
        return text

    def check_before_send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> None:
        problem = analyse(message.text, self.encoding_profile).problem
        if problem:
            raise InvalidContent(problem, code="content")
        if self.by_mail:
            self._check_mail_fields(message.sender)

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        if len(recipients) > BATCH:
            raise ValueError(f"KwtSMS takes at most {BATCH} numbers per call")
        self.check_before_send(message, recipients)  # nothing leaves that cannot be carried
        lang = self.lang_for(message.text)
        mobiles = ",".join(international_digits(r.phone) for r in recipients)
        if self.by_mail:
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

    # --- email (the SMTP API of the document) ------------------------------------------------

    def _check_mail_fields(self, sender: str) -> None:
        """Every field must stay on its own line: a line break in the sender, username or
        password would end it and could plant another field."""
        for name, value in (
            ("sender ID", sender),
            ("username", self.account.username),
            ("password", self.account.password),
        ):
            if line_breaks(value):
                raise InvalidContent(
                    f"The {name} holds a line break, which KwtSMS's email format cannot carry.",
                    code="mail-field",
                )

    def mail_body(self, message: OutgoingMessage, mobiles: str, lang: str) -> str:
        """The document's body: one key:value per line; spaces in sender and text become '+'."""
        return "\n".join(
            [
                f"username:{self.account.username}",
                f"password:{self.account.password}",
                f"sender:{message.sender.replace(' ', '+')}",
                f"mobile:{mobiles}",
                f"lang:{lang}",
                f"text:{message.text.replace(' ', '+')}",
            ]
        )

    def mail(self, message: OutgoingMessage, mobiles: str, lang: str) -> EmailMessage:
        """The email, its body in the charset `lang` declares (Windows-1256 for lang 2): 8-bit
        so each field stays one line, quoted-printable only for a line too long for SMTP."""
        body = self.mail_body(message, mobiles, lang)
        charset = Charset(MAIL_CHARSETS[lang])
        try:
            encoded = body.encode(charset.input_codec or charset.input_charset)
        except UnicodeEncodeError:  # the username or password: the text was checked before
            raise InvalidContent(
                f"The account's username or password has characters {charset} cannot carry.",
                code="mail-charset",
            ) from None
        too_long = any(len(line) > MAIL_LINE_MAX for line in encoded.split(b"\n"))
        charset.body_encoding = QP if too_long else None
        mail = EmailMessage(
            subject="SMS",
            body=body,
            to=[self.options.get("smtp_address") or "sms@kwtsms.com"],
            connection=self.mail_connection(),
        )
        mail.encoding = charset
        return mail

    def mail_connection(self):
        """The account's own mail server when it names one; else the portal's (EMAIL_URL)."""
        host = str(self.options.get("smtp_host") or "").strip()
        if not host:
            return get_connection(fail_silently=False)
        security = self.options.get("smtp_security") or "starttls"
        return get_connection(
            "django.core.mail.backends.smtp.EmailBackend",
            fail_silently=False,
            host=host,
            port=int(self.options.get("smtp_port") or (465 if security == "ssl" else 587)),
            username=str(self.options.get("smtp_username") or ""),
            password=self.secret_option("smtp_password"),
            use_tls=security == "starttls",
            use_ssl=security == "ssl",
            timeout=SMTP_TIMEOUT,
        )

    def _send_by_mail(
        self, message: OutgoingMessage, recipients: Sequence[Recipient], mobiles: str, lang: str
    ) -> SendResult:
        mail = self.mail(message, mobiles, lang)
        connection = mail.connection
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:  # nothing was handed over
            raise TransientError(
                f"Could not reach the mail server for KwtSMS ({type(exc).__name__}).",
                request_sent=False,
                code="smtp",
            ) from None
        try:
            mail.send(fail_silently=False)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise TransientError(
                f"The mail server refused the KwtSMS email ({type(exc).__name__}).",
                request_sent=False,
                code="smtp",
            ) from None
        except smtplib.SMTPDataError as exc:
            raise TransientError(
                f"The mail server refused the KwtSMS email ({exc.smtp_code}).",
                request_sent=False,
                code="smtp",
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            # The connection broke while the email was on its way: it may have gone.
            raise TransientError(
                f"The mail server did not confirm the KwtSMS email ({type(exc).__name__}).",
                request_sent=True,
                code="smtp",
            ) from None
        finally:
            connection.close()
        text = "Sent by email: KwtSMS gives no confirmation and no error."
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, error_text=text, confirmed=False)
                for r in recipients
            ]
        )

    def _raise_if_error(self, body: str) -> None:
        if body.upper().startswith("ERR"):
            # Decision (docs/providers.md#kwtsms): any ERR… answer is a refusal, shown verbatim.
            code = body.split(":", 1)[0].strip()
            raise ProviderError(
                f"KwtSMS refused the request: {body}", code=code, provider_text=body
            )


def _not_in(text: str, codec: str) -> list[str]:
    missing = []
    for char in dict.fromkeys(text):
        try:
            char.encode(codec)
        except UnicodeEncodeError:
            missing.append(char)
    return missing


def _shown(chars: Sequence[str]) -> str:
    """Characters named for staff: invisible ones by name."""
    from unicodedata import name

    names = {"\n": "new line", "\r": "carriage return", "\t": "tab"}
    return ", ".join(
        names.get(c) or (c if c.isprintable() else name(c, f"U+{ord(c):04X}").lower())
        for c in chars[:5]
    ) + ("…" if len(chars) > 5 else "")
