"""Property-based tests (hypothesis) for the loader, the tokenizers and the generator."""

import json
import random
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from latentsearch.data.examples import encode_record
from latentsearch.data.schema import DatasetError, Record, load_records, parse_record, save_records
from latentsearch.data.tokenizer import Codec, TokenizerError, render
from latentsearch.tasks import get
from latentsearch.tasks.graphs import bfs_frontiers
from latentsearch.tasks.prosqa_gen import SYMBOLS, ProsQAConfig, generate, generate_record

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODECS = {rendering: Codec.build(rendering) for rendering in ("symbolic", "text")}

text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
plain_records = st.builds(Record, question=text, steps=st.lists(text, max_size=4).map(tuple), answer=text)
graph_records = st.builds(
    lambda seed, nodes: generate_record(random.Random(seed), ProsQAConfig.sized(nodes=nodes)),
    st.integers(0, 2**32 - 1), st.sampled_from([None, 8, 12, 16]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["question", "steps", "answer", "edges", "root", "target", "neg_target",
                         "idx_to_symbol", "frontiers", "other"]), inner, max_size=9),
    max_leaves=30,
)


@SETTINGS
@given(st.lists(plain_records | graph_records, min_size=1, max_size=5), st.sampled_from([".json", ".jsonl"]))
def test_save_then_load_is_the_identity(records, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        save_records(records, path)
        assert load_records(path) == records


@SETTINGS
@given(json_values)
def test_any_json_loads_or_fails_with_a_dataset_error(value):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "any.json"
        path.write_text(json.dumps(value))
        try:
            records = load_records(path)
        except DatasetError as err:
            assert str(err).startswith("any.json")
        else:
            assert records and all(isinstance(r, Record) for r in records)


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from([".json", ".jsonl"]))
def test_any_bytes_load_or_fail_with_a_dataset_error(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"any{suffix}"
        path.write_bytes(data)
        try:
            load_records(path)
        except DatasetError as err:
            assert "any" in str(err)


@SETTINGS
@given(graph_records)
def test_generated_records_pass_validation_and_keep_their_graph(record):
    assert parse_record(json.loads(json.dumps(record.to_dict())), "gen", 0) == record
    assert record.frontiers == tuple(map(tuple, bfs_frontiers(len(record.idx_to_symbol), record.edges, record.root)))
    assert get("prosqa").valid_path(" ".join(record.steps), record)
    depth = next(d for d, frontier in enumerate(record.frontiers) if record.target in frontier)
    assert len(record.steps) == depth  # a shortest path


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_the_generator_is_deterministic(seed):
    config = ProsQAConfig.sized(nodes=10)
    first = generate(5, seed=seed, config=config)
    assert first == generate(5, seed=seed, config=config)
    assert len({r.question for r in first}) == 5


@SETTINGS
@given(graph_records, st.sampled_from(["symbolic", "text"]))
def test_encode_then_decode_gives_the_rendered_text(record, rendering):
    codec, rendered = CODECS[rendering], render(record, rendering)
    example = encode_record(record, codec)
    assert codec.decode(example.question) == rendered.question
    assert [codec.decode(step) for step in example.steps] == list(rendered.steps)


@SETTINGS
@given(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=30))
def test_symbol_sequences_round_trip(words):
    codec = CODECS["symbolic"]
    ids = codec.encode(" ".join(words))
    assert len(ids) == len(words) and codec.decode(ids) == " ".join(words)


@SETTINGS
@given(st.text(max_size=60), st.sampled_from(["symbolic", "text"]))
def test_any_text_encodes_or_names_the_unknown_words(value, rendering):
    codec = CODECS[rendering]
    try:
        ids = codec.encode(value)
    except TokenizerError as err:
        assert "not in the" in str(err)
    else:
        assert all(0 <= i < len(codec) for i in ids)
