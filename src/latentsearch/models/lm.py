"""A causal LM with its text codec, from the name `smollm2`, a latentsearch checkpoint folder, or any
HF model path / hub name (safetensors only, never remote code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass
class TextLM:
    model: object  # an HF causal LM in eval mode
    encode: Callable[[str], list[int]]  # prompt text -> token ids (chat template applied if `chat`)
    decode: Callable[[list[int]], str]  # token ids -> text
    eos_id: int | None  # the end-of-sequence token, None when the model has none
    token_id: Callable[[str], int]  # one token's id (e.g. a step delimiter), ValueError if not one token
    encode_plain: Callable[[str], list[int]]  # text -> token ids, no chat template or special tokens


def load_lm(spec: str, chat: bool = True) -> TextLM:
    if spec == "smollm2":
        from latentsearch.models.smollm2 import load_smollm2

        return _from_hf(*load_smollm2(), chat=chat)
    from latentsearch.models.checkpoint import is_pretrained_lm

    if not is_pretrained_lm(spec):
        return _from_checkpoint(spec)
    model, tokenizer = _load_hf(spec)
    return _from_hf(model.eval(), tokenizer, chat=chat)


def _load_hf(spec: str):
    """An HF model folder or hub name and its tokenizer; safetensors only, never remote code."""
    from transformers import AutoTokenizer

    from latentsearch.models.checkpoint import CheckpointError, check_size
    from latentsearch.models.factory import load_pretrained

    if (Path(spec) / "config.json").is_file():  # a local folder: its size against the budget before loading
        check_size(Path(spec))
    try:
        return load_pretrained(spec), AutoTokenizer.from_pretrained(spec, trust_remote_code=False)
    except Exception as err:  # transformers raises OSError, ValueError, or whatever the file format library raises
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{spec}: cannot load a model: {first}") from None


def load_trainable(spec: str, task: str = "text"):
    """(model, codec) to fine-tune a pretrained LM with its own tokenizer: `smollm2` or an HF path.

    Our special tokens (<bot>, <eot>, <pad>, ...) are added to its tokenizer and its embedding
    matrix grows to match; records are rendered as text.
    """
    from latentsearch.data.tokenizer import Codec

    if spec == "smollm2":
        from latentsearch.models.smollm2 import load_smollm2

        model, tokenizer = load_smollm2()
    else:
        model, tokenizer = _load_hf(spec)
    codec = Codec.wrap(tokenizer.backend_tokenizer, task)
    model.resize_token_embeddings(len(codec))
    return model, codec


def _from_checkpoint(folder: str) -> TextLM:
    from latentsearch.models.checkpoint import load_checkpoint

    model, codec, _ = load_checkpoint(folder)
    return from_codec(model, codec)


def from_codec(model, codec) -> TextLM:
    """A checkpoint's model with its own word-level codec."""

    def token_id(text: str) -> int:
        if text not in codec.vocab:
            raise ValueError(f"{text!r} is not a token of this checkpoint's vocabulary")
        return codec.token_id(text)

    return TextLM(model.eval(), codec.encode, codec.decode, codec.eos_id, token_id, codec.encode)


def _from_hf(model, tokenizer, chat: bool) -> TextLM:
    def encode(text: str) -> list[int]:
        if chat and tokenizer.chat_template:
            messages = [{"role": "user", "content": text}]
            return list(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                      return_dict=False))
        return tokenizer.encode(text)

    def token_id(text: str) -> int:
        ids = tokenizer.encode(text, add_special_tokens=False)
        if len(ids) != 1:
            raise ValueError(f"{text!r} is {len(ids)} tokens for this tokenizer, not one")
        return ids[0]

    decode = lambda ids: tokenizer.decode(ids, skip_special_tokens=True)  # noqa: E731
    plain = lambda text: tokenizer.encode(text, add_special_tokens=False)  # noqa: E731
    return TextLM(model, encode, decode, tokenizer.eos_token_id, token_id, plain)
