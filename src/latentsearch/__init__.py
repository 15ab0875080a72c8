"""latentsearch: decoding as search, in token space and in a language model's continuous latent space.

    import latentsearch as ls
    m = ls.load("prosqa-coconut")          # a shipped model, a checkpoint folder, "smollm2" or an HF path
    out = m.think("... Is Tom a wumpus or yumpus?")   # out.answer, out.thoughts, out.top_tokens

`load` and `Model` are imported on first use, so that `import latentsearch` (and the command line's
help) stays light.
"""

__version__ = "0.1.0"
__all__ = ["load", "Model", "Thought"]


def __getattr__(name: str):
    if name in __all__:
        from latentsearch import api

        return getattr(api, name)
    raise AttributeError(f"module 'latentsearch' has no attribute {name!r}")
