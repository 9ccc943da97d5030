"""For every provider and account setting, the parts the portal counts (`analyse` with the
account's encoding profile: the preview, `Message.segments`, the estimate) are the parts that go
on the wire: read back from the request as the provider decodes it, or from the SMPP PDUs."""

from __future__ import annotations

from concurrent.futures import Future
from urllib.parse import parse_qs, urlsplit

import pytest

from smsportal.providers.backends import smscentre
from smsportal.providers.backends.base import OutgoingMessage, ProviderError, Recipient
from smsportal.sms.encoding import GSM7, UCS2, analyse
from tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

CORPUS = [
    "Hello",
    "a" * 150,  # one GSM SMS; went out as two 8-bit parts on SMS Centre ISO
    "a" * 161,
    "€" * 81,
    "Crêpe © ® " * 10,
    "ê" * 200,
    "{" * 100,
    "Café crème",
    "مرحبا بكم في بوابة الرسائل " * 4,
    "عربي تجربة",
    "Smile 😀 " * 12,
    "x" * 66 + "😀" + "y" * 10,
    "“Quote” " * 10,
    "Line one\nline two",
    "1+1=2 & 50% off",
    "Tab\there\u00a0nbsp",
]
ONE = [Recipient("+96597119440", "7")]

HTTP_ACCOUNTS = {
    "kalasms": {},
    "kwtsms lang 3": {},
    "kwtsms lang 2": {"arabic_lang": "2"},
    "kwtsms lang 4": {"arabic_lang": "4"},
    "isms": {},
    "isms unicode page": {"use_unicode_page": True},
    "intellisoftware": {},
}
ANSWERS = {
    "kalasms": "66802",
    "kwtsms": "OK:f4c841adee210f31307633ceaebff2ec:1:1:180:1242667894",
    "isms": "1701:123456",
    "intellisoftware": "ID:10011000000000000001",
}


def on_the_wire(wire) -> dict[bytes, bytes]:
    """The request's parameters as octets, exactly as requests encoded them (and the page)."""
    url = urlsplit(wire.last_url)
    fields = parse_qs(url.query, keep_blank_values=True, encoding="latin-1")  # char = octet
    params = {k.encode("latin-1"): v[-1].encode("latin-1") for k, v in fields.items()}
    return {**params, b"_page": url.path.rsplit("/", 1)[-1].encode()}


def provider_parts(kind: str, params: dict[bytes, bytes], text: str) -> int:
    """What the provider makes of the request: it decodes the text as its document says and
    sends it in GSM-7 or UCS-2 parts; the encoding flag must agree with the count."""
    if kind == "kwtsms":
        lang = params[b"lang"].decode()
        decoded = params[b"message"].decode("cp1256" if lang == "2" else "utf-8")
        assert (lang == "1") == (analyse(decoded).encoding == GSM7)
    elif kind == "isms":
        kind_ = params[b"type"].decode()
        body = params[b"message"].decode()
        hexed = kind_ == "3" and params[b"_page"] != b"ISendSMSUnicode.aspx"
        decoded = bytes.fromhex(body).decode("utf-16-be") if hexed else body
        assert (kind_ == "1") == (analyse(decoded).encoding == GSM7)
    elif kind == "intellisoftware":
        decoded = params[b"text"].decode()
        assert int(params[b"maxconcat"]) == analyse(decoded).segments
    else:
        decoded = params[b"message"].decode()
    assert decoded == text  # the provider reads exactly the text that was counted
    return analyse(decoded).segments


@pytest.mark.parametrize("text", CORPUS)
@pytest.mark.parametrize("setting", sorted(HTTP_ACCOUNTS))
def test_http_parts_counted_are_the_parts_sent(wire, setting, text):
    kind = setting.split()[0]
    account = ProviderAccountFactory.build(kind=kind, options=HTTP_ACCOUNTS[setting])
    backend = account.backend
    counted = analyse(text, backend.encoding_profile)
    wire.answer(ANSWERS[kind])

    if not counted.sendable:  # refused before sending, as the preview said
        with pytest.raises(ProviderError, match=counted.problem[:30]):
            backend.send(OutgoingMessage(text), ONE)
        assert wire.requests == []
        return
    backend.send(OutgoingMessage(text), ONE)

    assert provider_parts(kind, on_the_wire(wire), text) == counted.segments


@pytest.mark.parametrize("text", CORPUS)
@pytest.mark.parametrize("system_type", ["", "ISO"])
def test_smpp_parts_counted_are_the_submit_sms_sent(monkeypatch, text, system_type):
    account = ProviderAccountFactory.build(
        kind="smscentre", base_url="smpp://127.0.0.1:1", options={"system_type": system_type}
    )
    pdus = []

    class Link:
        """Stands for the bound link: every submit_sm is accepted at once."""

        def submit(self, **fields):
            pdus.append(fields)
            answer = Future()
            answer.set_result((0, f"id{len(pdus)}"))
            return answer

    monkeypatch.setattr(smscentre, "link_for", lambda backend, open_link: Link())
    counted = analyse(text, account.backend.encoding_profile)

    account.backend.send(OutgoingMessage(text), ONE)

    assert len(pdus) == counted.segments
    codec = {0: "gsm03.38", 4: "latin-1", 8: "utf-16-be"}[pdus[0]["data_coding"]]
    assert {0: GSM7, 4: "Latin-1", 8: UCS2}[pdus[0]["data_coding"]] == counted.encoding
    parts = []
    for pdu in pdus:
        octets = pdu["short_message"]
        body = octets[6:] if len(pdus) > 1 else octets
        if pdu["data_coding"] == 0:  # one octet per septet: the SMSC packs 8 into 7 octets
            assert len(body) <= (153 if len(pdus) > 1 else 160)
        else:
            assert len(octets) <= 140  # one SMS, header included
        parts.append(body)
    assert b"".join(parts).decode(codec) == text
