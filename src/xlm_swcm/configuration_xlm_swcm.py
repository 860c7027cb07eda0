# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""XLM-SWCM configuration.

This file is copied next to the weights by `save_pretrained` so that `trust_remote_code=True` works without the
package installed: it may import only the standard library, torch and transformers.
"""

import copy

from transformers import PretrainedConfig, XLMRobertaConfig

WEIGHT_SHARING_MODES = ("copy", "tie")
POSITION_STYLES = ("roberta", "bert")
ENCODER_LAYER_NORMS = ("post", "pre")
# The values each choice argument takes, in the order they are checked.
CHOICES = {
    "weight_sharing": WEIGHT_SHARING_MODES,
    "encoder_layer_norm": ENCODER_LAYER_NORMS,
    "position_style": POSITION_STYLES,
}
_LAYOUT_FIELDS = ("num_hidden_layers", "insert_every", "trailing_normal_layer")
# XLMRobertaConfig fields the model never reads (it has no classification head, and its decoder is its own): saved
# only when set to something else than their default, so that a saved config holds what the model uses.
_UNUSED_ENCODER_FIELDS = {"classifier_dropout": None, "is_decoder": False, "add_cross_attention": False}
# Fields added after configs were first saved: left out at their default, so that the configs of post-LayerNorm
# models stay what they were (a config without the field loads with the default).
_LATER_FIELDS = {"encoder_layer_norm": "post"}


class XLMSWCMConfig(XLMRobertaConfig):
    r"""
    Configuration of an XLM-SWCM model: an XLM-R-family encoder and a decoder whose "custom" layers start from the
    encoder's layers, with a randomly initialised "normal" layer inserted after every `insert_every` custom layers
    (Su et al. 2025, "Shared Weights Pretraining for Extremely Low-Resource Languages").

    The encoder arguments are those of [`XLMRobertaConfig`], which documents them, with the defaults of XLM-R base
    where they differ: `vocab_size=250002`, `max_position_embeddings=514`, `type_vocab_size=1`,
    `layer_norm_eps=1e-5`. The decoder has no size arguments of its own: it has one custom layer per encoder layer
    (`num_hidden_layers`) plus the normal layers, mirrors the encoder's sizes, shares its vocabulary and embeddings,
    and uses `layer_norm_eps` and the dropouts too; `initializer_range` also initialises the normal layers.
    `tie_word_embeddings` ties the LM head to the word embeddings, independently of `weight_sharing`.

    Args:
        position_style (`str`, *optional*, defaults to `"roberta"`):
            How position ids are made. `"roberta"` (XLM-R, RoBERTa, CINO): non-padding tokens count from
            `pad_token_id + 1` and padding tokens get `pad_token_id`, so sequences hold at most
            `max_position_embeddings - pad_token_id - 1` tokens. `"bert"`: 0, 1, 2, ... for every token.
        insert_every (`int`, *optional*, defaults to 3):
            X in the paper: a normal layer (self-attention -> cross-attention -> FFN, random init) follows every X
            custom layers.
        trailing_normal_layer (`bool`, *optional*, defaults to `False`):
            Whether a normal layer also follows the last custom layer when `num_hidden_layers` is a multiple of
            `insert_every`. `False` matches the released checkpoint (12 layers, X=3: 15 decoder layers); `True`
            matches the paper's formula n + floor(n / X) (16 decoder layers).
        weight_sharing (`str`, *optional*, defaults to `"copy"`):
            `"copy"`: decoder custom layers own independent parameters (initialised from the encoder by
            `xlm_swcm.conversion.build_seed`). `"tie"`: their attention and feed-forward parameters
            ARE the encoder's (same storage, stored once in the checkpoint, updated once per optimizer step).
        encoder_layer_norm (`str`, *optional*, defaults to `"post"`):
            Where the encoder's LayerNorms sit. `"post"` (XLM-R, RoBERTa, CamemBERT, BERT, CINO): x = LN(x +
            sublayer(x)), and the embedding block ends with a LayerNorm. `"pre"` (XLM-R XL and XXL,
            `XLMRobertaXLModel`): x = x + sublayer(LN(x)), no embedding LayerNorm, and a final LayerNorm
            (`encoder.layer_norm`) after the last layer. The decoder is pre-LayerNorm either way. With `"pre"` and
            `weight_sharing="tie"` a custom layer's four LayerNorms are tied too, each to the encoder LayerNorm in
            front of the sublayer it shares.
        decoder_start_token_id (`int`, *optional*, defaults to 2):
            First decoder input token. Must not be `pad_token_id` (with roberta positions it would get a padding
            position).

    Example:

    ```python
    >>> from xlm_swcm import XLMSWCMConfig
    >>> config = XLMSWCMConfig(num_hidden_layers=12, insert_every=3)
    >>> config.decoder_layer_types.count("normal"), config.decoder_layers
    (3, 15)

    ```
    """

    model_type = "xlm-swcm"
    keys_to_ignore_at_inference = ["cache"]

    vocab_size: int = 250002
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-5
    position_style: str = "roberta"
    insert_every: int = 3
    trailing_normal_layer: bool = False
    weight_sharing: str = "copy"
    encoder_layer_norm: str = "post"
    decoder_start_token_id: int | None = 2
    is_encoder_decoder: bool = True
    # Derived from the layout fields (kept up to date by __setattr__; setting it has no effect): the number of
    # decoder layers. transformers reads it through `get_text_config(decoder=True)` to size key/value caches.
    decoder_layers: int | None = None

    def __post_init__(self, **kwargs):
        # Checked here rather than through huggingface_hub's @strict, whose wrapper error is not a ValueError.
        self.validate_architecture()
        self._validate_start_token()
        self._update_decoder_layers()
        super().__post_init__(**kwargs)

    def __setattr__(self, key, value):
        super().__setattr__(key, value)
        if key in _LAYOUT_FIELDS + ("decoder_layers",) and getattr(self, "_post_init_done", False):
            self._update_decoder_layers()

    def _update_decoder_layers(self):
        if self.__dict__.get("_decoder_view_layer_types") is not None:
            return  # a decoder view: num_hidden_layers already counts the decoder's layers
        valid = isinstance(self.insert_every, int) and self.insert_every >= 1
        super().__setattr__("decoder_layers", len(self.decoder_layer_types) if valid else None)

    def get_text_config(self, decoder: bool | None = None, encoder: bool | None = None) -> PretrainedConfig:
        """The config seen from one end of the model; `decoder=True` gives the decoder view that transformers sizes
        key/value caches from. The base class would set `num_hidden_layers = decoder_layers` on a copy, from which
        the layout would grow the decoder again (12 layers, X=3: 15 -> 19); this view keeps the layout frozen, so
        that `num_hidden_layers`, `decoder_layers` and `decoder_layer_types` all describe the decoder.

        ```python
        >>> config = XLMSWCMConfig(num_hidden_layers=2, insert_every=1)
        >>> config.decoder_layer_types
        ['custom', 'normal', 'custom']
        >>> config.get_text_config(decoder=True).num_hidden_layers
        3

        ```
        """
        if not decoder or encoder:
            return super().get_text_config(decoder=decoder, encoder=encoder)
        if self.__dict__.get("_decoder_view_layer_types") is not None:
            return self
        view = copy.deepcopy(self)
        layer_types = self.decoder_layer_types
        view.__dict__["_decoder_view_layer_types"] = layer_types
        super(XLMSWCMConfig, view).__setattr__("num_hidden_layers", len(layer_types))
        super(XLMSWCMConfig, view).__setattr__("decoder_layers", len(layer_types))
        return view

    def to_dict(self) -> dict:
        output = super().to_dict()
        output.pop("_decoder_view_layer_types", None)  # a view's bookkeeping, not a setting
        for key, default in {**_UNUSED_ENCODER_FIELDS, **_LATER_FIELDS}.items():
            if output.get(key, default) == default:
                output.pop(key, None)
        return output

    def validate_architecture(self):
        """Raises a ValueError naming the argument when a value cannot build a model."""
        if not isinstance(self.insert_every, int) or self.insert_every < 1:
            raise ValueError(
                f"insert_every must be an integer >= 1 (X in the paper), got {self.insert_every!r}."
            )
        if self.num_hidden_layers < 1:
            raise ValueError(f"num_hidden_layers must be >= 1, got {self.num_hidden_layers}.")
        if self.hidden_size % self.num_attention_heads != 0:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by num_attention_heads "
                f"({self.num_attention_heads})."
            )
        for name, choices in CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}, got {getattr(self, name)!r}.")

    def _validate_start_token(self):
        if self.decoder_start_token_id is not None and self.decoder_start_token_id == self.pad_token_id:
            raise ValueError(
                f"decoder_start_token_id ({self.decoder_start_token_id}) must differ from pad_token_id: padding "
                "tokens get no position. Use eos_token_id (</s>) or bos_token_id (<s>)."
            )

    @property
    def decoder_layer_types(self) -> list[str]:
        """Decoder layer kinds in order: `"custom"` (from an encoder layer) or `"normal"` (random)."""
        if (frozen := self.__dict__.get("_decoder_view_layer_types")) is not None:
            return list(frozen)
        types = []
        for i in range(self.num_hidden_layers):
            types.append("custom")
            is_last = i == self.num_hidden_layers - 1
            if (i + 1) % self.insert_every == 0 and (not is_last or self.trailing_normal_layer):
                types.append("normal")
        return types

    @property
    def decoder_layer_sources(self) -> list[int | None]:
        """For each decoder layer, the index of the encoder layer it starts from (`None` for normal layers)."""
        sources, i = [], 0
        for kind in self.decoder_layer_types:
            sources.append(i if kind == "custom" else None)
            i += kind == "custom"
        return sources

    @property
    def position_offset(self) -> int:
        """Position id of the first token (roberta style reserves the ids up to the padding id)."""
        return self.pad_token_id + 1 if self.position_style == "roberta" else 0

    @classmethod
    def from_encoder_config(cls, encoder_config: PretrainedConfig, **kwargs) -> "XLMSWCMConfig":
        """A config from an `XLMRobertaConfig`, `XLMRobertaXLConfig` (pre-LayerNorm), `RobertaConfig` or
        `BertConfig`; `kwargs` set the decoder arguments or override encoder ones.

        ```python
        >>> from transformers import XLMRobertaConfig
        >>> XLMSWCMConfig.from_encoder_config(XLMRobertaConfig(num_hidden_layers=6), insert_every=2).decoder_layers
        8

        ```
        """
        model_type = getattr(encoder_config, "model_type", None)
        if model_type not in ENCODER_POSITION_STYLES:
            raise ValueError(
                f"Unsupported encoder model_type {model_type!r}: XLM-SWCM takes a BERT-family encoder "
                f"({', '.join(sorted(ENCODER_POSITION_STYLES))})."
            )
        fields = (
            "vocab_size hidden_size num_hidden_layers num_attention_heads intermediate_size hidden_act "
            "hidden_dropout_prob attention_probs_dropout_prob max_position_embeddings type_vocab_size "
            "initializer_range layer_norm_eps pad_token_id bos_token_id eos_token_id"
        ).split()
        values = {
            name: getattr(encoder_config, name)
            for name in fields
            if getattr(encoder_config, name, None) is not None
        }
        values["position_style"] = ENCODER_POSITION_STYLES[model_type]
        values["encoder_layer_norm"] = "pre" if model_type in PRE_LAYER_NORM_ENCODERS else "post"
        values.update(kwargs)
        # BERT configs carry no bos/eos ids: then the caller must name the start token (from its tokenizer).
        values.setdefault("decoder_start_token_id", values.get("eos_token_id", values.get("bos_token_id")))
        return cls(**values)


# Which position ids each supported encoder family uses.
ENCODER_POSITION_STYLES = {
    "xlm-roberta": "roberta",
    "xlm-roberta-xl": "roberta",
    "roberta": "roberta",
    "camembert": "roberta",
    "bert": "bert",
}
# The supported encoder families whose layers are pre-LayerNorm (`encoder_layer_norm="pre"`); the others are post-LN.
PRE_LAYER_NORM_ENCODERS = ("xlm-roberta-xl",)

__all__ = ["XLMSWCMConfig"]
