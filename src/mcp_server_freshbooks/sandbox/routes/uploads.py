"""FreshBooks' uploader and online-payment options (#17).

Uploads (fact sheet §8): ``POST /uploads/account/{account_id}/{images|attachments}``, multipart
with one field ``content``, answers ``{"<image|attachment>": {filename, public_id, jwt, media_type,
uuid}, "link": ...}``; the file is served back at ``GET /uploads/{images|attachments}/{jwt}`` and at
the link (``/service/uploads/...``), with ``Content-Type`` and ``X-filename``. The jwt is an HS256
token over the content's digest, so uploading the same file twice gives the same jwt and no RNG draw.
Errors are ``{"error": "..."}`` as the SDK tests show.

Payment options (fact sheet §9): ``GET|POST /payments/account/{account_id}/invoice/{id}/payment_options``
(the POST body is NOT wrapped: ``{"gateway_name", "entity_id", "entity_type", "has_credit_card", ...}``)
and the defaults ``GET /payments/account/{account_id}/payment_options?entity_type=invoice``. A gateway
the business has not set up (FreshBooks' "Know Your Client" step; ``SandboxOptions.gateways``) is
refused with 422 ``{"error_type": "validation", ...}`` on ``gateway_name``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._wire import ACCOUNTING_UNAUTHORIZED, JSON, ApiError
from ._common import json_response, log_write, require_auth

if TYPE_CHECKING:
    from ..app import Sandbox

MAX_BYTES = 10 * 1024 * 1024
KINDS = {"images": "image", "attachments": "attachment"}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif"})
ACCEPTED = {"images": IMAGE_TYPES, "attachments": IMAGE_TYPES | {"application/pdf"}}
LOGO_PREFIXES = ("/uploads/images/", "/service/uploads/images/", "/service/api/uploads/images/")
GATEWAYS = ("fbpay", "stripe", "paypal")
FLAGS = (
    "has_credit_card",
    "has_ach_transfer",
    "has_bacs_debit",
    "has_sepa_debit",
    "has_acss_debit",
    "has_paypal_smart_checkout",
    "allow_partial_payments",
)


def routes() -> list[Route]:
    return upload_routes() + payment_routes()


def upload_routes() -> list[Route]:
    out = [Route(f"/uploads/account/{{account_id}}/{kind}", upload, methods=["POST"]) for kind in KINDS]
    for prefix in ("/uploads", "/service/uploads"):  # the download path and the answer's link
        out += [Route(f"{prefix}/{kind}/{{id}}", download, methods=["GET"]) for kind in KINDS]
    return out


def payment_routes() -> list[Route]:
    return [
        Route(
            "/payments/account/{account_id}/invoice/{id}/payment_options",
            invoice_options,
            methods=["GET", "POST"],
        ),
        Route("/payments/account/{account_id}/payment_options", default_options, methods=["GET"]),
    ]


def _kind(request: Request) -> str:
    return next(k for k in KINDS if f"/{k}" in request.url.path)


def _fail(status: int, message: str) -> ApiError:
    return ApiError(status, {"error": message})


def sniff(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:1024].lstrip(b"\x00\t\n\r \xef\xbb\xbf").startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt(sb: Sandbox, payload: JSON) -> str:
    head = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(f"sandbox-uploads:{sb.account_id}".encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def _account(request: Request) -> Sandbox:
    sb = require_auth(request, ACCOUNTING_UNAUTHORIZED)
    if request.path_params["account_id"] != sb.account_id:
        raise _fail(403, "You do not have access to this account.")
    return sb


async def upload(request: Request) -> Response:
    sb = _account(request)
    kind = _kind(request)
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        raise _fail(400, "The upload must be multipart/form-data with a 'content' field.")
    if int(request.headers.get("content-length") or 0) > MAX_BYTES + 64 * 1024:
        raise _fail(413, f"File is too large (limit {MAX_BYTES // 1048576} MB).")
    async with request.form(max_files=1, max_fields=5) as form:
        part = form.get("content")
        if part is None or isinstance(part, str):
            raise _fail(400, "Missing file field 'content'.")
        content = await part.read()
        original = part.filename or "upload"
    if not content:
        raise _fail(400, "The file is empty.")
    if len(content) > MAX_BYTES:
        raise _fail(413, f"File is too large (limit {MAX_BYTES // 1048576} MB).")
    media_type = sniff(content)
    if media_type not in ACCEPTED[kind]:
        raise _fail(415, f"Unsupported file type for {kind}: {media_type or 'unknown'}.")
    digest = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    filename = f"upload-{digest}"
    payload = {
        "account": sb.account_id,
        "original_filename": original,
        "bucket": "uploads",
        "filename": filename,
        "length": len(content),
        "key": f"docs-{sb.account_id}/{kind}/{filename}",
    }
    jwt = _jwt(sb, payload)
    file_uuid = str(uuid.UUID(bytes=hashlib.sha256(jwt.encode()).digest()[:16], version=4))
    sb.books.uploads[jwt] = {
        "kind": kind,
        "original_filename": original,
        "filename": filename,
        "media_type": media_type,
        "content": content,
        "uuid": file_uuid,
    }
    log_write(request, KINDS[kind], None)
    single = KINDS[kind]
    info = {"filename": filename, "public_id": jwt, "jwt": jwt, "media_type": media_type, "uuid": file_uuid}
    link = f"{str(request.base_url).rstrip('/')}/service/uploads/{kind}/{jwt}"
    return json_response({single: info, "link": link})


async def download(request: Request) -> Response:
    sb = require_auth(request, ACCOUNTING_UNAUTHORIZED)
    kind, jwt = _kind(request), request.path_params["id"]
    stored: Any = sb.books.uploads.get(jwt)
    if stored is None or stored["kind"] != kind:
        raise _fail(404, "File not found")
    return Response(
        stored["content"], media_type=stored["media_type"], headers={"X-filename": stored["original_filename"]}
    )


# ---------------------------------------------------------------- payment options


def _pay_fail(status: int, error_type: str, message: str, field: str | None = None) -> ApiError:
    body: JSON = {"error_type": error_type, "message": message}
    if field:
        body["errors"] = [{"error_type": error_type, "message": message, "field": field}]
    return ApiError(status, body)


def _pay_account(request: Request) -> Sandbox:
    sb = require_auth(request, ACCOUNTING_UNAUTHORIZED)
    if request.path_params["account_id"] != sb.account_id:
        raise _pay_fail(403, "forbidden", "You do not have access to this account.")
    return sb


def _options(sb: Sandbox, gateway: str, entity_id: Any) -> JSON:
    out: JSON = {"gateway_name": gateway, **dict.fromkeys(FLAGS, False)}
    out.update(stripe_acss_payment_options=None, entity_type="invoice", entity_id=str(entity_id))
    out["gateway_info"] = {"gateway_name": gateway, "currencies": [sb.books.base_currency], "connected": True}
    return out


def _default_gateway(sb: Sandbox) -> str | None:
    return sb.options.gateways[0] if sb.options.gateways else None


async def default_options(request: Request) -> Response:
    sb = _pay_account(request)
    if request.query_params.get("entity_type", "invoice") != "invoice":
        raise _pay_fail(422, "validation", "entity_type must be invoice.", "entity_type")
    gateway = _default_gateway(sb)
    if gateway is None:
        raise _pay_fail(404, "not_found", "Resource not found")
    return json_response({"payment_options": _options(sb, gateway, 0)})


async def invoice_options(request: Request) -> Response:
    sb = _pay_account(request)
    raw_id = request.path_params["id"]
    inv = sb.books.db.invoices.get(int(raw_id)) if raw_id.isdigit() else None
    if inv is None or inv.get("vis_state") == 1:
        raise _pay_fail(404, "not_found", "Resource not found")
    stored: dict[int, JSON] = sb.books.payment_options
    if request.method == "GET":
        if inv["id"] not in stored:
            raise _pay_fail(404, "not_found", "Resource not found")
        return json_response({"payment_options": stored[inv["id"]]})
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise _pay_fail(400, "validation", "The body is not valid JSON.") from None
    if not isinstance(body, dict) or "payment_options" in body:
        # FreshBooks takes the options bare, not wrapped in a top-level key.
        raise _pay_fail(422, "validation", "gateway_name is required.", "gateway_name")
    gateway = body.get("gateway_name")
    if gateway not in GATEWAYS:
        raise _pay_fail(422, "validation", f"gateway_name must be one of {', '.join(GATEWAYS)}.", "gateway_name")
    if gateway not in sb.options.gateways:
        raise _pay_fail(
            422,
            "validation",
            f"The {gateway} payment gateway is not set up for this business. Complete the online payments "
            "onboarding (Know Your Client) in FreshBooks first.",
            "gateway_name",
        )
    if str(body.get("entity_id")) != str(inv["id"]) or body.get("entity_type") != "invoice":
        raise _pay_fail(422, "validation", "entity_id and entity_type must name this invoice.", "entity_id")
    options = _options(sb, gateway, inv["id"])
    for flag in FLAGS:
        if flag in body:
            if not isinstance(body[flag], bool):
                raise _pay_fail(422, "validation", f"{flag} must be true or false.", flag)
            options[flag] = body[flag]
    stored[inv["id"]] = options
    log_write(request, "payment_options", inv["id"])
    return json_response({"payment_options": options})
