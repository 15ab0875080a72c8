"""The HMM view: distil a hidden Markov model from a language model and run exact dynamic programming on it."""
