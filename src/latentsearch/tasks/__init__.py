"""Tasks as plug-ins: each task says how its records are generated, rendered, answered and probed."""
