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

from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM

from . import modeling_xlm_swcm
from .configuration_xlm_swcm import XLMSWCMConfig
from .modeling_xlm_swcm import *  # noqa: F403  (its __all__: the model classes and shift_tokens_right)
from .modeling_xlm_swcm import XLMSWCMForConditionalGeneration, XLMSWCMModel
from .pipelines import Seq2SeqGenerationPipeline
from .quantization import quantize_for_cpu

__version__ = "0.1.0"


def _build_seed(*args, **kwargs):
    """`from_encoder`'s builder, `conversion.build_seed`, imported on first use (imported here, it would run twice
    under `python -m xlm_swcm.conversion`)."""
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

__all__ = ["XLMSWCMConfig", *modeling_xlm_swcm.__all__, "Seq2SeqGenerationPipeline", "quantize_for_cpu"]
