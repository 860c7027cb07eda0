"""The one table of writing systems: per script, its code point ranges, its ROUGE-L tokenisation class and the
characters that end its sentences. `vocab.script_of` (``unk_rate``), the ROUGE-L tokeniser of `xlm_swcm.metrics`,
`data.SENTENCE_END_CHARS` (mBART sentence permutation) and the demo's sentence splitter all read :data:`SCRIPTS`.

Example:
    >>> find_script("ཀ").name, find_script("가").rouge, find_script("7")
    ('Tibetan', 'cjk', None)
    >>> SCRIPTS["Tibetan"].sentence_ends
    '།༎'
"""

from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

__all__ = ["SCRIPTS", "Script", "find_script"]

# ROUGE-L tokenisation classes: Tibetan syllables, Arabic-script and Mongolian words, one token per CJK
# character, lower-cased letter/digit runs for the rest. A token never spans two classes.
TIBETAN, ARABIC, MONGOLIAN, CJK, OTHER = "tibetan", "arabic", "mongolian", "cjk", "other"


class Script(NamedTuple):
    """One writing system of :data:`SCRIPTS`."""

    name: str
    ranges: tuple[tuple[int, int], ...] = ()  # inclusive code point ranges; no two entries overlap
    rouge: str = OTHER
    # Characters that end a sentence, as XLM-R's vocabulary holds them (its NFKC normaliser makes ! ? of ！ ？).
    sentence_ends: str = ""
    # Characters that also end a sentence of raw text for the demo's splitter, not for the denoising collator.
    split_ends: str = ""
    # False: script_of names no script for these characters (their letters count as "Other").
    reported: bool = True


def _ranges(spec: str) -> tuple[tuple[int, int], ...]:
    """``"0F00-0FFF 1800-18AF"`` -> ``((0xF00, 0xFFF), (0x1800, 0x18AF))``."""
    return tuple((int(lo, 16), int(hi, 16)) for lo, hi in (r.split("-") for r in spec.split()))


# Ordered as data.SENTENCE_END_CHARS joins the sentence ends.
_TABLE = (
    # . ! ? also end Cyrillic and Arabic-script (Uyghur, Kazakh) sentences.
    Script(
        "Latin",
        _ranges("0041-005A 0061-007A 00C0-00D6 00D8-00F6 00F8-024F 1E00-1EFF 2C60-2C7F A720-A7FF")
        + _ranges("FF21-FF3A FF41-FF5A"),
        sentence_ends=".!?",
    ),
    # CJK Symbols and Punctuation hold Han only in 々〆〇, the Hangzhou numerals and 〸-〻.
    Script(
        "Han",
        _ranges("2E80-2FDF 3005-3007 3021-3029 3038-303B 3400-4DBF 4E00-9FFF F900-FAFF 20000-3134F"),
        rouge=CJK,
        sentence_ends="。!?",
        split_ends="！？",
    ),
    # Arabic question mark and full stop; the Arabic comma ، and semicolon ؛ do not end sentences.
    Script(
        "Arabic",
        _ranges("0600-06FF 0750-077F 0870-08FF FB50-FDFF FE70-FEFF"),
        rouge=ARABIC,
        sentence_ends="؟۔",
    ),
    # Danda and double danda, shared by the Indic scripts; their letters are not classified.
    Script("Devanagari", sentence_ends="।॥", reported=False),
    # Shad and double shad. The single shad also closes clauses, so Tibetan "sentences" are clause-sized
    # (sentence_end_token_ids(tokenizer, "༎") gives coarser units); the splitter also cuts at ༏ ༐ ༑ ༔.
    Script("Tibetan", _ranges("0F00-0FFF"), rouge=TIBETAN, sentence_ends="།༎", split_ends="༏༐༑༔"),
    # Full stop ᠃ and four dots ᠉; the comma ᠂ does not end a sentence.
    Script("Mongolian", _ranges("1800-18AF 11660-1167F"), rouge=MONGOLIAN, sentence_ends="᠃᠉"),
    Script("Cyrillic", _ranges("0400-052F 1C80-1C8F 2DE0-2DFF A640-A69F")),
    # Further CJK characters: one ROUGE token each, but not "Han" for script_of.
    Script("CJK symbols", _ranges("3000-3004 3008-3020 302A-3037 303C-303F"), rouge=CJK, reported=False),
    Script("CJK Extension H", _ranges("31350-323AF"), rouge=CJK, reported=False),
    Script("Kana", _ranges("3040-30FF 31F0-31FF FF66-FF9F 1AFF0-1B16F"), rouge=CJK, reported=False),
    Script("Bopomofo", _ranges("3100-312F 31A0-31BF"), rouge=CJK, reported=False),
    Script("Hangul", _ranges("1100-11FF 3130-318F A960-A97F AC00-D7FF FFA0-FFDC"), rouge=CJK, reported=False),
)

#: Script name -> :class:`Script`, in table order.
SCRIPTS: dict[str, Script] = {script.name: script for script in _TABLE}

_BLOCKS = sorted(((lo, hi, script) for script in _TABLE for lo, hi in script.ranges), key=lambda b: b[0])
_STARTS = [lo for lo, _, _ in _BLOCKS]


def find_script(char: str) -> Script | None:
    """The entry of :data:`SCRIPTS` whose ranges hold ``char``, or ``None``.

    >>> find_script("ᠮ").name, find_script("。").name
    ('Mongolian', 'CJK symbols')
    """
    code = ord(char)
    index = bisect_right(_STARTS, code) - 1
    if index >= 0 and code <= _BLOCKS[index][1]:
        return _BLOCKS[index][2]
    return None
