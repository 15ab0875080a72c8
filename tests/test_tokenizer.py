import pytest

from latentsearch.data.examples import encode_record
from latentsearch.data.schema import load_records
from latentsearch.data.tokenizer import SPECIAL_TOKENS, Codec, TokenizerError, build_vocabulary, render


@pytest.mark.parametrize("rendering", ["text", "symbolic"])
def test_round_trip_on_generated(rendering, small_records):
    codec = Codec.build(rendering)
    for record in small_records:
        rendered = render(record, rendering)
        assert codec.decode(codec.encode(rendered.question)) == rendered.question
        for step in rendered.steps:
            assert codec.decode(codec.encode(step)) == step


def test_text_vocabulary_covers_the_real_split(real_valid_path):
    codec = Codec.build("text")
    for record in load_records(real_valid_path):
        for text in (record.question, record.answer, *record.steps):
            assert codec.decode(codec.encode(text)) == text


def test_symbolic_is_short_and_one_token_per_node(small_records):
    codec = Codec.build("symbolic")
    record = small_records[0]
    example = encode_record(record, codec)
    assert len(example.question) == 4 + 2 * len(record.edges)
    assert all(len(step) == 1 for step in example.steps)
    assert len(codec) == 8 + 55 + 80  # specials, `###`, `|`, the real symbols, the made-up concept words


def test_special_tokens_are_reserved_and_single():
    codec = Codec.build("text")
    for token in SPECIAL_TOKENS:
        assert codec.encode(token) == [codec.token_id(token)]


def test_unknown_word_is_a_clear_error():
    codec = Codec.build("text")
    with pytest.raises(TokenizerError, match="'Zorblax'"):
        codec.encode("Every Zorblax is a wumpus.")


def test_save_and_load(tmp_path):
    codec = Codec.build("symbolic")
    codec.save(tmp_path)
    loaded = Codec.load(tmp_path)
    assert loaded.rendering == "symbolic" and loaded.vocab == codec.vocab


def test_an_old_vocabulary_grows_to_todays_keeping_its_ids():
    words = build_vocabulary("symbolic")[:63]  # the vocabulary before the made-up concept words
    old = Codec._word_level(words, "symbolic", "prosqa")
    grown = old.grown()
    assert len(old) == 63 and len(grown) == len(Codec.build("symbolic"))
    assert all(grown.vocab[w] == i for w, i in old.vocab.items())
    assert grown.encode("Tom blimpus") == [grown.vocab["Tom"], grown.vocab["blimpus"]]
    assert grown.grown() is grown
