"""Helpers shared by the vendor modules: wire formats, dirty-data masks, links."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse as _StarletteJSON


def iso_z(ts: pd.Series) -> pd.Series:
    """ISO-8601 UTC, second precision, `Z` suffix (Zendesk, Qualtrics start/end dates)."""
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(ts: pd.Series) -> pd.Series:
    """ISO-8601 UTC with milliseconds (HubSpot, Qualtrics recordedDate)."""
    return ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"


def iso_offset(ts: pd.Series, hours: int = -5) -> pd.Series:
    """The same instant written with a UTC offset (dirty data: 'timestamps with offsets')."""
    local = ts + pd.Timedelta(hours=hours)
    sign = "+" if hours >= 0 else "-"
    return local.dt.strftime("%Y-%m-%dT%H:%M:%S") + f"{sign}{abs(hours):02d}:00"


def epoch(ts: pd.Series) -> np.ndarray:
    return (ts.astype("datetime64[s, UTC]").astype("int64")).to_numpy()


def dirty_mask(sim, stream: str, n: int) -> np.ndarray:
    """Which of a stream's `n` records carry a given kind of dirt. Stable across clock moves."""
    rate = sim.config.dirty_rate
    if rate <= 0:
        return np.zeros(n, bool)
    rng = np.random.default_rng([sim.config.seed, *f"dirty:{stream}".encode()])
    return rng.random(n) < rate


def absolute(request: Request, **params) -> str:
    """An absolute URL to the same endpoint with new query parameters (vendors link to themselves)."""
    return str(request.url.replace_query_params(**params))


def nulls(values: list) -> list:
    """NaN/NaT -> None for JSON."""
    return [
        None if (v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT) else v
        for v in values
    ]


class JSONResponse(_StarletteJSON):
    """Starlette's JSON response, serialised with orjson (pages of 1,000 tickets add up)."""

    def render(self, content) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
