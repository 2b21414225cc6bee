"""``file.json``: upload a file (multipart) for a later attachment, download an attached file."""

from __future__ import annotations

import base64
import mimetypes
import re
from urllib.parse import quote

from flask import Response

from ..auth import require_right
from ..context import Ctx
from ..errors import KintoneError, invalid
from ..files import find_download, store_upload
from ..params import Params
from .common import live_app
from .registry import endpoint

DEFAULT_CONTENT_TYPE = "application/octet-stream"
# Real Kintone replaces the characters Windows forbids in file names (also percent-encoded)
# before it puts a name into Content-Disposition; the stored name is unchanged.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|]|%(?:22|2a|2f|3a|3c|3e|3f|5c|7c)', re.IGNORECASE)
_ENCODED_WORD_ROOM = 75 - 7 - len("UTF-8")  # RFC 2047: 75 bytes a word, less its delimiters


@endpoint("POST", "file", right=None)
def upload_file(ctx: Ctx, params: Params) -> dict:
    """Any authenticated caller may upload; a token of any app will do."""
    _require_scope(ctx, "k:file:write")
    upload = ctx.upload
    if upload is None or not upload.filename:
        raise invalid("file", "required_param")
    content_type = (upload.mimetype or mimetypes.guess_type(upload.filename)[0]
                    or DEFAULT_CONTENT_TYPE)
    key = store_upload(ctx.db.conn, upload.filename, content_type, upload.read(), ctx.now())
    return {"fileKey": key}


@endpoint("GET", "file", right=None)
def download_file(ctx: Ctx, params: Params) -> Response:
    """The bytes of an attached file; the caller needs view access to the app holding it."""
    _require_scope(ctx, "k:file:read")
    key = params.str("fileKey") or ""
    if not key:
        raise invalid("fileKey", "required_param")
    conn = ctx.db.conn
    stored = find_download(conn, key)
    owner, right = _owning_app(ctx, key) if stored else (None, "view")
    if stored is None or owner is None:
        raise KintoneError("GAIA_BL01", (key,))
    live_app(ctx, owner)
    require_right(ctx, owner, right)
    return Response(stored.content, 200, content_type=stored.content_type,
                    headers={"Content-Disposition": content_disposition(stored.name)})


def _owning_app(ctx: Ctx, key: str) -> tuple[int | None, str]:
    """The app holding the file and the right reading it takes: a record's attachment (view),
    or a JavaScript/CSS file of the app's customization (manage); None once nothing holds it.

    Download keys are 46 random characters, so a text search of the stored JSON is exact.
    """
    needle = f'"{key}"'
    row = ctx.db.conn.execute(
        "SELECT app FROM records WHERE instr(data, ?) > 0 LIMIT 1", (needle,)
    ).fetchone()
    if row:
        return row["app"], "view"
    row = ctx.db.conn.execute(
        "SELECT id FROM apps WHERE instr(live, ?) > 0 OR instr(preview, ?) > 0 LIMIT 1",
        (needle, needle),
    ).fetchone()
    return (row["id"] if row else None), "manage"


def _require_scope(ctx: Ctx, scope: str) -> None:
    scopes = ctx.caller.scopes
    if scopes is not None and scope not in scopes:
        raise KintoneError("CB_NO02")


def content_disposition(name: str) -> str:
    """``attachment`` with the name as real Kintone sends it, plus RFC 5987 for non-ASCII.

    Real Kintone writes a non-ASCII name as RFC 2047 encoded-words in ``filename``; the extra
    ``filename*`` gives standard HTTP clients (which prefer it) the plain UTF-8 name.
    """
    safe = _UNSAFE_NAME.sub("_", name)
    if all(" " <= char <= "~" for char in safe):
        return f'attachment; filename="{safe}"'
    words = " ".join(_encoded_words(safe))
    return f"attachment; filename=\"{words}\"; filename*=UTF-8''{quote(safe, safe='')}"


def _encoded_words(text: str) -> list[str]:
    """RFC 2047 B-encoded words, halving the text until each fits (as JavaMail splits)."""
    data = text.encode("utf-8")
    if len(text) <= 1 or -(-len(data) // 3) * 4 <= _ENCODED_WORD_ROOM:
        return [f"=?UTF-8?B?{base64.b64encode(data).decode('ascii')}?="]
    half = len(text) // 2
    return _encoded_words(text[:half]) + _encoded_words(text[half:])
