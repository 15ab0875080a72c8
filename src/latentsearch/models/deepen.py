"""Grow a trained model by whole blocks without changing what it computes.

A new block is a copy of the last one with its residual-stream writers (attention output and MLP
down projections) zeroed: in a pre-norm transformer it then adds nothing, so the deeper model starts
from the trained one's exact function and training only has to learn what the extra depth adds.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from transformers import PreTrainedModel

# Modules that write a block's output back into the residual stream (GPT-2, Llama/Qwen2, GPT-NeoX names).
RESIDUAL_WRITERS = ("c_proj", "o_proj", "down_proj", "dense_4h_to_h", "out_proj")


def block_list(model: PreTrainedModel) -> nn.ModuleList:
    """The model's stack of transformer blocks: the ModuleList as long as `num_hidden_layers`."""
    depth = model.config.num_hidden_layers
    for module in model.modules():
        if isinstance(module, nn.ModuleList) and len(module) == depth:
            return module
    raise ValueError(f"{type(model).__name__}: no list of {depth} blocks found")


def add_blocks(model: PreTrainedModel, count: int) -> PreTrainedModel:
    """Append `count` blocks that start as the identity; the model is changed in place and returned."""
    if count < 0:
        raise ValueError(f"add_layers must be >= 0, got {count}")
    blocks = block_list(model)
    config = model.config
    for _ in range(count):
        block = copy.deepcopy(blocks[-1])
        _silence(block)
        _renumber(block, len(blocks))
        blocks.append(block)
    if count and getattr(config, "layer_types", None):  # per-layer attention kinds (Qwen2, Llama in transformers 5)
        config.layer_types = list(config.layer_types) + [config.layer_types[-1]] * count
    config.num_hidden_layers = len(blocks)
    return model


def _silence(block: nn.Module) -> None:
    writers = [module for name, module in block.named_modules() if name.rsplit(".", 1)[-1] in RESIDUAL_WRITERS]
    if not writers:
        raise ValueError(f"{type(block).__name__}: no residual output projection ({', '.join(RESIDUAL_WRITERS)})")
    with torch.no_grad():
        for module in writers:
            for param in module.parameters():
                param.zero_()


def _renumber(block: nn.Module, index: int) -> None:
    """The KV cache finds a block's keys by `layer_idx`, so a copy must not keep its source's."""
    for module in block.modules():
        if hasattr(module, "layer_idx"):
            module.layer_idx = index


def add_tokens(model: PreTrainedModel, vocab_size: int, seed: int = 0) -> PreTrainedModel:
    """Grow the embedding (and a tied LM head) to `vocab_size` rows; old rows are kept, new ones drawn
    like the old: each dimension from a normal with the old rows' mean and spread. (transformers' own
    mean-resizing gives new rows almost equal to each other, and equal rows get equal gradients, so
    they never become different words.)"""
    old = model.get_input_embeddings().weight.detach()
    if vocab_size <= len(old):
        return model
    model.resize_token_embeddings(vocab_size, mean_resizing=False)
    generator = torch.Generator().manual_seed(seed)
    draws = torch.randn(vocab_size - len(old), old.shape[1], generator=generator)
    with torch.no_grad():
        model.get_input_embeddings().weight[len(old):] = old.mean(0) + draws * old.std(0)
        head = model.get_output_embeddings()
        if head is not None and head.weight.data_ptr() != model.get_input_embeddings().weight.data_ptr():
            head.weight[len(old):] = model.get_input_embeddings().weight[len(old):]
    return model
