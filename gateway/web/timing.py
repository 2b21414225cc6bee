"""``Server-Timing`` on OData data responses, and the debug headers an administrator may ask for.

``Server-Timing: parse;dur=0.4, plan;dur=0.1, kintone;dur=12.3;desc="2 calls", shape;dur=1.1``
(milliseconds): ``parse`` reads the URL and its query options, ``plan`` checks and plans the
read (no Kintone call), ``kintone`` is the time during which at least one Kintone call was in
flight (several at once count once), ``shape`` the rest - records into entities and JSON. The
header goes out before the body: for a streamed response it covers what happened before the
first byte, not the Kintone calls made while the rest streams.

``Prefer: kintone.debug`` from a user with every right on every entity set (an administrator)
adds ``Kintone-Query`` (the Kintone query, without the paging's bounds, limit and offset),
``Kintone-Residual`` (the part of ``$filter`` the gateway checked itself, when there is one) and
``Kintone-Paging``; from anyone else the preference is ignored.
"""

from __future__ import annotations

import re
from time import perf_counter
from urllib.parse import quote

from flask import Response, request

from ..events import KintoneCallEnded, Stream
from ..odata import media
from ..odata.unparse import filter_text
from ..security import current_user
from ..service import trace
from ..service.trace import Trace

DEBUG = "kintone.debug"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def measure_kintone(events: Stream) -> None:
    """The one place the time of Kintone calls reaches the requests' traces."""
    events.subscribe(KintoneCallEnded, _kintone_call)


def _kintone_call(event: KintoneCallEnded) -> None:
    trace.kintone_call(event.started, event.ended)


def add_headers(response: Response, current: Trace) -> None:
    response.headers["Server-Timing"] = server_timing(current)
    planned = current.planned
    if planned is None or not media.prefers(request.headers.get("Prefer"), DEBUG) or not _admin():
        return
    residual = None if planned.residual is None else filter_text(planned.residual)
    for name, value in (("Kintone-Query", planned.query), ("Kintone-Residual", residual),
                        ("Kintone-Paging", planned.paging)):
        if value:
            # Printable: a newline in a string literal would end the header (non-ASCII is
            # percent-encoded for all headers by the app).
            response.headers[name] = _CONTROL.sub(lambda m: quote(m.group()), value)
    applied = response.headers.get("Preference-Applied")
    response.headers["Preference-Applied"] = f"{applied}, {DEBUG}" if applied else DEBUG


def server_timing(current: Trace) -> str:
    kintone, calls = current.kintone()
    parse, plan = current.spans.get("parse", 0.0), current.spans.get("plan", 0.0)
    shape = max(0.0, perf_counter() - current.started - parse - plan - kintone)
    return (f"parse;dur={_ms(parse)}, plan;dur={_ms(plan)}, "
            f'kintone;dur={_ms(kintone)};desc="{calls} call{"" if calls == 1 else "s"}", '
            f"shape;dur={_ms(shape)}")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _admin() -> bool:
    user = current_user()
    return user is not None and user.rights.everything
