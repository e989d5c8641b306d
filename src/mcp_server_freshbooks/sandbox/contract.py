"""The sandbox's contract, generated from the code: every endpoint, method, search key, include,
sort and quirk it implements. ``describe()`` is the data (tests read it, e.g. "every search key the
client sends is one the sandbox implements"); ``markdown()`` renders CONTRACT.md, which a test keeps
in sync; ``mcp-server-freshbooks sandbox --describe`` prints either."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Route

from .resource import Resource
from .resources import RESOURCES
from .routes import debug, identity, oauth, reports, uploads

ACCOUNTING_PREFIX = "/accounting/account/{account_id}/"
FAMILIES: dict[str, str] = {
    "accounting": (
        'Envelope {"response": {"result": {...}}}; filters search[key]=v (lists search[keys][]=v; the SDK\'s bare '
        "key=v too); unknown keys are ignored but counted (ignored_search_keys); *_min inclusive, *_max exclusive; "
        "sort=<key>_asc|_desc (unknown ignored; default id ascending); include[]=name; per_page default 15, "
        "capped at 100; deleted records (vis_state 1) hidden unless search[vis_state] is sent, still served by id; "
        "PUT {vis_state: n} applies only vis_state; errors {response: {errors: [{errno, field, message, object, "
        "value}]}}: 422 body validation, 400 query values, 404 errno 1012, 401 google.rpc shape, 403 errno 1003."
    ),
    "business": (
        'Bare JSON {"<name>": {...}}; lists {"<plural>": [...], "meta": {page, pages, per_page, total}}; filters '
        "are bare key=v (unknown keys ignored, not counted); sort=field|-field; per_page default 30 unless noted; "
        'errors {"errno": 2001, "error": {field: message}} (422), 404 {"error": ...}, 403 wrong business_id.'
    ),
    "identity": 'GET /auth/api/v1/users/me -> {"response": {...}}; 401 {"error": "unauthenticated", ...}.',
    "oauth": (
        "authorize auto-approves (302 to redirect_uri?code&state); token grants authorization_code (5 min, "
        "single-use) and refresh_token (single-use; only the newest is valid); old access tokens stay valid until "
        "their own expiry."
    ),
    "uploads": (
        "POST /uploads/account/{account_id}/images|attachments, multipart field `content` (PNG/JPEG/GIF; "
        'attachments also PDF; types sniffed from the bytes; at most 10 MB) -> {"image"|"attachment": {filename, '
        'public_id, jwt, media_type, uuid}, "link"}; the same file gives the same jwt; GET /uploads/<kind>/<jwt> '
        'and the link serve it back (Content-Type, X-filename); errors {"error": "..."} (400/404/413/415).'
    ),
    "payments": (
        "Online-payment options: the POST body is bare {gateway_name, entity_id, entity_type, has_credit_card, "
        'has_ach_transfer, ...} -> {"payment_options": {...}}; errors {"error_type", "message", "errors": [{field}]}; '
        "a gateway not in SandboxOptions.gateways (Know Your Client not done) -> 422 on gateway_name."
    ),
    "debug": "Loopback clients only, no auth, never faulted.",
}
FAULTS = (
    "Per request, in order: latency_ms + uniform jitter_ms; rate_limit N -> 429 + Retry-After beyond N requests in "
    "the current second; fail_rate -> 500 (JSON errno 500) / 502 / 503 (HTML) before anything is applied; drop_rate "
    "-> the connection closes without a reply (reads before handling; writes half before, half after the write was "
    "applied); write_latency_ms (writes matching the regex write_latency_match on 'METHOD /path', all if null) -> "
    "sleep, then apply in a task of its own, so the write lands even when the client gave up. Set by "
    "SandboxOptions, Sandbox.set_faults(...) or POST /__sandbox__/faults. Applied writes: write_log; emails "
    "(action_email): emails / emails_sent(id)."
)


def _endpoint(family: str, method: str, path: str, res: Resource | None = None, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"family": family, "method": method, "path": path}
    entry["resource"] = res.name if res else None
    entry["search_keys"] = extra.get("search_keys", [])
    entry["includes"] = extra.get("includes", [])
    entry["sorts"] = extra.get("sorts", [])
    entry["quirks"] = extra.get("quirks", [])
    return entry


def _accounting(res: Resource) -> list[dict[str, Any]]:
    base = ACCOUNTING_PREFIX + res.path
    includes = sorted(res.includes)
    listing = {"search_keys": sorted(res.search), "includes": includes, "sorts": sorted(res.sorts)}
    out = [_endpoint("accounting", "GET", base, res, **listing, quirks=list(res.quirks))]
    if res.create:
        out.append(_endpoint("accounting", "POST", base, res, includes=includes))
    out.append(_endpoint("accounting", "GET", base + "/{id}", res, includes=includes))
    if res.update:
        out.append(_endpoint("accounting", "PUT", base + "/{id}", res, includes=includes))
    if res.http_delete:
        how = "soft: vis_state 1" if res.vis_put else "hard"
        out.append(_endpoint("accounting", "DELETE", base + "/{id}", res, quirks=[how]))
    if res.name == "invoice":  # routes/accounting.share_link (#17)
        quirks = ["share_method: share_link, email, sms or pdf", "422 for a draft (FreshBooks shares sent invoices)"]
        out.append(_endpoint("accounting", "GET", base + "/{id}/share_link", res, quirks=quirks))
    return out


def _business(res: Resource) -> list[dict[str, Any]]:
    listing = {"search_keys": sorted(res.search), "sorts": sorted(res.sorts)}
    quirks = list(res.quirks) + ([f"per_page defaults to {res.per_page}"] if res.per_page else [])
    out = [_endpoint("business", "GET", "/" + res.path, res, **listing, quirks=quirks)]
    if res.create:
        out.append(_endpoint("business", "POST", "/" + res.item_path, res))
    item = f"/{res.item_path}/{{id}}{res.item_suffix}"
    out.append(_endpoint("business", "GET", item, res))
    if res.create_for:
        out.append(_endpoint("business", "POST", item, res))
    if res.update:
        out.append(_endpoint("business", "PUT", item, res))
    if res.http_delete:
        out.append(_endpoint("business", "DELETE", item, res))
    return out


def _plain(family: str, routes: Iterable[Route]) -> list[dict[str, Any]]:
    return [
        _endpoint(family, method, route.path)
        for route in routes
        for method in sorted(route.methods or ())
        if method != "HEAD" and not route.path.endswith("/")
    ]


def describe(resources: Iterable[Resource] = RESOURCES) -> dict[str, Any]:
    """{"families": {family: conventions}, "faults": text, "endpoints": [{family, method, path, resource,
    search_keys, includes, sorts, quirks}]}; paths are templates (``{account_id}``, ``{business_id}``, ``{id}``)."""
    endpoints = _plain("identity", identity.routes()) + _plain("oauth", oauth.routes())
    for res in resources:
        endpoints += _accounting(res) if res.family == "accounting" else _business(res)
    endpoints += reports.contract()
    endpoints += _plain("uploads", uploads.upload_routes()) + _plain("payments", uploads.payment_routes())
    endpoints += _plain("debug", debug.routes())
    return {"families": dict(FAMILIES), "faults": FAULTS, "endpoints": endpoints}


def search_keys(method: str, path: str) -> frozenset[str]:
    """The search keys the sandbox implements for one endpoint (empty when it has none)."""
    for entry in describe()["endpoints"]:
        if entry["method"] == method and entry["path"] == path:
            return frozenset(entry["search_keys"])
    raise KeyError(f"the sandbox serves no {method} {path}")


def markdown(contract: dict[str, Any] | None = None) -> str:
    """CONTRACT.md: families, then one table row per endpoint."""
    data = contract or describe()
    lines = [
        "# Sandbox contract",
        "",
        "Generated from the code by `mcp-server-freshbooks sandbox --describe`; do not edit by hand",
        "(regenerate: `UPDATE_SNAPSHOTS=1 python -m pytest tests/sandbox/test_contract.py`).",
        "",
        "## Families",
        "",
    ]
    lines += [f"- **{name}**: {text}" for name, text in data["families"].items()]
    lines += ["", "## Faults", "", data["faults"]]
    lines += ["", "## Endpoints", "", "| Method | Path | Search keys | Includes | Sorts | Quirks |"]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for e in data["endpoints"]:
        cells = [e["method"], f"`{e['path']}`"] + [
            ", ".join(f"`{v}`" for v in e[k]) for k in ("search_keys", "includes", "sorts")
        ]
        cells.append("; ".join(q.replace("|", "\\|") for q in e["quirks"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
