"""Shared fixtures: small generated data, the real split when present, tiny models."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL_VALID = Path(__file__).resolve().parents[2] / "shared" / "data" / "prosqa_valid.json"


@pytest.fixture(scope="session")
def real_valid_path() -> Path:
    if not REAL_VALID.is_file():
        pytest.skip(f"the real ProsQA validation split is not at {REAL_VALID}")
    return REAL_VALID


@pytest.fixture(scope="session")
def small_records():
    from latentsearch.data.prosqa import ProsQAConfig, generate

    return generate(64, seed=1, config=ProsQAConfig.sized(nodes=8, depth=2))
