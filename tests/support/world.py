"""The test world and the environment helper every test module shares."""

from __future__ import annotations

import contextlib
import os
from functools import cache

from simulator.generator import SimConfig, World

TEST_SCALE = 0.05


@cache
def world(scale: float = TEST_SCALE, seed: int = 7, dirty_rate: float = 0.02) -> World:
    """Worlds are pure data: generate each once per test session."""
    return World(SimConfig(scale=scale, seed=seed, dirty_rate=dirty_rate))


@contextlib.contextmanager
def environ(values: dict[str, str]):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
