"""Finding English left on a page rendered in Arabic: the words people read (text and the
attributes read aloud or shown on hover), minus what people typed (marked dir="auto", <bdi>,
translate="no", <code>) and the brand names no translation changes."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Shown as they are in every language: provider and product names, file formats, protocol
# words, and the keywords a phone sends.
ALLOWED = {
    "SMS", "KwtSMS", "KalaSMS", "ISMS", "IntelliSoftware", "Centre", "CSV", "XLSX", "IP",
    "START", "STOP", "SMPP", "sms", "com", "my", "UTF", "GSM", "UCS",
    "English",  # the language switcher names each language in itself
    # Message formats and their headers, named as phones and providers name them.
    "WAP", "UDH", "MsgType", "EMS", "MMS", "Nokia", "Ericsson",
    "HELP", "JSON", "HMAC", "SHA", "ISO", "KW",
    "HTTP", "QR", "Google", "Microsoft", "Authenticator", "FreeOTP",  # apps named as sold
    # Character sets and mail protocols, and the providers' own names of operations and
    # parameters, written as the provider's document writes them.
    "Unicode", "Windows", "Latin", "BOM", "SMTP", "SMTPS", "TLS", "STARTTLS",
    "rssendsms", "lang", "ISendSMSUnicode", "aspx",
}  # fmt: skip
# Attributes whose words people read (tooltips, screen readers, placeholders, confirmations).
READ_ATTRIBUTES = {
    "title", "aria-label", "placeholder", "alt", "data-confirm", "data-label", "data-series",
    "data-latest", "data-unit",
}  # fmt: skip
_SKIPPED = {"script", "style", "code", "textarea", "bdi", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
         "track", "wbr"}  # fmt: skip
# Two or more letters of the Latin alphabet: one English word.
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")
_PLACEHOLDER = re.compile(r"\{\w+(?:\|[^{}]*)?\}|%\w+%")  # {city}, {city|Kuwait}, %barcode%
# Written as a machine reads them: an address (smpp://host:port) and a setting or parameter
# name (EMAIL_URL, system_type).
_IDENTIFIER = re.compile(r"\b[a-z]+://\S+|\b\w+_\w+\b")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.skipping: list[str] = []  # names of open skipped elements

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if not self.skipping:
            self.pieces += [v for k, v in attributes.items() if k in READ_ATTRIBUTES and v]
        if tag in _VOID:
            return
        kept_as_typed = attributes.get("dir") == "auto" or attributes.get("translate") == "no"
        if self.skipping or tag in _SKIPPED or kept_as_typed:
            self.skipping.append(tag)

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.pieces.append(data)


def readable_text(html: str) -> list[str]:
    reader = _Reader()
    reader.feed(html)
    return [piece.strip() for piece in reader.pieces if piece.strip()]


def english_words(html: str, user_content: set[str] = frozenset()) -> list[str]:
    """The English words left in `html`'s readable text, each with its sentence, once each.
    `user_content`: strings people typed that a page shows outside a marked element (a
    <select>'s options cannot hold one)."""
    found: dict[str, None] = {}
    for piece in readable_text(html):
        for typed in sorted(user_content, key=len, reverse=True):
            if typed:
                piece = piece.replace(typed, " ")
        piece = _PLACEHOLDER.sub(" ", piece)  # {city}, %barcode%: typed in a message as is
        piece = _IDENTIFIER.sub(" ", piece)
        words = [w for w in _WORD.findall(piece) if w not in ALLOWED]
        if words:
            found.setdefault(f"{' '.join(words)!s}  ⟵  {piece[:120]!r}", None)
    return list(found)
