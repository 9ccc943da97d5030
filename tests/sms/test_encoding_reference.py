"""The set-based `analyse()` gives the same Analysis as a straightforward reference, character by
character (the engine as it was before issue 17), for any text and every encoding profile."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smsportal.sms.encoding import (
    ESCAPE,
    GSM7,
    GSM_BASIC,
    GSM_EXTENDED,
    LATIN1,
    LIMITS,
    STANDARD,
    UCS2,
    Analysis,
    EncodingProfile,
    analyse,
    split,
)


def codec_septets(char: str) -> int | None:
    """Septets by asking the gsm0338 codec itself, as the reference does."""
    if char == ESCAPE:
        return None
    try:
        return len(char.encode("gsm03.38"))
    except UnicodeEncodeError:
        return None


def reference_units(char: str, alphabet: str) -> int | None:
    if alphabet == GSM7:
        return codec_septets(char)
    if alphabet == LATIN1:
        return 1 if ord(char) <= 0xFF else None
    if 0xD800 <= ord(char) <= 0xDFFF:
        return None
    return 2 if ord(char) > 0xFFFF else 1


def counted(char: str, alphabet: str) -> int:
    units = reference_units(char, alphabet)
    return 1 if units is None else units  # only a lone surrogate in UCS-2 gets here


def reference_split(text: str, alphabet: str) -> list[str]:
    if not text:
        return []
    single, per_part = LIMITS[alphabet]
    units = [counted(char, alphabet) for char in text]
    if sum(units) <= single:
        return [text]
    parts, start, used = [], 0, 0
    for index, n in enumerate(units):
        if used + n > per_part:
            parts.append(text[start:index])
            start, used = index, 0
        used += n
    parts.append(text[start:])
    return parts


def reference_analyse(text: str, profile: EncodingProfile = STANDARD) -> Analysis:
    non_gsm = tuple(dict.fromkeys(c for c in text if codec_septets(c) is None))
    invalid = tuple(dict.fromkeys(c for c in non_gsm if 0xD800 <= ord(c) <= 0xDFFF))
    candidates = [
        a for a in profile.alphabets if all(reference_units(c, a) is not None for c in text)
    ] or [UCS2]
    if GSM7 in candidates and UCS2 in candidates:
        candidates.remove(UCS2)
    splits = {a: reference_split(text, a) for a in candidates}
    encoding = min(candidates, key=lambda a: (len(splits[a]), candidates.index(a)))
    parts = splits[encoding]
    single, per_part = LIMITS[encoding]
    part_units = tuple(sum(counted(c, encoding) for c in part) for part in parts)
    limit = single if len(parts) <= 1 else per_part
    return Analysis(
        text=text,
        encoding=encoding,
        units=sum(counted(c, encoding) for c in text),
        segments=len(parts),
        parts=tuple(parts),
        unit_limit_single=single,
        unit_limit_part=per_part,
        remaining=limit - (part_units[-1] if parts else 0),
        non_gsm=non_gsm,
        invalid=invalid,
        refused=profile.refusal(text, encoding) if profile.refusal and text else "",
        part_units=part_units,
    )


PROFILES = [
    STANDARD,
    EncodingProfile("latin", (GSM7, LATIN1, UCS2)),
    EncodingProfile("latin-first", (LATIN1, GSM7, UCS2)),
    EncodingProfile("unicode-only", (UCS2,)),
    EncodingProfile("refusing", (GSM7, UCS2), lambda text, a: "no" if "\n" in text else ""),
]
# Characters where the answers differ: escapes, two-septet characters, Latin-1 only, astral
# (two UCS-2 units), lone surrogates, and the escape code itself.
TRICKY = list("ab €[^~{}|\\\x0c\n") + list("éñ£¥ç\xa0ÿ") + ["😀", "𝄞", "ж", "م", "\ud83d", "\x1b"]
any_text = st.text(alphabet=st.characters(codec=None), max_size=700)
tricky_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=900)
long_text = st.builds(
    lambda body, n: (body * n)[:1600],
    st.text(st.sampled_from(TRICKY), min_size=1),
    st.integers(1, 400),
)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(any_text, tricky_text, long_text))
def test_analyse_matches_the_reference_for_any_text(profile, text):
    assert analyse(text, profile) == reference_analyse(text, profile)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(tricky_text, long_text), alphabet=st.sampled_from([GSM7, LATIN1, UCS2]))
def test_split_matches_the_reference_or_refuses_the_same_text(text, alphabet):
    try:
        expected = reference_split(text, alphabet)
        assert all(reference_units(c, alphabet) is not None or alphabet == UCS2 for c in text)
    except AssertionError:
        with pytest.raises(ValueError, match="is not in"):
            split(text, alphabet)
        return
    assert split(text, alphabet) == expected


def test_the_precomputed_tables_agree_with_the_codec_over_the_whole_plane():
    for code in range(0x10000):
        char = chr(code)
        septets = codec_septets(char)
        assert (char in GSM_BASIC) == (septets == 1), char
        assert (char in GSM_EXTENDED) == (septets == 2), char
    for char in ("😀", "𝄞", "\U0010ffff"):
        assert codec_septets(char) is None
        assert char not in GSM_BASIC and char not in GSM_EXTENDED
