"""Kintone query -> SQL: run compiled queries against an in-memory sandbox database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gateway.sandbox.errors import KintoneError
from gateway.sandbox.fields import Form, system_properties
from gateway.sandbox.index import index_rows, reindex, unindex
from gateway.sandbox.query import CompiledQuery, compile_query
from gateway.sandbox.store import Database

APP = 7
TOKYO = ZoneInfo("Asia/Tokyo")
# 2024-05-16 05:30 in Tokyo (a Thursday) but still 2024-05-15 in UTC.
NOW = datetime(2024, 5, 15, 20, 30, 45, tzinfo=UTC)


def _options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


def _properties(features: bool = True) -> dict:
    props = system_properties()
    for code in ("Status", "Assignee", "Categories"):
        props[code]["enabled"] = features
    fields = {
        "title": {"type": "SINGLE_LINE_TEXT"},
        "link": {"type": "LINK"},
        "memo": {"type": "MULTI_LINE_TEXT"},
        "body": {"type": "RICH_TEXT"},
        "price": {"type": "NUMBER"},
        "total": {"type": "CALC", "format": "NUMBER"},
        "calc_date": {"type": "CALC", "format": "DATE"},
        "due": {"type": "DATE"},
        "at": {"type": "TIME"},
        "when": {"type": "DATETIME"},
        "stage": {"type": "DROP_DOWN", "options": _options("A", "B", "C D")},
        "radio": {"type": "RADIO_BUTTON", "options": _options("r1", "r2")},
        "tags": {"type": "CHECK_BOX", "options": _options("x", "y", "z")},
        "multi": {"type": "MULTI_SELECT", "options": _options("m1", "m2")},
        "users": {"type": "USER_SELECT"},
        "orgs": {"type": "ORGANIZATION_SELECT"},
        "groups": {"type": "GROUP_SELECT"},
        "files": {"type": "FILE"},
        "related": {"type": "REFERENCE_TABLE"},
        "items": {
            "type": "SUBTABLE",
            "fields": {
                "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku"},
                "qty": {"type": "NUMBER", "code": "qty"},
                "note": {"type": "MULTI_LINE_TEXT", "code": "note"},
                "flags": {"type": "CHECK_BOX", "code": "flags", "options": _options("p", "q")},
                "attach": {"type": "FILE", "code": "attach"},
            },
        },
    }
    for code, prop in fields.items():
        props[code] = {"code": code, "label": code, **prop}
    return props


FORM = Form(_properties())


@dataclass
class FakeCaller:
    login: str | None = "alice"
    primary_organization: str | None = "sales"


@dataclass
class FakeCtx:
    """What the compiler needs of ``Ctx``: a pinned clock, a time zone and the caller."""

    at: datetime = NOW
    tz: ZoneInfo = TOKYO
    caller: FakeCaller = field(default_factory=FakeCaller)
    lang: str = "en"

    def now(self) -> datetime:
        return self.at


CTX = FakeCtx()
UTC_CTX = FakeCtx(tz=ZoneInfo("UTC"))
TOKEN_CTX = FakeCtx(caller=FakeCaller(None, None))


def _rows(*rows: dict) -> list[dict]:
    """Subtable rows with ids unique across the whole test database."""
    _rows.counter += len(rows)  # type: ignore[attr-defined]
    start = _rows.counter - len(rows)  # type: ignore[attr-defined]
    return [{"id": str(start + i + 1), "value": row} for i, row in enumerate(rows)]


_rows.counter = 0  # type: ignore[attr-defined]


class Records:
    """Records of one app, stored and indexed like the sandbox does."""

    def __init__(self, records: dict[int, dict], form: Form = FORM) -> None:
        self.db = Database()
        self.form = form
        with self.db.transaction() as conn:
            for rec, data in records.items():
                conn.execute(
                    "INSERT INTO records (app, id, revision, data) VALUES (?, ?, 1, ?)",
                    (APP, rec, json.dumps(data)),
                )
                reindex(conn, APP, rec, form, data)

    def run(self, query: str, ctx: FakeCtx = CTX) -> list[int]:
        compiled = compile_query(query, self.form, ctx, app=APP)
        sql = (
            f"SELECT r.id FROM records r WHERE r.app = ? AND ({compiled.where}) "
            f"ORDER BY {compiled.order_by}"
        )
        params = [APP, *compiled.params, *compiled.order_params]
        ids = [row[0] for row in self.db.conn.execute(sql, params)]
        count_sql = f"SELECT count(*) FROM records r WHERE r.app = ? AND ({compiled.where})"
        assert self.db.conn.execute(count_sql, [APP, *compiled.params]).fetchone()[0] == len(ids)
        return ids

    def find(self, query: str, ctx: FakeCtx = CTX) -> set[int]:
        return set(self.run(query, ctx))


def error(query: str, form: Form = FORM, ctx: FakeCtx = CTX, **options) -> KintoneError:
    with pytest.raises(KintoneError) as info:
        compile_query(query, form, ctx, app=APP, **options)
    return info.value


def assert_cases(records: Records, cases: list[tuple[str, set[int]]], ctx: FakeCtx = CTX) -> None:
    results = [(query, records.find(query, ctx), want) for query, want in cases]
    failures = [(query, got, want) for query, got, want in results if got != want]
    assert not failures, "\n".join(f"{q!r}: got {got}, want {want}" for q, got, want in failures)


# -- text --------------------------------------------------------------------------------------

INJECTION = '") or $id > "0'


@pytest.fixture(scope="module")
def texts() -> Records:
    return Records(
        {
            1: {"title": "Widget", "link": "https://example.com/a"},
            2: {"title": "widget"},
            3: {"title": ""},
            4: {"title": "gamma keyword"},
            5: {"title": 'He said "hi" \\ bye'},
            6: {"title": INJECTION},
            7: {},
        }
    )


def test_text_equality_and_membership(texts: Records) -> None:
    assert_cases(
        texts,
        [
            ('title = "Widget"', {1}),
            ('title = "widget"', {2}),
            ('title != "Widget"', {2, 3, 4, 5, 6, 7}),
            ('title = ""', {3, 7}),
            ('title != ""', {1, 2, 4, 5, 6}),
            ('title in ("Widget", "gamma keyword")', {1, 4}),
            ('title not in ("Widget", "")', {2, 4, 5, 6}),
            ('title = "Widg"', set()),
            ('link = "https://example.com/a"', {1}),
        ],
    )


def test_text_like_is_a_word_search(texts: Records) -> None:
    assert_cases(
        texts,
        [
            ('title like "KEYWORD"', {4}),
            ('title like "key"', set()),
            ('title like "widget"', {1, 2}),
            ('title like "ｗｉｄｇｅｔ"', {1, 2}),
            ('title like "keyword gamma"', {4}),
            ('title like "gamma widget"', set()),
            ('title not like "widget"', {3, 4, 5, 6, 7}),
            ('title like ""', {1, 2, 3, 4, 5, 6, 7}),
            ('title not like "-"', set()),
            ('link like "example"', {1}),
        ],
    )


def test_string_escapes_reach_the_data(texts: Records) -> None:
    assert texts.find(r'title = "He said \"hi\" \\ bye"') == {5}


def test_injection_attempt_stays_a_literal(texts: Records) -> None:
    query = r'title = "\") or $id > \"0"'
    compiled = compile_query(query, FORM, CTX, app=APP)
    assert INJECTION in compiled.params
    assert "$id" not in compiled.where and '"' not in compiled.where
    assert texts.find(query) == {6}
    assert texts.find("title = \"x' OR 1=1 --\"") == set()
    assert texts.find("title in (\"'); DROP TABLE records; --\")") == set()


def test_every_literal_is_a_parameter() -> None:
    query = 'title = "zzq" and price > 12345 and due = "2024-05-01" and memo like "qqz"'
    compiled = compile_query(query, FORM, CTX, app=APP)
    for literal in ("zzq", "12345", "2024-05-01", "qqz"):
        assert literal not in compiled.where


# -- numbers and ids -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def numbers() -> Records:
    values = {1: "10", 2: "20.5", 3: "-3", 4: "", 5: "100"}
    return Records({rec: {"price": v, "total": v} for rec, v in values.items()})


@pytest.mark.parametrize("code", ["price", "total"])
def test_number_comparisons(numbers: Records, code: str) -> None:
    cases = [
        ("= 10", {1}),
        ('= "10"', {1}),
        ("= 10.0", {1}),
        ("!= 10", {2, 3, 4, 5}),
        ("> 10", {2, 5}),
        (">= 10", {1, 2, 5}),
        ("< 10", {3}),
        ("<= 10", {1, 3}),
        ("> -5", {1, 2, 3, 5}),
        ('in (10, "20.5")', {1, 2}),
        ("not in (10)", {2, 3, 4, 5}),
        ('= ""', {4}),
        ('!= ""', {1, 2, 3, 5}),
        ('in ("", 100)', {4, 5}),
    ]
    assert_cases(numbers, [(f"{code} {rest}", want) for rest, want in cases])


def test_ids(numbers: Records) -> None:
    assert_cases(
        numbers,
        [
            ("$id = 2", {2}),
            ('$id = "2"', {2}),
            ("$id != 2", {1, 3, 4, 5}),
            ("$id > 3", {4, 5}),
            ("$id >= 3", {3, 4, 5}),
            ("$id < 2", {1}),
            ('$id in (1, "3")', {1, 3}),
            ("$id not in (1, 2)", {3, 4, 5}),
            ("Record_number <= 2", {1, 2}),
            ("Record_number in (5)", {5}),
        ],
    )


@pytest.mark.parametrize(
    "query", ['price > "abc"', 'price > ""', "price < TODAY()", '$id = "x"', '$id = ""']
)
def test_bad_number_literals(query: str) -> None:
    assert error(query).code == "CB_VA01"


# -- choices -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def choices() -> Records:
    return Records(
        {
            1: {"stage": "A", "radio": "r1", "tags": ["x", "y"], "multi": ["m1"]},
            2: {"stage": "B", "radio": "r2", "tags": ["y"], "multi": []},
            3: {"stage": None, "radio": "", "tags": [], "multi": ["m1", "m2"]},
            4: {"stage": "C D", "tags": ["z"]},
        }
    )


def test_single_choice_fields(choices: Records) -> None:
    assert_cases(
        choices,
        [
            ('stage in ("A")', {1}),
            ('stage in ("A", "C D")', {1, 4}),
            ('stage not in ("A")', {2, 3, 4}),
            ('stage in ("")', {3}),
            ('stage not in ("")', {1, 2, 4}),
            ('radio in ("")', {3, 4}),
            ('radio in ("r2")', {2}),
        ],
    )


def test_multi_choice_fields(choices: Records) -> None:
    assert_cases(
        choices,
        [
            ('tags in ("y")', {1, 2}),
            ('tags in ("x", "z")', {1, 4}),
            ('tags not in ("x")', {2, 3, 4}),
            ('tags in ("")', {3}),
            ('tags in ("", "z")', {3, 4}),
            ('tags not in ("")', {1, 2, 4}),
            ('tags not in ("", "y")', {4}),
            ('multi in ("m2")', {3}),
            ('multi in ("")', {2, 4}),
        ],
    )


def test_value_not_an_option_is_checked_before_the_operator() -> None:
    err = error('stage in ("Z")')
    assert (err.code, err.args_) == ("GAIA_IQ10", ("Z", "stage"))
    assert error('tags not in ("x", "nope")').code == "GAIA_IQ10"
    assert error('stage = "Z"').code == "GAIA_IQ10"
    err = error('stage = "A"')
    assert (err.code, err.args_) == ("GAIA_IQ03", ("stage", "="))
    assert error('flags in ("zz")').code == "GAIA_IQ10"


# -- users, organisations, groups, status --------------------------------------------------------


def _entity(code: str) -> dict:
    return {"code": code, "name": code.title()}


@pytest.fixture(scope="module")
def entities() -> Records:
    return Records(
        {
            1: {
                "users": [_entity("alice"), _entity("bob")],
                "orgs": [_entity("sales")],
                "groups": [_entity("admins")],
                "Created_by": _entity("alice"),
                "Updated_by": _entity("bob"),
                "Status": "Open",
                "Assignee": [_entity("alice")],
                "Categories": ["HW"],
            },
            2: {
                "users": [_entity("bob")],
                "orgs": [],
                "Created_by": _entity("bob"),
                "Updated_by": _entity("alice"),
                "Status": "Done",
                "Assignee": [],
                "Categories": [],
            },
            3: {"users": [], "orgs": [_entity("dev")], "Created_by": _entity("carol")},
        }
    )


def test_entity_fields(entities: Records) -> None:
    assert_cases(
        entities,
        [
            ("users in (LOGINUSER())", {1}),
            ('users in (LOGINUSER(), "bob")', {1, 2}),
            ("users not in (LOGINUSER())", {2, 3}),
            ('users in ("")', {3}),
            ("orgs in (PRIMARY_ORGANIZATION())", {1}),
            ('orgs not in ("sales")', {2, 3}),
            ('groups in ("admins")', {1}),
            ("Created_by in (LOGINUSER())", {1}),
            ('Updated_by not in ("bob")', {2, 3}),
            ("Assignee in (LOGINUSER())", {1}),
        ],
    )
    assert entities.run("order by Created_by asc") == [1, 2, 3]


def test_functions_without_a_value_for_the_caller_match_nothing(entities: Records) -> None:
    assert entities.find("users in (LOGINUSER())", TOKEN_CTX) == set()
    assert entities.find("users not in (LOGINUSER())", TOKEN_CTX) == {1, 2, 3}
    assert entities.find("orgs in (PRIMARY_ORGANIZATION())", TOKEN_CTX) == set()


def test_status_and_categories(entities: Records) -> None:
    assert_cases(
        entities,
        [
            ('Status = "Open"', {1}),
            ('Status != "Open"', {2, 3}),
            ('Status in ("Open", "Done")', {1, 2}),
            ('Categories in ("HW")', {1}),
            ('Categories in ("")', {2, 3}),
        ],
    )


def test_entity_errors() -> None:
    assert error('Created_by = "alice"').code == "GAIA_IQ03"
    assert error("orgs in (LOGINUSER())").code == "CB_VA01"
    assert error("users in (PRIMARY_ORGANIZATION())").code == "CB_VA01"
    assert error('title = LOGINUSER()').code == "CB_VA01"
    assert error("users in (LOGINUSER(1))").code == "GAIA_IL08"


def test_disabled_feature_fields_are_unknown() -> None:
    form = Form(_properties(features=False))
    for query in ('Status = "Open"', "Assignee in (LOGINUSER())", 'Categories in ("HW")'):
        assert error(query, form).code == "GAIA_IQ11"


# -- long text, rich text, files ---------------------------------------------------------------


@pytest.fixture(scope="module")
def documents() -> Records:
    return Records(
        {
            1: {
                "memo": "invoice for May",
                "body": "<div>Hello <b>big</b> world</div>",
                "files": [{"name": "report-2024.pdf", "fileKey": "k", "size": "1"}],
            },
            2: {"memo": "  \n\t\u3000", "body": "<div><br></div>", "files": []},
            3: {"memo": "", "body": "", "files": [{"name": "a.png"}, {"name": "見積書.xlsx"}]},
            4: {"memo": "請求書を送付します"},
        }
    )


def test_multi_line_and_rich_text(documents: Records) -> None:
    assert_cases(
        documents,
        [
            ("memo is empty", {2, 3}),
            ("memo is not empty", {1, 4}),
            ('memo like "invoice"', {1}),
            ('memo like "INVOICE may"', {1}),
            ('memo not like "invoice"', {2, 3, 4}),
            ('memo like "請求書"', {4}),
            ('memo like "送付"', {4}),
            ('memo like "求"', set()),  # a single CJK character is below the n-gram size
            ('body like "hello world"', {1}),
            ('body like "bigworld"', set()),
            ('body like "div"', set()),
            ("body is empty", {2, 3, 4}),
            ("body is not empty", {1}),
        ],
    )


def test_files(documents: Records) -> None:
    assert_cases(
        documents,
        [
            ('files like "report"', {1}),
            ('files like "2024 pdf"', {1}),
            ('files like "見積"', {3}),
            ('files not like "png"', {1, 2, 4}),
            ("files is empty", {2, 4}),
            ("files is not empty", {1, 3}),
        ],
    )


@pytest.mark.parametrize(
    ("query", "op"),
    [
        ('memo = "x"', "="),
        ('memo in ("x")', "in"),
        ('body != "x"', "!="),
        ("title is empty", "is empty"),
        ("price is not empty", "is not empty"),
        ('price like "1"', "like"),
        ('files in ("a.png")', "in"),
        ('due like "2024"', "like"),
        ('users not like "x"', "not like"),
        ('Status like "x"', "like"),
        ('when in ("2024-05-01")', "in"),
        ('items in ("x")', "in"),
    ],
)
def test_operator_not_allowed(query: str, op: str) -> None:
    err = error(query)
    assert (err.code, err.args_[1]) == ("GAIA_IQ03", op)
    code = query.split()[0]
    assert err.text() == f"The operator {op} cannot be used for the field type of the {code} field."


# -- dates ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def days() -> Records:
    dues = {
        1: "2024-05-16",  # today in Tokyo
        2: "2024-05-15",
        3: "2024-05-17",
        4: "2024-05-12",  # Sunday of this week
        5: "2024-05-31",
        6: None,
        7: "2024-04-30",
        8: "2024-12-31",
        9: "2023-06-01",
        10: "2024-05-23",  # Thursday next week
        11: "2024-06-16",
    }
    return Records({rec: {"due": due} for rec, due in dues.items()})


def test_day_functions(days: Records) -> None:
    assert_cases(
        days,
        [
            ("due = TODAY()", {1}),
            ("due = YESTERDAY()", {2}),
            ("due = TOMORROW()", {3}),
            ("due = FROM_TODAY(7, DAYS)", {10}),
            ("due = FROM_TODAY(-1, DAYS)", {2}),
            ("due = FROM_TODAY(1, WEEKS)", {10}),
            ("due = FROM_TODAY(1, MONTHS)", {11}),
            ("due = FROM_TODAY(-1, YEARS)", set()),
        ],
    )


def test_day_functions_use_the_callers_time_zone(days: Records) -> None:
    assert days.find("due = TODAY()", UTC_CTX) == {2}
    assert days.find("due = TOMORROW()", UTC_CTX) == {1}


def test_period_functions(days: Records) -> None:
    assert_cases(
        days,
        [
            ("due = THIS_WEEK()", {1, 2, 3, 4}),
            ("due = THIS_WEEK(SUNDAY)", {4}),
            ("due = THIS_WEEK(THURSDAY)", {1}),
            ("due = NEXT_WEEK(THURSDAY)", {10}),
            ("due = LAST_WEEK()", set()),
            ("due = THIS_MONTH()", {1, 2, 3, 4, 5, 10}),
            ("due = THIS_MONTH(LAST)", {5}),
            ("due = THIS_MONTH(16)", {1}),
            ("due = LAST_MONTH(LAST)", {7}),
            ("due = LAST_MONTH(31)", {7}),  # April has 30 days: clamped to the 30th
            ("due = NEXT_MONTH(16)", {11}),
            ("due = THIS_YEAR()", {1, 2, 3, 4, 5, 7, 8, 10, 11}),
            ("due = LAST_YEAR()", {9}),
            ("due = NEXT_YEAR()", set()),
        ],
    )


def test_range_semantics(days: Records) -> None:
    assert_cases(
        days,
        [
            ("due > THIS_WEEK()", {5, 8, 10, 11}),
            ("due >= THIS_WEEK()", {1, 2, 3, 4, 5, 8, 10, 11}),
            ("due < THIS_WEEK()", {7, 9}),
            ("due <= THIS_WEEK()", {1, 2, 3, 4, 7, 9}),
            ("due != THIS_WEEK()", {5, 6, 7, 8, 9, 10, 11}),
        ],
    )


def test_date_literals(days: Records) -> None:
    assert_cases(
        days,
        [
            ('due = "2024-05-16"', {1}),
            ('due != "2024-05-16"', {2, 3, 4, 5, 6, 7, 8, 9, 10, 11}),
            ('due > "2024-05-17"', {5, 8, 10, 11}),
            ('due >= "2024-05-17"', {3, 5, 8, 10, 11}),
            ('due < "2024-05-01"', {7, 9}),
            ('due <= "2024-04-30"', {7, 9}),
            ('due = "2024-5-12"', {4}),
            ('due = ""', {6}),
            ('due != ""', {1, 2, 3, 4, 5, 7, 8, 9, 10, 11}),
        ],
    )
    assert days.run("order by due asc") == [6, 9, 7, 4, 2, 1, 3, 10, 5, 11, 8]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('due = "May 1st"', "CB_VA01"),
        ('due = "2024-02-30"', "CB_VA01"),
        ('due = "2024-05-01T00:00:00Z"', "CB_VA01"),
        ("due = NOW()", "CB_VA01"),
        ('due > ""', "CB_VA01"),
        ('due in ("2024-05-16")', "GAIA_IQ03"),
        ("due = THIS_MONTH(32)", "GAIA_IQ23"),
        ("due = THIS_MONTH(0)", "GAIA_IQ23"),
        ("due = NEXT_MONTH(FIRST)", "GAIA_IQ23"),
        ("due = FROM_TODAY(1, DAY)", "GAIA_IQ25"),
        ("due = FROM_TODAY(1, days)", "GAIA_IQ25"),
        ("due = FROM_TODAY(1)", "GAIA_IL08"),
        ("due = FROM_TODAY(1, DAYS, 2)", "GAIA_IL08"),
        ("due = FROM_TODAY(X, DAYS)", "GAIA_IL08"),
        ("due = TODAY(1)", "GAIA_IL08"),
        ("due = THIS_YEAR(1)", "GAIA_IL08"),
        ("due = THIS_WEEK(MONDAY, 1)", "GAIA_IL08"),
        ("due = THIS_WEEK(MON)", "GAIA_IL08"),
        ("when = NOW(1)", "GAIA_IL08"),
    ],
)
def test_date_errors(query: str, code: str) -> None:
    assert error(query).code == code


def test_day_argument_is_quoted_in_the_error() -> None:
    assert error("due = THIS_MONTH(32)").args_ == ("32",)


# -- date-times and times ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moments() -> Records:
    whens = {
        1: "2024-05-15T15:00:00Z",  # 00:00 on the 16th in Tokyo: today's first minute
        2: "2024-05-16T14:59:00Z",  # 23:59 on the 16th in Tokyo: today's last minute
        3: "2024-05-16T15:00:00Z",  # tomorrow in Tokyo
        4: "2024-05-15T14:59:00Z",  # yesterday in Tokyo
        5: "2024-05-15T20:30:00Z",  # NOW(), minute precision
        6: "",
    }
    return Records(
        {
            rec: {"when": w, "Created_datetime": w, "Updated_datetime": w}
            for rec, w in whens.items()
        }
    )


@pytest.mark.parametrize("code", ["when", "Created_datetime", "Updated_datetime"])
def test_date_time_functions(moments: Records, code: str) -> None:
    cases = [
        ("= TODAY()", {1, 2, 5}),
        ("= TOMORROW()", {3}),
        ("= YESTERDAY()", {4}),
        ("= NOW()", {5}),
        ("> NOW()", {2, 3}),
        (">= NOW()", {2, 3, 5}),
        ("< NOW()", {1, 4}),
        ("<= NOW()", {1, 4, 5}),
        ("!= NOW()", {1, 2, 3, 4, 6}),
        ("> TODAY()", {3}),
        ("< TODAY()", {4}),
        ("<= TODAY()", {1, 2, 4, 5}),
    ]
    assert_cases(moments, [(f"{code} {rest}", want) for rest, want in cases])


def test_date_time_days_follow_the_callers_time_zone(moments: Records) -> None:
    assert moments.find("when = TODAY()", UTC_CTX) == {1, 4, 5}
    assert moments.find("when = NOW()", UTC_CTX) == {5}


def test_date_time_literals(moments: Records) -> None:
    assert_cases(
        moments,
        [
            ('when = "2024-05-16T05:30:00+09:00"', {5}),
            ('when = "2024-05-15T20:30:59Z"', {5}),  # seconds are ignored
            ('when = "2024-05-15T20:30"', {5}),  # no offset: UTC
            ('when > "2024-05-15T20:30:00Z"', {2, 3}),
            ('when <= "2024-05-15T20:30:00Z"', {1, 4, 5}),
            ('when = "2024-05-16"', {1, 2, 5}),  # a whole day in the caller's zone
            ('when < "2024-05-16"', {4}),
            ('when > "2024-05-16"', {3}),
            ('when >= "2024-05-16"', {1, 2, 3, 5}),
            ('when = ""', {6}),
        ],
    )
    assert error('when = "yesterday"').code == "CB_VA01"


def test_day_ranges_across_a_daylight_saving_change() -> None:
    new_york = FakeCtx(at=datetime(2024, 3, 10, 12, tzinfo=UTC), tz=ZoneInfo("America/New_York"))
    whens = {
        1: "2024-03-10T04:59:00Z",
        2: "2024-03-10T05:00:00Z",
        3: "2024-03-11T03:59:00Z",
        4: "2024-03-11T04:00:00Z",
    }
    records = Records({rec: {"when": w} for rec, w in whens.items()})
    assert records.find("when = TODAY()", new_york) == {2, 3}


def test_times() -> None:
    records = Records({1: {"at": "09:30"}, 2: {"at": "23:59"}, 3: {"at": "00:00"}, 4: {"at": None}})
    assert_cases(
        records,
        [
            ('at = "09:30"', {1}),
            ('at = "9:30"', {1}),
            ('at = "09:30:15"', {1}),
            ('at != "09:30"', {2, 3, 4}),
            ('at > "09:30"', {2}),
            ('at >= "09:30"', {1, 2}),
            ('at < "09:30"', {3}),
            ('at <= "23:59"', {1, 2, 3}),
            ('at > "23:59"', set()),
            ('at = ""', {4}),
        ],
    )
    assert records.run("order by at desc") == [2, 1, 3, 4]
    assert error('at = "25:00"').code == "CB_VA01"
    assert error("at = TODAY()").code == "CB_VA01"


def test_calc_fields_compare_by_their_format() -> None:
    records = Records({1: {"calc_date": "2024-05-16"}, 2: {"calc_date": "2024-05-17"}})
    assert records.find('calc_date > "2024-05-16"') == {2}
    assert records.find('calc_date in ("2024-05-16")') == {1}
    assert error("calc_date = TODAY()").code == "CB_VA01"


# -- subtables -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables() -> Records:
    return Records(
        {
            1: {
                "items": _rows(
                    {"sku": "A-1", "qty": "3", "note": "", "flags": ["p"],
                     "attach": [{"name": "spec.pdf"}]},
                    {"sku": "B-1", "qty": "5", "note": "fragile box", "flags": [], "attach": []},
                ),
            },
            2: {
                "items": _rows(
                    {"sku": "A-1", "qty": "5", "note": "fragile", "flags": ["p", "q"],
                     "attach": [{"name": "photo.png"}]},
                ),
            },
            3: {"items": []},
            4: {"items": _rows({"sku": "C-1", "qty": "", "note": "  ", "flags": []})},
            5: {},
        }
    )


def test_subtable_positive_predicates_match_any_row(tables: Records) -> None:
    assert_cases(
        tables,
        [
            ('sku in ("A-1")', {1, 2}),
            ('sku in ("B-1", "C-1")', {1, 4}),
            ("qty > 4", {1, 2}),
            ("qty < 4", {1}),
            ('qty in ("")', {4}),
            ('note like "fragile"', {1, 2}),
            ("note is empty", {1, 4}),
            ('flags in ("p")', {1, 2}),
            ('flags in ("")', {1, 4}),
            ('attach like "spec"', {1}),
            ("attach is empty", {1, 4}),
        ],
    )


def test_subtable_negative_predicates_need_all_rows_and_a_row(tables: Records) -> None:
    assert_cases(
        tables,
        [
            ('sku not in ("A-1")', {4}),
            ('sku not in ("Z")', {1, 2, 4}),
            ('note not like "fragile"', {4}),
            ("note is not empty", {2}),
            ('flags not in ("q")', {1, 4}),
            ('flags not in ("")', {2}),
            ("attach is not empty", {2}),
        ],
    )


def test_subtable_and_group_needs_one_row(tables: Records) -> None:
    assert_cases(
        tables,
        [
            ('sku in ("A-1") and qty in ("3")', {1}),
            ('sku in ("A-1") and qty in ("5")', {2}),
            ('qty in ("5") and sku in ("A-1")', {2}),
            ('sku in ("A-1") and qty > 4', {2}),
            ('sku in ("A-1") and (qty > 4 and note like "fragile")', {2}),
            ('sku in ("A-1") and flags in ("")', set()),
            ('sku in ("B-1") and flags in ("")', {1}),
            ('sku in ("B-1") and note like "fragile box"', {1}),
            ('note is empty and flags in ("p")', {1}),
            ('note is empty and qty in ("")', {4}),
            ('sku in ("A-1") or qty in ("5")', {1, 2}),
            ('(sku in ("A-1") or sku in ("C-1")) and qty < 4', {1}),
        ],
    )


def test_subtable_negative_predicates_inside_an_and_group(tables: Records) -> None:
    # The negative predicate keeps its all-rows meaning; the positive ones share a row.
    assert tables.find('sku in ("A-1") and qty not in ("3")') == {2}
    assert tables.find('sku in ("A-1") and note not like "box"') == {2}


def test_subtable_errors() -> None:
    err = error('sku = "A-1"')
    assert (err.code, err.args_) == ("GAIA_IQ07", ("sku",))
    assert error("qty != 3").code == "GAIA_IQ07"
    err = error('items.sku in ("A-1")')
    assert (err.code, err.args_) == ("GAIA_IR02", ("items",))
    assert error('items in ("x")').code == "GAIA_IQ03"


# -- and / or ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed() -> Records:
    return Records(
        {
            1: {"title": "a", "price": "1", "stage": "A"},
            2: {"title": "b", "price": "2", "stage": "B"},
            3: {"title": "a", "price": "2", "stage": "B"},
            4: {"title": "c", "price": "", "stage": None},
        }
    )


def test_boolean_structure(mixed: Records) -> None:
    assert_cases(
        mixed,
        [
            ('title = "a" and price = 2', {3}),
            ('title = "a" or price = 2', {1, 2, 3}),
            ('title = "c" or title = "a" and price = 2', {3, 4}),
            ('(title = "c" or title = "a") and price = 2', {3}),
            ('title = "a" and (price = 1 or stage in ("B"))', {1, 3}),
            ('title = "a" and title = "b"', set()),
            ('title != "a" and (price = "" or stage not in ("A", "B"))', {4}),
        ],
    )


def test_long_chains_stay_within_sqlite_expression_depth(mixed: Records) -> None:
    many = " or ".join(f'title = "x{i}"' for i in range(2000))
    assert mixed.find(f'{many} or title = "c"') == {4}
    assert mixed.find(" and ".join(["price >= 1"] * 1500)) == {1, 2, 3}
    assert mixed.find("title in (" + ", ".join(f'"{i}"' for i in range(900)) + ', "b")') == {2}


# -- order by ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sortable() -> Records:
    return Records(
        {
            1: {"title": "b", "price": "2", "due": "2024-01-02"},
            2: {"title": "a", "price": "2", "due": None},
            3: {"title": "c", "price": "", "due": "2024-01-01"},
            4: {"title": "a", "price": "1"},
        }
    )


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", [4, 3, 2, 1]),
        ("order by $id asc", [1, 2, 3, 4]),
        ("order by Record_number desc", [4, 3, 2, 1]),
        ("order by title asc", [4, 2, 1, 3]),  # ties: $id descending
        ("order by title, $id asc", [2, 4, 1, 3]),
        ("order by title desc, price asc", [3, 1, 4, 2]),
        ("order by price asc", [3, 4, 2, 1]),  # empty sorts as the smallest
        ("order by price desc", [2, 1, 4, 3]),
        ("order by due asc", [4, 2, 3, 1]),
        ('title = "a" order by price asc', [4, 2]),
    ],
)
def test_order_by(sortable: Records, query: str, ids: list[int]) -> None:
    assert sortable.run(query) == ids


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("order by tags", "GAIA_IQ03"),
        ("order by memo desc", "GAIA_IQ03"),
        ("order by files", "GAIA_IQ03"),
        ("order by users", "GAIA_IQ03"),
        ("order by qty", "GAIA_IQ03"),
        ("order by items", "GAIA_IQ03"),
        ("order by nope", "GAIA_IQ11"),
        ("order by items.qty", "GAIA_IR02"),
    ],
)
def test_order_by_errors(query: str, code: str) -> None:
    assert error(query).code == code


def test_order_by_error_names_the_field() -> None:
    assert error("order by tags").args_ == ("tags", "order by")


# -- limit / offset ------------------------------------------------------------------------------


def test_compiled_defaults() -> None:
    empty = CompiledQuery("1", [], "r.id DESC", [], None, None)
    assert compile_query("", FORM, CTX, app=APP) == empty
    compiled = compile_query("limit 10 offset 20", FORM, CTX, app=APP)
    assert (compiled.limit, compiled.offset) == (10, 20)
    assert compile_query("limit 500 offset 10000", FORM, CTX, app=APP).limit == 500


def test_paging_limits() -> None:
    assert error("limit 501").code == "GAIA_QU01"
    assert error("offset 10001").code == "GAIA_QU02"
    for query in ("limit -1", "offset -1"):
        err = error(query)
        assert err.code == "CB_VA01" and list(err.errors) == ["query"]


def test_cursor_queries_reject_paging() -> None:
    for query in ('title = "a" limit 5', "offset 1", "order by $id asc limit 500"):
        err = error(query, allow_paging=False)
        assert err.code == "CB_VA01" and list(err.errors) == ["query"]
    compiled = compile_query("order by $id asc", FORM, CTX, app=APP, allow_paging=False)
    assert compiled.order_by == "r.id ASC"


# -- field errors --------------------------------------------------------------------------------


def test_unknown_fields() -> None:
    err = error("nope = 1")
    assert (err.code, err.args_) == ("GAIA_IQ11", ("nope",))
    assert err.text() == "Specified field (nope) not found."
    assert err.text("ja") == "指定されたフィールド（nope）が見つかりません。"
    assert error("$revision = 1").code == "GAIA_IQ11"
    assert error('`title` = "a"').code == "GAIA_IQ11"
    assert error('related.name in ("a")').code == "GAIA_IQ11"
    assert error("title.x = 1").code == "GAIA_IR02"


def test_syntax_errors_are_localised_with_the_callers_language() -> None:
    err = error('title = "a', ctx=FakeCtx(lang="ja"))
    assert err.errors == {"query": ["クエリ記法が間違っています。"]}


# -- isolation, plans and the index --------------------------------------------------------------


def test_other_apps_index_rows_never_match() -> None:
    records = Records({1: {"title": "a", "items": _rows({"sku": "A-1"})}})
    other = {"title": "b", "memo": "secret", "items": _rows({"sku": "B-1"})}
    with records.db.transaction() as conn:
        conn.execute("INSERT INTO records (app, id, revision, data) VALUES (8, 1, 1, '{}')")
        reindex(conn, APP + 1, 1, FORM, other)
    for query in ('title = "b"', 'memo like "secret"', 'sku in ("B-1")', "memo is not empty"):
        assert records.find(query) == set(), query
    assert records.run("order by title") == [1]


@pytest.mark.parametrize(
    "query",
    [
        'title = "a"',
        'title like "word"',
        "price > 10",
        'sku in ("A-1") and qty in ("3")',
        'stage in ("A")',
        "$id > 5",
    ],
)
def test_selective_queries_use_the_index(query: str) -> None:
    records = Records({})
    compiled = compile_query(query, FORM, CTX, app=APP)
    sql = (
        f"SELECT r.id FROM records r WHERE r.app = ? AND ({compiled.where}) "
        f"ORDER BY {compiled.order_by} LIMIT 100"
    )
    params = [APP, *compiled.params, *compiled.order_params]
    plan = records.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    details = [row[3] for row in plan]
    assert not any(d.startswith("SCAN") for d in details), details


def test_index_rows_follow_the_store_contract() -> None:
    data = {
        "title": "Hello World",
        "price": "12.5",
        "memo": "",
        "body": "<p>x</p>",
        "stage": None,
        "tags": ["x", "y"],
        "users": [_entity("alice")],
        "files": [{"name": "a b.txt"}],
        "Created_by": _entity("bob"),
        "when": "",
        "items": [{"id": "41", "value": {"sku": "S", "qty": "", "flags": []}}],
    }
    values, words = index_rows(APP, 3, FORM, data)
    by_code: dict[str, list[tuple]] = {}
    for app, rec, code, row, s, n in values:
        assert (app, rec) == (APP, 3)
        by_code.setdefault(code, []).append((row, s, n))
    assert by_code["Record_number"] == [(0, "3", 3.0)]
    assert by_code["title"] == [(0, "Hello World", None)]
    assert by_code["price"] == [(0, "12.5", 12.5)]
    assert by_code["total"] == [(0, "", None)]
    assert by_code["memo"] == [(0, "", None)]
    assert by_code["body"] == [(0, "x", None)]
    assert by_code["stage"] == [(0, "", None)]
    assert by_code["tags"] == [(0, "x", None), (0, "y", None)]
    assert by_code["users"] == [(0, "alice", None)]
    assert "orgs" not in by_code
    assert by_code["files"] == [(0, "a b.txt", None)]
    assert by_code["Created_by"] == [(0, "bob", None)]
    assert by_code["when"] == [(0, "", None)]
    assert by_code["items"] == [(41, None, None)]
    assert by_code["sku"] == [(41, "S", None)]
    assert by_code["qty"] == [(41, "", None)]
    assert "flags" not in by_code and "related" not in by_code
    assert {(code, row, token) for _, _, code, row, token in words} == {
        ("title", 0, "hello"),
        ("title", 0, "world"),
        ("body", 0, "x"),
        ("files", 0, "a"),
        ("files", 0, "b"),
        ("files", 0, "txt"),
        ("sku", 41, "s"),
    }


def test_reindex_replaces_and_unindex_removes() -> None:
    records = Records({1: {"title": "old words"}})
    with records.db.transaction() as conn:
        reindex(conn, APP, 1, FORM, {"title": "new"})
    assert records.find('title like "old"') == set()
    assert records.find('title = "new"') == {1}
    with records.db.transaction() as conn:
        unindex(conn, APP, 1)
        assert conn.execute("SELECT count(*) FROM record_values").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM record_words").fetchone()[0] == 0


# -- and groups: merged scalar tests, one driving subquery ---------------------------------------

# A query as a tree: a predicate, or ("and" | "or", term, term, ...).
Tree = str | tuple


def _query_text(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    op, *terms = tree
    return "(" + f" {op} ".join(_query_text(term) for term in terms) + ")"


def _expected(records: Records, tree: Tree) -> set[int]:
    """What the tree matches by its definition: every predicate compiled alone (no merging, no
    driving), combined as sets. Exact for top-level fields, where ``and`` is an intersection."""
    if isinstance(tree, str):
        return records.find(tree)
    op, *terms = tree
    found = [_expected(records, term) for term in terms]
    return set.intersection(*found) if op == "and" else set.union(*found)


def _page(records: Records, query: str) -> list[int]:
    """The ids a ``records.json`` read returns: the compiled query with its limit and offset."""
    compiled = compile_query(query, records.form, CTX, app=APP)
    sql = (
        f"SELECT r.id FROM records r WHERE r.app = ? AND ({compiled.where}) "
        f"ORDER BY {compiled.order_by} LIMIT ? OFFSET ?"
    )
    params = [APP, *compiled.params, *compiled.order_params]
    page = [compiled.limit or 100, compiled.offset or 0]
    return [row[0] for row in records.db.conn.execute(sql, [*params, *page])]


def _plan(records: Records, query: str) -> list[str]:
    compiled = compile_query(query, records.form, CTX, app=APP)
    sql = (
        f"SELECT r.id FROM records r WHERE r.app = ? AND ({compiled.where}) "
        f"ORDER BY {compiled.order_by} LIMIT 10"
    )
    params = [APP, *compiled.params, *compiled.order_params]
    return [row[3] for row in records.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


@pytest.fixture(scope="module")
def conjunctions() -> Records:
    return Records(
        {
            1: {"price": "5", "total": "5", "due": "2024-01-10", "title": "alpha beta",
                "memo": "a note", "stage": "A", "tags": ["x", "y"],
                "users": [_entity("alice"), _entity("bob")]},
            2: {"price": "10", "total": "", "due": "2024-01-31", "title": "alpha",
                "stage": "B", "tags": ["x"], "users": [_entity("bob")]},
            3: {"price": "50", "total": "50", "due": "2024-02-01", "title": "",
                "stage": "C D", "tags": ["y", "z"], "users": []},
            4: {"price": "", "total": "100", "due": None, "title": "  ", "memo": " \n",
                "stage": None, "tags": [], "users": [_entity("alice")]},
            5: {"price": "100", "total": "-1", "due": "2023-12-31", "title": "beta",
                "stage": "B", "tags": ["z"]},
            6: {},
            7: {"price": "10.5", "due": "2024-01-01", "title": "alpha beta gamma", "stage": "A",
                "tags": ["x", "z"], "items": _rows({"sku": "A-1", "qty": "3"})},
        }
    )


CONJUNCTIONS: list[Tree] = [
    # one scalar field, merged into one test
    ("and", "price >= 10", "price < 100"),
    ("and", "price > 5", "price <= 50", "price != 10"),
    ("and", "price >= 10", "price < 100", "price >= 50"),
    ("and", 'price in ("", 10)', "price <= 10"),
    ("and", 'price = ""', "price < 100"),
    ("and", 'price != ""', "price < 100"),
    ("and", "price > 100", "price < 5"),
    ("and", "total >= 0", "total <= 100", "price >= 10"),
    ("and", 'due >= "2024-01-01"', 'due < "2024-02-01"'),
    ("and", 'due = ""', 'due < "2024-02-01"'),
    ("and", 'due > "2023-12-31"', 'due <= "2024-01-31"', 'due != "2024-01-10"'),
    ("and", 'stage in ("A", "B")', 'stage in ("B", "C D")'),
    ("and", 'stage in ("A", "")', 'stage not in ("A")'),
    ("and", 'title != ""', 'title != "alpha"', 'title like "alpha"'),
    ("and", "memo is empty", 'memo like "note"'),
    ("and", "memo is not empty", 'memo like "note"', "price <= 10"),
    ("and", 'title like "alpha"', 'title like "beta"'),
    # multi-value fields are not merged: "some value is x and some value is y"
    ("and", 'tags in ("x")', 'tags in ("y")'),
    ("and", 'tags in ("x")', 'tags not in ("y")'),
    ("and", 'tags in ("x", "")', 'tags in ("z", "")'),
    ("and", 'users in ("alice")', 'users in ("bob")'),
    ("and", 'users in ("alice")', 'users not in ("bob")', 'price in ("", 5)'),
    # negatives, $id and or groups beside merged tests
    ("and", "price >= 10", "price < 100", 'stage not in ("B")'),
    ("and", 'stage not in ("B")', 'tags not in ("z")'),
    ("and", 'title != "alpha"', "price != 10"),
    ("and", "$id > 2", "price >= 10", "price <= 100"),
    ("and", "price >= 10", ("or", "price < 20", "price > 60")),
    ("or", ("and", "price >= 10", "price < 100"), ("and", 'price = ""', 'stage in ("")')),
    ("and", ("or", 'stage in ("A")', 'tags in ("z")'), "price >= 10", "price < 100"),
    ("and", 'title like "gamma"', "price > 10", 'stage in ("A")', 'tags in ("z")'),
    ("and", 'stage in ("A")', "memo is empty", 'title like ""'),
    ("and", "price >= 0", 'title not like ""'),
]


@pytest.mark.parametrize("tree", CONJUNCTIONS, ids=_query_text)
def test_and_groups_match_the_sets_of_their_predicates(conjunctions: Records, tree: Tree) -> None:
    query = _query_text(tree)
    expected = _expected(conjunctions, tree)
    assert conjunctions.run(query) == sorted(expected, reverse=True)
    assert _page(conjunctions, f"{query} limit 2") == sorted(expected, reverse=True)[:2]
    ascending = f"{query} order by $id asc limit 2 offset 1"
    assert _page(conjunctions, ascending) == sorted(expected)[1:3]


def test_and_groups_with_subtables_keep_their_row_rules(conjunctions: Records) -> None:
    assert_cases(
        conjunctions,
        [
            ('sku in ("A-1") and qty > 2 and qty < 4', {7}),
            ('sku in ("A-1") and qty > 3', set()),
            ("qty > 4 and qty < 4", set()),
            ('price >= 10 and price < 11 and sku in ("A-1") and qty < 4', {7}),
            ('price >= 10 and price < 11 and sku not in ("A-1")', set()),
            ('price >= 10 and price < 100 and sku not in ("B-1")', {7}),
            ('price >= 10 and price < 100 and sku not in ("")', {7}),
            ('sku in ("A-1") or price >= 100', {5, 7}),
        ],
    )


def test_merged_scalar_tests_are_one_condition() -> None:
    compiled = compile_query("price >= 10 and price < 100 and price != 50", FORM, CTX, app=APP)
    assert compiled.where.count("FROM record_values ") == 2  # the range, and the negation apart
    compiled = compile_query('tags in ("x") and tags in ("y")', FORM, CTX, app=APP)
    assert compiled.where.count("FROM record_values ") == 2


@pytest.fixture(scope="module")
def thousands() -> Records:
    stages = ("A", "B", "C D")
    return Records(
        {
            rec: {"price": str(rec), "stage": stages[rec % 3], "due": f"2024-01-{rec % 28 + 1:02d}",
                  "title": f"t{rec}", "items": _rows({"sku": f"S{rec % 7}", "qty": str(rec % 10)})}
            for rec in range(1, 2001)
        }
    )


def _subqueries(plan: list[str]) -> list[str]:
    """The index searches of ``record_values`` in a plan."""
    return [step for step in plan if step.startswith("SEARCH") and " v" in step]


def test_a_numeric_range_is_one_index_range(thousands: Records) -> None:
    query = "price >= 100 and price < 200"
    searches = _subqueries(_plan(thousands, query))
    assert searches == [
        "SEARCH v1 USING COVERING INDEX record_values_n_rec (app=? AND code=? AND n>? AND n<?)"
    ]
    assert thousands.find(query) == set(range(100, 200))
    assert _page(thousands, f"{query} limit 10") == list(range(199, 189, -1))


def test_an_and_group_materialises_only_its_driving_subquery(thousands: Records) -> None:
    # The bounded range is the likeliest to be small, so it drives; the rest is checked on each
    # candidate through the record's own index rows.
    query = (
        'stage in ("A") and title != "t150" and price > 100 and price <= 200 '
        'and due > "2024-01-10"'
    )
    plan = _plan(thousands, query)
    assert [step for step in plan if step.startswith("LIST SUBQUERY")] == ["LIST SUBQUERY 1"]
    searches = _subqueries(plan)
    assert searches[0] == (
        "SEARCH v1 USING COVERING INDEX record_values_n_rec (app=? AND code=? AND n>? AND n<?)")
    assert all("record_values_rec (app=? AND rec=? AND code=?)" in s for s in searches[1:])
    assert not any(step.startswith("SCAN") for step in plan), plan
    expected = {
        rec for rec in range(101, 201) if rec % 3 == 0 and rec != 150 and rec % 28 + 1 > 10
    }
    assert thousands.find(query) == expected
    assert _page(thousands, f"{query} limit 3") == sorted(expected, reverse=True)[:3]


def test_correlated_row_checks_use_the_records_own_rows(thousands: Records) -> None:
    # Without statistics SQLite would search the qty range once for every candidate row.
    searches = _subqueries(_plan(thousands, 'sku in ("S3") and qty > 4 and qty < 9'))
    assert searches == [
        "SEARCH v1 USING INDEX record_values_s_rec (app=? AND code=? AND s=?)",
        "SEARCH v2 USING INDEX record_values_rec (app=? AND rec=? AND code=? AND row=?)",
        "SEARCH v3 USING INDEX record_values_rec (app=? AND rec=? AND code=? AND row=?)",
    ]
    expected = {rec for rec in range(1, 2001) if rec % 7 == 3 and 4 < rec % 10 < 9}
    assert thousands.find('sku in ("S3") and qty > 4 and qty < 9') == expected
