"""``GET /widget.js``: the assistant widget any ERP page embeds with one script tag.

The file is served as written (no build step). It is read once per process; its ETag is its
content hash, so a browser revalidates cheaply and picks up a new release at once.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Header, Response

router = APIRouter(include_in_schema=False)

# Short: an upgraded server's widget reaches open pages within minutes; ETag makes reloads cheap.
CACHE_CONTROL = "public, max-age=300"


@lru_cache(maxsize=1)
def widget_source() -> tuple[bytes, str]:
    """The widget's JavaScript and its ETag."""
    body = resources.files(__package__).joinpath("widget.js").read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@router.get("/widget.js")
def widget_js(
    if_none_match: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """The widget's script (304 when the browser's copy is current)."""
    body, etag = widget_source()
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "X-Content-Type-Options": "nosniff"}
    if if_none_match is not None and etag in {t.strip() for t in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)
