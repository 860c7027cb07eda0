# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""PyTorch XLM-SWCM: an XLM-R-family encoder and a decoder that starts from the encoder's weights.

`save_pretrained` copies this file next to the weights (trust_remote_code) with the files it imports relatively, so it
imports only the standard library, torch, transformers, `configuration_xlm_swcm` and `cpu_decoding`.
"""

import warnings
from collections.abc import Callable

import torch
from torch import nn
from transformers.activations import ACT2FN
from transformers.cache_utils import Cache, DynamicCache, EncoderDecoderCache
from transformers.generation import GenerationMixin
from transformers.masking_utils import create_bidirectional_mask, create_causal_mask
from transformers.modeling_layers import GradientCheckpointingLayer
from transformers.modeling_outputs import (
    BaseModelOutput,
    BaseModelOutputWithPastAndCrossAttentions,
    Seq2SeqLMOutput,
    Seq2SeqModelOutput,
)
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS, PreTrainedModel, slice_logits_to_keep
from transformers.utils import is_torchdynamo_compiling
from transformers.utils.deprecation import deprecate_kwarg
from transformers.utils.generic import can_return_tuple, merge_with_config_defaults
from transformers.utils.output_capturing import OutputRecorder, capture_outputs

from .configuration_xlm_swcm import XLMSWCMConfig
from .cpu_decoding import linear_rows, use_decoding_linear


def shift_tokens_right(
    input_ids: torch.Tensor, pad_token_id: int, decoder_start_token_id: int | None
) -> torch.Tensor:
    """Decoder inputs for teacher forcing: `decoder_start_token_id` then the labels shifted right, -100 -> pad."""
    if decoder_start_token_id is None:
        raise ValueError(
            "config.decoder_start_token_id is not set, so decoder inputs cannot be made from labels. Set it to the "
            "id of </s> (XLM-R: 2) or <s> (XLM-R: 0), or pass decoder_input_ids."
        )
    shifted = input_ids.new_empty(input_ids.shape)
    shifted[:, 1:] = input_ids[:, :-1]
    shifted[:, 0] = decoder_start_token_id
    return shifted.masked_fill_(shifted == -100, pad_token_id)


def eager_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Plain softmax attention; `attention_mask` is additive (0 / dtype min), as transformers' mask utils make it."""
    weights = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        weights = weights + attention_mask
    weights = nn.functional.softmax(weights, dim=-1, dtype=torch.float32).to(query.dtype)
    weights = nn.functional.dropout(weights, p=dropout, training=module.training)
    output = torch.matmul(weights, value).transpose(1, 2).contiguous()
    return output, weights


def check_token_ids(input_ids: torch.Tensor, vocab_size: int):
    """Raises a clear error for ids outside `0 .. vocab_size - 1` (a wrong tokenizer): one host synchronisation, so
    it runs where ids come from the user, and not while compiling (a graph cannot branch on values)."""
    if is_torchdynamo_compiling() or input_ids.numel() == 0:
        return
    outside = (input_ids < 0) | (input_ids >= vocab_size)
    if outside.any():
        token = input_ids[outside][0].item()
        raise ValueError(
            f"Token id {token} is outside the vocabulary (vocab_size={vocab_size}): the tokenizer does not belong "
            "to this model, or the embeddings were not resized after adding tokens "
            "(model.resize_token_embeddings(len(tokenizer)))."
        )


def layer_norm(config: XLMSWCMConfig) -> nn.LayerNorm:
    return nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)


class XLMSWCMEmbeddings(nn.Module):
    """XLM-R's embedding block: word + position + token-type embeddings, LayerNorm (an `nn.Identity` for a
    pre-LayerNorm encoder) and dropout. The decoder's instance is tied to the encoder's."""

    def __init__(self, config: XLMSWCMConfig):
        super().__init__()
        self.config = config
        position_padding = config.pad_token_id if config.position_style == "roberta" else None
        self.word_embeddings = nn.Embedding(
            config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id
        )
        self.position_embeddings = nn.Embedding(
            config.max_position_embeddings, config.hidden_size, padding_idx=position_padding
        )
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = layer_norm(config) if config.encoder_layer_norm == "post" else nn.Identity()
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        past_length: int = 0,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        config = self.config
        seq_length = (input_ids if input_ids is not None else inputs_embeds).shape[1]
        # past_length is a tensor with a static cache: reading it is a host synchronisation, so the decoder checks
        # it only when the cache could outgrow the positions (`XLMSWCMDecoder.forward`).
        if isinstance(past_length, int):
            self.check_length(past_length + seq_length)
        # The ids come from the user on a first forward (the encoder's input, decoder inputs without a cache); later
        # decoding steps feed back ids the model picked. Checking those would cost a host synchronisation per token.
        if input_ids is not None and isinstance(past_length, int) and past_length == 0:
            check_token_ids(input_ids, config.vocab_size)
        if position_ids is None:
            position_ids = self._position_ids(input_ids, inputs_embeds, past_length, attention_mask)
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        if token_type_ids is None:
            # Type 0 everywhere: adding the row equals looking it up, without building an index tensor.
            embeddings = inputs_embeds + self.token_type_embeddings.weight[0]
        else:
            embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(embeddings))

    def check_length(self, length: int | torch.Tensor):
        """Raises a clear error when `length` tokens (cached + new) need more positions than the model has."""
        limit = self.config.max_position_embeddings - self.config.position_offset
        # compiled graphs cannot branch on a tensor length (a static cache's)
        if not is_torchdynamo_compiling() and length > limit:
            raise ValueError(
                f"Sequence of {int(length)} tokens is longer than the model's {limit} positions: truncate the input "
                "(tokenizer truncation=True, max_length=...) or generate fewer tokens."
            )

    def _position_ids(
        self,
        input_ids: torch.LongTensor | None,
        inputs_embeds: torch.Tensor | None,
        past_length: int,
        attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        config = self.config
        tokens = None  # where the real (non-padding) tokens are, for roberta positions
        if config.position_style == "roberta":
            if input_ids is not None:
                tokens = input_ids.ne(config.pad_token_id)
            elif attention_mask is not None and attention_mask.dim() == 2:
                # Embeddings carry no ids: the 2D attention mask (past + new tokens) says which are padding, so that
                # inputs_embeds get the positions their ids would have.
                tokens = attention_mask[:, -inputs_embeds.shape[1] :].bool()
        if tokens is not None:
            # XLM-R: non-padding tokens count from pad_token_id + 1, padding keeps pad_token_id (left padding works).
            mask = tokens.int()
            return (torch.cumsum(mask, dim=1).type_as(mask) + past_length) * mask + config.pad_token_id
        reference = input_ids if input_ids is not None else inputs_embeds
        # arange(n) + start rather than arange(start, start + n): start may be a tensor (static cache)
        positions = (
            torch.arange(reference.shape[1], device=reference.device) + past_length + config.position_offset
        )
        return positions.unsqueeze(0)


class XLMSWCMAttention(nn.Module):
    """Multi-head attention with one fused Q/K/V projection (`qkv`, rows Q, K, V) and an output projection.
    Cross-attention (`key_value_states` given) takes Q and K/V from row slices of the same weight, so that one layout
    serves the encoder and both decoder attentions, and tie mode can share the very same tensor."""

    def __init__(self, config: XLMSWCMConfig, layer_idx: int | None = None, is_causal: bool = False):
        super().__init__()
        self.config = config
        self.layer_idx = layer_idx
        self.is_causal = is_causal
        self.hidden_size = config.hidden_size
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.scaling = self.head_dim**-0.5
        self.dropout = config.attention_probs_dropout_prob
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        key_value_states: torch.Tensor | None = None,
        cache: Cache | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        batch, length = hidden_states.shape[:2]
        heads = (batch, -1, self.config.num_attention_heads, self.head_dim)
        if key_value_states is None:
            qkv = self.qkv(hidden_states).view(batch, length, 3, *heads[2:])
            query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (batch, heads, length, head_dim)
            if cache is not None:
                self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
                key, value = self_cache.update(key, value, self.layer_idx)
        else:
            # Q from the decoder states, K/V from the source: the two halves of the same fused projection.
            query = linear_rows(self.qkv, hidden_states, slice(None, self.hidden_size))
            query = query.reshape(heads).transpose(1, 2)
            if cache is not None and cache.is_updated.get(self.layer_idx):
                # The source does not change while decoding: its K/V were projected at the first step.
                layer = cache.cross_attention_cache.layers[self.layer_idx]
                key, value = layer.keys, layer.values
            else:
                kv = linear_rows(self.qkv, key_value_states, slice(self.hidden_size, None))
                key, value = kv.reshape(batch, -1, 2, *heads[2:]).permute(2, 0, 3, 1, 4).unbind(0)
                if cache is not None:
                    key, value = cache.cross_attention_cache.update(key, value, self.layer_idx)
                    cache.is_updated[self.layer_idx] = True

        attention_interface: Callable = ALL_ATTENTION_FUNCTIONS.get_interface(
            self.config._attn_implementation, eager_attention_forward
        )
        output, weights = attention_interface(
            self,
            query,
            key,
            value,
            attention_mask,
            dropout=self.dropout if self.training else 0.0,
            scaling=self.scaling,
            **kwargs,
        )
        return self.o_proj(output.reshape(batch, length, -1)), weights


class XLMSWCMFeedForward(nn.Module):
    """Position-wise feed-forward block: fc1 -> activation -> fc2 (XLM-R's intermediate and output dense)."""

    def __init__(self, config: XLMSWCMConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)
        self.act = ACT2FN[config.hidden_act]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(hidden_states)))


class XLMSWCMEncoderLayer(GradientCheckpointingLayer):
    """XLM-R layer, post-LayerNorm: x = LN(x + attn(x)); x = LN(x + ffn(x)); with `encoder_layer_norm="pre"` (XLM-R
    XL/XXL): x = x + attn(LN(x)); x = x + ffn(LN(x))."""

    def __init__(self, config: XLMSWCMConfig, layer_idx: int):
        super().__init__()
        self.pre_layer_norm = config.encoder_layer_norm == "pre"
        self.attention = XLMSWCMAttention(config, layer_idx)
        self.attention_layer_norm = layer_norm(config)
        self.ffn = XLMSWCMFeedForward(config)
        self.ffn_layer_norm = layer_norm(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden_states: torch.Tensor, attention_mask: torch.Tensor | None = None, **kwargs):
        if self.pre_layer_norm:
            attn_output, _ = self.attention(
                self.attention_layer_norm(hidden_states), attention_mask, **kwargs
            )
            hidden_states = hidden_states + self.dropout(attn_output)
            return hidden_states + self.dropout(self.ffn(self.ffn_layer_norm(hidden_states)))
        attn_output, _ = self.attention(hidden_states, attention_mask, **kwargs)
        hidden_states = self.attention_layer_norm(hidden_states + self.dropout(attn_output))
        return self.ffn_layer_norm(hidden_states + self.dropout(self.ffn(hidden_states)))


class XLMSWCMDecoderLayer(GradientCheckpointingLayer):
    """Base of the two decoder layer kinds (`config.decoder_layer_types`): every sublayer is pre-LayerNorm with its
    own residual, x = x + dropout(sublayer(LN(x))). Output recording matches this class by isinstance."""

    def self_attention(self, hidden_states, attention_mask, cache, **kwargs) -> torch.Tensor:
        output, _ = self.self_attn(
            self.self_attn_layer_norm(hidden_states), attention_mask, cache=cache, **kwargs
        )
        return hidden_states + self.dropout(output)

    def cross_attention(
        self, hidden_states, encoder_hidden_states, encoder_mask, cache, **kwargs
    ) -> torch.Tensor:
        output, _ = self.cross_attn(
            self.cross_attn_layer_norm(hidden_states),
            encoder_mask,
            key_value_states=encoder_hidden_states,
            cache=cache,
            **kwargs,
        )
        return hidden_states + self.dropout(output)

    def feed_forward(
        self, ffn: nn.Module, layer_norm: nn.LayerNorm, hidden_states: torch.Tensor
    ) -> torch.Tensor:
        return hidden_states + self.dropout(ffn(layer_norm(hidden_states)))


class XLMSWCMCustomDecoderLayer(XLMSWCMDecoderLayer):
    """A decoder layer built from one encoder layer (`custom_layer_mapping`): self-attention -> FFN1 ->
    cross-attention -> FFN2; both attentions start from the encoder layer's attention, both FFNs from its FFN."""

    def __init__(self, config: XLMSWCMConfig, layer_idx: int):
        super().__init__()
        # Creation order is the sublayer order: it fixes the random initialisation and the state_dict order.
        self.self_attn = XLMSWCMAttention(config, layer_idx, is_causal=True)
        self.self_attn_layer_norm = layer_norm(config)
        self.ffn1 = XLMSWCMFeedForward(config)
        self.ffn1_layer_norm = layer_norm(config)
        self.cross_attn = XLMSWCMAttention(config, layer_idx)
        self.cross_attn_layer_norm = layer_norm(config)
        self.ffn2 = XLMSWCMFeedForward(config)
        self.ffn2_layer_norm = layer_norm(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor | None = None,
        cache: EncoderDecoderCache | None = None,
        **kwargs,
    ) -> torch.Tensor:
        hidden_states = self.self_attention(hidden_states, attention_mask, cache, **kwargs)
        hidden_states = self.feed_forward(self.ffn1, self.ffn1_layer_norm, hidden_states)
        hidden_states = self.cross_attention(
            hidden_states, encoder_hidden_states, encoder_attention_mask, cache, **kwargs
        )
        return self.feed_forward(self.ffn2, self.ffn2_layer_norm, hidden_states)


class XLMSWCMNormalDecoderLayer(XLMSWCMDecoderLayer):
    """A randomly initialised Transformer decoder layer: self-attention -> cross-attention -> FFN."""

    def __init__(self, config: XLMSWCMConfig, layer_idx: int):
        super().__init__()
        self.self_attn = XLMSWCMAttention(config, layer_idx, is_causal=True)
        self.self_attn_layer_norm = layer_norm(config)
        self.cross_attn = XLMSWCMAttention(config, layer_idx)
        self.cross_attn_layer_norm = layer_norm(config)
        self.ffn = XLMSWCMFeedForward(config)
        self.ffn_layer_norm = layer_norm(config)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor | None = None,
        cache: EncoderDecoderCache | None = None,
        **kwargs,
    ) -> torch.Tensor:
        hidden_states = self.self_attention(hidden_states, attention_mask, cache, **kwargs)
        hidden_states = self.cross_attention(
            hidden_states, encoder_hidden_states, encoder_attention_mask, cache, **kwargs
        )
        return self.feed_forward(self.ffn, self.ffn_layer_norm, hidden_states)


# The layer class of each `config.decoder_layer_types` kind.
DECODER_LAYER_CLASSES = {"custom": XLMSWCMCustomDecoderLayer, "normal": XLMSWCMNormalDecoderLayer}


class XLMSWCMPreTrainedModel(PreTrainedModel):
    config: XLMSWCMConfig  # transformers takes `config_class` from this annotation
    base_model_prefix = "model"
    supports_gradient_checkpointing = True
    # The decoder adds its layer classes: accelerate refuses a class the model lacks (the encoder alone has no
    # decoder layer).
    _no_split_modules = ["XLMSWCMEmbeddings", "XLMSWCMEncoderLayer"]
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_flex_attn = True
    _supports_attention_backend = True
    _can_compile_fullgraph = True
    # Whether `_tied_weights_keys` is part of the architecture (the decoder's embeddings, tie mode's shared layers)
    # rather than the LM head tying that `tie_word_embeddings` switches.
    _structural_tied_weights = False

    def get_expanded_tied_weights_keys(self, all_submodels: bool = False) -> dict:
        if all_submodels:
            return resolve_tie_chains(super().get_expanded_tied_weights_keys(all_submodels=True))
        if self._structural_tied_weights:
            return dict(self._tied_weights_keys or {})
        return super().get_expanded_tied_weights_keys()

    def get_input_embeddings(self) -> nn.Embedding:  # the encoder's and the decoder's own
        return self.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding):
        self.embeddings.word_embeddings = value

    def post_init(self):
        super().post_init()
        use_decoding_linear(self)  # CPU kernels for the few rows of a decoding step (cpu_decoding)

    def init_weights(self):
        # `post_init` has just merged the children's tied keys into ours: in tie mode the decoder's own keys
        # (cross-attention -> its self-attention) overwrite the model's (cross-attention -> encoder), which would
        # leave chains. Point every target at the one parameter that is really stored before tying.
        self.all_tied_weights_keys = resolve_tie_chains(self.all_tied_weights_keys)
        super().init_weights()


class XLMSWCMEncoder(XLMSWCMPreTrainedModel):
    """The XLM-R encoder, the function of `XLMRobertaModel` without pooler (with `encoder_layer_norm="pre"`, of
    `XLMRobertaXLModel`: pre-LayerNorm layers and a final `layer_norm`)."""

    _can_record_outputs = {"hidden_states": XLMSWCMEncoderLayer, "attentions": XLMSWCMAttention}

    def __init__(self, config: XLMSWCMConfig):
        super().__init__(config)
        self.embeddings = XLMSWCMEmbeddings(config)
        self.layers = nn.ModuleList(XLMSWCMEncoderLayer(config, i) for i in range(config.num_hidden_layers))
        if config.encoder_layer_norm == "pre":  # XLM-R XL's final LayerNorm
            self.layer_norm = layer_norm(config)
        self.post_init()

    @merge_with_config_defaults
    @capture_outputs
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        token_type_ids: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        **kwargs,
    ) -> BaseModelOutput:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of input_ids or inputs_embeds to the encoder.")
        hidden_states = self.embeddings(
            input_ids, inputs_embeds, position_ids, token_type_ids, attention_mask=attention_mask
        )
        attention_mask = create_bidirectional_mask(
            config=self.config, inputs_embeds=hidden_states, attention_mask=attention_mask
        )
        for layer in self.layers:
            hidden_states = layer(hidden_states, attention_mask, **kwargs)
        if self.config.encoder_layer_norm == "pre":
            hidden_states = self.layer_norm(hidden_states)
        return BaseModelOutput(last_hidden_state=hidden_states)


class XLMSWCMDecoder(XLMSWCMPreTrainedModel):
    """The SWCM decoder: custom layers (one per encoder layer) with a normal layer after every `insert_every` of
    them, pre-LayerNorm throughout, and a final LayerNorm. Its embeddings are tied to the encoder's."""

    _can_record_outputs = {
        # config.num_hidden_layers counts the encoder's layers: negative `output_hidden_states` indices are resolved
        # with the decoder's own count.
        "hidden_states": OutputRecorder(XLMSWCMDecoderLayer, num_hidden_layers_key="decoder_layers"),
        "attentions": OutputRecorder(XLMSWCMAttention, index=1, layer_name="self_attn"),
        "cross_attentions": OutputRecorder(XLMSWCMAttention, index=1, layer_name="cross_attn"),
    }

    _structural_tied_weights = True

    def __init__(self, config: XLMSWCMConfig):
        super().__init__(config)
        # In tie mode a custom layer's cross-attention and FFN2 are its self-attention and FFN1 (all four are one
        # encoder layer's): declared here too, so that the decoder saved on its own stores each tensor once.
        self._tied_weights_keys = decoder_sharing_map(config)
        self.embeddings = XLMSWCMEmbeddings(config)
        self.layers = nn.ModuleList(
            DECODER_LAYER_CLASSES[kind](config, j) for j, kind in enumerate(config.decoder_layer_types)
        )
        self.layer_norm = layer_norm(config)
        # the layer classes this decoder has (accelerate's FSDP wrapping refuses a class the model lacks)
        kinds = dict.fromkeys(type(layer).__name__ for layer in self.layers)
        self._no_split_modules = ["XLMSWCMEmbeddings", *kinds]
        self.post_init()

    @merge_with_config_defaults
    @capture_outputs
    @deprecate_kwarg("past_key_values", "5.40.0", new_name="cache")
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        encoder_hidden_states: torch.Tensor | None = None,
        encoder_attention_mask: torch.Tensor | None = None,
        cache: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> BaseModelOutputWithPastAndCrossAttentions:
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("Pass exactly one of decoder_input_ids or decoder_inputs_embeds to the decoder.")
        if encoder_hidden_states is None:
            raise ValueError("The XLM-SWCM decoder needs encoder_hidden_states: every layer cross-attends.")
        if encoder_hidden_states.shape[-1] != self.config.hidden_size:
            raise ValueError(
                f"encoder_hidden_states have hidden size {encoder_hidden_states.shape[-1]} but the decoder expects "
                f"{self.config.hidden_size}: pass the outputs of this model's own encoder."
            )
        if use_cache and cache is None:
            cache = EncoderDecoderCache(DynamicCache(config=self.config), DynamicCache(config=self.config))
        past_length = cache.get_seq_length() if cache is not None else 0
        if isinstance(past_length, torch.Tensor):
            # A static cache: its length is a tensor. One that holds no more tokens than the model has positions
            # fails on overflow before the positions do, so only a larger one pays a host sync per step for the check.
            capacity = cache.get_max_length()
            if capacity < 0 or capacity > self.config.max_position_embeddings - self.config.position_offset:
                self.embeddings.check_length(
                    past_length + (input_ids if input_ids is not None else inputs_embeds).shape[1]
                )

        hidden_states = self.embeddings(
            input_ids, inputs_embeds, past_length=past_length, attention_mask=attention_mask
        )
        self_cache = cache.self_attention_cache if cache is not None else None
        attention_mask = create_causal_mask(
            config=self.config, inputs_embeds=hidden_states, attention_mask=attention_mask, cache=self_cache
        )
        encoder_attention_mask = create_bidirectional_mask(
            config=self.config,
            inputs_embeds=hidden_states,
            attention_mask=encoder_attention_mask,
            encoder_hidden_states=encoder_hidden_states,
        )
        for layer in self.layers:
            hidden_states = layer(
                hidden_states,
                attention_mask,
                encoder_hidden_states,  # positional, so gradient checkpointing passes it through
                encoder_attention_mask=encoder_attention_mask,
                cache=cache,
                **kwargs,
            )
        return BaseModelOutputWithPastAndCrossAttentions(
            last_hidden_state=self.layer_norm(hidden_states), cache=cache
        )


class XLMSWCMModel(XLMSWCMPreTrainedModel):
    """Encoder and decoder without the LM head. Parameter sharing (`sharing_map`) goes through transformers' tying,
    so save/load and `push_to_hub` keep it."""

    _structural_tied_weights = True

    def __init__(self, config: XLMSWCMConfig):
        super().__init__(config)
        self._tied_weights_keys = sharing_map(config)
        self.encoder = XLMSWCMEncoder(config)
        self.decoder = XLMSWCMDecoder(config)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.encoder.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding):
        self.encoder.embeddings.word_embeddings = value
        self.decoder.embeddings.word_embeddings = value

    @can_return_tuple
    @deprecate_kwarg("past_key_values", "5.40.0", new_name="cache")
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: BaseModelOutput | tuple | None = None,
        cache: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ) -> Seq2SeqModelOutput:
        if encoder_outputs is None:
            encoder_outputs = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, inputs_embeds=inputs_embeds, **kwargs
            )
        elif not isinstance(encoder_outputs, BaseModelOutput):
            encoder_outputs = BaseModelOutput(*encoder_outputs)
        if decoder_input_ids is None and decoder_inputs_embeds is None:
            raise ValueError("Pass decoder_input_ids (or labels to XLMSWCMForConditionalGeneration).")
        decoder_outputs = self.decoder(
            input_ids=decoder_input_ids,
            attention_mask=decoder_attention_mask,
            encoder_hidden_states=encoder_outputs.last_hidden_state,
            encoder_attention_mask=attention_mask,
            cache=cache,
            inputs_embeds=decoder_inputs_embeds,
            use_cache=use_cache,
            **kwargs,
        )
        return Seq2SeqModelOutput(
            last_hidden_state=decoder_outputs.last_hidden_state,
            cache=decoder_outputs.cache,
            decoder_hidden_states=decoder_outputs.hidden_states,
            decoder_attentions=decoder_outputs.attentions,
            cross_attentions=decoder_outputs.cross_attentions,
            encoder_last_hidden_state=encoder_outputs.last_hidden_state,
            encoder_hidden_states=encoder_outputs.hidden_states,
            encoder_attentions=encoder_outputs.attentions,
        )


class XLMSWCMForConditionalGeneration(XLMSWCMPreTrainedModel, GenerationMixin):
    """XLM-SWCM with a language-modelling head; works with `generate()`, pipelines and `Seq2SeqTrainer`.

    Example:

    ```python
    >>> import torch
    >>> from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration
    >>> config = XLMSWCMConfig(vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
    ...                        intermediate_size=37)
    >>> model = XLMSWCMForConditionalGeneration(config)
    >>> out = model(input_ids=torch.tensor([[0, 5, 6, 2]]), labels=torch.tensor([[7, 8, 2]]))
    >>> out.logits.shape[-1], out.loss.ndim
    (99, 0)

    ```
    """

    _tied_weights_keys = {"lm_head.weight": "model.encoder.embeddings.word_embeddings.weight"}

    def __init__(self, config: XLMSWCMConfig):
        super().__init__(config)
        self.model = XLMSWCMModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()
        # Labels are already aligned with the logits (decoder inputs are shifted), so no second shift: the masked-LM
        # loss, not the causal-LM loss that the class name would select.
        self.loss_type = "ForMaskedLM"

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Embedding):
        self.model.set_input_embeddings(value)

    def set_output_embeddings(self, new_embeddings: nn.Linear):
        # resize_token_embeddings builds a new head for an untied vocabulary: it decodes as fast as the one it replaces
        self.lm_head = use_decoding_linear(new_embeddings)

    # The seed builder (`xlm_swcm.conversion.build_seed`), plugged in when the package is imported: this file
    # travels next to saved weights with only its relative imports (trust_remote_code), so it never imports the
    # package's other modules.
    seed_builder = None

    @classmethod
    def from_encoder(
        cls,
        encoder,
        insert_every: int = 3,
        trailing_normal_layer: bool = False,
        weight_sharing: str = "copy",
        seed: int = 0,
        init: str | None = None,
        **config_overrides,
    ) -> "XLMSWCMForConditionalGeneration":
        """Builds a seed whose decoder starts from `encoder` (a BERT-family model, folder or Hub id): the model of
        `xlm_swcm.conversion.build_seed`, which documents the arguments. Needs the `xlm-swcm` package installed."""
        if cls.seed_builder is None:
            raise ImportError(
                "from_encoder needs the xlm-swcm package: pip install xlm-swcm, then import xlm_swcm."
            )
        model, _ = cls.seed_builder(
            encoder,
            insert_every=insert_every,
            trailing_normal_layer=trailing_normal_layer,
            weight_sharing=weight_sharing,
            seed=seed,
            init=init,
            **config_overrides,
        )
        return model

    def prepare_decoder_input_ids_from_labels(self, labels: torch.Tensor) -> torch.Tensor:
        return shift_tokens_right(labels, self.config.pad_token_id, self.config.decoder_start_token_id)

    def generate(self, inputs: torch.Tensor | None = None, generation_config=None, **kwargs):
        """`GenerationMixin.generate`, with `max_new_tokens` (or `max_length`) capped, with a warning, at what the
        decoder's positions hold: past them generation would fail and lose every token before. The decoder sequence
        may be one longer than the positions, since the last token is never fed back."""
        positions = self.config.max_position_embeddings - self.config.position_offset
        config = generation_config if generation_config is not None else self.generation_config
        decoder_input_ids = kwargs.get("decoder_input_ids")
        start = 1 if decoder_input_ids is None else decoder_input_ids.shape[-1]
        room = positions + 1 - start
        max_new_tokens = kwargs.get("max_new_tokens", config.max_new_tokens)
        max_length = kwargs.get("max_length", config.max_length)
        if max_new_tokens is not None and max_new_tokens > room > 0:
            warnings.warn(
                f"max_new_tokens={max_new_tokens} is more than the {room} tokens the decoder's {positions} positions "
                f"leave: generating at most {room}.",
                UserWarning,
                stacklevel=2,
            )
            kwargs["max_new_tokens"] = room
        elif max_new_tokens is None and max_length is not None and max_length > positions + 1:
            warnings.warn(
                f"max_length={max_length} is more than the decoder's {positions} positions hold: generating "
                f"sequences of at most {positions + 1} tokens.",
                UserWarning,
                stacklevel=2,
            )
            kwargs["max_length"] = positions + 1
        return super().generate(inputs, generation_config, **kwargs)

    @can_return_tuple
    @deprecate_kwarg("past_key_values", "5.40.0", new_name="cache")
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        decoder_input_ids: torch.LongTensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
        encoder_outputs: BaseModelOutput | tuple | None = None,
        cache: EncoderDecoderCache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        decoder_inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs,
    ) -> Seq2SeqLMOutput:
        r"""
        labels (`torch.LongTensor` of shape `(batch_size, target_length)`, *optional*):
            Target token ids; -100 is ignored by the loss. When no decoder inputs are given they are made from the
            labels with `shift_tokens_right`.
        logits_to_keep (`int` or `torch.Tensor`, *optional*, defaults to 0):
            Compute logits only for the last `logits_to_keep` positions (0: all), or for the positions a tensor
            gives (`transformers.modeling_utils.slice_logits_to_keep`). `generate()` sets 1, so the
            vocabulary-sized LM head runs on one position per step.
        """
        if labels is not None:
            use_cache = False
            if decoder_input_ids is None and decoder_inputs_embeds is None:
                decoder_input_ids = self.prepare_decoder_input_ids_from_labels(labels)
        # Seq2SeqLMOutput has the fields of Seq2SeqModelOutput but last_hidden_state, which makes the logits.
        outputs = dict(
            self.model(
                input_ids,
                attention_mask=attention_mask,
                decoder_input_ids=decoder_input_ids,
                decoder_attention_mask=decoder_attention_mask,
                encoder_outputs=encoder_outputs,
                cache=cache,
                inputs_embeds=inputs_embeds,
                decoder_inputs_embeds=decoder_inputs_embeds,
                use_cache=use_cache,
                **kwargs,
            )
        )
        hidden_states = slice_logits_to_keep(outputs.pop("last_hidden_state"), logits_to_keep)
        logits = self.lm_head(hidden_states)
        loss = None
        if labels is not None:
            loss = self.loss_function(logits, labels, vocab_size=self.config.vocab_size, **kwargs)
        return Seq2SeqLMOutput(loss=loss, logits=logits, **outputs)


# The decoder blocks of a custom layer, in the layer's order, and the encoder block each starts from; the projections
# of each block; the LayerNorm of each encoder block (in front of it in a pre-LayerNorm encoder, after it in a post-LN
# one). The one table of the encoder -> decoder mapping: tie mode's tied keys and the initialisation plan
# (xlm_swcm.initialization) are both built on it.
CUSTOM_LAYER_BLOCKS = {"self_attn": "attention", "ffn1": "ffn", "cross_attn": "attention", "ffn2": "ffn"}
BLOCK_PROJECTIONS = {"attention": ("qkv", "o_proj"), "ffn": ("fc1", "fc2")}
BLOCK_LAYER_NORMS = {"attention": "attention_layer_norm", "ffn": "ffn_layer_norm"}


def custom_layer_mapping(config: XLMSWCMConfig) -> dict[str, str]:
    """`{decoder parameter: encoder parameter}` for every projection of every custom decoder layer, in the layer's
    order (names relative to the model): layer j built from encoder layer i has `self_attn`, `cross_attn` <-
    `encoder.layers.i.attention` and `ffn1`, `ffn2` <- `encoder.layers.i.ffn`."""
    return {
        f"decoder.layers.{j}.{block}.{leaf}.{kind}": f"encoder.layers.{i}.{source}.{leaf}.{kind}"
        for j, i in enumerate(config.decoder_layer_sources)
        if i is not None
        for block, source in CUSTOM_LAYER_BLOCKS.items()
        for leaf in BLOCK_PROJECTIONS[source]
        for kind in ("weight", "bias")
    }


def custom_layer_norm_mapping(config: XLMSWCMConfig) -> dict[str, str]:
    """For a pre-LayerNorm encoder, `{decoder LayerNorm parameter: encoder LayerNorm parameter}` of every custom
    layer: each sublayer's LayerNorm <- the one in front of its encoder block. Empty for a post-LayerNorm encoder,
    whose LayerNorms sit after the blocks (the initialisation plan copies those, never ties them)."""
    if config.encoder_layer_norm != "pre":
        return {}
    return {
        f"decoder.layers.{j}.{block}_layer_norm.{kind}": f"encoder.layers.{i}.{BLOCK_LAYER_NORMS[source]}.{kind}"
        for j, i in enumerate(config.decoder_layer_sources)
        if i is not None
        for block, source in CUSTOM_LAYER_BLOCKS.items()
        for kind in ("weight", "bias")
    }


def sharing_map(config: XLMSWCMConfig) -> dict[str, str]:
    """Tied parameters of `XLMSWCMModel` as `{decoder parameter: encoder parameter}`: always the embedding block (a
    pre-LayerNorm encoder's has no LayerNorm), and with `weight_sharing="tie"` every projection of
    `custom_layer_mapping` and LayerNorm of `custom_layer_norm_mapping`."""
    names = ["word_embeddings.weight", "position_embeddings.weight", "token_type_embeddings.weight"]
    if config.encoder_layer_norm == "post":
        names += ["LayerNorm.weight", "LayerNorm.bias"]
    tied = {f"decoder.embeddings.{name}": f"encoder.embeddings.{name}" for name in names}
    if config.weight_sharing == "tie":
        tied.update(custom_layer_mapping(config))
        tied.update(custom_layer_norm_mapping(config))
    return tied


def decoder_sharing_map(config: XLMSWCMConfig) -> dict[str, str]:
    """Tied parameters inside `XLMSWCMDecoder` as `{target: source}` (names relative to the decoder): with
    `weight_sharing="tie"`, a decoder projection that starts from the same encoder tensor as an earlier one of its
    layer is that one (`cross_attn` is `self_attn`, `ffn2` is `ffn1`; with a pre-LayerNorm encoder their
    LayerNorms too)."""
    if config.weight_sharing != "tie":
        return {}
    first: dict[str, str] = {}
    tied = {}
    for target, source in {**custom_layer_mapping(config), **custom_layer_norm_mapping(config)}.items():
        target = target.removeprefix("decoder.")
        if source in first:
            tied[target] = first[source]
        else:
            first[source] = target
    return tied


def resolve_tie_chains(tied: dict[str, str]) -> dict[str, str]:
    """`{target: source}` with every source followed to the end of its chain (a -> b -> c gives a -> c, b -> c),
    so that all the members of a tied group point at the parameter that is stored."""
    resolved = {}
    for target, source in tied.items():
        seen = {target}
        while source in tied and source not in seen:
            seen.add(source)
            source = tied[source]
        resolved[target] = source
    return resolved


__all__ = [
    "XLMSWCMPreTrainedModel",
    "XLMSWCMModel",
    "XLMSWCMForConditionalGeneration",
    "XLMSWCMEncoder",
    "XLMSWCMDecoder",
    "shift_tokens_right",
]
