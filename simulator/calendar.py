"""The simulated help desk's business-hours schedule and holidays.

One schedule, in the vendor's own representation: weekly intervals in minutes
since Sunday 00:00 in the schedule's time zone (Rails-style name on the wire,
IANA name for computing), plus dated holidays.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

SCHEDULE_ID = 360000000001
SCHEDULE_NAME = "Support (US Eastern)"
SCHEDULE_RAILS_TZ = "Eastern Time (US & Canada)"
SCHEDULE_IANA_TZ = "America/New_York"
OPEN_HOUR, CLOSE_HOUR = 9, 18
# Monday..Friday 09:00-18:00: minutes since Sunday 00:00
INTERVALS = [
    {"start_time": day * 1440 + OPEN_HOUR * 60, "end_time": day * 1440 + CLOSE_HOUR * 60}
    for day in range(1, 6)
]


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """n-th (1-based; -1 = last) given weekday (Mon=0) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def holidays(first_year: int, last_year: int) -> list[dict]:
    """US support-desk holidays; Thanksgiving is a two-day holiday (start_date..end_date)."""
    out = []
    for y in range(first_year, last_year + 1):
        thanksgiving = _nth_weekday(y, 11, 3, 4)
        days = [
            ("New Year's Day", dt.date(y, 1, 1), dt.date(y, 1, 1)),
            ("Memorial Day", _nth_weekday(y, 5, 0, -1), _nth_weekday(y, 5, 0, -1)),
            ("Independence Day", dt.date(y, 7, 4), dt.date(y, 7, 4)),
            ("Labor Day", _nth_weekday(y, 9, 0, 1), _nth_weekday(y, 9, 0, 1)),
            ("Thanksgiving", thanksgiving, thanksgiving + dt.timedelta(days=1)),
            ("Christmas Day", dt.date(y, 12, 25), dt.date(y, 12, 25)),
        ]
        out += [{"name": f"{n} {y}", "start_date": s, "end_date": e} for n, s, e in days]
    for i, h in enumerate(out):
        h["id"] = SCHEDULE_ID * 10 + i + 1
    return out


def next_business_time(ts: pd.Series, rng: np.random.Generator | None = None) -> pd.Series:
    """Move each UTC timestamp forward to the next moment inside business hours.

    With `rng`, a moved timestamp lands 0-90 minutes after the opening (agents
    don't all answer at 09:00:00).

    Vectorised; holidays are ignored here (agents do answer on holidays, which is
    exactly why business-minute metrics must subtract them).
    """
    local = ts.dt.tz_convert(SCHEDULE_IANA_TZ)
    hour = local.dt.hour + local.dt.minute / 60
    wd = local.dt.weekday.to_numpy()
    day = local.dt.tz_localize(None).dt.normalize()  # local wall-clock midnight
    in_hours = (wd < 5) & (hour >= OPEN_HOUR).to_numpy() & (hour < CLOSE_HOUR).to_numpy()
    before_open = (wd < 5) & (hour < OPEN_HOUR).to_numpy()
    # days to add to reach the next weekday opening when after close or on a weekend
    add = np.where(wd == 4, 3, np.where(wd == 5, 2, 1))
    add = np.where(before_open, 0, add)
    # wall-clock arithmetic, then localise: DST-safe
    opening = (day + pd.to_timedelta(add, unit="D") + pd.Timedelta(hours=OPEN_HOUR)).dt.tz_localize(
        SCHEDULE_IANA_TZ, ambiguous=False, nonexistent="shift_forward"
    )
    moved = opening.dt.tz_convert("UTC")
    if rng is not None:
        moved = moved + pd.to_timedelta(rng.integers(0, 90 * 60, len(ts)), unit="s")
    return ts.where(in_hours, moved)
