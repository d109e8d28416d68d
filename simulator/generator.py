"""Seeded, scale-parameterised generator of one synthetic company's CX + EX history.

The generator builds every entity's whole *timeline* once (from the start of
history to a horizon beyond the initial clock). The API layer then shows the
state of the world as of the simulated clock, so advancing the clock reveals new
records and updates to old ones (reopened tickets, terminations, rehires, deal
renewals) without generating anything new.

Planted effects (documented with their parameters in README.md, constants below):
team engagement raises CSAT and shortens replies and resolution; low engagement
raises turnover; poor support experience raises customer churn and lowers NPS.
"""

from __future__ import annotations

import dataclasses
import string
from functools import cached_property

import numpy as np
import pandas as pd

from simulator import calendar, sla

HISTORY_START = pd.Timestamp("2024-11-01", tz="UTC")
COMPANY_DOMAIN = "experience-warehouse.example"  # the simulated employer's own email domain

# ---- planted effects (see README.md) ---------------------------------------
ENG_TEAM_SD = 0.8  # spread of team mean engagement (latent, standard units)
ENG_AR = 0.7  # month-to-month persistence of a team's engagement
ENG_NOISE = 0.35
TURNOVER_MONTHLY = 0.011  # base monthly separation hazard
TURNOVER_ENG = 0.45  # hazard multiplier exp(-TURNOVER_ENG * engagement)
REPLY_MEDIAN_MIN = 75.0  # median first reply delay before business-hours push
REPLY_ENG = 0.15  # reply delay multiplier exp(-REPLY_ENG * engagement)
RESOLVE_MEDIAN_H = 18.0  # median reply -> solve
RESOLVE_ENG = 0.35  # resolution multiplier exp(-RESOLVE_ENG * engagement)
ON_HOLD_SHARE = 0.12  # first replies that put the ticket on hold rather than pending
AGENT_CREATED_SHARE = 0.3  # phone tickets an agent opens on the caller's behalf
ESCALATED_SHARE = 0.15  # normal/urgent tickets opened one priority lower, raised before an answer
ESCALATED_FROM = {"normal": "low", "urgent": "high"}  # within one SLA policy (simulator/sla.py)
CSAT_BASE, CSAT_ENG, CSAT_SLOW, CSAT_REOPEN = 1.3, 0.6, 0.3, 0.9  # logit of P(4-5)
REOPEN_BASE, REOPEN_ENG = 0.08, 0.3
CHURN_BASE, CHURN_DISSAT = 0.08, 1.2  # churn_p = BASE + DISSAT * (dissatisfaction - 0.25)
# the customer journey (README.md, "Planted effects"): onboarding = the first 90 days of the
# first contract. Onboarding tickets are rated lower (logit of P(CSAT 4-5) - ONBOARD_CSAT),
# a share of new customers has a rough onboarding (a further - ROUGH_ONBOARD_CSAT), and at
# the first renewal churn_p += ONBOARD_CHURN * (onboarding dissatisfaction - ONBOARD_DISSAT0)
ONBOARD_DAYS = 90
ONBOARD_CSAT = 0.6
ROUGH_ONBOARD_P, ROUGH_ONBOARD_CSAT = 0.3, 1.2
ONBOARD_CHURN, ONBOARD_DISSAT0 = 2.0, 0.3
# lifecycle stages (HubSpot's internal values, in its forward order)
LIFECYCLE = ["subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead",
             "opportunity", "customer", "evangelist", "other"]  # fmt: skip

SUPPORT = "Customer Support"
SUPPORT_TEAM_NAMES = [
    "Atlas",
    "Borealis",
    "Cascade",
    "Delta",
    "Ember",
    "Fjord",
    "Glacier",
    "Harbor",
    "Iris",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nova",
    "Orbit",
    "Prism",
]
OTHER_DEPARTMENTS = {
    "Engineering": (0.30, ["Platform", "Data", "Web"]),
    "Sales": (0.15, ["Sales Americas", "Sales EMEA"]),
    "Marketing": (0.08, ["Marketing"]),
    "Product": (0.08, ["Product"]),
    "Finance": (0.06, ["Finance"]),
    "People": (0.05, ["People"]),
    "Operations": (0.08, ["Operations"]),
}
FIRST = [
    "Ada",
    "Ben",
    "Cara",
    "Dev",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivo",
    "Jae",
    "Kai",
    "Lena",
    "Milo",
    "Nia",
    "Omar",
    "Pia",
    "Quin",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Vic",
    "Wen",
    "Xia",
    "Yara",
    "Zed",
]
LAST = [
    "Abbott",
    "Baker",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Haas",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Silva",
    "Tanaka",
    "Ueda",
    "Vargas",
    "Weber",
    "Xu",
    "Young",
    "Zhang",
]
WORD_A = [
    "Bright",
    "Blue",
    "Clear",
    "Deep",
    "Early",
    "Fair",
    "Golden",
    "Green",
    "High",
    "Iron",
    "Keen",
    "Lunar",
    "Nimble",
    "North",
    "Open",
    "Prime",
    "Quick",
    "Red",
    "Silver",
    "Solid",
    "Swift",
    "True",
    "Urban",
    "Vivid",
]
WORD_B = [
    "Analytics",
    "Bakery",
    "Cloud",
    "Dynamics",
    "Energy",
    "Foods",
    "Freight",
    "Health",
    "Labs",
    "Logistics",
    "Media",
    "Motors",
    "Networks",
    "Partners",
    "Retail",
    "Robotics",
    "Software",
    "Studio",
    "Systems",
    "Textiles",
    "Travel",
    "Ventures",
    "Works",
]
INDUSTRIES = [
    "COMPUTER_SOFTWARE",
    "RETAIL",
    "HOSPITAL_HEALTH_CARE",
    "FINANCIAL_SERVICES",
    "LOGISTICS_AND_SUPPLY_CHAIN",
    "MARKETING_AND_ADVERTISING",
    "FOOD_BEVERAGES",
]
COUNTRIES = [
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "Canada",
    "Netherlands",
    "Australia",
]
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
SEGMENT_P = [0.6, 0.3, 0.1]
SEGMENT_ACV = np.array([6_000.0, 30_000.0, 120_000.0])
SEGMENT_TICKET_RATE = np.array([1.0, 2.5, 6.0])
CHANNELS = np.array(["web", "email", "chat", "api", "voice"])
CHANNEL_VIA = {"web": "Web form", "email": "Mail", "chat": "Chat", "api": "API", "voice": "Voice"}
PRIORITIES = np.array(["low", "normal", "high", "urgent"])
PRIORITY_SPEED = np.array([1.5, 1.0, 0.6, 0.3])
TICKET_TYPES = np.array(["question", "incident", "problem", "task"])
PRODUCT_AREAS = np.array(["billing", "onboarding", "integrations", "reporting", "access"])
PRODUCT_AREA_FIELD_ID = 360000100001
SYSTEM_USER = -1


@dataclasses.dataclass(frozen=True)
class SimConfig:
    scale: float = 1.0
    seed: int = 42
    dirty_rate: float = 0.01
    history_days: int = 730
    horizon_days: int = 120

    @property
    def start(self) -> pd.Timestamp:
        return HISTORY_START

    @property
    def clock0(self) -> pd.Timestamp:
        return HISTORY_START + pd.Timedelta(days=self.history_days)

    @property
    def end(self) -> pd.Timestamp:
        return self.clock0 + pd.Timedelta(days=self.horizon_days)


def _rng(seed: int, stream: str) -> np.random.Generator:
    """An independent generator per stream, so adding one stream leaves the others unchanged."""
    return np.random.default_rng([seed, *stream.encode()])


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _ids(rng: np.random.Generator, prefix: str, n: int, length: int = 15) -> np.ndarray:
    alphabet = np.array(list(string.ascii_letters + string.digits))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    ids = np.array([prefix + "".join(row) for row in chars])
    assert len(set(ids)) == n, "id collision; change the seed"
    return ids


def _secs(ts: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """Truncate to whole seconds (the vendors' precision)."""
    return ts.dt.floor("s") if isinstance(ts, pd.Series) else ts.floor("s")


class World:
    """All entity timelines of one simulated company. Pure data; no clock."""

    def __init__(self, config: SimConfig):
        self.config = config
        c = config
        self.months = pd.date_range(c.start, c.end, freq="MS", tz="UTC")
        self._build_teams()
        self._build_employees()
        self._build_agents()
        self._build_companies()
        self._build_tickets()
        self._build_churn_and_deals()
        self._build_ticket_events()
        self._build_surveys()
        self._build_lifecycle()

    # ---- EX ------------------------------------------------------------------
    def _build_teams(self) -> None:
        c, rng = self.config, _rng(self.config.seed, "teams")
        n_support = max(3, round(8 * c.scale))
        names = [
            f"Support {SUPPORT_TEAM_NAMES[i % 16]}" + (f" {i // 16 + 1}" if i >= 16 else "")
            for i in range(n_support)
        ]
        rows = [(SUPPORT, n) for n in names]
        for dept, (_, teams) in OTHER_DEPARTMENTS.items():
            rows += [(dept, t) for t in teams]
        teams = pd.DataFrame(rows, columns=["department", "team"])
        teams["team_idx"] = np.arange(len(teams))
        teams["group_id"] = np.where(
            teams["department"] == SUPPORT, 360000200000 + teams["team_idx"], 0
        )
        self.teams = teams
        # latent engagement per team x month: AR(1) around a team mean
        n_t, n_m = len(teams), len(self.months)
        mu = rng.normal(0, ENG_TEAM_SD, n_t)
        eng = np.empty((n_t, n_m))
        eng[:, 0] = mu + rng.normal(0, ENG_NOISE, n_t)
        for m in range(1, n_m):
            eng[:, m] = mu + ENG_AR * (eng[:, m - 1] - mu) + rng.normal(0, ENG_NOISE, n_t)
        self.engagement = eng  # [team_idx, month_idx]

    def month_idx(self, ts: pd.Series) -> np.ndarray:
        start = self.config.start
        idx = (ts.dt.year - start.year) * 12 + (ts.dt.month - start.month)
        return np.clip(idx.to_numpy(), 0, len(self.months) - 1)

    def _build_employees(self) -> None:
        """Monthly hazard simulation: separations, replacement hires, rehires, transfers."""
        c, rng = self.config, _rng(self.config.seed, "employees")
        teams = self.teams
        n_support_teams = int((teams.department == SUPPORT).sum())
        support_size = max(4, round(80 * c.scale / n_support_teams))
        n_total = max(40, round(400 * c.scale))
        n_other = max(len(teams) - n_support_teams, n_total - support_size * n_support_teams)
        shares = np.array(
            [
                OTHER_DEPARTMENTS[d][0] / len(OTHER_DEPARTMENTS[d][1])
                for d in teams.department[n_support_teams:]
            ]
        )
        other_sizes = np.maximum(1, np.round(shares / shares.sum() * n_other)).astype(int)
        sizes = np.concatenate([np.full(n_support_teams, support_size), other_sizes])
        self.team_target = sizes

        people: list[dict] = []  # one per employee id
        periods: list[dict] = []  # employment periods
        jobs: list[dict] = []  # job history rows (effective-dated)

        def new_person(team_idx: int, hire: pd.Timestamp) -> int:
            eid = len(people) + 1
            first, last = FIRST[rng.integers(len(FIRST))], LAST[rng.integers(len(LAST))]
            people.append(
                {
                    "employee_id": eid,
                    "first_name": first,
                    "last_name": last,
                    "work_email": f"{first}.{last}.{eid}@{COMPANY_DOMAIN}".lower(),
                    "date_of_birth": pd.Timestamp("1960-01-01")
                    + pd.Timedelta(days=int(rng.integers(0, 40 * 365))),
                    "pay_rate": float(np.round(rng.normal(85_000, 20_000), -2)),
                }
            )
            periods.append({"employee_id": eid, "hire_date": hire, "termination_date": pd.NaT})
            jobs.append({"employee_id": eid, "date": hire, "team_idx": team_idx, "is_lead": False})
            return eid

        start = c.start.tz_localize(None)
        for t, size in enumerate(sizes):
            for _ in range(size):
                tenure_days = int(min(rng.exponential(3 * 365), 10 * 365))
                new_person(t, start - pd.Timedelta(days=tenure_days + 1))

        active: dict[int, int] = {
            p["employee_id"]: j["team_idx"] for p, j in zip(people, jobs, strict=True)
        }
        pending: list[tuple[pd.Timestamp, str, int, int]] = []  # (date, kind, team, eid)
        term_info: list[dict] = []
        dept_teams = teams.groupby("department")["team_idx"].apply(list).to_dict()
        month_days = self.months.tz_localize(None)
        for m, month_start in enumerate(month_days):
            month_end = month_start + pd.offsets.MonthBegin(1)
            ndays = (month_end - month_start).days
            # scheduled hires/rehires that start this month
            due = [p for p in pending if p[0] < month_end]
            pending = [p for p in pending if p[0] >= month_end]
            for date, kind, team_idx, eid in sorted(due, key=lambda p: (p[0], p[3])):
                if kind == "hire":
                    eid = new_person(team_idx, date)
                else:  # rehire: a new employment period for the same person
                    periods.append(
                        {"employee_id": eid, "hire_date": date, "termination_date": pd.NaT}
                    )
                    jobs.append(
                        {"employee_id": eid, "date": date, "team_idx": team_idx, "is_lead": False}
                    )
                active[eid] = team_idx
            ids = np.array(sorted(active))
            tix = np.array([active[i] for i in ids])
            eng = self.engagement[tix, m]
            leave = rng.random(len(ids)) < TURNOVER_MONTHLY * np.exp(-TURNOVER_ENG * eng)
            voluntary = rng.random(len(ids)) < _sigmoid(0.85 - 0.4 * eng)
            regret = rng.random(len(ids)) < 0.45
            day = rng.integers(0, ndays, len(ids))
            for k in np.flatnonzero(leave):
                eid, team_idx = int(ids[k]), int(tix[k])
                date = month_start + pd.Timedelta(days=int(day[k]))
                period = next(p for p in reversed(periods) if p["employee_id"] == eid)
                if date <= period["hire_date"]:
                    continue
                period["termination_date"] = date
                vol = bool(voluntary[k])
                term_info.append(
                    {
                        "employee_id": eid,
                        "termination_date": date,
                        "is_voluntary": vol,
                        "is_regrettable": vol and bool(regret[k]),
                        "reason": rng.choice(["Better Opportunity", "Relocation", "Career Change"])
                        if vol
                        else rng.choice(["Performance", "Restructuring", "Attendance"]),
                    }
                )
                del active[eid]
                pending.append(
                    (date + pd.Timedelta(days=int(rng.integers(14, 75))), "hire", team_idx, 0)
                )
                if vol and regret[k] and rng.random() < 0.2:
                    dept = teams.department[team_idx]
                    pending.append(
                        (
                            date + pd.Timedelta(days=int(rng.integers(90, 300))),
                            "rehire",
                            int(rng.choice(dept_teams[dept])),
                            eid,
                        )
                    )
            # transfers between teams of the same department
            for k in np.flatnonzero(~leave & (rng.random(len(ids)) < 0.01)):
                eid, team_idx = int(ids[k]), int(tix[k])
                options = [t for t in dept_teams[teams.department[team_idx]] if t != team_idx]
                if options:
                    new_team = int(rng.choice(options))
                    date = month_start + pd.Timedelta(days=int(day[k]))
                    jobs.append(
                        {"employee_id": eid, "date": date, "team_idx": new_team, "is_lead": False}
                    )
                    active[eid] = new_team
            # growth
            for _ in range(rng.poisson(0.003 * len(ids))):
                t = int(rng.integers(len(teams)))
                pending.append(
                    (month_start + pd.Timedelta(days=int(rng.integers(0, ndays))), "hire", t, 0)
                )

        self.people = pd.DataFrame(people)
        self.periods = pd.DataFrame(periods).sort_values(
            ["employee_id", "hire_date"], ignore_index=True
        )
        self.periods["period_no"] = self.periods.groupby("employee_id").cumcount() + 1
        self.terminations = pd.DataFrame(term_info)
        jobs_df = pd.DataFrame(jobs).sort_values(
            ["employee_id", "date"], kind="stable", ignore_index=True
        )
        jobs_df = jobs_df.merge(teams[["team_idx", "department", "team"]], on="team_idx")
        # the longest-serving member of each team at the start leads it; leads report to nobody here
        first_jobs = jobs_df.drop_duplicates("employee_id")
        leads = (
            first_jobs.sort_values("date")
            .drop_duplicates("team_idx")
            .set_index("team_idx")["employee_id"]
        )
        names = self.people.set_index("employee_id")
        lead_name = (names.first_name + " " + names.last_name).reindex(leads.to_numpy()).to_numpy()
        lead_of = pd.Series(lead_name, index=leads.index)
        jobs_df["reports_to"] = jobs_df.team_idx.map(lead_of)
        is_lead = jobs_df.employee_id.isin(leads.to_numpy())
        jobs_df.loc[is_lead, "reports_to"] = ""
        title_support = np.where(is_lead, "Support Team Lead", "Support Agent")
        jobs_df["job_title"] = np.where(
            jobs_df.department == SUPPORT,
            title_support,
            np.where(is_lead, jobs_df.department + " Lead", jobs_df.department + " Specialist"),
        )
        self.jobs = jobs_df.sort_values(["date", "employee_id"], kind="stable", ignore_index=True)

    def _build_agents(self) -> None:
        """Zendesk agents: support employees (plus two admins who are no employee)."""
        teams = self.teams
        support_idx = set(teams.team_idx[teams.department == SUPPORT])
        support_ids = self.jobs.employee_id[self.jobs.team_idx.isin(support_idx)].unique()
        ids = np.sort(support_ids)
        agents = pd.DataFrame({"employee_id": ids, "user_id": 380000000000 + ids})
        self.agents = agents
        # membership segments: (employee, team, from, to) for support teams while employed
        jobs = self.jobs.sort_values(["employee_id", "date"], kind="stable")
        seg = jobs.assign(to=jobs.groupby("employee_id")["date"].shift(-1))
        segs = []
        for row in self.periods.itertuples():
            end = (
                row.termination_date
                if pd.notna(row.termination_date)
                else self.config.end.tz_localize(None)
            )
            s = seg[(seg.employee_id == row.employee_id)]
            for j in s.itertuples():
                lo, hi = max(j.date, row.hire_date), min(j.to if pd.notna(j.to) else end, end)
                if lo < hi:
                    segs.append((row.employee_id, j.team_idx, lo, hi))
        seg_df = pd.DataFrame(segs, columns=["employee_id", "team_idx", "from", "to"])
        self.agent_segments = seg_df[seg_df.team_idx.isin(support_idx)].reset_index(drop=True)
        self.team_segments = seg_df  # every employee's team over time, while employed

    # ---- CRM -----------------------------------------------------------------
    def _build_companies(self) -> None:
        c, rng = self.config, _rng(self.config.seed, "companies")
        n = max(30, round(600 * c.scale))
        a, b = rng.integers(len(WORD_A), size=n), rng.integers(len(WORD_B), size=n)
        names = np.array([f"{WORD_A[i]} {WORD_B[j]}" for i, j in zip(a, b, strict=True)])
        suffix = pd.Series(names).groupby(names).cumcount().to_numpy()
        names = np.where(
            suffix > 0, [f"{x} {s + 1}" for x, s in zip(names, suffix, strict=True)], names
        )
        domains = np.array([x.lower().replace(" ", "") + ".com" for x in names])
        seg = rng.choice(len(SEGMENTS), n, p=SEGMENT_P)
        start = c.start
        created = (
            start
            - pd.to_timedelta(rng.integers(30, 1500, n), unit="D")
            + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
        )
        later = rng.random(n) < 0.25  # some companies enter the CRM during the window
        created = created.where(
            ~later,
            start
            + pd.to_timedelta(rng.integers(0, c.history_days + c.horizon_days - 60, n), unit="D"),
        )
        is_customer = rng.random(n) < 0.7
        pre = rng.random(n) < 0.45
        acq = np.where(
            pre & ~later,
            start - pd.to_timedelta(rng.integers(1, 700, n), unit="D"),
            created + pd.to_timedelta(rng.integers(20, 200, n), unit="D"),
        )
        acq = pd.Series(pd.DatetimeIndex(acq)).dt.floor("D")
        acq = acq.where(
            acq > pd.Series(created).dt.floor("D"),
            pd.Series(created).dt.ceil("D") + pd.Timedelta(days=1),
        )
        is_customer &= (acq < c.end).to_numpy()
        self.companies = pd.DataFrame(
            {
                "company_id": 10_000_000_000 + np.arange(n),
                "org_id": 361_000_000_000 + np.arange(n),
                "name": names,
                "domain": domains,
                "industry": np.array(INDUSTRIES)[rng.integers(len(INDUSTRIES), size=n)],
                "country": np.array(COUNTRIES)[rng.integers(len(COUNTRIES), size=n)],
                "segment": SEGMENTS[seg],
                "segment_idx": seg,
                "created_at": _secs(pd.Series(created)),
                "is_customer": is_customer,
                "acquired_at": acq.where(is_customer),
            }
        )
        # contacts: created before the company becomes a customer
        k = 1 + rng.poisson(4 * max(1.0, 1.0), n)
        comp = np.repeat(np.arange(n), k)
        m = len(comp)
        first = np.array(FIRST)[rng.integers(len(FIRST), size=m)]
        last = np.array(LAST)[rng.integers(len(LAST), size=m)]
        cid = 20_000_000_000 + np.arange(m)
        email = np.char.add(
            np.char.add(np.char.add(np.char.lower(first), "."), np.char.lower(last)),
            np.char.add(np.char.add((cid % 100000).astype(str), "@"), domains[comp]),
        )
        c_created = self.companies.created_at.iloc[comp].reset_index(drop=True)
        c_limit = (
            self.companies.acquired_at.fillna(self.companies.created_at + pd.Timedelta(days=60))
            .iloc[comp]
            .reset_index(drop=True)
        )
        span = ((c_limit - c_created).dt.total_seconds()).clip(lower=3600)
        created_ct = c_created + pd.to_timedelta((rng.random(m) * span).astype(int), unit="s")
        self.contacts = pd.DataFrame(
            {
                "contact_id": cid,
                "company_idx": comp,
                "company_id": self.companies.company_id.to_numpy()[comp],
                "first_name": first,
                "last_name": last,
                "email": email,
                "created_at": _secs(created_ct),
                "zendesk_user_id": 370_000_000_000 + np.arange(m),
            }
        )

    # ---- help desk ----------------------------------------------------------
    def _build_tickets(self) -> None:
        """Potential tickets over each customer's whole possible life; churn trims them later."""
        c, rng = self.config, _rng(self.config.seed, "tickets")
        comp = self.companies[self.companies.is_customer]
        start_s = np.maximum(comp.acquired_at, c.start)
        span_days = ((c.end - start_s) / pd.Timedelta(days=1)).clip(lower=0).to_numpy()
        # calibrated so scale 1 has ~30k tickets over 24 months of history before churn trims
        base = (
            30_000
            * c.scale
            / 730
            / max(
                1.0,
                float(
                    (
                        SEGMENT_TICKET_RATE[comp.segment_idx]
                        * np.minimum(span_days, c.history_days)
                        / c.history_days
                    ).sum()
                ),
            )
        )
        lam = base * SEGMENT_TICKET_RATE[comp.segment_idx] * rng.gamma(2.0, 0.5, len(comp))
        counts = rng.poisson(lam * span_days * 1.25)  # 1.25: weekend thinning below
        cidx = np.repeat(comp.index.to_numpy(), counts)
        n = len(cidx)
        day0 = start_s.repeat(counts).reset_index(drop=True)
        offs = rng.random(n) * np.repeat(span_days, counts)
        day = (day0 + pd.to_timedelta(offs.astype(int), unit="D")).dt.floor("D")
        # arrival hour: mostly US business hours (in UTC), some around the clock
        hour = np.where(rng.random(n) < 0.8, rng.normal(17, 3, n), rng.uniform(0, 24, n)) % 24
        created = (day + pd.to_timedelta(hour * 3600, unit="s")).dt.floor("s")
        weekend = created.dt.weekday.to_numpy() >= 5
        keep = ~weekend | (rng.random(n) < 0.2)
        keep &= (created > comp.acquired_at.reindex(cidx).to_numpy()).to_numpy() & (
            created < c.end
        ).to_numpy()
        cidx, created = cidx[keep], created[keep].reset_index(drop=True)
        order = np.argsort(created.to_numpy(), kind="stable")
        cidx, created = cidx[order], created.iloc[order].reset_index(drop=True)
        n = len(cidx)

        # requester: a contact of the company
        contacts = self.contacts
        first_contact = contacts.groupby("company_idx").contact_id.idxmin()
        n_contacts = contacts.groupby("company_idx").size()
        pick = first_contact.reindex(cidx).to_numpy() + (
            rng.random(n) * n_contacts.reindex(cidx).to_numpy()
        ).astype(int)
        requester = contacts.zendesk_user_id.to_numpy()[pick]

        # assignee: an agent employed in a support team on the day the ticket arrives
        assignee_emp, team_idx = self._pick_agents(created, rng)
        month = self.month_idx(created)
        eng = np.where(team_idx >= 0, self.engagement[np.maximum(team_idx, 0), month], 0.0)
        prio = rng.choice(4, n, p=[0.25, 0.5, 0.18, 0.07])
        speed = PRIORITY_SPEED[prio]

        reply_delay = (
            rng.lognormal(np.log(REPLY_MEDIAN_MIN), 0.9, n) * np.exp(-REPLY_ENG * eng) * speed
        )
        first_reply = calendar.next_business_time(
            _secs(created + pd.to_timedelta(reply_delay * 60, unit="s")), rng
        )
        no_reply = rng.random(n) < 0.02
        solve_h = (
            rng.lognormal(np.log(RESOLVE_MEDIAN_H), 1.0, n) * np.exp(-RESOLVE_ENG * eng) * speed
        )
        solved = calendar.next_business_time(
            _secs(first_reply + pd.to_timedelta(solve_h * 3600, unit="s")), rng
        )
        n_replies = np.where(rng.random(n) < _sigmoid(0.4 + 0.5 * eng), 1, rng.integers(2, 5, n))
        n_replies = np.where(no_reply, 0, n_replies)
        reopened = rng.random(n) < REOPEN_BASE * np.exp(-REOPEN_ENG * eng)
        reopen_at = _secs(solved + pd.to_timedelta(rng.uniform(0.3, 3.0, n) * 86400, unit="s"))
        reply2 = calendar.next_business_time(
            _secs(reopen_at + pd.to_timedelta(rng.lognormal(np.log(60), 0.8, n) * 60, unit="s")),
            rng,
        )
        solved2 = calendar.next_business_time(
            _secs(reply2 + pd.to_timedelta(rng.lognormal(np.log(6), 0.8, n) * 3600, unit="s")), rng
        )
        last_solved = solved2.where(reopened, solved)
        res_hours = (last_solved - created).dt.total_seconds() / 3600
        # the journey: tickets in the first 90 days of the first contract (onboarding) are rated
        # lower, more so for the customers whose onboarding went badly (their own stream)
        rough = _rng(c.seed, "onboarding").random(len(self.companies)) < ROUGH_ONBOARD_P
        acquired = self.companies.acquired_at.to_numpy()[cidx]
        onboarding = (created < acquired + pd.Timedelta(days=ONBOARD_DAYS)).to_numpy()
        p_sat = _sigmoid(
            CSAT_BASE
            + CSAT_ENG * eng
            - CSAT_SLOW * np.log(np.maximum(res_hours, 0.1) / 24)
            - CSAT_REOPEN * reopened
            - onboarding * (ONBOARD_CSAT + ROUGH_ONBOARD_CSAT * rough[cidx])
        )
        self.companies["rough_onboarding"] = rough & self.companies.is_customer.to_numpy()
        self.tickets = pd.DataFrame(
            {
                "ticket_id": np.arange(1, n + 1),
                "company_idx": cidx,
                "organization_id": self.companies.org_id.to_numpy()[cidx],
                "requester_id": requester,
                "assignee_employee_id": assignee_emp,
                "team_idx": team_idx,
                "engagement": eng,
                "channel": CHANNELS[rng.choice(5, n, p=[0.35, 0.35, 0.15, 0.05, 0.1])],
                "priority": PRIORITIES[prio],
                "type": TICKET_TYPES[rng.choice(4, n, p=[0.45, 0.35, 0.1, 0.1])],
                "product_area": PRODUCT_AREAS[rng.integers(len(PRODUCT_AREAS), size=n)],
                "created_at": created,
                "first_reply_at": first_reply.where(~no_reply),
                "has_internal_note": rng.random(n) < 0.1,
                "n_public_replies": n_replies,
                "solved_at": solved,
                "is_reopened": reopened,
                "reopened_at": reopen_at.where(reopened),
                "reply2_at": reply2.where(reopened),
                "solved2_at": solved2.where(reopened),
                "closed_at": last_solved + pd.Timedelta(days=4),
                "p_satisfied": p_sat,
                "is_onboarding": onboarding,
            }
        )
        self.tickets["assignee_id"] = np.where(assignee_emp > 0, 380000000000 + assignee_emp, 0)
        self.tickets["group_id"] = np.where(
            team_idx >= 0, self.teams.group_id.to_numpy()[np.maximum(team_idx, 0)], 0
        )

    def _pick_agents(
        self, created: pd.Series, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each ticket, a random agent employed in a support team that day (vectorised)."""
        seg = self.agent_segments
        day_lo = seg["from"].dt.floor("D").to_numpy()
        day_hi = seg["to"].dt.floor("D").to_numpy()
        ndays = ((day_hi - day_lo) / np.timedelta64(1, "D")).astype(int)
        rows = np.repeat(np.arange(len(seg)), ndays)
        days = np.repeat(day_lo, ndays) + (
            np.arange(len(rows)) - np.repeat(np.cumsum(ndays) - ndays, ndays)
        ).astype("timedelta64[D]")
        roster = pd.DataFrame({"day": days, "row": rows}).sort_values(
            ["day", "row"], ignore_index=True
        )
        day_keys = roster["day"].to_numpy()
        tday = created.dt.tz_localize(None).dt.floor("D").to_numpy()
        lo = np.searchsorted(day_keys, tday, "left")
        hi = np.searchsorted(day_keys, tday, "right")
        has = hi > lo
        pick = lo + (rng.random(len(tday)) * (hi - lo)).astype(int)
        pick = np.where(has, pick, 0)
        srow = roster["row"].to_numpy()[pick]
        emp = np.where(has, seg.employee_id.to_numpy()[srow], 0)
        team = np.where(has, seg.team_idx.to_numpy()[srow], -1)
        return emp, team

    def _build_churn_and_deals(self) -> None:
        """Yearly renewals; churn odds rise with the customer's support dissatisfaction."""
        c, rng = self.config, _rng(self.config.seed, "deals")
        comp = self.companies
        t = self.tickets
        churn_at = pd.Series(pd.NaT, index=comp.index, dtype="datetime64[us, UTC]")
        deals = []
        cust = comp[comp.is_customer]
        acv = SEGMENT_ACV[cust.segment_idx] * rng.lognormal(0, 0.3, len(cust))
        contract_start = cust.acquired_at.copy()
        year = 0
        alive = np.ones(len(cust), bool)
        while True:
            contract_end = contract_start + pd.DateOffset(years=1)
            deals.append(
                pd.DataFrame(
                    {
                        "company_idx": cust.index.to_numpy(),
                        "contract_start": contract_start.to_numpy(),
                        "contract_end": contract_end.to_numpy(),
                        "amount": np.round(acv * 1.05**year, 2),
                        "won": alive,
                        "renewal_no": year,
                        "alive_before": alive.copy(),
                    }
                )
            )
            # renewal decision at contract_end for those still alive and ending before the horizon
            due = alive & (contract_end < c.end).to_numpy()
            if not due.any():
                break
            window_lo = (contract_end - pd.Timedelta(days=365)).to_numpy()
            window_hi = (contract_end - pd.Timedelta(days=21)).to_numpy()
            cpos = pd.Series(np.arange(len(cust)), index=cust.index)
            tpos = cpos.reindex(t.company_idx).to_numpy()
            in_win = (t.created_at.to_numpy() >= window_lo[tpos]) & (
                t.created_at.to_numpy() < window_hi[tpos]
            )
            dissat = pd.Series(1 - t.p_satisfied[in_win].to_numpy()).groupby(tpos[in_win]).mean()
            d = dissat.reindex(np.arange(len(cust))).fillna(0.25).to_numpy()
            p = CHURN_BASE + CHURN_DISSAT * (d - 0.25)
            if year == 0:  # the first renewal: a poor onboarding raises churn
                onb = t.is_onboarding.to_numpy() & ~pd.isna(tpos)
                d_onb = (
                    pd.Series(1 - t.p_satisfied[onb].to_numpy()).groupby(tpos[onb]).mean()
                ).reindex(np.arange(len(cust)))
                p = p + ONBOARD_CHURN * (d_onb.fillna(ONBOARD_DISSAT0).to_numpy() - ONBOARD_DISSAT0)
            p = np.clip(p, 0.02, 0.6 if year else 0.9)
            churn = due & (rng.random(len(cust)) < p)
            churn_at.loc[cust.index[churn]] = contract_end[churn].to_numpy()
            alive = due & ~churn
            contract_start = contract_end
            year += 1
        deals = pd.concat(deals, ignore_index=True)
        deals = deals[deals.alive_before | (deals.renewal_no == 0)]
        # a renewal attempt for a churning customer is a lost deal at the renewal date
        deals = deals[deals.contract_start < c.end].reset_index(drop=True)
        lead = rng.integers(15, 60, len(deals))
        deals["created_at"] = _secs(
            deals.contract_start
            - pd.to_timedelta(lead, unit="D")
            + pd.to_timedelta(rng.integers(0, 86400, len(deals)), unit="s")
        )
        # a deal is created in the CRM after its company (the journey's stage order needs it)
        company_created = comp.created_at.to_numpy()[deals.company_idx.to_numpy()]
        deals["created_at"] = np.maximum(
            deals.created_at, pd.Series(company_created + pd.Timedelta(hours=1))
        )
        deals["close_at"] = deals.contract_start + pd.to_timedelta(
            rng.integers(9 * 3600, 17 * 3600, len(deals)), unit="s"
        )
        # non-customers: one lost deal each for half of them
        non = comp[~comp.is_customer & (rng.random(len(comp)) < 0.5)]
        lost_created = non.created_at + pd.to_timedelta(rng.integers(10, 120, len(non)), unit="D")
        lost = pd.DataFrame(
            {
                "company_idx": non.index.to_numpy(),
                "contract_start": pd.NaT,
                "contract_end": pd.NaT,
                "amount": np.round(SEGMENT_ACV[non.segment_idx] * 0.8, 2),
                "won": False,
                "renewal_no": 0,
                "created_at": lost_created.to_numpy(),
                "close_at": (lost_created + pd.Timedelta(days=30)).to_numpy(),
            }
        )
        lost = lost[lost.created_at < c.end]
        deals = pd.concat([deals.drop(columns="alive_before"), lost], ignore_index=True)
        deals = deals.sort_values(["created_at", "company_idx"], ignore_index=True)
        deals["deal_id"] = 30_000_000_000 + np.arange(len(deals))
        deals["company_id"] = comp.company_id.to_numpy()[deals.company_idx]
        self.deals = deals
        comp["churned_at"] = churn_at
        # tickets after churn never happen
        ch = comp.churned_at.reindex(t.company_idx).to_numpy()
        gone = ~pd.isna(ch) & (t.created_at.to_numpy() >= ch)
        t = t[~gone].reset_index(drop=True)
        t["ticket_id"] = np.arange(1, len(t) + 1)
        self.tickets = t

    def _build_ticket_events(self) -> None:
        """Ticket audits as a long table: one row per child event, grouped by audit id."""
        c, rng = self.config, _rng(self.config.seed, "events")
        t = self.tickets
        n = len(t)
        parts = []

        def add(
            mask,
            ts,
            updater,
            via,
            kind,
            field=None,
            value=None,
            prev=None,
            author=None,
            public=None,
            body=None,
            seq=0,
        ):
            idx = np.flatnonzero(mask)
            parts.append(
                pd.DataFrame(
                    {
                        "ticket_idx": idx,
                        "ts": ts[idx] if isinstance(ts, np.ndarray) else ts.to_numpy()[idx],
                        "seq": seq,
                        "updater_id": np.broadcast_to(updater, n)[idx],
                        "via": np.broadcast_to(via, n)[idx],
                        "child_type": kind,
                        "field": field,
                        "value": None if value is None else np.broadcast_to(value, n)[idx],
                        "previous_value": None if prev is None else np.broadcast_to(prev, n)[idx],
                        "author_id": None if author is None else np.broadcast_to(author, n)[idx],
                        "public": None if public is None else np.broadcast_to(public, n)[idx],
                        "body": None if body is None else np.broadcast_to(body, n)[idx],
                    }
                )
            )

        all_ = np.ones(n, bool)
        req = t.requester_id.to_numpy()
        agent = t.assignee_id.to_numpy()
        via = np.vectorize(CHANNEL_VIA.get)(t.channel.to_numpy())
        created = t.created_at
        # own streams (nothing else drawn moves): phone tickets an agent opens for the caller
        # (the agent submits the request and writes its first comment), and escalations (the
        # ticket opens one priority lower and is raised before the first answer)
        opener = _rng(c.seed, "agent-created")
        agent_created = (t.channel == "voice").to_numpy() & (opener.random(n) < AGENT_CREATED_SHARE)
        esc_rng = _rng(c.seed, "escalations")
        first_answer = t.first_reply_at.fillna(t.solved_at)
        esc_ts = _secs(created + (first_answer - created) * esc_rng.uniform(0.1, 0.5, n))
        escalated = (
            t.priority.isin(list(ESCALATED_FROM)).to_numpy()
            & (esc_rng.random(n) < ESCALATED_SHARE)
            & ~agent_created  # raised before any agent comment: no update metric runs yet
            & (created > sla.edit_at(c.start)).to_numpy()  # one re-application at a time
            & (esc_ts > created).to_numpy()
            & (esc_ts < first_answer).to_numpy()
        )
        opened_as = np.where(escalated, t.priority.map(ESCALATED_FROM), t.priority)
        self.tickets["submitter_id"] = np.where(agent_created, agent, req)
        self.tickets["escalated_at"] = esc_ts.where(escalated)
        self.tickets["opened_priority"] = opened_as
        opened_by = np.where(agent_created, agent, req)
        # creation audit
        add(all_, created, opened_by, via, "Create", "status", "new", seq=0)
        add(all_, created, opened_by, via, "Create", "priority", opened_as, seq=1)
        add(
            all_,
            created,
            opened_by,
            via,
            "Create",
            "group_id",
            t.group_id.astype(str).to_numpy(),
            seq=2,
        )
        add(
            all_,
            created,
            opened_by,
            via,
            "Create",
            "assignee_id",
            t.assignee_id.astype(str).to_numpy(),
            seq=3,
        )
        add(
            all_,
            created,
            opened_by,
            via,
            "Comment",
            author=opened_by,
            public=True,
            body=np.where(agent_created, "Logged from a call", "Customer request"),
            seq=4,
        )
        add(
            escalated,
            esc_ts,
            agent,
            "Web form",
            "Change",
            "priority",
            t.priority.to_numpy(),
            opened_as,
            seq=0,
        )
        # internal note before the first public reply
        fr = t.first_reply_at
        note_ts = _secs(created + (fr.fillna(t.solved_at) - created) / 2)
        add(
            t.has_internal_note.to_numpy(),
            note_ts,
            agent,
            "Web form",
            "Comment",
            author=agent,
            public=False,
            body="Internal note",
            seq=0,
        )
        has_reply = fr.notna().to_numpy()
        add(
            has_reply,
            fr,
            agent,
            "Web form",
            "Comment",
            author=agent,
            public=True,
            body="Agent reply",
            seq=0,
        )
        # some first replies put the ticket on hold (waiting on a third party) rather than
        # pending: the requester still waits, the agent's work pauses (the SLA engine's
        # requester wait and agent work differ there); own stream, so nothing else moves
        on_hold = _rng(c.seed, "on-hold").random(n) < ON_HOLD_SHARE
        after_reply = np.where(on_hold, "hold", "pending")
        add(has_reply, fr, agent, "Web form", "Change", "status", after_reply, "new", seq=1)
        # extra rounds between first reply and solve: customer writes back, agent answers
        extra = t.n_public_replies.to_numpy() - 1
        span = t.solved_at - fr
        for k in range(1, 4):
            m = extra >= k
            cust_ts = _secs(fr + span * ((k - 0.5) / (extra.clip(1) + 0.5)))
            ag_ts = _secs(fr + span * (k / (extra.clip(1) + 0.5)))
            add(
                m,
                cust_ts,
                req,
                via,
                "Comment",
                author=req,
                public=True,
                body="Customer follow-up",
                seq=0,
            )
            prev = after_reply if k == 1 else "pending"
            add(m, cust_ts, req, via, "Change", "status", "open", prev, seq=1)
            add(
                m,
                ag_ts,
                agent,
                "Web form",
                "Comment",
                author=agent,
                public=True,
                body="Agent reply",
                seq=0,
            )
            add(m, ag_ts, agent, "Web form", "Change", "status", "pending", "open", seq=1)
        prev_solve = np.where(has_reply, np.where(extra >= 1, "pending", after_reply), "new")
        add(all_, t.solved_at, agent, "Web form", "Change", "status", "solved", prev_solve)
        ro = t.is_reopened.to_numpy()
        add(
            ro,
            t.reopened_at,
            req,
            via,
            "Comment",
            author=req,
            public=True,
            body="Still broken",
            seq=0,
        )
        add(ro, t.reopened_at, req, via, "Change", "status", "open", "solved", seq=1)
        add(
            ro,
            t.reply2_at,
            agent,
            "Web form",
            "Comment",
            author=agent,
            public=True,
            body="Agent reply",
            seq=0,
        )
        add(ro, t.reply2_at, agent, "Web form", "Change", "status", "pending", "open", seq=1)
        add(ro, t.solved2_at, agent, "Web form", "Change", "status", "solved", "pending")
        add(
            all_,
            t.closed_at,
            SYSTEM_USER,
            "Closed by automation",
            "Change",
            "status",
            "closed",
            "solved",
        )
        # dirty: deleted tickets (a status change to "deleted" a few days after creation)
        deleted = rng.random(n) < c.dirty_rate
        del_ts = _secs(created + pd.to_timedelta(rng.uniform(1, 10, n) * 86400, unit="s"))
        ev = pd.concat(parts, ignore_index=True)
        ev["ts"] = pd.to_datetime(ev["ts"], utc=True)
        ev = ev[ev.ts < c.end].reset_index(drop=True)
        # a deleted ticket has no events after its deletion
        cut = del_ts.where(deleted).iloc[ev.ticket_idx.to_numpy()].reset_index(drop=True)
        ev = ev[(cut.isna() | (ev.ts < cut)).to_numpy()]
        d = np.flatnonzero(deleted & (del_ts < c.end).to_numpy())
        last_status = ev[ev.field == "status"].groupby("ticket_idx").value.last()
        dele = pd.DataFrame(
            {
                "ticket_idx": d,
                "ts": del_ts.to_numpy()[d],
                "seq": 9,
                "updater_id": agent[d],
                "via": "Web form",
                "child_type": "Change",
                "field": "status",
                "value": "deleted",
                "previous_value": last_status.reindex(d).to_numpy(),
            }
        )
        ev = pd.concat([ev, dele], ignore_index=True)
        ev["ts"] = pd.to_datetime(ev["ts"], utc=True)
        ev = ev.sort_values(["ts", "ticket_idx", "seq"], kind="stable", ignore_index=True)
        # audit = all children of one ticket at one instant by one updater
        key = ev.ticket_idx.astype(np.int64) * 10**11 + ev.ts.astype("datetime64[s, UTC]").astype(
            "int64"
        )
        new_audit = np.r_[True, key.to_numpy()[1:] != key.to_numpy()[:-1]]
        ev["audit_id"] = 900_000_000_000 + np.cumsum(new_audit)
        ev["child_id"] = 950_000_000_000 + np.arange(len(ev))
        ev["ticket_id"] = t.ticket_id.to_numpy()[ev.ticket_idx]
        self.ticket_events = ev
        self.tickets["deleted_at"] = del_ts.where(deleted)

    # ---- surveys -------------------------------------------------------------
    def _build_surveys(self) -> None:
        c, rng = self.config, _rng(self.config.seed, "surveys")
        ids = _ids(rng, "SV_", 3)
        self.surveys = pd.DataFrame(
            {
                "survey_id": ids,
                "kind": ["csat", "nps", "enps"],
                "name": [
                    "Post-ticket CSAT",
                    "Customer relationship NPS",
                    "Employee engagement pulse",
                ],
                "created_at": [c.start - pd.Timedelta(days=d) for d in (90, 120, 60)],
            }
        )
        parts = []
        # post-ticket CSAT + CES: 40% of solved tickets answer, 0.2-3 days after the last solve
        t = self.tickets
        last_solve = t.solved2_at.fillna(t.solved_at)
        ans = (rng.random(len(t)) < 0.4) & t.deleted_at.isna().to_numpy()
        rec = _secs(last_solve + pd.to_timedelta(rng.uniform(0.2, 3, len(t)) * 86400, unit="s"))
        sat = rng.random(len(t)) < t.p_satisfied.to_numpy()
        csat = np.where(
            sat,
            rng.choice([4, 5], len(t), p=[0.55, 0.45]),
            rng.choice([1, 2, 3], len(t), p=[0.3, 0.3, 0.4]),
        )
        ces = np.clip(
            np.round(np.where(sat, rng.normal(5.8, 0.9, len(t)), rng.normal(3.2, 1.2, len(t)))),
            1,
            7,
        ).astype(int)
        m = ans & (rec < c.end).to_numpy()
        parts.append(
            pd.DataFrame(
                {
                    "survey_idx": 0,
                    "recorded_at": rec[m].to_numpy(),
                    "ticket_id": t.ticket_id[m].to_numpy(),
                    "q1": csat[m],
                    "q2": ces[m],
                }
            )
        )
        # relationship NPS: quarterly, 15% of contacts of companies that are customers then
        comp = self.companies
        quarters = pd.date_range(c.start, c.end, freq="QS", tz="UTC")
        dissat = (1 - t.p_satisfied).groupby(t.company_idx).mean()
        for q in quarters:
            ct = self.contacts
            cust = comp.acquired_at.reindex(ct.company_idx).to_numpy()
            churn = comp.churned_at.reindex(ct.company_idx).to_numpy()
            ok = (
                ~pd.isna(cust)
                & (cust < q)
                & (pd.isna(churn) | (churn > q))
                & (rng.random(len(ct)) < 0.15)
            )
            rec = q + pd.to_timedelta(rng.uniform(3, 60, ok.sum()) * 86400, unit="s")
            d = dissat.reindex(ct.company_idx[ok]).fillna(0.25).to_numpy()
            score = np.clip(np.round(rng.normal(8.6 - 6 * (d - 0.25) * 2, 2.0)), 0, 10).astype(int)
            parts.append(
                pd.DataFrame(
                    {
                        "survey_idx": 1,
                        "recorded_at": _secs(rec).to_numpy(),
                        "contact_idx": np.flatnonzero(ok),
                        "q1": score,
                    }
                )
            )
        # employee pulse: monthly, every employee employed that day answers with p~0.65
        seg = self.team_segments
        for mi, month in enumerate(self.months):
            day = (month + pd.Timedelta(days=14)).tz_localize(None)
            act = seg[(seg["from"] <= day) & (seg["to"] > day)]
            eng = self.engagement[act.team_idx.to_numpy(), mi]
            take = rng.random(len(act)) < 0.55 + 0.1 * np.tanh(eng)
            a = act[take]
            e = eng[take] + rng.normal(0, 0.7, take.sum())
            items = np.clip(
                np.round(3.6 + 0.9 * e[:, None] + rng.normal(0, 0.8, (take.sum(), 5))), 1, 5
            ).astype(int)
            enps = np.clip(np.round(7.4 + 1.8 * e + rng.normal(0, 1.2, take.sum())), 0, 10).astype(
                int
            )
            hire = (
                self.periods.groupby("employee_id")
                .hire_date.min()
                .reindex(a.employee_id)
                .to_numpy()
            )
            tenure_years = (np.datetime64(day) - hire) / np.timedelta64(365, "D")
            band = np.select([tenure_years < 1, tenure_years < 3], ["<1y", "1-3y"], "3y+")
            rec = (
                month
                + pd.Timedelta(days=10)
                + pd.to_timedelta(rng.uniform(0, 10, take.sum()) * 86400, unit="s")
            )
            parts.append(
                pd.DataFrame(
                    {
                        "survey_idx": 2,
                        "recorded_at": _secs(rec).to_numpy(),
                        "team_idx": a.team_idx.to_numpy(),
                        "tenure_band": band,
                        "q1": enps,
                        **{f"q{k + 2}": items[:, k] for k in range(5)},
                    }
                )
            )
        r = pd.concat(parts, ignore_index=True)
        r = r[r.recorded_at < c.end].sort_values(
            ["recorded_at", "survey_idx"], kind="stable", ignore_index=True
        )
        r["response_id"] = _ids(rng, "R_", len(r))
        r["duration"] = rng.integers(30, 600, len(r))
        self.responses = r

    # ---- the journey: lifecycle stage histories -------------------------------
    def _build_lifecycle(self) -> None:
        """HubSpot lifecycle stage history of every company and contact, consistent with the
        deals, contracts and surveys above (its own random stream: nothing above changes).

        Companies: `subscriber` or `lead` at creation; leads that never convert (some become
        marketing-qualified and stop); `marketingqualifiedlead`/`salesqualifiedlead` on the way to
        the first deal, `opportunity` when it is created; a lost first deal moves the company
        back to `lead`, which HubSpot allows only after clearing the value (a `""` entry, then
        `lead`); `customer` when the first deal is won; `evangelist` for half the customers whose
        contact answered NPS as a promoter (9-10), at that answer; `other` when the customer
        churns. Contacts follow their company's changes after they were created, and become
        `evangelist` themselves at their own promoter answer (their company with them).
        """
        c, rng = self.config, _rng(self.config.seed, "lifecycle")
        comp, deals, ct = self.companies, self.deals, self.contacts
        hour, day = pd.Timedelta(hours=1), pd.Timedelta(days=1)
        first = (
            deals[deals.renewal_no == 0].sort_values("created_at").drop_duplicates("company_idx")
        )
        first = first.set_index("company_idx")
        n = len(comp)
        r_sub, r_mql, r_sql, r_never = (rng.random(n) for _ in range(4))
        lead_lag = rng.uniform(3, 40, n)
        never_mql_at = rng.uniform(10, 300, n)
        # promoters: the first promoter answer of each contact while its company is a customer
        resp = self.responses
        nps = resp[(resp.survey_idx == 1) & (resp.q1 >= 9)]
        nps = nps.assign(contact_idx=nps.contact_idx.astype(int))
        nps = nps.sort_values("recorded_at").drop_duplicates("contact_idx")
        ev_contact = pd.Series(
            rng.random(len(nps)) < 0.5, index=nps.contact_idx.to_numpy()
        )  # which promoters the company marks as evangelists
        nps = nps[ev_contact.to_numpy()]
        nps_company = ct.company_idx.to_numpy()[nps.contact_idx.to_numpy()]
        evangelist_at = (
            pd.Series(nps.recorded_at.to_numpy(), index=nps_company).groupby(level=0).min() + hour
        )
        contact_ev_at = pd.Series(nps.recorded_at.to_numpy() + hour, index=nps.contact_idx)

        company_rows: list[tuple] = []  # (company_idx, ts, value, source)
        milestones: dict[int, list[tuple]] = {}  # company changes its contacts follow
        for i in range(n):
            created = comp.created_at.iat[i]
            rows = [(created, "subscriber" if r_sub[i] < 0.3 else "lead", "FORM")]
            if rows[0][1] == "subscriber":
                lead_at = created + lead_lag[i] * day
                if i in first.index:  # a lead before its first deal is created
                    lead_at = min(lead_at, created + (first.loc[i].created_at - created) / 2)
                rows.append((lead_at, "lead", "AUTOMATION_PLATFORM"))
            follow: list[tuple] = []
            if i in first.index:
                d = first.loc[i]
                opp = max(d.created_at, rows[-1][0] + pd.Timedelta(seconds=1))
                lo = rows[-1][0]
                if r_mql[i] < 0.8:
                    follow.append(
                        (lo + (opp - lo) / 3, "marketingqualifiedlead", "AUTOMATION_PLATFORM")
                    )
                if r_sql[i] < 0.6:
                    follow.append((lo + (opp - lo) * 2 / 3, "salesqualifiedlead", "CRM_UI"))
                follow.append((opp, "opportunity", "CRM_UI"))
                close = max(d.close_at, opp + hour)
                if d.won:
                    follow.append((close, "customer", "AUTOMATION_PLATFORM"))
                    if i in evangelist_at.index and evangelist_at[i] > close:
                        churn = comp.churned_at.iat[i]
                        if pd.isna(churn) or evangelist_at[i] < churn:
                            follow.append((evangelist_at[i], "evangelist", "AUTOMATION_PLATFORM"))
                    churn = comp.churned_at.iat[i]
                    if pd.notna(churn):  # the contract ended unrenewed: a former customer
                        follow.append((churn + 10 * hour, "other", "CRM_UI"))
                else:  # back to lead: clear the value, then set it
                    follow += [
                        (close, "", "CRM_UI"),
                        (close + pd.Timedelta(seconds=1), "lead", "CRM_UI"),
                    ]
            elif r_never[i] < 0.35:  # a lead that never converts
                follow.append(
                    (
                        created + never_mql_at[i] * day,
                        "marketingqualifiedlead",
                        "AUTOMATION_PLATFORM",
                    )
                )
            rows = [r for r in rows if not follow or r[0] < follow[0][0]] + follow
            company_rows += [(i, *r) for r in rows]
            milestones[i] = [r for r in follow if r[1] != "evangelist"]

        contact_rows: list[tuple] = []
        r_csub = rng.random(len(ct))
        for j in range(len(ct)):
            created, i = ct.created_at.iat[j], int(ct.company_idx.iat[j])
            rows = [(created, "subscriber" if r_csub[j] < 0.3 else "lead", "FORM")]
            later = [r for r in milestones[i] if r[0] > created]
            if j in contact_ev_at.index:
                at = contact_ev_at[j]
                customer = [r[0] for r in later if r[1] == "customer"]
                churn = [r[0] for r in later if r[1] == "other"]
                if customer and at > customer[0] and (not churn or at < churn[0]):
                    later = sorted([*later, (at, "evangelist", "AUTOMATION_PLATFORM")])
            contact_rows += [(j, *r) for r in [*rows, *later]]

        def frame(rows, object_type, ids):
            f = pd.DataFrame(rows, columns=["idx", "ts", "value", "source_type"])
            f["ts"] = _secs(pd.to_datetime(f.ts, utc=True))
            f = f[f.ts < c.end]
            f.insert(0, "object_id", ids[f.idx.to_numpy()])
            f.insert(0, "object_type", object_type)
            return f

        hist = pd.concat(
            [
                frame(company_rows, "companies", comp.company_id.to_numpy()),
                frame(contact_rows, "contacts", ct.contact_id.to_numpy()),
            ],
            ignore_index=True,
        )
        hist = hist.sort_values(
            ["object_type", "object_id", "ts"], kind="stable", ignore_index=True
        )
        ui = (hist.source_type == "CRM_UI").to_numpy()
        users = 1_000_100 + rng.integers(0, 25, len(hist))
        hist["updated_by_user_id"] = np.where(ui, users, 0)
        hist["source_id"] = np.where(
            ui,
            "userId:" + users.astype(str),
            np.where(
                hist.source_type == "FORM",
                "form:signup",
                "enrollmentId:" + (7_000_000 + np.arange(len(hist))).astype(str),
            ),
        )
        self.lifecycle = hist

    # ---- ground truth -----------------------------------------------------
    @cached_property
    def summary(self) -> dict[str, int]:
        return {
            "employees": len(self.people),
            "support_agents": len(self.agents),
            "companies": len(self.companies),
            "contacts": len(self.contacts),
            "deals": len(self.deals),
            "tickets": len(self.tickets),
            "ticket_audits": int(self.ticket_events.audit_id.nunique()),
            "survey_responses": len(self.responses),
            "lifecycle_changes": len(self.lifecycle),
        }


def generate(scale: float = 1.0, seed: int = 42, dirty_rate: float = 0.01) -> World:
    return World(SimConfig(scale=scale, seed=seed, dirty_rate=dirty_rate))
