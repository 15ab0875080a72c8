"""Search over continuous thoughts that branches on-distribution: noise, MC-dropout, layer noise; the
strategies (vote, best-of-n, beam, anytime, adaptive) and the value model."""

import json

import pytest
import torch

from latentsearch.cli import main
from latentsearch.decode import prefill
from latentsearch.latent import strategies
from latentsearch.latent.noise import generators, perturb_input, perturbed, scaled_noise
from latentsearch.latent.space import LatentSearchConfig, LatentSpace
from latentsearch.latent.specs import LatentOptions, Perturb, parse_spec
from latentsearch.latent.thoughts import think
from latentsearch.latent.value import Trajectory, ValueConfig, ValueModel, Valuer, train_value
from latentsearch.models.factory import ModelConfig, build_model
from latentsearch.search import beam_search

PROMPT, AFTER, CANDIDATES = [5, 6, 7, 8, 2], [3], [[9, 10], [9, 11]]


def tiny(family="gpt2", dropout=0.0):
    config = ModelConfig(family=family, n_layer=2, d_model=32, n_head=2, dropout=dropout)
    return build_model(config, 40, 0, 1, seed=0).eval()


def space(model, **changes):
    config = LatentSearchConfig(depth=3, branch="noise", **changes)
    return LatentSpace(model, PROMPT, AFTER, CANDIDATES, config)


@pytest.mark.parametrize("kind", ["gaussian", "layer", "dropout"])
def test_the_plain_path_of_a_noisy_space_is_coconut_bit_for_bit(kind):
    model = tiny(dropout=0.1)
    noisy = space(model, children=3, perturb=Perturb(kind, 0.5))
    node = noisy.root()
    for _ in range(3):
        noisy.expand([node])
        node = noisy.child(node, 0, 0.0)
    with torch.no_grad():
        plain = think(model, prefill(model, [PROMPT], 0), [3])
    assert torch.equal(node.handle.hidden, plain.hidden[0])
    assert noisy.labels[node.id] == "thought"


def test_sigma_zero_children_are_all_the_plain_thought():
    model = tiny()
    zero = space(model, children=3, perturb=Perturb("gaussian", 0.0))
    children = [zero.child(zero.root(), j, 0.0) for j in range(3) if zero.expand([zero.root()]) is not None]
    assert all(torch.equal(c.handle.hidden, children[0].handle.hidden) for c in children)


@pytest.mark.parametrize("kind", ["gaussian", "layer", "dropout"])
def test_noisy_rows_batched_equal_rows_alone(kind):
    model = tiny(dropout=0.2)
    perturb = Perturb(kind, 0.3)
    with torch.no_grad():
        state = prefill(model, [PROMPT] * 3, 0)
        gens = lambda: generators([11, None, 13])  # noqa: E731  (the middle row stays exact)
        inputs = perturb_input(state.hidden, perturb, gens())
        with perturbed(model, perturb, gens()):
            batched = think(model, state.__class__(state.logits, inputs, state.thoughts, state.cache, state.mask,
                                                   state.next_pos), [1] * 3).hidden
        for row, seed in enumerate([11, None, 13]):
            alone = prefill(model, [PROMPT], 0)
            x = perturb_input(alone.hidden, perturb, generators([seed]))
            with perturbed(model, perturb, generators([seed])):
                one = think(model, alone.__class__(alone.logits, x, alone.thoughts, alone.cache, alone.mask,
                                                   alone.next_pos), [1]).hidden
            torch.testing.assert_close(batched[row], one[0], atol=1e-6, rtol=0)
    assert not torch.allclose(batched[0], batched[1])  # the noise did something


def test_gaussian_noise_is_relative_to_the_norm():
    x = torch.full((2, 64), 3.0)
    noise = scaled_noise(x, 0.1, generators([1, 2]))
    assert float(noise.norm(dim=-1).mean()) / float(x.norm(dim=-1).mean()) == pytest.approx(0.1, rel=0.3)
    assert not torch.equal(noise[0], noise[1])


def test_the_best_node_of_a_noisy_beam_equals_a_recompute():
    model = tiny()
    noisy = space(model, children=2, perturb=Perturb("gaussian", 0.4), seed=3)
    out = beam_search(noisy, width=2, length_penalty=0.0)
    best = out.nodes[0]
    embed = model.get_input_embeddings()
    with torch.no_grad():  # replay the path without a cache: every input recomputed from the prompt
        inputs = embed(torch.tensor([PROMPT]))
        for depth in range(1, 4):
            last = model.base_model(inputs_embeds=inputs).last_hidden_state[:, -1]
            path = tuple(best.tokens[:depth])
            seed = None if not any(path) else noisy._seed(path)
            inputs = torch.cat([inputs, perturb_input(last, noisy.config.perturb, generators([seed]))[:, None]], 1)
        final = model.base_model(inputs_embeds=inputs).last_hidden_state[0, -1]
    torch.testing.assert_close(best.handle.hidden, final, atol=1e-5, rtol=0)


class FakeSpace:
    """Rollouts whose final answers are given: the protocol without a model, for the voting rules."""

    def __init__(self, answers, margins):
        from latentsearch.search.base import Node, Tree

        self.answers, self.margins, self.tree = answers, margins, Tree()
        self.forward_passes = self.thought_states = 0
        self._root = Node((), 0.0, 0, Handle(()))
        self.candidates = [[1], [2]]

    def root(self):
        return self._root

    def is_final(self, node):
        return len(node.tokens) == 1

    def expand(self, nodes):
        for n in nodes:
            n.handle.children = [Handle((j,), self.answers[j], self.margins[j]) for j in range(len(self.answers))]
        return torch.zeros(len(nodes), len(self.answers))

    def child(self, parent, move, score):
        from latentsearch.search.base import Node

        return Node((move,), score, 0, parent.handle.children[move])


class Handle:
    def __init__(self, path, answer=0, margin=0.0):
        self.path, self.answer, self.margin, self.value, self.children = path, answer, margin, margin, None


def test_votes_count_answers_and_break_ties_by_confidence():
    options = LatentOptions()
    fake = lambda answers, margins: (lambda config: FakeSpace(answers, margins))  # noqa: E731
    assert strategies.vote(fake([1, 1, 0], [0.1, 0.1, 5.0]), "3", 1, options).answer == 1  # two beat one
    assert strategies.vote(fake([1, 0], [0.1, 5.0]), "2", 1, options).answer == 0  # a tie: the surer wins
    assert strategies.weighted_vote(fake([1, 1, 0], [-3.0, -3.0, -0.1]), "3", 1, options).answer == 0
    assert strategies.best_of_n(fake([1, 0, 1], [0.0, 2.0, 1.0]), "3", 1, options).answer == 0


def test_strategies_answer_and_count_their_cost():
    model = tiny()
    make = lambda config: LatentSpace(model, PROMPT, AFTER, CANDIDATES, config)  # noqa: E731
    one = strategies.run_strategy("one-path", make, 3)
    assert one.thoughts == 3 and one.used == 3
    for spec in ("vote:3", "best-of-n:3", "beam:2", "anytime:4", "adaptive:confidence:0.0", "tokens-beam:2",
                 "tokens-dp:2"):
        out = strategies.run_strategy(spec, make, 3)
        assert out.answer in (0, 1) and out.forward_passes > 1, spec
    assert strategies.run_strategy("adaptive:confidence:0.0", make, 3).used == 2  # fires at once, one more to settle
    # a conjunction fires only when every part holds: here at once, and never (then at most max_thoughts)
    assert strategies.run_strategy("adaptive:confidence:0.0+mass:0.0", make, 3).used == 2
    never = strategies.run_strategy("adaptive:confidence:0.0+confidence:1.0", make, 3, LatentOptions(max_thoughts=5))
    assert never.used == 5
    assert strategies.run_strategy("vote:3", make, 3).thoughts == 9


@pytest.mark.parametrize("spec, message", [
    ("dfs", "unknown search 'dfs'"), ("vote", "vote takes an argument"), ("vote:0", "a count from 1 to 4096"),
    ("one-path:2", "one-path takes no argument"), ("adaptive:mass", "adaptive needs RULE:THRESHOLD"),
    ("adaptive:size:0.5", "adaptive needs RULE:THRESHOLD"), ("adaptive:mass:0.5+", "adaptive needs RULE:THRESHOLD"),
])
def test_bad_specs_are_one_clear_error(spec, message, capsys):
    with pytest.raises(ValueError, match=message):
        parse_spec(spec)
    assert main(["eval", "prosqa-coconut", "x.json", "--search", spec]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_value_training_loss_falls_and_the_valuer_reads_trajectories():
    torch.manual_seed(0)
    good = [Trajectory(torch.randn(3, 35) + 1.0, True) for _ in range(40)]
    bad = [Trajectory(torch.randn(3, 35) - 1.0, False) for _ in range(40)]
    config = ValueConfig(d_state=32, d_model=16, heads=2)
    model, report = train_value(good + bad, config, epochs=8, val=good[:5] + bad[:5])
    assert report["train_loss"][-1] < 0.5 * report["train_loss"][0]
    assert report["val"]["auc"] > 0.9


def test_value_model_saves_loads_and_values_a_search(tmp_path):
    value = ValueModel(ValueConfig(d_state=32, d_model=16, heads=2))
    value.save(tmp_path / "v", {"note": "untrained"})
    again = ValueModel.load(tmp_path / "v")
    assert json.loads((tmp_path / "v" / "value.json").read_text())["note"] == "untrained"
    noisy = LatentSpace(tiny(), PROMPT, AFTER, CANDIDATES, LatentSearchConfig(depth=2, branch="noise", children=2),
                        valuer=Valuer(again))
    out = beam_search(noisy, width=2, length_penalty=0.0)
    assert out.nodes[0].handle.value <= 0.0  # a log-probability
    (tmp_path / "v" / "value.json").write_text("{}")
    with pytest.raises(Exception, match="cannot load the value model"):
        ValueModel.load(tmp_path / "v")


def test_the_value_model_beside_a_checkpoint_is_the_default(tmp_path, capsys):
    import shutil

    from latentsearch.latent.value import value_folder
    from latentsearch.models.checkpoint import resolve

    shipped = resolve("prosqa-coconut")
    assert value_folder("prosqa-coconut") == str(shipped / "value")
    assert ValueModel.load(value_folder("prosqa-coconut")).config.d_state == 128  # it scores this model's thoughts
    assert value_folder("prosqa-coconut", "elsewhere") == "elsewhere"
    bare = tmp_path / "bare"
    shutil.copytree(shipped, bare, ignore=shutil.ignore_patterns("value"))
    assert value_folder(bare) == ""
    assert main(["eval", str(bare), "x.json", "--search", "anytime-value:4"]) == 2
    assert "has none beside it" in capsys.readouterr().err
