"""Optional speed-ups, meant for a GPU: bf16 autocast and torch.compile of the model's passes.

Both are off by default and nothing on the CPU path needs them. Neither changes an algorithm: the
same passes run, in bfloat16 (autocast keeps softmax, norms and the loss in float32) or as
compiled kernels. A Coconut step on a GPU is launch-bound (one small pass per thought), which is
what compiling attacks: `reduce-overhead` records each pass shape as a CUDA graph and replays it.
"""

from __future__ import annotations

import contextlib

# torch is imported inside the functions: the command line builds its flags from these names, and
# `latentsearch --help` must not wait for torch.
PRECISIONS = ("fp32", "bf16")
COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")


def check(precision: str = "fp32", compile: str = "off") -> None:
    """One clear error for an unknown precision or compile mode."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    if compile not in COMPILE_MODES:
        raise ValueError(f"unknown compile mode {compile!r}; choose from {', '.join(COMPILE_MODES)}")


def autocast(device, precision: str):
    """A context that runs the model in `precision` on `device` (fp32: no change)."""
    import torch

    check(precision=precision)
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=torch.device(device).type, dtype=torch.bfloat16)


def compile_passes(model, mode: str = "default", backend: str = "inductor"):
    """Compile the base model's forward in place, so every pass (prompt, thought, suffix, plain) runs compiled.

    The weights stay the model's own (checkpoints save as before). Batches differ in length and
    thought count, so sizes are symbolic (`dynamic=True`): one graph per kind of pass (plain, prompt,
    thought, suffix) instead of one per shape, which would soon hit dynamo's recompile limit and fall
    back to eager. `reduce-overhead` keeps static sizes: a CUDA graph is recorded per size anyway.
    `backend`: tests trace with "aot_eager" (the same graph capture, no code generation).
    """
    import torch

    check(compile=mode)
    if mode != "off":
        # Each kind of pass is its own graph, and the views fed back as thoughts add a few: more than
        # dynamo's default limit of 8, past which it would silently run eager.
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
        base = model.base_model
        base.forward = torch.compile(base.forward, mode=mode, backend=backend,
                                     dynamic=mode != "reduce-overhead")
    return model
