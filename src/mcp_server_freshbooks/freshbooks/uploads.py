"""Uploads (#17): receipts on expenses, logos on invoices, through FreshBooks' uploader.

Fact sheet §8: `POST /uploads/account/{account_id}/attachments` (receipts, PDFs) or `.../images`
(logos), multipart with one field `content`; the answer is `{"attachment"|"image": {"jwt",
"media_type", "filename", ...}, "link": ...}`. The jwt is then referenced:

* expense receipt: `{"expense": {"attachment": {"jwt": ..., "media_type": ...}}}` (read back with
  `include[]=attachment`);
* invoice logo: `{"invoice": {"presentation": {"image_logo_src": "/service/uploads/images/<jwt>"}}}`
  (seed 003 prose says `img_src_logo`: a typo, every example uses `image_logo_src`).

Limits, stated once here: neither the fact sheet nor the seeds give FreshBooks' size limit, so we
choose 10 MB (stated in the README); receipts are PNG, JPEG or GIF images or PDF; a logo is PNG or
JPEG (seed 003's guide: "add your .png or .jpg file"). Types are decided by the bytes' magic
numbers, never by a file name alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .api import FreshBooksClient
from .errors import FreshBooksError
from .query import EXPENSES, INVOICES
from .writes import resendable, update_verified

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""The largest file sent to FreshBooks' uploader (10 MB, our stated choice)."""

IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
RECEIPT_TYPES = (*IMAGE_TYPES, "application/pdf")
LOGO_TYPES = ("image/png", "image/jpeg")  # seed 003: "add your .png or .jpg file"
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "application/pdf": "pdf"}
LOGO_PREFIX = "/service/uploads/images/"  # what the Postman estimate example sets in image_logo_src

UploadKind = Literal["attachments", "images"]


def sniff(content: bytes) -> str | None:
    """The media type the bytes themselves announce (magic numbers), or None when not one we send."""
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if content[:1024].lstrip(b"\x00\t\n\r \xef\xbb\xbf").startswith(b"%PDF-"):
        return "application/pdf"
    return None


class UploadRefused(ValueError):
    """The file is not sent: wrong type or too large (the message says which and what is accepted)."""


def check_file(content: bytes, *, allowed: tuple[str, ...], what: str) -> str:
    """The media type of `content` when FreshBooks may take it as `what`; else UploadRefused."""
    if not content:
        raise UploadRefused(f"The {what} file is empty.")
    if len(content) > MAX_UPLOAD_BYTES:
        raise UploadRefused(
            f"The {what} is {len(content):,} bytes, over the {MAX_UPLOAD_BYTES // 1048576} MB limit "
            f"({MAX_UPLOAD_BYTES:,} bytes). Send a smaller or compressed file."
        )
    media_type = sniff(content)
    if media_type not in allowed:
        names = ", ".join(EXTENSIONS[t].upper() for t in allowed)
        seen = f"its content is {media_type}" if media_type else "its content is not a recognised image or PDF"
        raise UploadRefused(f"The {what} must be {names} ({seen}, whatever its name says).")
    return media_type


@dataclass(frozen=True)
class Upload:
    jwt: str
    media_type: str
    filename: str
    link: str | None


async def upload(client: FreshBooksClient, kind: UploadKind, filename: str, content: bytes, media_type: str) -> Upload:
    """Send one file to the uploader; return its jwt. Re-sent after a lost reply (writes.resendable)."""
    account_id = (await client.business()).account_id
    body = await resendable(
        client,
        "POST",
        f"/uploads/account/{account_id}/{kind}",
        files={"content": (filename, content, media_type)},
    )
    key = "image" if kind == "images" else "attachment"
    result = body.get(key) if isinstance(body, dict) else None
    jwt = result.get("jwt") if isinstance(result, dict) else None
    if not isinstance(jwt, str) or not jwt:
        raise FreshBooksError(f"FreshBooks' uploader returned no jwt for {filename}.")
    assert isinstance(result, dict) and isinstance(body, dict)
    link = body.get("link") or result.get("link")
    return Upload(
        jwt=jwt,
        media_type=str(result.get("media_type") or media_type),
        filename=str(result.get("filename") or filename),
        link=link if isinstance(link, str) else None,
    )


def attachment_wire(up: Upload) -> dict[str, Any]:
    """The `attachment` an expense carries for a receipt."""
    return {"jwt": up.jwt, "media_type": up.media_type}


async def attach_receipt(client: FreshBooksClient, expense_id: int, up: Upload) -> tuple[dict[str, Any], bool]:
    """Set an uploaded receipt on an existing expense (a pure update). Returns (expense, settled)."""
    return await update_verified(
        client, EXPENSES, expense_id, {"attachment": attachment_wire(up)}, includes=("attachment",)
    )


def logo_src(jwt: str) -> str:
    return LOGO_PREFIX + jwt


def invoice_logo(raw: dict[str, Any]) -> str | None:
    """The logo of an invoice read with include[]=presentation (None when it has none)."""
    presentation = raw.get("presentation")
    src = presentation.get("image_logo_src") if isinstance(presentation, dict) else None
    return src if isinstance(src, str) and src else None


async def set_invoice_logo(client: FreshBooksClient, invoice_id: int, up: Upload) -> tuple[dict[str, Any], bool]:
    """Set an uploaded image as an invoice's logo (presentation.image_logo_src, a pure update)."""
    return await update_verified(
        client, INVOICES, invoice_id, {"presentation": {"image_logo_src": logo_src(up.jwt)}}, includes=("presentation",)
    )
