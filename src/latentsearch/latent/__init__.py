"""Continuous thought: batched latent reasoning passes that share one KV cache."""
