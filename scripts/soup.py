"""Average the weights of two checkpoints of one lineage: (1 - alpha) * A + alpha * B.

    python scripts/soup.py prosqa-coconut prosqa-coconut-deep --alpha 0.5 -o SOUP
    python scripts/soup.py prosqa-coconut L4/best --grow-a 1 --alpha 0.5 -o SOUP4   # B has one more block

B must descend from A (a fine-tune: the same architecture), and its tokenizer must give every token of
A's the same id; rows B added to its embeddings (new words), and the rows of words A never trained
(its meta.json's untrained_words), are taken from B as they are. The soup
keeps B's tokenizer, config and meta, and records both parents and alpha in its meta.json.
"""

from __future__ import annotations

import argparse

import torch

from latentsearch.models.checkpoint import load_checkpoint, save_checkpoint
from latentsearch.models.deepen import add_blocks


def soup(model_a, model_b, alpha: float, keep_b: list[int] = ()) -> None:
    """Write the average into model_b's parameters, in place; embedding rows `keep_b` (A's untrained
    words) stay B's."""
    weights_a = dict(model_a.named_parameters())
    names_b = {name for name, _ in model_b.named_parameters()}
    if names_b != set(weights_a):
        raise SystemExit(f"soup: the models differ in {len(names_b ^ set(weights_a))} parameters, "
                         f"e.g. {sorted(names_b ^ set(weights_a))[0]}")
    embeddings, keep_b = model_b.get_input_embeddings().weight, list(keep_b)
    with torch.no_grad():
        kept = embeddings[keep_b].clone()
        for name, b in model_b.named_parameters():  # tied weights once (a state dict lists them twice)
            a = weights_a[name]
            if a.shape[1:] != b.shape[1:] or a.shape[0] > b.shape[0]:
                raise SystemExit(f"soup: {name} has shape {tuple(a.shape)} in A and {tuple(b.shape)} in B")
            b[:a.shape[0]].mul_(alpha).add_(a, alpha=1 - alpha)  # extra rows (B's new words) stay B's
        embeddings[keep_b] = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("a", help="the parent checkpoint (folder or shipped name)")
    parser.add_argument("b", help="its fine-tuned descendant")
    parser.add_argument("--alpha", type=float, required=True, help="B's weight, 0 to 1")
    parser.add_argument("--grow-a", type=int, default=0, help="first add this many identity blocks to A "
                        "(for a B trained with --add-layers)")
    parser.add_argument("-o", "--output", required=True, help="new checkpoint folder")
    args = parser.parse_args()
    if not 0.0 <= args.alpha <= 1.0:
        raise SystemExit(f"soup: --alpha must be between 0 and 1, got {args.alpha}")
    model_a, codec_a, _ = load_checkpoint(args.a)
    model_b, codec_b, meta = load_checkpoint(args.b)
    add_blocks(model_a, args.grow_a)
    changed = [token for token, i in codec_a.vocab.items() if codec_b.vocab.get(token) != i]
    if changed:
        raise SystemExit(f"soup: B's tokenizer gives {len(changed)} of A's tokens other ids, e.g. {changed[0]!r}")
    soup(model_a, model_b, args.alpha, [codec_b.vocab[w] for w in sorted(codec_a.untrained)])
    meta = {k: v for k, v in meta.items() if k != "best_accuracy"}  # B's validation figure, not the average's
    save_checkpoint(args.output, model_b, codec_b,
                    {**meta, "soup": {"a": args.a, "b": args.b, "alpha": args.alpha, "grow_a": args.grow_a}})
    print(f"wrote {args.output}: {1 - args.alpha:g} x {args.a} + {args.alpha:g} x {args.b}")


if __name__ == "__main__":
    main()
