"""The script table (xlm_swcm.scripts) and its four users agree, and what the users see does not drift: cached
unk_rate reports, ROUGE-L scores and the demo corpus depend on it."""

import hashlib
import unicodedata

import pytest

from xlm_swcm import data, vocab
from xlm_swcm.metrics import script_rouge
from xlm_swcm.scripts import SCRIPTS, find_script

LAST = 0x323AF  # the table's highest code point (CJK Extension H)
# sha256 of the per-code-point answers (0..LAST) of script_of (named scripts) and of the ROUGE tokeniser's class,
# as vocab and script_rouge gave them with their own tables. Change them only on purpose.
SCRIPT_OF_SHA = "070936b67a99ad117a64c5543eebf4d066b3a4a120cf11efe08c23ac308f03c4"
ROUGE_CLASS_SHA = "5e87c04172249b0632b50e9e29c3653c1857b653503ab6a04137b49fee08e2b7"
SENTENCE_END_CHARS = ".!?。!?؟۔।॥།༎᠃᠉"
# Where the demo's split_sentences cuts raw text, per script code (sorted), and the table entries it reads.
DEMO_ENDS = {"Tibt": "།༎༏༐༑༔", "Mong": "᠃᠉", "Arab": "!.?؟۔", "Hani": "!?。！？", "Latn": "!.?"}
DEMO_SCRIPTS = {
    "Tibt": ["Tibetan"],
    "Mong": ["Mongolian"],
    "Arab": ["Latin", "Arabic"],
    "Hani": ["Han"],
    "Latn": ["Latin"],
}


def _fingerprint(classify) -> str:
    runs, last = [], object()
    for code in range(LAST + 1):
        value = classify(chr(code))
        if value != last:
            runs.append(f"{code:X} {value}")
            last = value
    return hashlib.sha256("\n".join(runs).encode()).hexdigest()


def test_ranges_are_disjoint():
    blocks = sorted((lo, hi, s.name) for s in SCRIPTS.values() for lo, hi in s.ranges)
    assert all(lo <= hi <= LAST for lo, hi, _ in blocks)
    overlaps = [(a, b) for a, b in zip(blocks, blocks[1:], strict=False) if b[0] <= a[1]]
    assert not overlaps


def test_script_of_and_rouge_classes_follow_the_table():
    entry = [None] * (LAST + 1)
    for script in SCRIPTS.values():
        for lo, hi in script.ranges:
            entry[lo : hi + 1] = [script] * (hi - lo + 1)
    wrong = []
    for code in range(LAST + 1):
        char, script = chr(code), entry[code]
        assert find_script(char) is script
        if script is not None and script.reported:
            expected = script.name
        else:
            expected = vocab.OTHER if unicodedata.category(char)[0] in "LM" else None
        rouge = script.rouge if script is not None else "other"
        if vocab.script_of(char) != expected or script_rouge._script_of(char) != rouge:
            wrong.append(f"U+{code:04X}: {vocab.script_of(char)} / {script_rouge._script_of(char)}")
    assert not wrong, wrong[:20]
    assert vocab.SCRIPT_RANGES == {s.name: s.ranges for s in SCRIPTS.values() if s.reported}


def test_users_answer_as_recorded():
    # Only the named scripts: "Other" / None come from unicodedata, whose version follows Python's.
    named = _fingerprint(lambda c: vocab.script_of(c) not in (vocab.OTHER, None) and vocab.script_of(c))
    assert named == SCRIPT_OF_SHA, "script_of changed: unk_rate reports would change"
    assert _fingerprint(script_rouge._script_of) == ROUGE_CLASS_SHA, (
        "ROUGE-L tokens (and scores) would change"
    )
    assert "".join(s.sentence_ends for s in SCRIPTS.values()) == data.SENTENCE_END_CHARS == SENTENCE_END_CHARS


def test_demo_splits_exactly_at_the_table_ends():
    assets = pytest.importorskip("xlm_swcm_demo.assets", reason="the demo needs its asset packages (polib)")
    ends_anywhere = {c for s in SCRIPTS.values() for c in s.sentence_ends + s.split_ends}
    punctuation = {chr(c) for c in range(0x10000) if unicodedata.category(chr(c))[0] == "P"}
    for code, names in DEMO_SCRIPTS.items():
        ends = {c for name in names for c in SCRIPTS[name].sentence_ends + SCRIPTS[name].split_ends}
        splits_at = {
            c for c in punctuation | ends_anywhere if len(assets.split_sentences(f"x{c} y", code)) == 2
        }
        assert splits_at == ends, code
        assert "".join(sorted(splits_at)) == DEMO_ENDS[code], code
