"""Characters outside the standard SMS alphabet as staff can read them (the preview's chips):
letters of another script once per script, invisible characters by name, others as they are.
Compose's preview names a text's characters so; the personalised previews (Compose, Send from a
file) name those of a recipient's own values."""

from __future__ import annotations

import functools
import unicodedata

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Characters a person cannot see in a text box, named in the preview. Others of the same kinds
# (format characters, unusual spaces, control codes) are named by their Unicode name.
INVISIBLE_NAMES = {
    "\t": "tab",
    "\u00a0": "no-break space",
    "\u202f": "narrow no-break space",
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u2060": "word joiner",
    "\ufeff": "zero-width no-break space",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u00ad": "soft hyphen",
}


def invisible_name(char: str) -> str:
    """The name to show for a character nobody can see; empty for visible ones (and for the
    new lines a text box is made of)."""
    if char in INVISIBLE_NAMES:
        return INVISIBLE_NAMES[char]
    if char in "\r\n " or unicodedata.category(char) not in ("Cf", "Zs", "Zl", "Zp", "Cc"):
        return ""
    return unicodedata.name(char, f"U+{ord(char):04X}").lower()


# The scripts staff most often paste from, named in the reader's language; others by their
# Unicode name ("Thai letters").
SCRIPT_LETTERS = {
    "ARABIC": gettext_lazy("Arabic letters"),
    "CYRILLIC": gettext_lazy("Cyrillic letters"),
    "GREEK": gettext_lazy("Greek letters"),
    "HEBREW": gettext_lazy("Hebrew letters"),
}


def costly_chips(chars: tuple[str, ...]) -> list[dict]:
    """The characters outside the standard alphabet, as staff can read them: letters of another
    script once per script ("Arabic letters", not each letter), invisible ones by name."""
    chips, scripts = [], set()
    for char in chars:
        name, script = _chip_kind(char)
        if name:
            chips.append({"text": name, "named": True, "code": f"U+{ord(char):04X}"})
        elif script:
            if script not in scripts:
                scripts.add(script)
                label = SCRIPT_LETTERS.get(script) or _("%(script)s letters") % {
                    "script": script.capitalize()
                }
                chips.append({"text": str(label), "named": True, "code": ""})
        else:
            chips.append({"text": char, "named": False, "code": f"U+{ord(char):04X}"})
    return chips


@functools.lru_cache(maxsize=4096)
def _chip_kind(char: str) -> tuple[str, str]:
    """(its name if nobody can see it, its script if it is a letter of another script than
    Latin): Unicode's answer for a character never changes, and an Arabic text asks for the
    same few dozen letters on every keystroke."""
    name = invisible_name(char)
    if name:
        return name, ""
    words = unicodedata.name(char, "").split()
    if unicodedata.category(char).startswith("L") and words and words[0] != "LATIN":
        return "", words[0]
    return "", ""
