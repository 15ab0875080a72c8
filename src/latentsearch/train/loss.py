"""The training loss of a batch of items, as a module so that DistributedDataParallel can wrap it.

A batch without thoughts is one plain pass over right-padded sequences. A batch with thoughts is
the prompt pass, one pass per thought but the last, and one pass over the last thought, `after` and
the target, all sharing one KV cache preallocated for them (kv.growing_cache); the loss is on the
target tokens only, and gradients flow through every thought.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from latentsearch.data.examples import IGNORE, Sequence
from latentsearch.decode import prefill_padded
from latentsearch.kv import growing_cache, left_pad
from latentsearch.latent.thoughts import think_then_feed
from latentsearch.methods import Item
from latentsearch.train.frontier import frontier_nll, target_index


def pad_batch(sequences: list[Sequence], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right padding: the question sits at position 0 in every row (left padding hurt learning)."""
    width = max(len(s.ids) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    labels = torch.full((len(sequences), width), IGNORE, dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq.ids)] = torch.tensor(seq.ids)
        labels[row, : len(seq.labels)] = torch.tensor(seq.labels)
    return ids, labels


def collate(items: list[Item], pad_id: int, thought_id: int) -> dict[str, torch.Tensor]:
    if not any(item.n_thoughts for item in items):
        ids, labels = pad_batch([item.flat(thought_id) for item in items], pad_id)
        return {"ids": ids, "labels": labels}
    prefix_ids, prefix_mask = left_pad([list(item.prompt) for item in items], pad_id)
    width = max(len(item.after) + len(item.target) for item in items)
    suffix = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    for row, item in enumerate(items):
        tokens = item.after + item.target
        suffix[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, len(item.after) : len(tokens)] = torch.tensor(item.target)
    batch = {"prefix_ids": prefix_ids, "prefix_mask": prefix_mask,
             "n_thoughts": torch.tensor([item.n_thoughts for item in items]), "suffix": suffix, "labels": labels}
    if any(item.lens_targets for item in items):
        batch["lens_targets"] = target_index(items)
    return batch


def target_tokens(batch: dict[str, torch.Tensor]) -> int:
    """Tokens the loss is on: the plain pass predicts labels[1:], the latent pass every label."""
    labels = batch["labels"][:, 1:] if "ids" in batch else batch["labels"]
    return int((labels != IGNORE).sum())


class ItemLoss(torch.nn.Module):
    def __init__(self, model, frontier_weight: float = 0.0):
        super().__init__()
        self.model = model
        self.frontier_weight = frontier_weight  # of train/frontier.py's term, for items with lens targets
        self.frontier_term = 0.0  # its last value per supervised thought, for the metrics

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Summed cross-entropy over the target tokens (the caller divides by the token count), plus the
        weighted frontier term when the batch has lens targets."""
        model = self.model
        if "ids" in batch:
            logits = model(input_ids=batch["ids"]).logits[:, :-1]
            labels = batch["labels"][:, 1:]
        else:
            length = batch["prefix_ids"].shape[1] + int(batch["n_thoughts"].max()) + batch["suffix"].shape[1]
            state = prefill_padded(model, batch["prefix_ids"], batch["prefix_mask"],
                                   cache=growing_cache(model.config, length))
            state, hidden = think_then_feed(model, state, batch["n_thoughts"], batch["suffix"])
            # hidden[:, 0], the state after the last thought, predicts suffix[0]; suffix[j] predicts j + 1.
            logits = model.get_output_embeddings()(hidden[:, :-1])
            labels = batch["labels"]
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                               ignore_index=IGNORE, reduction="sum")
        if self.frontier_weight and "lens_targets" in batch:
            per_thought = frontier_nll(model, state.thoughts, batch["lens_targets"])
            self.frontier_term = float(per_thought.detach().mean())
            loss = loss + self.frontier_weight * per_thought.sum()
        return loss
