"""Hold requests and responses captured at the simulator to the vendors' published specifications.

`specs/<vendor>.json` hold excerpts of the vendors' OpenAPI documents (only the operations the
loaders call and the schemas they reference; see specs/README.md for source, commit and
licence). `specs/exceptions.json` records, once, where a specification is known to be wrong
or silent, with evidence; its schema patches are applied here before anything is checked.

OpenAPI 3.0 schemas are converted to JSON Schema (2020-12) here: `nullable: true` becomes a
`null` alternative, OpenAPI-only keywords are dropped. OpenAPI 3.1 (BambooHR) already is JSON
Schema. Formats are not asserted (vendors disagree with their own `format`s too often to be a
useful signal; types, required fields and enums are).
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator

SPECS = Path(__file__).parent / "specs"
VENDORS = ("hubspot", "zendesk", "bamboohr", "qualtrics")
# where each vendor's API lives under the simulator, i.e. what a loader's base URL adds
MOUNTS = {
    "hubspot": r"/hubspot",
    "zendesk": r"/zendesk/api/v2",
    "bamboohr": r"/bamboohr/api/gateway\.php/[^/]+/v1",
    "qualtrics": r"/qualtrics/API/v3",
}
OPENAPI_ONLY = {"nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs"}


@cache
def exceptions() -> dict:
    return json.loads((SPECS / "exceptions.json").read_text())


def _patch(schema: dict, patch: dict) -> None:
    for key, value in patch.items():
        if value is None:
            schema.pop(key, None)
        else:
            schema[key] = value


@cache
def raw_spec(vendor: str) -> dict:
    """The excerpt as kept in the repository, unpatched."""
    return json.loads((SPECS / f"{vendor}.json").read_text())


@cache
def spec(vendor: str) -> dict:
    """The excerpt with the recorded exceptions applied (a copy)."""
    doc = copy.deepcopy(raw_spec(vendor))
    for e in exceptions()["schema_patches"]:
        if e["vendor"] != vendor:
            continue
        node: Any = doc
        for part in e["at"] if isinstance(e["at"], list) else e["at"].split("/"):
            node = node[part]
        _patch(node, e["patch"])
    return doc


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema object -> JSON Schema 2020-12 (recursively)."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items() if k not in OPENAPI_ONLY}
    if node.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"] if "null" not in types else types
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:  # a $ref or a composition: allow null beside it
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _root(vendor: str) -> dict:
    return {"components": to_json_schema(spec(vendor)["components"])}


def validator(vendor: str, schema: dict) -> Draft202012Validator:
    """A validator for `schema` (OpenAPI form) whose `#/components/...` refs resolve in the excerpt."""
    return Draft202012Validator({**_root(vendor), **to_json_schema(schema)})


def schema_errors(vendor: str, schema: dict, instance: Any, limit: int = 10) -> list[str]:
    errors = sorted(validator(vendor, schema).iter_errors(instance), key=lambda e: list(e.path))
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}"
        for e in errors[:limit]
    ]


# ---- matching captured exchanges to operations ------------------------------------
def relative_path(vendor: str, path: str) -> str:
    rel = re.sub(f"^{MOUNTS[vendor]}", "", path)
    if vendor == "zendesk":
        rel = rel.removesuffix(".json")  # every Zendesk path also answers with .json
    return rel


def _pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def operation_for(vendor: str, method: str, path: str) -> str | None:
    """The spec operation ("METHOD /template") a captured request is, or None."""
    rel = relative_path(vendor, path)
    # literal templates first: /export-responses/{fileId}/file before /{exportProgressId}
    ops = sorted(spec(vendor)["operations"], key=lambda op: op.count("{"))
    for op in ops:
        m, template = op.split(" ", 1)
        if m == method and _pattern(template).match(rel):
            return op
    return None


def unspecified(vendor: str, method: str, path: str) -> dict | None:
    """The exceptions entry of an endpoint no published specification covers, if it is one."""
    rel = relative_path(vendor, path)
    for e in exceptions()["unspecified_endpoints"]:
        m, template = e["operation"].split(" ", 1)
        if e["vendor"] == vendor and m == method and _pattern(template).match(rel):
            return e
    return None


# ---- responses -------------------------------------------------------------------
def response_json(exchange: dict) -> Any:
    """The response body as JSON; a Qualtrics export file is unzipped first."""
    body = exchange["response"]
    if body[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            (member,) = [n for n in z.namelist() if n.endswith(".json")]
            body = z.read(member)
    return json.loads(body)


def response_problems(vendor: str, op: str, exchange: dict) -> list[str]:
    schema = spec(vendor)["operations"][op]["response"]
    return schema_errors(vendor, schema, response_json(exchange))


# ---- requests --------------------------------------------------------------------
def _allowed(vendor: str, op: str, where: str, name: str) -> bool:
    return any(
        e["vendor"] == vendor and e["operation"] == op and e["in"] == where and e["name"] == name
        for e in exceptions()["request_allowances"]
    )


def _coerce(value: str, schema: dict) -> Any:
    """A query string value as the type its schema declares (for validation)."""
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False}.get(value, value)
    except ValueError:
        return value
    return value


def undeclared_fields(vendor: str, schema: Any, instance: Any, at: str = "") -> list[str]:
    """Paths of body fields the schema does not declare (OpenAPI's open objects included:
    a request should use only what the vendor documents)."""
    root = _root(vendor)
    schema = to_json_schema(schema)
    while isinstance(schema, dict) and "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    if not isinstance(schema, dict):
        return []
    for key in ("anyOf", "oneOf"):
        if key in schema:  # declared if any alternative declares it
            options = [undeclared_fields(vendor, s, instance, at) for s in schema[key]]
            return min(options, key=len) if options else []
    out: list[str] = []
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for k, v in instance.items():
            if k in props:
                out += undeclared_fields(vendor, props[k], v, f"{at}/{k}")
            elif isinstance(extra, dict):
                out += undeclared_fields(vendor, extra, v, f"{at}/{k}")
            elif extra is not True:
                out.append(f"{at}/{k}")
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(instance):
            out += undeclared_fields(vendor, schema["items"], v, f"{at}/{i}")
    return out


def auth_problem(vendor: str, headers: dict[str, str]) -> str | None:
    """Whether the request authenticates with a scheme the vendor's spec declares."""
    schemes = spec(vendor)["securitySchemes"].values()
    auth = headers.get("authorization", "")
    for s in schemes:
        if s["type"] == "http" and auth.lower().startswith(s["scheme"].lower() + " "):
            return None
        if s["type"] == "apiKey" and s["in"] == "header" and s["name"].lower() in headers:
            return None
    return f"no declared auth scheme in the request (declared: {list(spec(vendor)['securitySchemes'])})"


def request_problems(vendor: str, op: str, exchange: dict) -> list[str]:
    """What in a captured request the operation does not declare (documented exceptions aside)."""
    operation = spec(vendor)["operations"][op]
    params = {(p["in"], p["name"]): p for p in operation["parameters"]}
    problems = []
    sent = {}
    for name, value in exchange["query"]:
        sent.setdefault(name, []).append(value)
    for name, values in sent.items():
        base = name.split("[", 1)[0]
        p = params.get(("query", name)) or params.get(("query", base))
        if p is None:
            if not _allowed(vendor, op, "query", name):
                problems.append(f"query parameter {name!r} is not declared")
            continue
        if p.get("style") == "deepObject" and "[" in name:
            continue  # page[size]: its object schema is checked by name below
        for v in values:
            for err in schema_errors(vendor, p["schema"], _coerce(v, p["schema"])):
                if not _allowed(vendor, op, "query-value", name):
                    problems.append(f"query parameter {name}={v!r}: {err}")
    for (where, name), p in params.items():
        if (
            where == "query"
            and p.get("required")
            and name not in sent
            and not any(s.startswith(name + "[") for s in sent)
        ):
            problems.append(f"required query parameter {name!r} is missing")
    for (where, name), p in params.items():  # declared headers, when sent, hold declared values
        value = exchange["headers"].get(name.lower()) if where == "header" else None
        if value is not None:
            problems += [f"header {name}: {e}" for e in schema_errors(vendor, p["schema"], value)]
    body = exchange["body"]
    schema = operation["requestBody"]
    if body and schema is None:
        problems.append("a body is sent but the operation declares none")
    elif schema is not None:
        if exchange["headers"].get("content-type", "").split(";")[0] != "application/json":
            problems.append(f"content-type {exchange['headers'].get('content-type')!r} is not JSON")
        payload = json.loads(body)
        problems += [f"body: {e}" for e in schema_errors(vendor, schema, payload)]
        for field in undeclared_fields(vendor, schema, payload):
            if not _allowed(vendor, op, "body", field):
                problems.append(f"body field {field} is not declared")
    auth = auth_problem(vendor, exchange["headers"])
    if auth:
        problems.append(auth)
    return problems


def summary(exchange: dict) -> str:
    q = "&".join(f"{k}={v}" for k, v in exchange["query"])
    return f"{exchange['method']} {urlsplit(exchange['path']).path}{'?' + q if q else ''}"
