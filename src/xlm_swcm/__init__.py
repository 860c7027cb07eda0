"""xlm-swcm: XLM-SWCM (shared-weights encoder-decoder for extremely low-resource languages) as a native
Hugging Face transformers model.

Importing the package registers the model with the Auto classes:

```python
>>> import xlm_swcm  # noqa: F401
>>> from transformers import AutoConfig
>>> type(AutoConfig.for_model("xlm-swcm")).__name__
'XLMSWCMConfig'

```
"""

import os
import sys

# The console scripts (xlm-swcm-convert, ...) import this package first, before torch.
_COMMANDS = ("xlm-swcm-convert", "xlm-swcm-demo", "xlm-swcm-push", "xlm-swcm-train", "xlm-swcm-finetune")
# sys.argv[0] is the script's name for a console script, "-m" while `python -m xlm_swcm.x` imports the package.
_command = os.path.basename(sys.argv[0]) if sys.argv else ""
if (_command in _COMMANDS or _command == "-m") and "torch" not in sys.modules:
    # OpenMP threads that wait by spinning make a training step ~10x slower when another process keeps the
    # cores busy; waiting passively costs nothing measurable on an idle machine (see README, "Shared machines").
    # Read once, when torch loads; a value the user set is kept.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# torch + transformers take seconds to import: a Ctrl-C then must end a command with one line, not a traceback
# of the import machinery.
try:
    from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM

    from .configuration_xlm_swcm import XLMSWCMConfig
    from .modeling_xlm_swcm import (
        XLMSWCMDecoder,
        XLMSWCMEncoder,
        XLMSWCMForConditionalGeneration,
        XLMSWCMModel,
        XLMSWCMPreTrainedModel,
        shift_tokens_right,
    )
    from .pipelines import Seq2SeqGenerationPipeline
    from .quantization import quantize_for_cpu
except KeyboardInterrupt:
    if _command not in _COMMANDS and _command != "-m":
        raise  # a library import (a notebook, a script): the caller handles it
    print(f"{_command if _command != '-m' else 'xlm-swcm'}: interrupted while starting; nothing was done.",
          file=sys.stderr)  # fmt: skip
    raise SystemExit(130) from None

__version__ = "0.1.0"


def _build_seed(*args, **kwargs):
    """`XLMSWCMForConditionalGeneration.from_encoder`'s builder: `xlm_swcm.conversion.build_seed`, imported on first
    use (importing it here would run conversion twice under `python -m xlm_swcm.conversion`)."""
    from .conversion import build_seed

    return build_seed(*args, **kwargs)


# modeling cannot import conversion (it travels alone next to saved weights): the package plugs the builder in.
XLMSWCMForConditionalGeneration.seed_builder = staticmethod(_build_seed)

AutoConfig.register(XLMSWCMConfig.model_type, XLMSWCMConfig, exist_ok=True)
AutoModel.register(XLMSWCMConfig, XLMSWCMModel, exist_ok=True)
AutoModelForSeq2SeqLM.register(XLMSWCMConfig, XLMSWCMForConditionalGeneration, exist_ok=True)
# save_pretrained then writes `auto_map` and copies the configuration/modeling files next to the weights, so a saved
# folder also loads with trust_remote_code=True where this package is not installed.
XLMSWCMConfig.register_for_auto_class()
XLMSWCMModel.register_for_auto_class("AutoModel")
XLMSWCMForConditionalGeneration.register_for_auto_class("AutoModelForSeq2SeqLM")

__all__ = [
    "XLMSWCMConfig",
    "XLMSWCMPreTrainedModel",
    "XLMSWCMModel",
    "XLMSWCMForConditionalGeneration",
    "XLMSWCMEncoder",
    "XLMSWCMDecoder",
    "shift_tokens_right",
    "Seq2SeqGenerationPipeline",
    "quantize_for_cpu",
]
