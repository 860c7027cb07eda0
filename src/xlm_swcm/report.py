"""The conversion report `swcm_conversion.json`: one schema, written by `xlm_swcm.conversion` and read by
`xlm_swcm.hub` (the model card).

>>> check_report({"source": "FacebookAI/xlm-roberta-base", "insert_every": "3"})
["'insert_every' must be of type int"]
>>> report_languages({"language_tokens": {"<bo>": 250002, "<ug>": 250003}})
['bo', 'ug']
"""

from __future__ import annotations

from typing import Any

REPORT_FILE = "swcm_conversion.json"

# Every key the conversion writes, with its JSON type. Keys marked optional are written only by some options.
REPORT_SCHEMA: dict[str, type | tuple[type, ...]] = {
    "source": str,  # the path or Hub id the encoder was loaded from
    "source_model_type": (str, type(None)),
    "insert_every": int,
    "trailing_normal_layer": bool,
    "weight_sharing": str,
    "tie_word_embeddings": bool,
    "init": str,  # the initialisation recipe (xlm_swcm.initialization)
    "decoder_layer_types": list,
    "mapping": list,  # rows {"decoder", "encoder", "mode"}
    "folded": list,  # rows {"decoder", "encoder", "layer_norm", "rows"} (recipe folded-ln)
    "random": list,
    "identity": list,
    "tensors": dict,
    "parameters": dict,
    "file_size_bytes": int,
    "language_tokens": dict,  # optional (--add-language-tokens): {"<bo>": id, ...}
    "extend_vocab": dict,  # optional (--extend-vocab)
    "trim_vocab": dict,  # optional (--trim-vocab)
    "vocab_size": int,  # optional (any vocabulary option)
}


def check_report(report: Any) -> list[str]:
    """Problems of a report read from JSON (empty list: fine). Keys outside the schema are left alone (a newer
    writer may add some); the tests check that the conversion writes none."""
    if not isinstance(report, dict):
        return ["it must hold a JSON object"]
    problems = []
    for key, kind in REPORT_SCHEMA.items():
        if key in report and not isinstance(report[key], kind):
            names = "/".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            problems.append(f"{key!r} must be of type {names}")
    for row in report.get("mapping") or []:
        if not isinstance(row, dict) or not {"decoder", "encoder", "mode"} <= set(row):
            problems.append("every mapping entry needs decoder, encoder and mode")
            break
    return problems


def report_languages(report: dict | None) -> list[str] | None:
    """The language codes of the report's language tokens (`<bo>` -> `bo`), in id order; None if it has none."""
    tokens = (report or {}).get("language_tokens") or {}
    if not tokens:
        return None
    return [token.strip("<>") for token, _ in sorted(tokens.items(), key=lambda item: item[1])]
