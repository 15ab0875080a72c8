"""Words a model never trained on: listed in meta.json, refused at inference, trained when the data names them."""

import json
import random
import shutil

import pytest

from conftest import one_fact
from latentsearch.cli import main
from latentsearch.data.schema import save_records
from latentsearch.models.checkpoint import CheckpointError, load_checkpoint, read_meta
from latentsearch.tasks.prosqa_gen import EXTRA_CONCEPT_WORDS
from latentsearch.train.trainer import Trainer
from test_train import config_for

NEW = EXTRA_CONCEPT_WORDS[:6]  # words the one-hop data never uses


@pytest.fixture(scope="module")
def trained(one_hop, tmp_path_factory):
    """A model trained on one-hop questions, and questions that name words it never saw."""
    folder = tmp_path_factory.mktemp("untrained")
    Trainer(config_for(one_hop, folder / "run", epochs=1, val=""), progress_bar=False).run()
    rng = random.Random(1)
    save_records([one_fact(rng, NEW) for _ in range(256)], folder / "new.jsonl")
    return folder


def test_words_training_never_used_are_listed_and_refused(trained, capsys):
    untrained = read_meta(trained / "run" / "checkpoint")["untrained_words"]
    assert set(NEW) <= set(untrained) and not {"Tom", "wumpus"} & set(untrained)
    assert main(["eval", str(trained / "run" / "checkpoint"), str(trained / "new.jsonl")]) == 2
    error = capsys.readouterr().err
    assert "new.jsonl, record 0" in error and "never saw in training" in error and repr(NEW[0]) in error


def test_a_malformed_untrained_list_is_refused(trained, tmp_path):
    with pytest.raises(CheckpointError, match="untrained_words"):
        load_checkpoint(with_meta(trained, tmp_path, untrained_words="Every"))


def with_meta(trained, tmp_path, **changes):
    """A copy of the trained checkpoint with these meta.json fields changed."""
    folder = tmp_path / "copy"
    shutil.copytree(trained / "run" / "checkpoint", folder)
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, **changes}))
    return folder


def test_training_on_the_words_takes_them_off_the_list(one_hop, trained):
    init = trained / "run" / "checkpoint"
    Trainer(config_for(one_hop, trained / "more", epochs=1, val="", init=str(init), train=str(trained / "new.jsonl")),
            progress_bar=False).run()
    untrained = read_meta(trained / "more" / "checkpoint")["untrained_words"]
    assert set(untrained) == set(read_meta(init)["untrained_words"]) - set(NEW)
    assert main(["eval", str(trained / "more" / "checkpoint"), str(trained / "new.jsonl")]) == 0


def test_the_shipped_deep_model_refuses_the_words_it_never_trained(tmp_path, capsys):
    from latentsearch.tasks.prosqa_gen import ProsQAConfig, generate

    save_records(generate(3, seed=5, config=ProsQAConfig(more_words=True)), tmp_path / "q.jsonl")
    assert main(["eval", "prosqa-coconut-deep", str(tmp_path / "q.jsonl")]) == 2
    error = capsys.readouterr().err
    assert "q.jsonl, record 0" in error and "never saw in training" in error
