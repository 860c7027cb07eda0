# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""transformers' own common model tests (`ModelTesterMixin`, `ConfigTester`, vendored from the transformers 5.24.0
sdist under `transformers_common/`), run on XLM-SWCM the way transformers' model folders run them, with a model
tester modelled on BART's.

Three layouts: copy mode, tie mode (decoder custom layers share the encoder's tensors), and a normal layer after
every custom layer (`insert_every=1`, where the decoder has more layers than the encoder). A common test is skipped
only where transformers' own BART/MBart tests skip it, or where it needs hardware or files this project lacks; each
skip says why.
"""

import tempfile
import unittest
from unittest import mock

import torch
from transformers import DynamicCache, EncoderDecoderCache
from transformers.models.auto import modeling_auto
from transformers.testing_utils import torch_device
from transformers_common import installed

from xlm_swcm import XLMSWCMConfig, XLMSWCMForConditionalGeneration, XLMSWCMModel
from xlm_swcm.modeling_xlm_swcm import XLMSWCMDecoder, XLMSWCMEncoder

# The copy of transformers' tests for the installed release. Without one (an unsupported release, or a copy that no
# longer imports), the common tests below are skipped and `test_vendored_common_tests_import` fails with the reason:
# the rest of the suite still runs.
try:
    _modeling, _configuration = (
        installed.load("test_modeling_common"),
        installed.load("test_configuration_common"),
    )
    UNAVAILABLE = None
    ModelTesterMixin, GenerationTesterMixin = _modeling.ModelTesterMixin, _modeling.GenerationTesterMixin
    ids_tensor, ConfigTester = _modeling.ids_tensor, _configuration.ConfigTester
    config_common_kwargs = _configuration.config_common_kwargs
except installed.VendoredTestsUnavailable as error:
    UNAVAILABLE = str(error)
    ModelTesterMixin, GenerationTesterMixin, ids_tensor, ConfigTester, config_common_kwargs = (
        object,
        None,
        None,
        None,
        None,
    )


def test_vendored_common_tests_import():
    assert UNAVAILABLE is None, UNAVAILABLE


def prepare_xlm_swcm_inputs_dict(config: XLMSWCMConfig, input_ids, decoder_input_ids) -> dict:
    attention_mask = input_ids.ne(config.pad_token_id)
    return {
        "input_ids": input_ids,
        "decoder_input_ids": decoder_input_ids,
        "attention_mask": attention_mask,
        "decoder_attention_mask": decoder_input_ids.ne(config.pad_token_id),
    }


class XLMSWCMModelTester:
    """BART's model tester, with XLM-SWCM's layout arguments. `decoder_layers` is what the decoder really has, so
    that tests counting decoder outputs can be told apart from those counting encoder outputs."""

    def __init__(
        self,
        parent,
        batch_size: int = 13,
        seq_length: int = 7,
        is_training: bool = True,
        use_labels: bool = False,
        vocab_size: int = 99,
        hidden_size: int = 16,
        num_hidden_layers: int = 2,
        num_attention_heads: int = 4,
        intermediate_size: int = 4,
        hidden_act: str = "gelu",
        hidden_dropout_prob: float = 0.1,
        attention_probs_dropout_prob: float = 0.1,
        max_position_embeddings: int = 50,
        eos_token_id: int = 2,
        pad_token_id: int = 1,
        bos_token_id: int = 0,
        insert_every: int = 3,
        trailing_normal_layer: bool = False,
        weight_sharing: str = "copy",
    ):
        self.parent = parent
        self.batch_size = batch_size
        self.seq_length = seq_length
        self.is_training = is_training
        self.use_labels = use_labels
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.hidden_dropout_prob = hidden_dropout_prob
        self.attention_probs_dropout_prob = attention_probs_dropout_prob
        self.max_position_embeddings = max_position_embeddings
        self.eos_token_id = eos_token_id
        self.pad_token_id = pad_token_id
        self.bos_token_id = bos_token_id
        self.insert_every = insert_every
        self.trailing_normal_layer = trailing_normal_layer
        self.weight_sharing = weight_sharing
        self.decoder_layers = self.get_config().decoder_layers

    def get_config(self) -> XLMSWCMConfig:
        return XLMSWCMConfig(
            vocab_size=self.vocab_size,
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act,
            hidden_dropout_prob=self.hidden_dropout_prob,
            attention_probs_dropout_prob=self.attention_probs_dropout_prob,
            max_position_embeddings=self.max_position_embeddings,
            eos_token_id=self.eos_token_id,
            bos_token_id=self.bos_token_id,
            pad_token_id=self.pad_token_id,
            decoder_start_token_id=self.eos_token_id,
            insert_every=self.insert_every,
            trailing_normal_layer=self.trailing_normal_layer,
            weight_sharing=self.weight_sharing,
        )

    def prepare_config_and_inputs(self):
        # As BART's: no padding in the source (ids from 3 on), </s> last; the decoder inputs may hold any id.
        input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size).clamp(3)
        input_ids[:, -1] = self.eos_token_id
        decoder_input_ids = ids_tensor([self.batch_size, self.seq_length], self.vocab_size)
        config = self.get_config()
        return config, prepare_xlm_swcm_inputs_dict(config, input_ids, decoder_input_ids)

    def prepare_config_and_inputs_for_common(self):
        return self.prepare_config_and_inputs()

    def create_and_check_decoder_model_past_large_inputs(self, config, inputs_dict):
        """Three new tokens on top of a cache give the same states as the whole sequence without one."""
        model = XLMSWCMModel(config=config).to(torch_device).eval()
        encoder_states = model.get_encoder()(inputs_dict["input_ids"]).last_hidden_state
        decoder = model.get_decoder()
        input_ids = inputs_dict["decoder_input_ids"].clamp(3)  # no padding: roberta positions skip it
        attention_mask = torch.ones_like(input_ids)

        outputs = decoder(input_ids, attention_mask, encoder_states, use_cache=True)
        cache = outputs.cache
        next_tokens = ids_tensor((self.batch_size, 3), config.vocab_size).clamp(3)
        next_input_ids = torch.cat([input_ids, next_tokens], dim=-1)
        next_attention_mask = torch.cat([attention_mask, torch.ones_like(next_tokens)], dim=-1)

        output_from_no_past = decoder(next_input_ids, next_attention_mask, encoder_states).last_hidden_state
        output_from_past = decoder(
            next_tokens, next_attention_mask, encoder_states, cache=cache
        ).last_hidden_state
        self.parent.assertEqual(output_from_past.shape[1], next_tokens.shape[1])
        torch.testing.assert_close(output_from_past, output_from_no_past[:, -3:], atol=1e-4, rtol=1e-4)

    def check_encoder_decoder_model_standalone(self, config, inputs_dict):
        """The encoder and the decoder saved and reloaded on their own compute what they computed in the model."""
        model = XLMSWCMModel(config=config).to(torch_device).eval()
        outputs = model(**inputs_dict)

        with tempfile.TemporaryDirectory() as tmpdirname:
            model.get_encoder().save_pretrained(tmpdirname)
            encoder = XLMSWCMEncoder.from_pretrained(tmpdirname).to(torch_device).eval()
        encoder_last_hidden_state = encoder(
            inputs_dict["input_ids"], attention_mask=inputs_dict["attention_mask"]
        ).last_hidden_state
        torch.testing.assert_close(encoder_last_hidden_state, outputs.encoder_last_hidden_state)

        with tempfile.TemporaryDirectory() as tmpdirname:
            model.get_decoder().save_pretrained(tmpdirname)
            decoder = XLMSWCMDecoder.from_pretrained(tmpdirname).to(torch_device).eval()
        last_hidden_state = decoder(
            input_ids=inputs_dict["decoder_input_ids"],
            attention_mask=inputs_dict["decoder_attention_mask"],
            encoder_hidden_states=outputs.encoder_last_hidden_state,
            encoder_attention_mask=inputs_dict["attention_mask"],
        ).last_hidden_state
        torch.testing.assert_close(last_hidden_state, outputs.last_hidden_state)
        if config.weight_sharing == "tie":  # the reloaded decoder shares as the model's did
            layer = decoder.layers[0]
            self.parent.assertIs(layer.cross_attn.qkv.weight, layer.self_attn.qkv.weight)
            self.parent.assertIs(layer.ffn2.fc2.bias, layer.ffn1.fc2.bias)


# transformers' generation mixin runs too when its file is vendored (see transformers_common/README.md).
GENERATION_MIXINS = (GenerationTesterMixin,) if GenerationTesterMixin is not None else ()


@unittest.skipIf(UNAVAILABLE is not None, f"no vendored common tests: {UNAVAILABLE}")
class XLMSWCMCommonTests(ModelTesterMixin, *GENERATION_MIXINS):
    """The common tests for one layout; subclasses set `tester_kwargs`."""

    all_model_classes = (XLMSWCMModel, XLMSWCMForConditionalGeneration)
    is_encoder_decoder = True
    tester_kwargs: dict = {}

    @classmethod
    def setUpClass(cls):
        # The mixin tells a base model from an LM head (which gets labels and must return a loss) by transformers'
        # static tables of built-in model names, which `AutoModel.register` does not touch. List ours there, as a
        # built-in model would be, for the duration of the class.
        for table, name in (
            (modeling_auto.MODEL_MAPPING_NAMES, "XLMSWCMModel"),
            (modeling_auto.MODEL_FOR_SEQ_TO_SEQ_CAUSAL_LM_MAPPING_NAMES, "XLMSWCMForConditionalGeneration"),
        ):
            patcher = mock.patch.dict(table, {XLMSWCMConfig.model_type: name})
            patcher.start()
            cls.addClassCleanup(patcher.stop)

    def setUp(self):
        self.model_tester = XLMSWCMModelTester(self, **self.tester_kwargs)
        self.config_tester = ConfigTester(
            self, config_class=XLMSWCMConfig, hidden_size=16, num_hidden_layers=2, num_attention_heads=4
        )

    def test_config(self):
        # ConfigTester.run_common_tests less `check_config_arguments_init`, whose kwargs table
        # (tests/utils/test_configuration_utils.py) the sdist does not ship; it runs when that file is present.
        tester = self.config_tester
        tester.create_and_test_config_common_properties()
        tester.create_and_test_config_to_json_string()
        tester.create_and_test_config_to_json_file()
        tester.create_and_test_config_from_and_save_pretrained()
        tester.create_and_test_config_from_and_save_pretrained_subfolder()
        tester.create_and_test_config_from_and_save_pretrained_composite()
        tester.create_and_test_config_with_num_labels()
        if config_common_kwargs is not None:
            tester.check_config_arguments_init()
        tester.create_and_test_config_from_pretrained_custom_kwargs()
        tester.check_config_can_be_init_without_params()

    def test_save_load_strict(self):
        config, _ = self.model_tester.prepare_config_and_inputs()
        for model_class in self.all_model_classes:
            model = model_class(config)
            with tempfile.TemporaryDirectory() as tmpdirname:
                model.save_pretrained(tmpdirname)
                _, info = model_class.from_pretrained(tmpdirname, output_loading_info=True)
            self.assertEqual(info["missing_keys"], set())

    def test_decoder_model_past_with_large_inputs(self):
        self.model_tester.create_and_check_decoder_model_past_large_inputs(
            *self.model_tester.prepare_config_and_inputs()
        )

    def test_encoder_decoder_model_standalone(self):
        self.model_tester.check_encoder_decoder_model_standalone(
            *self.model_tester.prepare_config_and_inputs_for_common()
        )

    def test_decoder_view_sizes_caches(self):
        """The decoder view that transformers sizes caches from has the decoder's layers, and so do the caches
        `generate` builds (dynamic and static)."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        decoder_layers = len(config.decoder_layer_types)
        view = config.get_text_config(decoder=True)
        self.assertEqual(view.num_hidden_layers, decoder_layers)
        self.assertEqual(view.get_text_config(decoder=True).num_hidden_layers, decoder_layers)
        self.assertEqual(len(DynamicCache(config=config).layers), decoder_layers)
        model = XLMSWCMForConditionalGeneration(config).to(torch_device).eval()
        self.assertEqual(len(model.get_decoder().layers), decoder_layers)
        for cache_implementation in (None, "static"):
            out = model.generate(
                inputs["input_ids"][:2],
                attention_mask=inputs["attention_mask"][:2],
                max_new_tokens=3,
                do_sample=False,
                cache_implementation=cache_implementation,
                return_dict_in_generate=True,
            )
            cache = out.cache
            self.assertIsInstance(cache, EncoderDecoderCache)
            self.assertEqual(len(cache.self_attention_cache.layers), decoder_layers)
            self.assertEqual(len(cache.cross_attention_cache.layers), decoder_layers)

    # The mixin's `test_attention_outputs` and `test_hidden_states_output` expect as many decoder layers as encoder
    # layers (true of BART's tester). Where the layout adds normal layers that is false by design: the same checks
    # run with the decoder's own count instead.
    def test_attention_outputs(self):
        if self.model_tester.decoder_layers == self.model_tester.num_hidden_layers:
            return super().test_attention_outputs()
        tester, seq_length = self.model_tester, self.model_tester.seq_length
        config, inputs_dict = tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            for by_config in (False, True):
                config.output_attentions = by_config
                model = model_class._from_config(config, attn_implementation="eager").to(torch_device).eval()
                inputs = self._prepare_for_class(inputs_dict, model_class)
                with torch.no_grad():
                    outputs = model(**inputs, **({} if by_config else {"output_attentions": True}))
                expected = (
                    ("encoder_attentions", tester.num_hidden_layers, seq_length),
                    ("decoder_attentions", tester.decoder_layers, seq_length),
                    ("cross_attentions", tester.decoder_layers, seq_length),
                )
                for name, count, key_length in expected:
                    attentions = getattr(outputs, name)
                    self.assertEqual(len(attentions), count, name)
                    for attention in attentions:
                        self.assertListEqual(
                            list(attention.shape[-3:]), [tester.num_attention_heads, seq_length, key_length]
                        )

    def test_hidden_states_output(self):
        if self.model_tester.decoder_layers == self.model_tester.num_hidden_layers:
            return super().test_hidden_states_output()
        tester = self.model_tester
        config, inputs_dict = tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            for by_config in (False, True):
                config.output_hidden_states = by_config
                model = model_class(config).to(torch_device).eval()
                inputs = self._prepare_for_class(inputs_dict, model_class)
                with torch.no_grad():
                    outputs = model(**inputs, **({} if by_config else {"output_hidden_states": True}))
                for name, count in (
                    ("encoder_hidden_states", tester.num_hidden_layers + 1),
                    ("decoder_hidden_states", tester.decoder_layers + 1),
                ):
                    hidden_states = getattr(outputs, name)
                    self.assertEqual(len(hidden_states), count, name)
                    self.assertListEqual(
                        list(hidden_states[0].shape[-2:]), [tester.seq_length, tester.hidden_size]
                    )

    def test_decoder_hidden_states_negative_indices(self):
        """`output_hidden_states=[-1]` selects the decoder's last layer, not the one at the encoder's depth."""
        config, inputs_dict = self.model_tester.prepare_config_and_inputs_for_common()
        model = XLMSWCMForConditionalGeneration(config).to(torch_device).eval()
        with torch.no_grad():
            full = model(**inputs_dict, output_hidden_states=True)
            last = model(**inputs_dict, output_hidden_states=[-1])
        for name in ("encoder_hidden_states", "decoder_hidden_states"):
            everything, selected = getattr(full, name), getattr(last, name)
            self.assertEqual(len(selected), len(everything))
            self.assertTrue(all(state is None for state in selected[:-1]), name)
            torch.testing.assert_close(selected[-1], everything[-1])

    def test_generate_strategies_cached_equals_uncached(self):
        """Not in the mixin, which never compares a cached run with an uncached or a static-cache one for an
        encoder-decoder: each decoding strategy gives the same tokens with the model's cache, a static cache and no
        cache; assisted decoding (with the model as its own assistant) gives greedy's tokens."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model = XLMSWCMForConditionalGeneration(config).to(torch_device).eval()
        source = {"input_ids": inputs["input_ids"][:3], "attention_mask": inputs["attention_mask"][:3]}
        length = {"max_new_tokens": 4, "min_new_tokens": 4}

        def generate(**kwargs) -> list:
            torch.manual_seed(0)
            return model.generate(**source, **length, **kwargs).tolist()

        strategies = {
            "greedy": {},
            "beam": {"num_beams": 3, "num_return_sequences": 2},
            "sample": {"do_sample": True, "top_k": 10},
            "beam_sample": {"do_sample": True, "num_beams": 2},
        }
        for name, kwargs in strategies.items():
            reference = generate(**kwargs)
            self.assertEqual(generate(**kwargs, cache_implementation="static"), reference, name)
            self.assertEqual(generate(**kwargs, use_cache=False), reference, name)

        source = {key: value[:1] for key, value in source.items()}  # assisted decoding takes one sequence
        self.assertEqual(generate(assistant_model=model), generate(), "assisted")

    @unittest.skip(
        reason="As transformers' BART test: this architecture has tied weights by default (the decoder's embeddings "
        "are the encoder's) and there is no way to remove it"
    )
    def test_load_save_without_tied_weights(self):
        pass

    # --- transformers' GenerationTesterMixin (tests/generation/test_utils.py, vendored from an older commit than
    # 5.24.0: see transformers_common/README.md). Where it reads a cache through the per-layer lists that 5.x caches
    # no longer have (`cache.key_cache[i]`, `cache[i][0]`), the same checks run here through 5.24's `cache.layers`.

    def prepare_config_and_inputs_for_generate(self, batch_size=2):
        # The mixin turns EOS off (so that every run has its full length) on `config.get_text_config(decoder=True)`;
        # in transformers 5.x that is a copy for a flat encoder-decoder config (BART's too), so EOS stayed on and a
        # random model could stop early. Turn it off on the config itself, as the mixin means to.
        config, inputs = super().prepare_config_and_inputs_for_generate(batch_size=batch_size)
        config.eos_token_id = None
        config.forced_eos_token_id = None
        return config, inputs

    @staticmethod
    def _layer_tensors(cache) -> list:
        """(keys, values) per layer of a 5.x cache: self-attention, then cross-attention for an encoder-decoder."""
        if isinstance(cache, EncoderDecoderCache):
            return [
                (own.keys, own.values, cross.keys, cross.values)
                for own, cross in zip(
                    cache.self_attention_cache.layers, cache.cross_attention_cache.layers, strict=True
                )
            ]
        return [(layer.keys, layer.values) for layer in cache.layers]

    def _check_past_key_values_for_generate(
        self, batch_size, past_key_values, seq_length, config, num_beam_groups=1
    ):
        # The mixin's check, through `cache.layers`; it also checks the number of layers (the decoder's).
        self.assertIsInstance(past_key_values, EncoderDecoderCache)
        expected_shape = (
            batch_size * num_beam_groups,
            config.num_attention_heads,
            seq_length,
            config.hidden_size // config.num_attention_heads,
        )
        layers = past_key_values.self_attention_cache.layers
        self.assertEqual(len(layers), self.model_tester.decoder_layers)
        self.assertListEqual([layer.keys.shape for layer in layers], [expected_shape] * len(layers))
        self.assertListEqual([layer.values.shape for layer in layers], [expected_shape] * len(layers))

    def test_past_key_values_format(self):
        # The mixin's test, through `cache.layers` and with this config's names (BART's are `decoder_layers`,
        # `decoder_attention_heads`, `encoder_attention_heads`, `d_model`).
        tester = self.model_tester
        for model_class in self.all_generative_model_classes:
            config, inputs = tester.prepare_config_and_inputs_for_common()
            model = model_class(config).to(torch_device)
            outputs = model(**inputs, use_cache=True)
            self.assertIn("past_key_values", outputs)
            head_dim = config.hidden_size // config.num_attention_heads
            batch_size, seq_length = inputs["decoder_input_ids"].shape
            layers = self._layer_tensors(outputs["past_key_values"])
            self.assertEqual(len(layers), tester.decoder_layers)
            for layer in layers:
                self.assertEqual(len(layer), 4)  # K V for the decoder + K V for the encoder = 4
                for tensor in layer[:2]:
                    self.assertEqual(
                        tensor.shape, (batch_size, config.num_attention_heads, seq_length, head_dim)
                    )
                for tensor in layer[2:]:
                    self.assertEqual(
                        (tensor.shape[0], tensor.shape[1], tensor.shape[3]),
                        (batch_size, config.num_attention_heads, head_dim),
                    )

    def test_generate_continue_from_past_key_values(self):
        # The mixin's test (generate 3 tokens, pass the cache back and generate 1 more == generate 4 at once), with
        # the final cache comparison through `cache.layers` and the continuation's decoder mask aligned (below).
        for model_class in self.all_generative_model_classes:
            config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
            model = model_class(config).to(torch_device).eval()
            model.generation_config.pad_token_id = model.generation_config.eos_token_id = -1
            model.generation_config.forced_eos_token_id = None
            model.generation_config.encoder_no_repeat_ngram_size = 0
            model.generation_config.use_cache = True

            outputs = model.generate(
                **inputs, do_sample=False, max_new_tokens=4, return_dict_in_generate=True
            )
            outputs_cached = model.generate(
                **inputs, do_sample=False, max_new_tokens=3, return_dict_in_generate=True
            )
            inputs["past_key_values"] = outputs_cached.past_key_values
            new_attention_len = outputs_cached.sequences.shape[-1]
            inputs["decoder_input_ids"] = outputs_cached.sequences
            # 5.x `generate` prepends the decoder start token to the given decoder ids (and a 1 to their mask): the
            # mask of the returned sequences gets that 1 in front, then 1s for the 3 generated tokens. (The mixin's
            # version only appends, which shifts the mask by one where the decoder ids hold padding.)
            mask = inputs["decoder_attention_mask"]
            prepended = new_attention_len - 3 - mask.shape[1]
            inputs["decoder_attention_mask"] = torch.nn.functional.pad(
                mask, (prepended, 3), mode="constant", value=1
            )
            outputs_cached = model.generate(
                **inputs, do_sample=False, max_new_tokens=1, return_dict_in_generate=True
            )

            self.assertListEqual(outputs.sequences.tolist(), outputs_cached.sequences.tolist())
            for layer, layer_cached in zip(
                self._layer_tensors(outputs.past_key_values),
                self._layer_tensors(outputs_cached.past_key_values),
                strict=True,
            ):
                for tensor, tensor_cached in zip(layer, layer_cached, strict=True):
                    self.assertTrue(torch.allclose(tensor, tensor_cached))

    # Strategies that transformers 5.x moved out of its core to Hub repositories (`generate` raises unless given
    # `trust_remote_code=True`, and then downloads them): they need the network, which the tests do not have.
    _HUB_ONLY = "transformers 5.24.0 loads this decoding strategy from the Hub (network; tests run offline)"

    @unittest.skip(reason=f"Contrastive search: {_HUB_ONLY}")
    def test_contrastive_generate(self):
        pass

    @unittest.skip(reason=f"Contrastive search: {_HUB_ONLY}")
    def test_contrastive_generate_dict_outputs_use_cache(self):
        pass

    @unittest.skip(reason=f"Contrastive search: {_HUB_ONLY}")
    def test_contrastive_generate_low_memory(self):
        pass

    @unittest.skip(reason=f"Group beam search: {_HUB_ONLY}")
    def test_group_beam_search_generate(self):
        pass

    @unittest.skip(reason=f"Group beam search: {_HUB_ONLY}")
    def test_group_beam_search_generate_dict_output(self):
        pass

    @unittest.skip(
        reason="Constrained beam search (PhrasalConstraint) is not in transformers 5.24.0 (moved to the Hub)"
    )
    def test_constrained_beam_search_generate(self):
        pass

    @unittest.skip(
        reason="Constrained beam search (PhrasalConstraint) is not in transformers 5.24.0 (moved to the Hub)"
    )
    def test_constrained_beam_search_generate_dict_output(self):
        pass

    @unittest.skip(
        reason="Head masking (head_mask / decoder_head_mask / cross_attn_head_mask) is not in transformers 5.24.0"
    )
    def test_generate_with_head_masking(self):
        pass

    @unittest.skip(
        reason="The mixin skips this for encoder-decoder models ('has Encoder-Decoder Cache'), after reading "
        "`_supports_static_cache`, which transformers 5.24.0 removed; test_decoder_view_sizes_caches and "
        "test_generate_strategies_cached_equals_uncached cover the static cache here"
    )
    def test_generate_with_static_cache(self):
        pass

    @unittest.skip(
        reason="The mixin skips this for encoder-decoder models ('has Encoder-Decoder Cache'), after reading "
        "`_supports_static_cache`, which transformers 5.24.0 removed"
    )
    def test_generate_from_inputs_embeds_with_static_cache(self):
        pass

    @unittest.skip(
        reason="Gated on `_supports_static_cache`, which transformers 5.24.0 removed (5.x gates compilation on "
        "`_can_compile_fullgraph`; ModelTesterMixin's own compile tests run)"
    )
    def test_generate_compile_model_forward(self):
        pass


class XLMSWCMCopyModeTest(XLMSWCMCommonTests, unittest.TestCase):
    # 2 encoder layers (the mixin's ceiling), the released X=3: two custom layers, no normal layer at this depth.
    tester_kwargs = {"num_hidden_layers": 2, "insert_every": 3, "weight_sharing": "copy"}


class XLMSWCMTieModeTest(XLMSWCMCommonTests, unittest.TestCase):
    # Shared encoder tensors, and a trailing normal layer so that tied and untied decoder layers mix:
    # custom, custom, normal.
    tester_kwargs = {
        "num_hidden_layers": 2,
        "insert_every": 2,
        "trailing_normal_layer": True,
        "weight_sharing": "tie",
    }


class XLMSWCMNormalAfterEveryLayerTest(XLMSWCMCommonTests, unittest.TestCase):
    # X=1: custom, normal, custom (3 decoder layers for 2 encoder layers).
    tester_kwargs = {"num_hidden_layers": 2, "insert_every": 1, "weight_sharing": "copy"}
