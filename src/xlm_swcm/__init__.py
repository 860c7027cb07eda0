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

__version__ = "0.1.0"

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
]
