"""Reading a keyword out of an incoming SMS the way people type it: any case, with or without
accents or Arabic vowel marks, with the different ways of writing the same Arabic letter.

`normalise("  Stop!")` is "stop"; `normalise("إلغاء")` and `normalise("الغاء")` are the same;
`first_word` is the normalised first word. Both sides of a comparison go through `normalise`.
"""

from __future__ import annotations

import unicodedata

# Arabic letters written several ways on phones: each maps to the plain form people also use.
ARABIC_FOLDS = str.maketrans(
    {
        "\u0623": "\u0627",  # alef with hamza above → alef
        "\u0625": "\u0627",  # alef with hamza below → alef
        "\u0622": "\u0627",  # alef with madda → alef
        "\u0671": "\u0627",  # alef wasla → alef
        "\u0649": "\u064a",  # alef maksura → yeh
        "\u0629": "\u0647",  # teh marbuta → heh
        "\u0640": None,  # tatweel (stretching), not a letter
    }
)
# Punctuation around a keyword ("STOP.", "¡Alto!", "«إلغاء»", Arabic comma and question mark).
EDGE_PUNCTUATION = ".,;:!?¡¿\"'«»()[]{}-_*،؛؟"


def normalise(text: str) -> str:
    """Case-folded, without combining marks (accents, Arabic harakat), Arabic letter forms
    folded, spaces collapsed, punctuation at either end removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = unicodedata.normalize("NFC", bare).translate(ARABIC_FOLDS)
    return " ".join(folded.split()).strip(EDGE_PUNCTUATION).strip()


def first_word(text: str) -> str:
    words = text.split()
    return normalise(words[0]) if words else ""


def is_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)
