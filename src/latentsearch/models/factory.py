"""Tiny causal LMs built from a config (GPT-2, Llama, Qwen2 families), or any HF causal LM from a path."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, PreTrainedModel, Qwen2Config

FAMILIES = ("gpt2", "llama", "qwen2")


@dataclass
class ModelConfig:
    family: str = "gpt2"  # architecture family: gpt2, llama or qwen2
    n_layer: int = 2  # transformer blocks
    d_model: int = 128  # hidden size
    n_head: int = 4  # attention heads
    d_ff: int = 0  # feed-forward width; 0 means 4 * d_model
    max_positions: int = 512  # longest sequence the model accepts

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


def hf_config(config: ModelConfig, vocab_size: int, pad_id: int, eos_id: int):
    """The transformers config for a tiny model: dropout 0 and exact gelu (dropout costs ~20% on CPU)."""
    d_ff = config.d_ff or 4 * config.d_model
    ids = dict(vocab_size=vocab_size, pad_token_id=pad_id, eos_token_id=eos_id, bos_token_id=eos_id)
    if config.family == "gpt2":
        return GPT2Config(
            n_embd=config.d_model, n_layer=config.n_layer, n_head=config.n_head, n_inner=d_ff,
            n_positions=config.max_positions, activation_function="gelu",
            resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, **ids,
        )
    family_config = LlamaConfig if config.family == "llama" else Qwen2Config
    return family_config(
        hidden_size=config.d_model, num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head, num_key_value_heads=config.n_head,
        intermediate_size=d_ff, max_position_embeddings=config.max_positions,
        tie_word_embeddings=True, attention_dropout=0.0, **ids,
    )


def build_model(config: ModelConfig, vocab_size: int, pad_id: int, eos_id: int, seed: int = 0) -> PreTrainedModel:
    """A freshly initialised model; the seed fixes its weights."""
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(hf_config(config, vocab_size, pad_id, eos_id))


def load_pretrained(name_or_path: str, **kwargs) -> PreTrainedModel:
    """Any HF causal LM; safetensors only and never remote code."""
    return AutoModelForCausalLM.from_pretrained(
        name_or_path, trust_remote_code=False, use_safetensors=True, **kwargs
    )


def check_context(model: PreTrainedModel, length: int, what: str) -> None:
    """Refuse an input longer than the model's context before the model sees it."""
    limit = context_length(model)
    if length > limit:
        raise ValueError(f"{what}: {length} tokens exceed the model's context of {limit}")


def context_length(model: PreTrainedModel) -> int:
    config = model.config
    return getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", 2048)
