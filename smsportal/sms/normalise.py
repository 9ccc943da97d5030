"""One way to compare what people type: the key under which names are searched and keywords
(STOP, إلغاء) are matched, so that spelling variants of the same word meet.

Arabic is written with optional marks and several spellings of one letter: `أحمد`, `احمد` and
`إحمد` are one name to a reader, as are `مُحَمَّد` and `محمد`, `فاطمة` and `فاطمه`, or a word
stretched by tatweel (`مـحـمـد`). Digits arrive as Arabic-Indic (`٩٧١١`) as well as Latin.
The folding follows Lucene's ArabicNormalizer (the letters) plus the hamza seats, Unicode
compatibility forms and case.
"""

from __future__ import annotations

import re
import unicodedata

# Harakat and other marks written over or under letters (fathatan .. sukun, the small high
# letters, the superscript alef, Quranic annotation signs): never part of the spelling.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed]")
_TATWEEL = "\u0640"

_LETTERS = str.maketrans(
    {
        "أ": "ا",  # alef with hamza above
        "إ": "ا",  # alef with hamza below
        "آ": "ا",  # alef with madda
        "ٱ": "ا",  # alef wasla
        "ؤ": "و",  # hamza on waw
        "ئ": "ي",  # hamza on yeh
        "ى": "ي",  # alef maksura, written for a final yeh
        "ة": "ه",  # teh marbuta, often typed as heh
        _TATWEEL: None,
        # Arabic-Indic and Eastern Arabic-Indic (Persian, Urdu) digits.
        **{chr(0x0660 + i): str(i) for i in range(10)},
        **{chr(0x06F0 + i): str(i) for i in range(10)},
    }
)


def fold(text: str) -> str:
    """`text` as a search key: compatibility forms unfolded (presentation forms, full-width
    letters), marks and tatweel removed, alef and hamza forms unified, digits Latin, case
    folded. Folding twice changes nothing; the result is never longer than NFKC makes it."""
    if text.isascii():  # most names and every keyword typed in Latin: nothing else applies
        return text.casefold()
    text = unicodedata.normalize("NFKC", text)
    # NFKD would split a letter from its marks only for Latin; Arabic marks are separate
    # characters already, so they go by pattern.
    text = _MARKS.sub("", text)
    return text.translate(_LETTERS).casefold()
