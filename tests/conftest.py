"""Shared fixtures: a small simulated world, served over real HTTP on loopback."""

from __future__ import annotations

import os
from functools import cache

import pytest

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from ingestion.simulator.credentials import loader_env
from ingestion.simulator.generator import SimConfig, World
from ingestion.simulator.server import Simulator, serve_in_thread

TEST_SCALE = 0.05


@cache
def world(scale: float = TEST_SCALE, seed: int = 7, dirty_rate: float = 0.02) -> World:
    """Worlds are pure data: generate each once per test session."""
    return World(SimConfig(scale=scale, seed=seed, dirty_rate=dirty_rate))


@pytest.fixture
def served():
    """A fresh simulator (clock at its start, no faults) on a free loopback port: (sim, url)."""
    sim = Simulator(world())
    with serve_in_thread(sim) as url:
        yield sim, url


@pytest.fixture
def warehouse(tmp_path, monkeypatch, served):
    """Loader settings pointing at the served simulator and an empty XM_DATA_DIR: (sim, url, data_dir)."""
    sim, url = served
    for key, value in loader_env(url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XM_DATA_DIR", str(tmp_path / "data"))
    return sim, url, tmp_path / "data"
