"""Tiny causal LMs built from a config (GPT-2, Llama, Qwen2 families), or any HF causal LM from a path.

transformers is imported inside the functions that build models, so that `ModelConfig` (and the
command line that fills it) loads without it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedModel

FAMILIES = ("gpt2", "llama", "qwen2")


@dataclass
class ModelConfig:
    family: str = "gpt2"  # architecture family: gpt2, llama or qwen2
    n_layer: int = 2  # transformer blocks
    d_model: int = 128  # hidden size
    n_head: int = 4  # attention heads
    d_ff: int = 0  # feed-forward width; 0 means 4 * d_model
    max_positions: int = 512  # longest sequence the model accepts
    dropout: float = 0.0  # residual, embedding and attention dropout (0 is fastest on a CPU)

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"model family must be one of {', '.join(FAMILIES)}, not {self.family!r}")
        for name in ("n_layer", "d_model", "n_head", "max_positions"):
            if getattr(self, name) <= 0:
                raise ValueError(f"model {name} must be positive, got {getattr(self, name)}")
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")
        if self.d_ff < 0:
            raise ValueError(f"d_ff must be >= 0, got {self.d_ff}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def hf_config(config: ModelConfig, vocab_size: int, pad_id: int, eos_id: int):
    """The transformers config for a tiny model: exact gelu, dropout 0 unless asked (it costs ~20% on a CPU)."""
    from transformers import GPT2Config, LlamaConfig, Qwen2Config

    d_ff = config.d_ff or 4 * config.d_model
    ids = dict(vocab_size=vocab_size, pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=eos_id)
    if config.family == "gpt2":
        return GPT2Config(
            n_embd=config.d_model, n_layer=config.n_layer, n_head=config.n_head, n_inner=d_ff,
            n_positions=config.max_positions, activation_function="gelu",
            resid_pdrop=config.dropout, embd_pdrop=config.dropout, attn_pdrop=config.dropout, **ids,
        )
    family_config = LlamaConfig if config.family == "llama" else Qwen2Config
    return family_config(
        hidden_size=config.d_model, num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head, num_key_value_heads=config.n_head,
        intermediate_size=d_ff, max_position_embeddings=config.max_positions,
        tie_word_embeddings=True, attention_dropout=config.dropout, **ids,
    )


def build_model(config: ModelConfig, vocab_size: int, pad_id: int, eos_id: int, seed: int = 0) -> PreTrainedModel:
    """A freshly initialised model; the seed fixes its weights."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(hf_config(config, vocab_size, pad_id, eos_id))


def load_pretrained(name_or_path: str, **kwargs) -> PreTrainedModel:
    """Any HF causal LM; safetensors only and never remote code."""
    from transformers import AutoModelForCausalLM

    with quietly():
        return AutoModelForCausalLM.from_pretrained(name_or_path, trust_remote_code=False, use_safetensors=True,
                                                    **kwargs)


def check_context(model: PreTrainedModel, length: int, what: str) -> None:
    """Refuse an input longer than the model's context before the model sees it."""
    limit = context_length(model)
    if length > limit:
        raise ValueError(f"{what}: {length} tokens exceed the model's context of {limit}")


def context_length(model: PreTrainedModel) -> int:
    config = model.config
    return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 2048)


def set_dropout(model: PreTrainedModel, p: float) -> PreTrainedModel:
    """Every dropout of a built model set to `p` (modules and config), e.g. to fine-tune with dropout."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
        if isinstance(getattr(module, "attention_dropout", None), float):  # Llama / Qwen2 attention
            module.attention_dropout = p
    for key in ("resid_pdrop", "embd_pdrop", "attn_pdrop", "attention_dropout"):
        if hasattr(model.config, key):
            setattr(model.config, key, p)
    return model


@contextmanager
def quietly():
    """transformers' loading bars ("Loading weights", GGUF conversion) and advice silenced inside the block."""
    from transformers.utils import logging

    bars, level = logging.is_progress_bar_enabled(), logging.get_verbosity()
    logging.disable_progress_bar()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)
        if bars:
            logging.enable_progress_bar()


def parameter_bytes(config: dict) -> int:
    """A generous estimate of a model's float32 weights from its config.json (before building it)."""
    layers = _first(config, "n_layer", "num_hidden_layers")
    width = _first(config, "n_embd", "hidden_size")
    inner = _first(config, "n_inner", "intermediate_size") or 4 * width
    vocab = _first(config, "vocab_size")
    positions = _first(config, "n_positions", "max_position_embeddings")
    return 4 * (layers * (4 * width * width + 3 * width * inner) + (vocab + positions) * width)


def _first(config: dict, *keys) -> int:
    for key in keys:
        value = config.get(key)
        if value is not None:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**7:
                raise ValueError(f"config.json: {key} must be an integer in [0, 10^7], got {str(value)[:40]}")
            return value
    return 0
