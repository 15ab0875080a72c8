"""latentsearch: decoding as search, in token space and in a language model's latent space."""

__version__ = "0.1.0"
