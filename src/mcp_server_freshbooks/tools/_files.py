"""A file a tool sends to FreshBooks (#17): a local path over stdio, base64 content over HTTP.

Over stdio the server runs on the user's machine, so a path names the user's file. Over HTTP the
server's disk is not the user's: a path is refused (it would read some file of the server's), and
the content comes inline as a `data:<type>;base64,<...>` URI, capped at the upload limit. The
transport is told by the request itself: the HTTP transports attach the HTTP request to the tool
call's context; stdio and in-process sessions have none.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from ..freshbooks.uploads import EXTENSIONS, MAX_UPLOAD_BYTES, UploadRefused, check_file
from ._inputs import ONE_LINE

MAX_MB = MAX_UPLOAD_BYTES // 1048576
FileParam = Annotated[
    str,
    Field(min_length=1, description=f"Local file path, or data:<type>;base64,<content> (max {MAX_MB} MB)"),
    ONE_LINE,
]
ReceiptParam = Annotated[str | None, Field(min_length=1, description="Receipt file: path or data: URI"), ONE_LINE]
# base64 is 4 characters per 3 bytes; allow the prefix and padding on top
_MAX_DATA_URI = MAX_UPLOAD_BYTES * 4 // 3 + 256


@dataclass(frozen=True)
class LocalFile:
    name: str
    content: bytes
    media_type: str


def is_remote(ctx: Context[Any, Any]) -> bool:
    """True when the call came over HTTP (the request context carries the HTTP request)."""
    try:
        return ctx.request_context.request is not None
    except (AttributeError, ValueError):  # pragma: no cover - no request context at all
        return False


def _from_data_uri(value: str, param: str, what: str) -> tuple[str | None, bytes]:
    if len(value) > _MAX_DATA_URI:
        raise ToolError(f"{param}: the {what} is over the {MAX_MB} MB limit. Send a smaller file.")
    head, sep, payload = value.partition(",")
    if not sep or not head.lower().endswith(";base64"):
        raise ToolError(f"{param}: a data URI must be data:<type>;base64,<content> (base64, one line).")
    try:
        content = base64.b64decode(payload.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ToolError(f"{param}: the content after 'base64,' is not valid base64.") from None
    return None, content


def _from_path(value: str, param: str, what: str) -> tuple[str, bytes]:
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ToolError(f"{param}: give the {what}'s full path (e.g. /Users/me/receipt.pdf), not {value!r}.")
    try:
        if not path.is_file():
            raise ToolError(f"{param}: no file at {path}. Check the path.")
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise ToolError(f"{param}: {path.name} is {size:,} bytes, over the {MAX_MB} MB limit. Send a smaller file.")
        return path.name, path.read_bytes()
    except OSError as exc:
        raise ToolError(f"{param}: cannot read {path} ({exc.strerror or type(exc).__name__}).") from None


def read_file(ctx: Context[Any, Any], value: str, *, allowed: tuple[str, ...], what: str, param: str) -> LocalFile:
    """The file `value` names or carries, checked (type by its bytes, size) before anything is sent."""
    if value.startswith("data:"):
        name, content = _from_data_uri(value, param, what)
    elif is_remote(ctx):
        raise ToolError(
            f"{param}: this server runs over HTTP and cannot read files from your computer (a path would be "
            f"read on the server's disk). Send the content instead: data:<type>;base64,<content>, max {MAX_MB} MB."
        )
    else:
        name, content = _from_path(value, param, what)
    try:
        media_type = check_file(content, allowed=allowed, what=what)
    except UploadRefused as exc:
        raise ToolError(f"{param}: {exc} Nothing was changed.") from None
    ext = EXTENSIONS[media_type]
    if name is None:
        name = f"{what}.{ext}"
    return LocalFile(name=name, content=content, media_type=media_type)
