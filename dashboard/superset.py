"""Apache Superset on the published marts (`xm bi superset`; docs/bi.md).

Superset's pins conflict with the project's (SQLAlchemy < 2, pandas < 2.2, DuckDB < 2), so it
lives in a virtual environment of its own and is only ever run as a subprocess: nothing
here imports it. The steps:

1. `install`: the environment, with Superset, duckdb-engine and DuckDB 1.x (the published
   snapshot is written in a storage format 1.x reads).
2. `initialise`: a `superset_config.py` (SQLite metadata in the home directory, a generated
   secret key, a content security policy allowing this server only, so the web UI's
   analytics pixel and map tiles are never fetched), then the metadata database's
   migrations, an admin login and the default roles, in one Python process.
3. `start`: gunicorn on loopback; `Api` then registers the snapshot (`duckdb:///...` with
   `access_mode=read_only`, or the PostgreSQL `published` schema as the BI role) and a
   dataset per mart through Superset's REST API.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from dashboard.venvs import build_venv, python_of

SUPERSET_VERSION = "6.1.0"
REQUIREMENTS = [
    f"apache-superset=={SUPERSET_VERSION}",
    "duckdb-engine==0.17.0",
    "duckdb>=1.1,<2",
    # Superset 6.1.0 declares ranges that admit versions it fails with:
    "flask-limiter<4",  # 4.x no longer brings `rich`, which Superset's CLI imports
    "flask-caching<2.4",  # 2.4+ passes an argument Superset's metastore cache refuses
    "cachetools>=5",  # imported by Superset's engine specs, not declared by it
    "gunicorn>=27",  # for --no-control-socket (no socket in ~/.gunicorn shared by servers)
]
POSTGRES_REQUIREMENTS = ["psycopg2-binary>=2.9"]
ADMIN = "admin"
DATABASE_NAME = "Experience Warehouse (published marts)"

CONFIG = textwrap.dedent(
    '''
    """Written by `xm bi superset` (dashboard/superset.py): a local Superset on the published marts."""
    import os

    HOME = os.environ["SUPERSET_HOME"]
    SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
    SQLALCHEMY_DATABASE_URI = "sqlite:///" + os.path.join(HOME, "superset.db")
    DATA_DIR = HOME
    FEATURE_FLAGS = {}  # nothing beyond Superset's defaults
    # no request leaves this machine: the web UI may load from this server only (the
    # default policy also allows an analytics pixel, map tiles and web fonts)
    TALISMAN_ENABLED = True
    TALISMAN_CONFIG = {
        "content_security_policy": {
            "base-uri": ["'self'"],
            "default-src": ["'self'"],
            "img-src": ["'self'", "blob:", "data:"],
            "worker-src": ["'self'", "blob:"],
            "connect-src": ["'self'"],
            "object-src": "'none'",
            "style-src": ["'self'", "'unsafe-inline'"],
            "font-src": ["'self'", "data:"],
            "script-src": ["'self'", "'strict-dynamic'"],
        },
        "content_security_policy_nonce_in": ["script-src"],
        "force_https": False,
        "session_cookie_secure": False,
    }
    CONTENT_SECURITY_POLICY_WARNING = False
    SQLLAB_CTAS_NO_LIMIT = True
    '''
)

INIT = textwrap.dedent(
    """
    import sys
    from superset.cli.main import superset

    password = sys.stdin.read().strip()
    for args in (
        ["db", "upgrade"],
        ["fab", "create-admin", "--username", "admin", "--firstname", "Superset",
         "--lastname", "Admin", "--email", "admin@localhost", "--password", password],
        ["init"],
    ):
        try:
            superset.main(args=args, standalone_mode=False, prog_name="superset")
        except SystemExit as e:
            if e.code:
                raise
    """
)


class SupersetError(RuntimeError):
    pass


def requirements(postgres: bool = False) -> list[str]:
    return REQUIREMENTS + (POSTGRES_REQUIREMENTS if postgres else [])


def default_venv(postgres: bool = False) -> Path:
    """A cache directory per set of requirements, shared by every data dir and test run."""
    digest = hashlib.sha256("\n".join(requirements(postgres)).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "experience-warehouse" / f"superset-{digest}"


def duckdb_uri(snapshot: Path) -> str:
    """The SQLAlchemy URI of the DuckDB snapshot, read-only (duckdb-engine)."""
    return f"duckdb:///{Path(snapshot).resolve()}?access_mode=read_only"


@dataclass
class Superset:
    home: Path  # superset_config.py, superset.db, secret key, admin password, server log
    venv: Path = field(default_factory=default_venv)
    port: int = 8088
    host: str = "127.0.0.1"
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log(self) -> Path:
        return self.home / "superset.log"

    def _secret(self, name: str, size: int) -> str:
        path = self.home / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(size))
            path.chmod(0o600)
        return path.read_text().strip()

    @property
    def password(self) -> str:
        """The admin login's password: generated once, kept in the home directory (0600)."""
        return os.environ.get("XM_SUPERSET_PASSWORD") or self._secret("admin_password", 12)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env.update(
            SUPERSET_HOME=str(self.home),
            SUPERSET_CONFIG_PATH=str(self.home / "superset_config.py"),
            SUPERSET_SECRET_KEY=os.environ.get("SUPERSET_SECRET_KEY")
            or self._secret("secret_key", 42),
            FLASK_APP="superset",
            SUPERSET_LOAD_EXAMPLES="no",
            PATH=f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        )
        return env

    def install(self, postgres: bool = False, echo=print) -> None:
        """Superset's own environment (minutes the first time; a check afterwards)."""
        marker = self.venv / ".xm-installed"
        wanted = "\n".join(requirements(postgres))
        if marker.exists() and marker.read_text() == wanted:
            return
        python = _base_python()
        build_venv(self.venv, requirements(postgres), python=python, echo=echo)
        marker.write_text(wanted)

    def initialise(self, echo=print) -> None:
        """Configuration, metadata database, admin login, roles (once per home directory)."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "superset_config.py").write_text(CONFIG)
        marker = self.home / ".xm-initialised"
        if marker.exists():
            return
        echo(f"initialising Superset in {self.home} (metadata database, admin login, roles) ...")
        with self.log.open("a") as log:
            proc = subprocess.run(
                [str(python_of(self.venv)), "-c", INIT],
                input=self.password,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=self.home,
            )
        if proc.returncode != 0:
            raise SupersetError(f"superset initialisation failed: see {self.log}\n{self._tail()}")
        marker.touch()

    def start(self, timeout: float = 300, echo=print) -> None:
        """gunicorn on loopback, one worker with threads; returns when /health answers."""
        echo(f"starting Superset on {self.url} ...")
        log = self.log.open("a")
        self.process = subprocess.Popen(
            [
                str(self.venv / "bin" / "gunicorn"),
                "--bind",
                f"{self.host}:{self.port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--timeout",
                "300",
                "--limit-request-line",
                "0",
                "--limit-request-field_size",
                "0",
                "--no-control-socket",
                "superset.app:create_app()",
            ],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.home,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SupersetError(f"Superset exited ({self.process.returncode}):\n{self._tail()}")
            try:
                if requests.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1)
        self.stop()
        raise SupersetError(f"Superset did not answer within {timeout:.0f}s:\n{self._tail()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 15)  # gunicorn and its worker (our own session)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.process = None

    def _tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""


def _base_python() -> str:
    """The interpreter to build Superset's environment on: the one under our venv."""
    base = (
        Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    )
    return str(base) if base.exists() else (shutil.which("python3") or sys.executable)


class Api:
    """The few calls of Superset's REST API the recipe and the test need (a logged-in session
    with a CSRF token, as the web UI has)."""

    def __init__(self, url: str, username: str, password: str) -> None:
        self.url = url.rstrip("/")
        self.session = requests.Session()
        token = self._call(
            "POST",
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )["access_token"]
        self.session.headers["Authorization"] = f"Bearer {token}"
        csrf = self._call("GET", "/api/v1/security/csrf_token/")["result"]
        self.session.headers.update({"X-CSRFToken": csrf, "Referer": self.url})

    def _call(self, method: str, path: str, **kwargs) -> dict[str, Any]:
        response = self.session.request(method, self.url + path, timeout=300, **kwargs)
        if response.status_code >= 400:
            raise SupersetError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json()

    def _find(self, resource: str, column: str, value: str) -> int | None:
        query = json.dumps({"filters": [{"col": column, "opr": "eq", "value": value}]})
        found = self._call("GET", f"/api/v1/{resource}/", params={"q": _rison(query)})
        return found["ids"][0] if found.get("ids") else None

    def database(self, name: str, uri: str) -> int:
        """The database connection named `name` (created, or updated to `uri`): its id."""
        extra = {"allows_virtual_table_explore": True}
        body = {
            "database_name": name,
            "sqlalchemy_uri": uri,
            "expose_in_sqllab": True,
            "allow_dml": False,
            "extra": json.dumps(extra),
        }
        existing = self._find("database", "database_name", name)
        if existing is not None:
            self._call("PUT", f"/api/v1/database/{existing}", json=body)
            return existing
        return self._call("POST", "/api/v1/database/", json=body)["id"]

    def dataset(self, database: int, table: str, schema: str | None = None) -> int:
        """The dataset of `table` in `database` (created if missing): its id."""
        query = json.dumps(
            {
                "filters": [
                    {"col": "table_name", "opr": "eq", "value": table},
                    {"col": "database", "opr": "rel_o_m", "value": database},
                ]
            }
        )
        found = self._call("GET", "/api/v1/dataset/", params={"q": _rison(query)})
        if found.get("ids"):
            return found["ids"][0]
        body = {"database": database, "table_name": table}
        if schema:
            body["schema"] = schema
        return self._call("POST", "/api/v1/dataset/", json=body)["id"]

    def chart(self, name: str, dataset: int, viz_type: str, params: dict, query: dict) -> int:
        """A saved chart with its query context (so its data can be fetched by id too)."""
        body = {
            "slice_name": name,
            "viz_type": viz_type,
            "datasource_id": dataset,
            "datasource_type": "table",
            "params": json.dumps(params),
            "query_context": json.dumps(query),
        }
        existing = self._find("chart", "slice_name", name)
        if existing is not None:
            self._call("PUT", f"/api/v1/chart/{existing}", json=body)
            return existing
        return self._call("POST", "/api/v1/chart/", json=body)["id"]

    def chart_data(self, query: dict) -> list[dict]:
        """POST /api/v1/chart/data: the rows of the query context's first query."""
        return self._call("POST", "/api/v1/chart/data", json=query)["result"][0]["data"]


def _rison(text: str) -> str:
    """JSON filters as the Rison Superset's list endpoints read (objects, arrays, strings,
    numbers only)."""
    value = json.loads(text)

    def enc(v) -> str:
        if isinstance(v, dict):
            return "(" + ",".join(f"{k}:{enc(x)}" for k, x in v.items()) + ")"
        if isinstance(v, list):
            return "!(" + ",".join(enc(x) for x in v) + ")"
        if isinstance(v, bool):
            return "!t" if v else "!f"
        if isinstance(v, int | float):
            return str(v)
        s = str(v).replace("!", "!!").replace("'", "!'")
        return f"'{s}'"

    return enc(value)


def csat_by_month(dataset: int) -> tuple[dict, dict]:
    """The chart of the recipe and the test: CSAT and its responses by month, from
    `cx_metrics_monthly` (one row per month, so MAX(csat) is the mart's csat): (form data
    params, query context)."""
    metrics = [
        {"expressionType": "SQL", "sqlExpression": "MAX(csat)", "label": "CSAT"},
        {"expressionType": "SQL", "sqlExpression": "SUM(csat_responses)", "label": "responses"},
    ]
    params = {
        "datasource": f"{dataset}__table",
        "viz_type": "echarts_timeseries_line",
        "x_axis": "month",
        "time_grain_sqla": "P1M",
        "metrics": metrics[:1],
        "groupby": [],
        "adhoc_filters": [
            {
                "expressionType": "SIMPLE",
                "subject": "csat_responses",
                "operator": ">",
                "comparator": 0,
                "clause": "WHERE",
            }
        ],
        "row_limit": 10000,
        "truncate_metric": True,
        "show_legend": True,
        "y_axis_title": "CSAT (% of ratings 4-5)",
    }
    query = {
        "datasource": {"id": dataset, "type": "table"},
        "force": True,
        "queries": [
            {
                "columns": ["month"],
                "metrics": metrics,
                "filters": [{"col": "csat_responses", "op": ">", "val": 0}],
                "row_limit": 10000,
            }
        ],
        "form_data": params,
        "result_format": "json",
        "result_type": "full",
    }
    return params, query
