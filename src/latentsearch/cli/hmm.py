"""`latentsearch hmm`: distil a hidden Markov model from a language model."""

from __future__ import annotations

import json
from pathlib import Path

from latentsearch.cli.args import add_output, command, count, positive


def add(sub) -> None:
    hmm = sub.add_parser("hmm", help="distil a hidden Markov model from a language model")
    actions = hmm.add_subparsers(required=True, metavar="ACTION")
    distill = command(actions, "distill", "cluster hidden states, count, refine with Baum-Welch",
                      "latentsearch hmm distill --model smollm2 --corpus rollouts.txt --states 64 -o hmm/")
    distill.add_argument("--model", default="smollm2", help="smollm2, a shipped model, a checkpoint or an HF path")
    distill.add_argument("--corpus", required=True, help="text file, one document per line (the model's own "
                         "rollouts are a good choice)")
    distill.add_argument("--states", type=positive, default=64, help="K hidden states")
    distill.add_argument("--layer", type=int, default=-1, help="hidden_states index to cluster (-1 = the last)")
    distill.add_argument("--em-iters", type=count, default=5, help="Baum-Welch iterations")
    distill.add_argument("--seed", type=int, default=0, help="k-means seed")
    add_output(distill, "output folder (hmm.safetensors + hmm.json)")
    distill.set_defaults(run=run_distill)


def run_distill(args) -> None:
    from latentsearch.hmm.distill import DistillConfig, distill
    from latentsearch.io import check_output, read_text
    from latentsearch.models.lm import load_lm

    check_output(args.output, inputs=[args.corpus], folder=True)
    config = DistillConfig(n_states=args.states, layer=args.layer, em_iters=args.em_iters, seed=args.seed)
    lines = [(n, line.strip()) for n, line in enumerate(read_text(args.corpus).splitlines(), 1) if line.strip()]
    lm = load_lm(args.model, chat=False)
    layers = lm.model.config.num_hidden_layers + 1  # hidden_states: the embeddings, then every block
    if not -layers <= args.layer < layers:
        raise ValueError(f"--layer {args.layer} is outside the model's hidden states ({-layers}..{layers - 1})")
    sequences = [ids for ids in map(_encoder(lm, args.corpus), lines) if len(ids) >= 2]
    if not sequences:
        raise ValueError(f"{Path(args.corpus).name}: no line of at least 2 tokens")
    hmm, report = distill(lm.model, sequences, config, progress=True)
    hmm.save(args.output, {"model": args.model, "corpus": args.corpus, **report})
    print(json.dumps({"output": args.output, "positions": report["positions"], "seconds": report["seconds"],
                      "em_log_likelihood": report["em_log_likelihood"]}))


def _encoder(lm, corpus):
    """Encode (line number, text), naming the corpus line whose words the model's tokenizer lacks."""
    def encode(numbered):
        number, text = numbered
        try:
            return lm.encode_plain(text)
        except ValueError as err:
            raise ValueError(f"{Path(corpus).name}, line {number}: {err}") from None
    return encode
