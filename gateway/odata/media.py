"""Content negotiation: the representation a request gets, or 406 Not Acceptable.

Data (service document, feeds, entities, properties) is served as OData JSON only, ``$metadata``
as CSDL XML (or CSDL JSON when asked for), ``/$count`` and ``/$value`` as ``text/plain``.
``$format`` overrides ``Accept``, as OData asks. ``Accept`` is read per RFC 9110: the most
specific media range that matches a representation gives its quality, ``q=0`` rules it out,
ties go to our preference.
Format parameters we do not know (OData v3's ``odata=minimalmetadata`` in Power Query's header,
``odata.include-annotations`` ...) are ignored rather than failing the request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from .errors import not_acceptable

MetadataLevel = Literal["minimal", "full", "none"]

JSON = "application/json"
XML = "application/xml"
TEXT_PLAIN = "text/plain"
TEXT = f"{TEXT_PLAIN};charset=utf-8"
# Answers kept per (Accept, $format): clients send the same few headers again and again.
NEGOTIATED_KEPT = 256

# 4.01 lets clients drop the "odata." prefix of format parameters.
_ALIASES = {"metadata": "odata.metadata", "streaming": "odata.streaming"}
_FORMAT_SHORTHANDS = {"json": JSON, "xml": XML}
_RANGE_SEPARATOR = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')
_PARAM_SEPARATOR = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')


@dataclass(frozen=True)
class JsonFormat:
    """An OData JSON representation: what ``payload`` needs and the response Content-Type."""

    metadata: MetadataLevel = "minimal"
    ieee754: bool = False
    streaming: bool = True

    @property
    def content_type(self) -> str:
        # Power Query accepts exactly this parameter order (metadata, streaming, IEEE754).
        parts = [
            JSON, f"odata.metadata={self.metadata}", f"odata.streaming={_flag(self.streaming)}"
        ]
        if self.ieee754:
            parts.append("IEEE754Compatible=true")
        return ";".join(parts)

    @property
    def params(self) -> Mapping[str, str]:
        return {
            "odata.metadata": self.metadata,
            "odata.streaming": _flag(self.streaming),
            "ieee754compatible": _flag(self.ieee754),
            "charset": "utf-8",
        }


# In order of preference: what a client gets when its Accept does not say.
_JSON_FORMATS = tuple(
    JsonFormat(level, ieee754, streaming)
    for level in ("minimal", "full", "none")
    for ieee754 in (False, True)
    for streaming in (True, False)
)


@dataclass(frozen=True)
class MediaRange:
    """One element of an ``Accept`` header; parameter names and values are lower-cased."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)
    q: float = 1.0

    def matches(self, media_type: str, params: Mapping[str, str]) -> bool:
        kind, _, subtype = media_type.partition("/")
        if self.type not in ("*", kind) or self.subtype not in ("*", subtype):
            return False
        return all(params[name] == value for name, value in self.params.items() if name in params)

    def specificity(self, params: Mapping[str, str]) -> tuple[int, int, int]:
        known = sum(name in params for name in self.params)
        return (self.type != "*", self.subtype != "*", known)


@lru_cache(maxsize=NEGOTIATED_KEPT)
def negotiate_json(accept: str | None, format_option: str | None = None) -> JsonFormat:
    """The JSON format of a data response (service document, feed, entity, property)."""
    ranges = _requested(accept, format_option)
    best = _best(ranges, [(JSON, fmt.params) for fmt in _JSON_FORMATS])
    if best is None:
        raise not_acceptable("This resource is only available as application/json.")
    return _JSON_FORMATS[best]


@lru_cache(maxsize=NEGOTIATED_KEPT)
def negotiate_metadata(accept: str | None, format_option: str | None = None) -> str:
    """The Content-Type of ``$metadata``: ``application/xml`` or ``application/json``.

    CSDL JSON only when the client wants JSON and does not accept XML at all: Power Query sends
    the same Accept header as for data (JSON at q=1.0, XML at q=0.7) yet can only read XML.
    """
    ranges = _requested(accept, format_option)
    if _best(ranges, [(XML, {})]) is not None:
        return XML
    if _best(ranges, [(JSON, {})]) is not None:
        return JSON
    raise not_acceptable("$metadata is available as application/xml or application/json.")


@lru_cache(maxsize=NEGOTIATED_KEPT)
def negotiate_text(accept: str | None) -> str:
    """The Content-Type of ``/$count`` and a raw ``/$value``: always ``text/plain``.

    A client asking only for JSON gets it too, as common OData servers answer: OData clients
    send their usual ``Accept: application/json`` there (python-odata's ``count()``) and read the
    number from the text. 406 only when Accept rules out both.
    """
    ranges = _requested(accept, None)
    if _best(ranges, [(TEXT_PLAIN, {"charset": "utf-8"}), (JSON, {})]) is None:
        raise not_acceptable("A count or raw value is only available as text/plain.")
    return TEXT


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; malformed elements are skipped."""
    ranges = [_media_range(part) for part in _RANGE_SEPARATOR.split(header)]
    return [r for r in ranges if r is not None]


def _requested(accept: str | None, format_option: str | None) -> list[MediaRange]:
    if format_option is not None:
        return [_format_range(format_option)]
    ranges = parse_accept(accept or "")
    # No header, or one too broken to read, means anything goes (RFC 9110, 12.5.1).
    return ranges or [MediaRange("*", "*")]


def _format_range(value: str) -> MediaRange:
    kind, _, rest = value.strip().partition(";")
    media_type = _FORMAT_SHORTHANDS.get(kind.strip().lower(), kind)
    parsed = _media_range(f"{media_type};{rest}" if rest else media_type)
    if parsed is None or parsed.q == 0:
        raise not_acceptable(f"The format '{value}' is not supported.", "$format")
    return parsed


def _media_range(text: str) -> MediaRange | None:
    media_type, *raw_params = (part.strip() for part in _PARAM_SEPARATOR.split(text))
    kind, slash, subtype = media_type.lower().partition("/")
    if not (slash and kind and subtype) or (kind == "*" and subtype != "*"):
        return None
    params: dict[str, str] = {}
    q = 1.0
    for raw in raw_params:
        name, equals, value = raw.partition("=")
        name, value = name.strip().lower(), value.strip().strip('"').lower()
        if not equals or not name:
            return None
        if name == "q":
            try:
                q = float(value)
            except ValueError:
                return None
            if not 0 <= q <= 1:
                return None
            break  # what follows q are accept-extensions, not media type parameters
        params[_ALIASES.get(name, name)] = value
    return MediaRange(kind, subtype, params, q)


def _best(
    ranges: Sequence[MediaRange], offers: Sequence[tuple[str, Mapping[str, str]]]
) -> int | None:
    """The index of the offer with the highest quality (> 0); earlier offers win ties."""
    scored = [(_quality(ranges, media_type, params), -i) for i, (media_type, params) in
              enumerate(offers)]
    quality, negative_index = max(scored)
    return -negative_index if quality > 0 else None


def _quality(ranges: Sequence[MediaRange], media_type: str, params: Mapping[str, str]) -> float:
    matching = [r for r in ranges if r.matches(media_type, params)]
    if not matching:
        return 0.0
    most_specific = max(r.specificity(params) for r in matching)
    return max(r.q for r in matching if r.specificity(params) == most_specific)


def _flag(value: bool) -> str:
    return "true" if value else "false"


def prefers(prefer: str | None, preference: str) -> bool:
    """Whether a ``Prefer`` header asks for ``preference`` (e.g. ``return=minimal``), whatever
    parameters it gives it after ``;`` (RFC 7240)."""
    return any(part.partition(";")[0].strip().lower() == preference
               for part in (prefer or "").split(","))
