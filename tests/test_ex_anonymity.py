"""EX anonymity across publishes, not just within one (DECISIONS.md, "Anonymity over time").

The frequent CX refresh republishes the EX marts every time. Suppression per snapshot is
not enough: two consecutive publishes of a group with 6 and then 7 respondents give away
the 7th respondent's answers by subtraction. So the pulse survey's figures are published
per closed month only (the survey data has been loaded past the month's end) and frozen
then. This test runs the pipeline as a deployment does (a full refresh, then CX refreshes
while the simulator's clock moves through a pulse wave, a weekly rebuild, late changes to a
closed month) and reads every published release: no group's survey figures ever change by
1-4 between consecutive publishes, the open month publishes none, and a closed month never
changes. The data dir has spaces in its name: paths reach SQL only as parameters."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest

from benchmarks.harness import CX_DBT_SELECT, DBT_BUILD_ARGS
from ingestion.pipeline import ingest
from simulator.credentials import loader_env
from simulator.server import Simulator, serve_in_thread
from tests.support.world import environ, world
from warehouse.dbt import run_dbt
from warehouse.publish import current_release, publish
from warehouse.settings import Settings

pytestmark = pytest.mark.e2e

K = 5  # var('min_respondents')
COUNTS = [
    "respondents",
    "enps_promoters",
    "enps_passives",
    "enps_detractors",
    "engagement_answers",
    "engagement_favorable",
]
# each EX mart with survey figures, and its group key
GROUPS = {"ex_metrics_monthly": "department", "xm_team_monthly": "team"}
LIVE_GROUPS = (
    "select month, group_level, coalesce(team, department) as grp, respondents "
    "from intermediate.int_ex_survey_groups"
)


def _quiet(_: str) -> None:
    pass


def _published(release: Path) -> dict[tuple, tuple]:
    """(mart, month, group) -> survey counts (None when withheld), from one release."""
    out = {}
    with duckdb.connect(str(release / "marts.duckdb"), read_only=True) as con:
        for mart, key in GROUPS.items():
            rows = con.execute(
                f"select month, {key}, {', '.join(COUNTS)} from {mart} order by 1, 2"
            ).fetchall()
            for month, group, *counts in rows:
                out[(mart, month, group)] = tuple(counts) if counts[0] is not None else None
    return out


def _live(warehouse: Path) -> dict[tuple, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {(m, level, g): n for m, level, g, n in con.execute(LIVE_GROUPS).fetchall()}


def test_pulse_figures_never_change_by_less_than_the_threshold(tmp_path):
    data_dir = tmp_path / "xm data dir"
    warehouse = data_dir / "warehouse.duckdb"
    sim = Simulator(world())  # clock 2026-11-01; each wave is recorded on days 10-20
    publishes: list[tuple[str, dict]] = []  # (simulated date, published survey figures)
    live: list[dict] = []

    def refresh(
        label: str,
        *extra: str,
        sources=("zendesk", "qualtrics"),
        select=("--select", *CX_DBT_SELECT),
    ):
        ingest(list(sources), echo=_quiet)
        run_dbt(["build", *select, *DBT_BUILD_ARGS, *extra], echo=_quiet)
        publish(run_id=label)
        release = current_release(Settings.from_env())
        publishes.append((f"{sim.clock:%Y-%m-%d} {label}", _published(release)))
        live.append(_live(warehouse))

    with (
        serve_in_thread(sim) as url,
        environ({**loader_env(url), "XM_DATA_DIR": str(data_dir)}),
    ):
        refresh("full", sources=("hubspot", "zendesk", "bamboohr", "qualtrics"), select=())
        # CX refreshes through November's pulse wave (the month is open)
        for days in (10, 3, 3, 4):
            sim.advance(days)
            refresh(f"cx-{sim.clock:%m%d}")
        # December's wave begins on the 10th: November is closed
        sim.advance(20)
        refresh(f"cx-{sim.clock:%m%d}")
        # the Sunday rebuild (`--full-refresh`) keeps what was frozen
        sim.advance(2)
        refresh("weekly-rebuild", "--full-refresh")
        # late changes to a closed month: responses of November vanish from raw
        with duckdb.connect(str(warehouse)) as con:
            deleted = con.execute(
                "delete from raw_qualtrics.survey_responses where response_id in ("
                "  select response_id from raw_qualtrics.survey_responses where survey_id in ("
                "    select id from raw_qualtrics.surveys where name = 'Employee engagement pulse')"
                "  and cast(recorded_date as varchar) like '2026-11-1%'"
                "  order by response_id limit 15)"
            ).fetchone()[0]
        assert deleted == 15
        sim.advance(1)
        refresh(f"cx-{sim.clock:%m%d}")

    november = [(mart, m, g) for (mart, m, g) in publishes[-1][1] if f"{m}" == "2026-11-01"]
    assert november, "November is not in the marts"

    # the attack this prevents existed: the live counts of the open month grew by 1-4
    steps = [
        key
        for before, after in itertools.pairwise(live)
        for key, n in after.items()
        if f"{key[0]}" == "2026-11-01" and 1 <= abs(n - before.get(key, 0)) < K
    ]
    assert steps, "the live November counts never moved by 1-4: the test shows nothing"

    for (when_a, a), (when_b, b) in itertools.pairwise(publishes):
        for key in sorted(set(a) & set(b)):
            if a[key] is None or b[key] is None:
                continue
            diffs = [abs(x - y) for x, y in zip(a[key], b[key], strict=True)]
            assert not any(1 <= d < K for d in diffs), (
                f"{key} changed by {diffs} between {when_a} and {when_b}: {a[key]} -> {b[key]}"
            )

    # the open month publishes no survey figure; once closed, a month never changes
    first_seen: dict[tuple, tuple] = {}
    for when, figures in publishes:
        open_month = when[:7] + "-01"
        for key, counts in figures.items():
            if f"{key[1]}" >= open_month:
                assert counts is None, f"{when}: open month published {key}: {counts}"
            elif counts is not None:
                assert first_seen.setdefault(key, counts) == counts, (
                    f"{when}: closed {key} changed from {first_seen[key]} to {counts}"
                )
            else:
                assert key not in first_seen, f"{when}: closed {key} withdrawn"
    published_november = [k for k in november if publishes[-1][1][k] is not None]
    assert published_november, "November was never published after it closed"
    # and it was frozen: its live counts moved after the deletion, the published ones did not
    live_november = [
        {k: n for k, n in counts.items() if f"{k[0]}" == "2026-11-01"} for counts in live
    ]
    assert live_november[-1] != live_november[-2]
    assert {k: publishes[-1][1][k] for k in november} == {k: publishes[-2][1][k] for k in november}
