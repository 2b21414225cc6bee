"""Content negotiation: Accept, $format, odata.metadata, IEEE754Compatible, odata.streaming."""

from __future__ import annotations

import pytest

from gateway.odata.errors import ODataError
from gateway.odata.media import (
    JsonFormat,
    negotiate_json,
    negotiate_metadata,
    negotiate_text,
    parse_accept,
)

# Captured from Power BI Desktop (Microsoft.Data.Mashup), clients-and-power-platform.md §3.
POWER_QUERY = (
    "application/json;odata.metadata=minimal;q=1.0,application/json;odata=minimalmetadata;q=0.9,"
    "application/atomsvc+xml;q=0.8,application/atom+xml;q=0.8,application/xml;q=0.7,"
    "text/plain;q=0.7"
)
MINIMAL = "application/json;odata.metadata=minimal;odata.streaming=true"


def status_of(call, *args) -> int:
    with pytest.raises(ODataError) as caught:
        call(*args)
    return caught.value.status


def test_power_query_gets_minimal_json_with_a_content_type_it_accepts():
    fmt = negotiate_json(POWER_QUERY)
    assert fmt == JsonFormat("minimal", ieee754=False, streaming=True)
    assert fmt.content_type == MINIMAL


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/*", "application/json",
                                    "application/json;charset=utf-8", "garbage",
                                    "text/html,application/xhtml+xml,*/*;q=0.8"])
def test_anything_goes_gets_minimal_json(accept):
    assert negotiate_json(accept).content_type == MINIMAL


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/json;odata.metadata=full", JsonFormat("full")),
        ("application/json;odata.metadata=none", JsonFormat("none")),
        ("application/json;metadata=full", JsonFormat("full")),  # 4.01: prefix optional
        ("application/json;odata.metadata=FULL", JsonFormat("full")),
        ("application/json;IEEE754Compatible=true", JsonFormat(ieee754=True)),
        ("application/json;ieee754compatible=TRUE", JsonFormat(ieee754=True)),
        ("application/json;odata.streaming=false", JsonFormat(streaming=False)),
        ('application/json;odata.metadata="full"', JsonFormat("full")),
        ("application/json;odata.metadata=full;IEEE754Compatible=true;odata.streaming=true",
         JsonFormat("full", ieee754=True)),
        # The most specific range decides: full is refused, so minimal wins.
        ("application/json;odata.metadata=full;q=0,application/json;q=0.5", JsonFormat()),
        # Higher quality wins over order.
        ("application/json;odata.metadata=none;q=0.4,application/json;odata.metadata=full",
         JsonFormat("full")),
        # An unknown odata.metadata value matches nothing; the other range still does.
        ("application/json;odata.metadata=verbose,application/json;q=0.1", JsonFormat()),
        # Parameters after q are accept-extensions, not format parameters.
        ("application/json;q=0.9;odata.metadata=full", JsonFormat()),
    ],
)
def test_format_parameters(accept, expected):
    assert negotiate_json(accept) == expected


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        (JsonFormat("full", ieee754=True),
         "application/json;odata.metadata=full;odata.streaming=true;IEEE754Compatible=true"),
        (JsonFormat("none", streaming=False),
         "application/json;odata.metadata=none;odata.streaming=false"),
    ],
)
def test_content_types(fmt, content_type):
    assert fmt.content_type == content_type


@pytest.mark.parametrize(
    "accept",
    ["application/xml", "application/atom+xml", "text/plain", "text/html",
     "application/json;q=0", "application/json;q=0,*/*", "application/json;odata.metadata=verbose",
     "application/json;charset=iso-8859-1"],
)
def test_feeds_refuse_what_is_not_json(accept):
    assert status_of(negotiate_json, accept) == 406


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("json", JsonFormat()),
        ("JSON", JsonFormat()),
        ("application/json", JsonFormat()),
        ("application/json;odata.metadata=full", JsonFormat("full")),
        ("json;odata.metadata=none", JsonFormat("none")),
        ("application/json;IEEE754Compatible=true", JsonFormat(ieee754=True)),
    ],
)
def test_format_option_overrides_accept(option, expected):
    assert negotiate_json("application/xml", option) == expected


@pytest.mark.parametrize(
    "option", ["xml", "atom", "text/html", "application/json;odata.metadata=x"]
)
def test_format_option_that_is_not_json_is_406(option):
    assert status_of(negotiate_json, None, option) == 406


@pytest.mark.parametrize(
    ("accept", "option", "expected"),
    [
        (None, None, "application/xml"),
        ("*/*", None, "application/xml"),  # python-odata
        (POWER_QUERY, None, "application/xml"),  # JSON preferred, but Power Query reads XML only
        ("application/xml", None, "application/xml"),
        ("application/json", None, "application/json"),
        ("application/json,application/xml;q=0.1", None, "application/xml"),
        ("application/json", "xml", "application/xml"),
        ("application/xml", "json", "application/json"),
    ],
)
def test_metadata_is_xml_unless_only_json_will_do(accept, option, expected):
    assert negotiate_metadata(accept, option) == expected


def test_metadata_refuses_other_types():
    assert status_of(negotiate_metadata, "text/html") == 406
    assert status_of(negotiate_metadata, None, "atom") == 406


def test_raw_values_are_text():
    assert negotiate_text(POWER_QUERY) == "text/plain;charset=utf-8"
    assert negotiate_text(None) == "text/plain;charset=utf-8"
    # Clients asking only for JSON (python-odata's count()) get the text as other servers do.
    for accept in ("application/json", "application/json;odata.metadata=minimal",
                   "text/*"):
        assert negotiate_text(accept) == "text/plain;charset=utf-8", accept
    for accept in ("application/xml", "text/html", "text/plain;q=0, application/json;q=0",
                   "*/*;q=0"):
        assert status_of(negotiate_text, accept) == 406, accept


def test_parse_accept_keeps_quoted_commas_and_skips_broken_elements():
    ranges = parse_accept('application/json;foo="a,b";q=0.5, broken, text/*;q=2, */*')
    assert [(r.type, r.subtype, dict(r.params), r.q) for r in ranges] == [
        ("application", "json", {"foo": "a,b"}, 0.5),
        ("*", "*", {}, 1.0),
    ]
