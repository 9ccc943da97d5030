"""Reading a keyword out of an incoming SMS the way people type it: any case, with or without
accents or Arabic vowel marks, with the different ways of writing the same Arabic letter.

`normalise("  Stop!")` is "stop"; `normalise("إلغاء")` and `normalise("الغاء")` are the same;
`first_word` is the normalised first word. Both sides of a comparison go through `normalise`.
"""

from __future__ import annotations

import unicodedata

from .normalise import fold

# Punctuation around a keyword ("STOP.", "¡Alto!", "«إلغاء»", Arabic comma and question mark).
EDGE_PUNCTUATION = ".,;:!?¡¿\"'«»()[]{}-_*،؛؟"


def normalise(text: str) -> str:
    """The search key of `fold` (case, Arabic marks and letter forms, digits), then without
    Latin accents, spaces collapsed and punctuation at either end removed."""
    decomposed = unicodedata.normalize("NFKD", fold(text))
    bare = unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )
    return " ".join(bare.split()).strip(EDGE_PUNCTUATION).strip()


def first_word(text: str) -> str:
    words = text.split()
    return normalise(words[0]) if words else ""


def is_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)
