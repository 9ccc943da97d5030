"""IntelliSoftware: one HTTP(S) page, sendmsg.aspx, GET or POST, up to 100 numbers per request.

What IntelliSoftware documents, and the decisions taken where it says nothing:
docs/providers.md#intellisoftware.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from smsportal.sms.encoding import analyse
from smsportal.sms.phones import international_digits, parse_phone

from . import http
from .base import (
    AuthenticationError,
    Backend,
    Capabilities,
    InsufficientCredit,
    InvalidContent,
    InvalidRecipient,
    MessageType,
    OutgoingMessage,
    ProviderError,
    Recipient,
    SendResult,
    SubmitResult,
    SubmitStatus,
    TransientError,
)

BATCH = 100
TYPE_TEXT, TYPE_VOICE = "1", "6"

# ERR:<CODE> -> (error class, sentence). NO_<PARAM> is matched by prefix below.
ERRORS: dict[str, tuple[type[ProviderError], str]] = {
    "LOGIN_INVALID": (AuthenticationError, "IntelliSoftware refused the username or password."),
    "INSUFFICIENT_CREDIT": (InsufficientCredit, "The IntelliSoftware account has no credit left."),
    "INVALID_NUMBER": (InvalidRecipient, "IntelliSoftware says the number is invalid."),
    "INVALID_REQUEST": (InvalidContent, "IntelliSoftware says the request is invalid."),
    "GATEWAY_ERROR": (TransientError, "IntelliSoftware's gateway failed; try again later."),
    "INTERNAL_ERROR": (TransientError, "IntelliSoftware had an internal error; try again later."),
}


def error_for(code: str, body: str) -> ProviderError:
    if code.startswith("NO_"):
        param = code[3:].lower()
        return InvalidContent(
            f"IntelliSoftware says the mandatory parameter '{param}' is missing.",
            code=code,
            provider_text=body,
        )
    cls, sentence = ERRORS.get(code, (ProviderError, f"IntelliSoftware refused it: {code}."))
    if cls is TransientError:
        return TransientError(sentence, request_sent=True, code=code, provider_text=body)
    return cls(sentence, code=code, provider_text=body)


def normalised(number: str) -> str:
    """A number as IntelliSoftware may echo it, reduced to E.164 for matching."""
    digits = "".join(c for c in number if c.isdigit())
    parsed = parse_phone("+" + digits, settings.PHONE_DEFAULT_REGION)
    return parsed.e164 or "+" + digits


class IntelliSoftwareBackend(Backend):
    kind = "intellisoftware"
    label = "IntelliSoftware"
    default_base_url = "https://www.intellisoftware.co.uk/smsgateway/sendmsg.aspx"
    capabilities = Capabilities(bulk_size=BATCH, voice=True)

    def check_before_send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> None:
        segments = analyse(message.text, self.encoding_profile).segments
        allowed = message.max_parts or self.account.max_parts
        if segments > allowed:
            raise InvalidContent(
                f"The text needs {segments} parts; this IntelliSoftware account allows "
                f"{allowed} (maxconcat)."
            )

    def check_connection(self) -> str:
        # Decision (the document gives sendmsg.aspx only, no balance or account call): a request
        # with the username and password but no `to` and no `text` cannot send anything; the
        # gateway answers ERR:LOGIN_INVALID for bad credentials and ERR:NO_TO (or NO_TEXT) once
        # it has accepted them.
        params = {"username": self.account.username, "password": self.account.password}
        body = http.call(self.account, "sendmsg", self.base_url, params, method="POST")
        answer = body.strip()
        if answer in ("ERR:NO_TO", "ERR:NO_TEXT"):
            return (
                f"IntelliSoftware accepted the username and password (it answered {answer} to a "
                "request with no number and no text, so nothing was sent)."
            )
        if answer.startswith("ERR:") and answer[4:]:
            raise error_for(answer[4:], body)
        raise http.unexpected(self.account, "sendmsg", body)

    def send(self, message: OutgoingMessage, recipients: Sequence[Recipient]) -> SendResult:
        if len(recipients) > BATCH:
            raise ValueError(f"IntelliSoftware takes at most {BATCH} numbers per request")
        self.check_before_send(message, recipients)
        params = {
            "username": self.account.username,
            "password": self.account.password,
            "to": ",".join(international_digits(r.phone) for r in recipients),
            "text": message.text,
            # Parts allowed per recipient: exactly what the text needs, so a long text is
            # neither cut nor refused by the gateway's default of 1.
            "maxconcat": str(max(1, analyse(message.text, self.encoding_profile).segments)),
            "type": TYPE_VOICE if message.type == MessageType.VOICE else TYPE_TEXT,
        }
        if message.sender:
            params["from"] = message.sender
        body = http.call(self.account, "sendmsg", self.base_url, params, method="POST")
        return self.parse_send(body, recipients)

    def parse_send(self, body: str, recipients: Sequence[Recipient]) -> SendResult:
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        if len(lines) == 1 and "," not in lines[0]:
            return self._whole(lines[0], body, recipients)
        by_number: dict[str, tuple[str, str]] = {}
        for line in lines:
            number, sep, answer = line.partition(",")
            if not sep or not (answer.startswith("ID:") or answer.startswith("ERR:")):
                raise http.unexpected(self.account, "sendmsg", body)
            kind, _, value = answer.partition(":")
            if not value.strip():
                raise http.unexpected(self.account, "sendmsg", body)
            by_number[normalised(number)] = (kind, value.strip())
        results = []
        for recipient in recipients:
            answer = by_number.get(recipient.phone)
            if answer is None:
                # The gateway may drop duplicates or rewrite numbers; with no line for this
                # recipient we cannot say it was sent.
                results.append(
                    SubmitResult(
                        recipient,
                        SubmitStatus.UNKNOWN,
                        error_code="no-line",
                        error_text="IntelliSoftware's answer had no line for this number.",
                    )
                )
            elif answer[0] == "ID":
                results.append(
                    SubmitResult(recipient, SubmitStatus.SUBMITTED, provider_message_id=answer[1])
                )
            else:
                error = error_for(answer[1], body)
                results.append(
                    SubmitResult(
                        recipient, SubmitStatus.FAILED, error_code=error.code, error_text=str(error)
                    )
                )
        return SendResult(results, raw=body)

    def _whole(self, line: str, body: str, recipients: Sequence[Recipient]) -> SendResult:
        """One line answers for the whole request: an id for everyone, or a refusal."""
        kind, _, value = line.partition(":")
        value = value.strip()
        if kind == "ERR" and value:
            raise error_for(value, body)
        if kind != "ID" or not value:
            raise http.unexpected(self.account, "sendmsg", body)
        return SendResult(
            [
                SubmitResult(r, SubmitStatus.SUBMITTED, provider_message_id=value)
                for r in recipients
            ],
            raw=body,
        )
