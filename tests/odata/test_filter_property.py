"""The translator's contract, checked on random data and random filters.

For every filter: the records the pushed Kintone condition selects (run by the sandbox's query
compiler over its SQLite index, in-process) include every record the OData filter selects
(``evaluate.matches``), and after the residual the answer is exactly OData's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.model.builder import build_model
from gateway.model.schema import EntitySet
from gateway.odata.evaluate import matches
from gateway.odata.syntax import parse_filter
from gateway.odata.translate import plan_filter
from gateway.sandbox.fields import Form
from gateway.sandbox.index import reindex
from gateway.sandbox.query import compile_query
from gateway.sandbox.store import Database

APP = 1
OPTIONS = {"stage": ("A", "B", "C D"), "tags": ("x", "y", "z")}


def _options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


PROPERTIES: dict[str, dict] = {
    code: {"code": code, "label": code, **props}
    for code, props in {
        "title": {"type": "SINGLE_LINE_TEXT"},
        "memo": {"type": "MULTI_LINE_TEXT"},
        "price": {"type": "NUMBER"},
        "due": {"type": "DATE"},
        "at": {"type": "TIME"},
        "when": {"type": "DATETIME"},
        "stage": {"type": "DROP_DOWN", "options": _options(*OPTIONS["stage"])},
        "tags": {"type": "CHECK_BOX", "options": _options(*OPTIONS["tags"])},
        "users": {"type": "USER_SELECT"},
        "Created_by": {"type": "CREATOR"},
        "items": {
            "type": "SUBTABLE",
            "fields": {
                "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "sku"},
                "qty": {"type": "NUMBER", "code": "qty", "label": "qty"},
            },
        },
    }.items()
}
FORM = Form(PROPERTIES)
MODEL = build_model([{"appId": str(APP), "code": "", "name": "Deals"}], {APP: PROPERTIES})
DEALS = MODEL.entity_set("Deals")
ITEMS = MODEL.entity_set("Deals_items")


@dataclass
class _Caller:
    login: str | None = "alice"
    primary_organization: str | None = None


@dataclass
class _Ctx:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Tokyo"))
    caller: _Caller = field(default_factory=_Caller)
    lang: str = "en"

    def now(self) -> datetime:
        return datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# -- records ------------------------------------------------------------------------------------

# Values chosen to trip escaping, keywords, case and whitespace rules.
TEXTS = ["", " ", "Widget", "widget", "WIDGET", 'a"b', "back\\slash", '") or $id > "0', "or",
         "and", "like", "order by $id", "limit 1", "日本語テキスト", "gamma keyword", "A", "it's"]
NUMBERS = ["", "0", "1", "2.5", "-3", "10", "12.5", "100"]
DATES = [None, "2024-04-30", "2024-05-01", "2024-05-02", "2023-12-31", "2025-01-01"]
TIMES = [None, "00:00", "09:29", "09:30", "09:31", "23:59"]
MOMENTS = ["", "2024-04-30T15:00:00Z", "2024-05-01T00:30:00Z", "2024-05-01T09:00:00Z",
           "2024-05-01T09:01:00Z", "2024-12-31T23:59:00Z"]
USERS = {"alice": "Alice Ito", "bob": "Bob Sato", "carol": "Carol Kim"}

_rows = st.lists(st.fixed_dictionaries({
    "sku": st.sampled_from(["", "A", "a", "B", 'q"t']), "qty": st.sampled_from(NUMBERS),
}), max_size=3)
_record = st.fixed_dictionaries({
    "title": st.one_of(st.sampled_from(TEXTS), st.text(alphabet="ab '\"\\", max_size=4)),
    "memo": st.sampled_from(["", "  ", "keyword", "line one\nline two", "Widget"]),
    "price": st.sampled_from(NUMBERS),
    "due": st.sampled_from(DATES),
    "at": st.sampled_from(TIMES),
    "when": st.sampled_from(MOMENTS),
    "stage": st.sampled_from([None, *OPTIONS["stage"]]),
    "tags": st.lists(st.sampled_from(OPTIONS["tags"]), unique=True, max_size=3),
    "users": st.lists(st.sampled_from(sorted(USERS)), unique=True, max_size=2),
    "Created_by": st.sampled_from(sorted(USERS)),
    "items": _rows,
})
records = st.lists(_record, min_size=1, max_size=6)


def _stored(values: dict, rec: int) -> dict:
    """A record as the sandbox stores it (read-format values by field code)."""
    data = dict(values)
    data["users"] = [{"code": code, "name": USERS[code]} for code in values["users"]]
    data["Created_by"] = {"code": values["Created_by"], "name": USERS[values["Created_by"]]}
    data["items"] = [{"id": str(rec * 10 + i), "value": row}
                     for i, row in enumerate(values["items"])]
    return data


def _entity(data: dict, rec: int) -> dict[str, Any]:
    """The record as the gateway shapes it for OData."""
    entity: dict[str, Any] = {"Id": rec, "Revision": 1}
    for prop in DEALS.entity_type.properties[2:]:
        raw = data[prop.kintone_code]
        if prop.row_type is not None:  # full Kintone format: {"value": {code: {"value": v}}}
            raw = [{"id": r["id"], "value": {c: {"value": v} for c, v in r["value"].items()}}
                   for r in raw]
        entity[prop.name] = prop.to_odata(raw)
    return entity


class Store:
    def __init__(self, values: list[dict]) -> None:
        self.db = Database()
        self.entities: dict[int, dict[str, Any]] = {}
        with self.db.transaction() as conn:
            for rec, item in enumerate(values, start=1):
                data = _stored(item, rec)
                conn.execute("INSERT INTO records (app, id, revision, data) VALUES (?, ?, 1, ?)",
                             (APP, rec, json.dumps(data)))
                reindex(conn, APP, rec, FORM, data)
                self.entities[rec] = _entity(data, rec)

    def select(self, condition: str) -> set[int]:
        compiled = compile_query(condition, FORM, _Ctx(), app=APP)
        sql = f"SELECT r.id FROM records r WHERE r.app = ? AND ({compiled.where})"
        return {row[0] for row in self.db.conn.execute(sql, [APP, *compiled.params])}

    def rows(self, ids: set[int]) -> list[dict[str, Any]]:
        """Subtable-set entities of these records."""
        return [{"RecordId": rec, **row} for rec in sorted(ids)
                for row in self.entities[rec]["items"]]


# -- filters ------------------------------------------------------------------------------------


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


OPS = st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le"])
text_lits = st.one_of(st.sampled_from(TEXTS), st.text(alphabet="ab '\"\\", max_size=3)).map(
    _quoted)
number_lits = st.sampled_from(["0", "1", "2.5", "-3", "10", "12.5", "99", "1.5e1", "null"])
date_lits = st.sampled_from(["2024-04-30", "2024-05-01", "2024-05-02", "2025-01-01", "null"])
time_lits = st.sampled_from(["09:29:00", "09:30:00", "09:30:15", "09:30:59.5", "23:59:00"])
moment_lits = st.sampled_from([
    "2024-05-01T09:00:00Z", "2024-05-01T18:00:00+09:00", "2024-05-01T09:00:30Z",
    "2024-05-01T00:29:59.9Z", "2024-05-01T00:30:00Z", "2024-04-30T23:00:00-01:00", "null",
])
stage_lits = st.sampled_from([*map(_quoted, OPTIONS["stage"]), "'Z'", "null"])
tag_lits = st.sampled_from([*map(_quoted, OPTIONS["tags"]), "'nope'"])
user_lits = st.sampled_from([*map(_quoted, USERS), "'dave'"])


def _comparison(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda op, value: f"{name} {op} {value}", OPS, values)


def _membership(name: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=2, max_size=3).map(lambda vs: f"{name} in ({', '.join(vs)})")


def _any_of(var: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=2).map(
        lambda vs: " or ".join(f"{var} eq {v}" for v in vs))


row_atoms = st.one_of(
    _comparison("i/qty", number_lits),
    _comparison("i/sku", text_lits),
    st.sampled_from(["i/sku eq null", "i/qty ne null", "contains(i/sku, 'a')"]),
)
row_filters = st.one_of(
    row_atoms,
    st.builds(lambda a, op, b: f"({a}) {op} ({b})", row_atoms, st.sampled_from(["and", "or"]),
              row_atoms),
    row_atoms.map(lambda a: f"not ({a})"),
)
atoms = st.one_of(
    _comparison("Id", st.sampled_from(["0", "1", "2", "3.5", "6", "null"])),
    _membership("Id", st.sampled_from(["1", "3", "4"])),
    _comparison("title", text_lits),
    _membership("title", text_lits),
    st.builds(lambda f, v: f"{f}(title, {v})",
              st.sampled_from(["contains", "startswith", "endswith"]), text_lits),
    _comparison("tolower(title)", text_lits),
    _comparison("price", number_lits),
    _membership("price", number_lits),
    _comparison("price add 1", number_lits),
    _comparison("due", date_lits),
    _membership("due", date_lits),
    _comparison("year(due)", st.sampled_from(["2023", "2024", "2025"])),
    _comparison("at", time_lits),
    _comparison("when", moment_lits),
    _comparison("stage", stage_lits),
    _membership("stage", stage_lits),
    _any_of("t", tag_lits).map(lambda body: f"tags/any(t: {body})"),
    tag_lits.map(lambda v: f"tags/all(t: t eq {v})"),
    _any_of("u/Code", user_lits).map(lambda body: f"users/any(u: {body})"),
    _comparison("Created_by/Code", user_lits),
    row_filters.map(lambda body: f"items/any(i: {body})"),
    st.sampled_from([
        "title eq null", "title ne null", "memo eq null", "memo ne null", "contains(memo, 'e')",
        "price eq null", "due ne null", "stage eq null", "tags/any()", "users/any()",
        "items/any()", "items/all(i: i/qty gt 1)", "true", "false", "price gt Id",
    ]),
    # Folded literals (pushed), property arithmetic and functions (residual).
    _comparison("due", st.sampled_from(["2024-05-01 add duration'P1D'",
                                        "2024-05-02 sub duration'P2D'",
                                        "2024-05-01 add duration'PT1H'"])),
    _comparison("when", st.sampled_from(["2024-05-01T09:30:00Z sub duration'PT30M'",
                                         "2024-05-01T00:30:00Z add duration'PT0.5S'",
                                         "now() sub duration'P1000D'", "mindatetime()",
                                         "maxdatetime()"])),
    _comparison("due add duration'P1D'", date_lits),
    _comparison("when sub duration'PT9H'", moment_lits),
    _comparison("when sub cast(due, Edm.DateTimeOffset)",
                st.sampled_from(["duration'PT0S'", "duration'PT9H'", "duration'-P1D'"])),
    _comparison("fractionalseconds(when)", st.sampled_from(["0", "0.5"])),
    _comparison("totaloffsetminutes(when)", st.sampled_from(["0", "540"])),
    _comparison("cast(price, Edm.String)", st.sampled_from(["'10'", "'2.5'", "'-3'"])),
    _comparison("cast(price, Edm.Int32)", number_lits),
    _comparison("cast(when, Edm.Date)", date_lits),
    _comparison("cast(due, Edm.DateTimeOffset)", moment_lits),
    _comparison("items/$count", st.sampled_from(["0", "1", "2"])),
    _comparison("tags/$count", st.sampled_from(["0", "1", "3"])),
    st.sampled_from(["price gt items/$count", "Id add price gt 5", "due sub due eq duration'P0D'",
                     "cast(title, Edm.String) eq title"]),
)


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", children,
                  st.sampled_from(["and", "or"]), children),
        children.map(lambda a: f"not ({a})"),
    )


filters = st.recursive(atoms, _combine, max_leaves=4)
row_set_filters = st.recursive(
    st.one_of(row_filters.map(lambda f: f.replace("i/", "")),
              _comparison("RecordId", st.sampled_from(["1", "2", "5"]))),
    _combine, max_leaves=3)


def _describe(text: str, entity_set: EntitySet) -> str:
    plan = plan_filter(parse_filter(text), entity_set)
    return f"$filter={text}\ncondition={plan.condition!r}\nresidual={plan.residual}"


PROPERTY_SETTINGS = settings(max_examples=400, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(records, st.lists(filters, min_size=1, max_size=4))
def test_pushed_condition_is_a_superset_and_residual_makes_it_exact(
    values: list[dict], texts: list[str]
) -> None:
    store = Store(values)
    for text in texts:
        tree = parse_filter(text)
        plan = plan_filter(tree, DEALS)
        wanted = {rec for rec, entity in store.entities.items() if matches(tree, entity)}
        pushed = store.select(plan.condition)
        note = _describe(text, DEALS)
        assert wanted <= pushed, f"dropped {wanted - pushed}\n{note}"
        if plan.residual is None:
            assert pushed == wanted, f"not exact: extra {pushed - wanted}\n{note}"
        final = {rec for rec in pushed
                 if plan.residual is None or matches(plan.residual, store.entities[rec])}
        assert final == wanted, note


@PROPERTY_SETTINGS
@given(records, st.lists(row_set_filters, min_size=1, max_size=4))
def test_subtable_set_rows(values: list[dict], texts: list[str]) -> None:
    store = Store(values)
    every_row = store.rows(set(store.entities))
    for text in texts:
        tree = parse_filter(text)
        plan = plan_filter(tree, ITEMS)
        wanted = [row for row in every_row if matches(tree, row)]
        pushed = store.rows(store.select(plan.condition))
        final = [row for row in pushed if plan.residual is None or matches(plan.residual, row)]
        assert final == wanted, _describe(text, ITEMS)
