"""Unit tests of record writes: POST/PUT ``record`` payloads turned into stored data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from gateway.sandbox.apps import App, load_app
from gateway.sandbox.clock import Clock
from gateway.sandbox.context import Caller, Ctx, TokenGrant
from gateway.sandbox.directory import Directory
from gateway.sandbox.errors import KintoneError, Problems
from gateway.sandbox.fields import system_properties
from gateway.sandbox.record_write import new_record_data, updated_record_data
from gateway.sandbox.store import Database

NOW = datetime(2024, 5, 1, 3, 12, 59, tzinfo=UTC)
STAMP = "2024-05-01T03:12:00Z"
ALICE = {"code": "alice", "name": "Alice Ito"}
OPTIONS = {"A": {"label": "A", "index": "0"}, "B": {"label": "B", "index": "1"}}

FIELDS = {
    "title": {"type": "SINGLE_LINE_TEXT", "code": "title", "required": True, "unique": True,
              "defaultValue": "untitled", "maxLength": "10", "minLength": ""},
    "price": {"type": "NUMBER", "code": "price", "minValue": "0", "maxValue": "",
              "defaultValue": ""},
    "note": {"type": "MULTI_LINE_TEXT", "code": "note", "defaultValue": "n/a"},
    "stage": {"type": "DROP_DOWN", "code": "stage", "options": OPTIONS, "defaultValue": "A"},
    "tags": {"type": "CHECK_BOX", "code": "tags", "options": OPTIONS, "defaultValue": ["B"]},
    "owner": {"type": "USER_SELECT", "code": "owner",
              "defaultValue": [{"code": "LOGINUSER()", "type": "FUNCTION"}]},
    "due": {"type": "DATE", "code": "due", "defaultNowValue": True},
    "grp": {"type": "GROUP", "code": "grp"},
    "related": {"type": "REFERENCE_TABLE", "code": "related"},
    "double": {"type": "CALC", "code": "double", "expression": "price * 2", "format": "NUMBER"},
    "items": {"type": "SUBTABLE", "code": "items", "fields": {
        "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "required": True, "defaultValue": ""},
        "qty": {"type": "NUMBER", "code": "qty", "defaultValue": "1", "maxValue": "100"},
        "kind": {"type": "RADIO_BUTTON", "code": "kind", "options": OPTIONS, "defaultValue": "A"},
        "line": {"type": "CALC", "code": "line", "expression": "qty * price", "format": "NUMBER"},
    }},
    "total": {"type": "CALC", "code": "total", "expression": "SUM(line)", "format": "NUMBER"},
}


class Env:
    """An in-memory sandbox: database, directory, clock and a caller."""

    def __init__(self) -> None:
        self.db = Database()
        directory = Directory(self.db)
        directory.add_organization("sales", "Sales")
        self.alice = directory.add_user("alice", "pw", "Alice Ito", organizations=["sales"],
                                        admin=False)
        self.admin = directory.add_user("admin", "pw", "Admin", admin=True)
        directory.add_user("bob", "pw", "Bob Sato", admin=False)
        self.sandbox = SimpleNamespace(db=self.db, clock=Clock(fixed=NOW), directory=directory,
                                       config=SimpleNamespace(timezone="UTC"))
        self.ctx = self.ctx_for(Caller(user=self.alice))

    def ctx_for(self, caller: Caller) -> Ctx:
        return Ctx(sandbox=self.sandbox, caller=caller)  # type: ignore[arg-type]

    def app(self, app_id: int, props: dict, *, code: str = "", status: dict | None = None,
            precision: dict | None = None) -> App:
        settings = {
            "properties": system_properties() | props, "layout": [], "views": {},
            "settings": {"numberPrecision": precision or {
                "digits": "16", "decimalPlaces": "4", "roundingMode": "HALF_EVEN"}},
            "status": status or {"enable": False, "states": None, "actions": None},
            "revision": 1,
        }
        doc = json.dumps(settings)
        self.db.conn.execute(
            "INSERT INTO apps (id, code, deployed, info, live, preview) "
            "VALUES (?, ?, 1, '{}', ?, ?)",
            (app_id, code, doc, doc),
        )
        app = load_app(self.db.conn, app_id)
        assert app is not None
        return app

    def store(self, app: App, rec_id: int, data: dict) -> None:
        """A stored record with the index rows unique checks and lookups read."""
        self.db.conn.execute("INSERT INTO records (app, id, revision, data) VALUES (?, ?, 1, ?)",
                             (app.id, rec_id, json.dumps(data)))
        for code, value in data.items():
            fd = app.form.get(code)
            if isinstance(value, str) and fd is not None:
                number = float(value) if fd.type == "NUMBER" and value else None
                self.db.conn.execute(
                    "INSERT INTO record_values (app, rec, code, row, s, n) "
                    "VALUES (?, ?, ?, 0, ?, ?)",
                    (app.id, rec_id, code, value, number),
                )


@pytest.fixture
def env() -> Env:
    return Env()


@pytest.fixture
def app(env: Env) -> App:
    return env.app(1, FIELDS)


def post(env: Env, app: App, record: Any, *, prefix: str = "record",
         ctx: Ctx | None = None) -> tuple[dict, dict]:
    problems = Problems()
    data = new_record_data(ctx or env.ctx, app, record, prefix, problems)
    return data, problems.errors


def put(env: Env, app: App, existing: dict, record: Any, *, rec_id: int = 1,
        prefix: str = "record") -> tuple[dict, dict]:
    problems = Problems()
    data = updated_record_data(env.ctx, app, rec_id, existing, record, prefix, problems)
    return data, problems.errors


def error_of(call: Any, *args: Any, **kwargs: Any) -> KintoneError:
    with pytest.raises(KintoneError) as info:
        call(*args, **kwargs)
    return info.value


# -- POST


def test_post_empty_record_gets_defaults_and_system_values(env: Env, app: App) -> None:
    data, errors = post(env, app, None)
    assert errors == {}
    assert data == {
        "Created_by": ALICE, "Created_datetime": STAMP, "Updated_by": ALICE,
        "Updated_datetime": STAMP,
        "title": "untitled", "price": "", "note": "n/a", "stage": "A", "tags": ["B"],
        "owner": [ALICE], "due": "2024-05-01", "double": "0", "items": [], "total": "0",
    }


def test_explicit_empty_values_suppress_defaults(env: Env, app: App) -> None:
    record = {"title": {"value": ""}, "note": {"value": ""}, "stage": {"value": ""},
              "tags": {"value": []}, "owner": {"value": []}, "due": {"value": ""}}
    data, errors = post(env, app, record)
    assert (data["note"], data["stage"], data["tags"], data["owner"], data["due"]) == (
        "", None, [], [], None)
    assert errors == {"record.title.value": ["Required."]}


def test_post_writes_values_and_computes_calc(env: Env, app: App) -> None:
    record = {
        "title": {"type": "SINGLE_LINE_TEXT", "value": "Widget"},
        "price": {"value": "1.5e1"},
        "double": {"value": "999"},  # CALC: ignored
        "unknown": {"value": "x"}, "$id": {"value": "9"}, "$revision": {"value": "4"},
        "Record_number": {"value": "77"},
        "items": {"value": [
            {"id": "555", "value": {"sku": {"value": "A-1"}, "qty": {"value": "2"}}},
            {"value": {"sku": {"value": "B-1"}, "kind": {"value": "B"}}},
        ]},
    }
    data, errors = post(env, app, record)
    assert errors == {}
    assert (data["title"], data["price"], data["double"]) == ("Widget", "15", "30")
    assert "Record_number" not in data and "unknown" not in data
    assert data["items"] == [
        {"id": "1", "value": {"sku": "A-1", "qty": "2", "kind": "A", "line": "30"}},
        {"id": "2", "value": {"sku": "B-1", "qty": "1", "kind": "B", "line": "15"}},
    ]
    assert data["total"] == "45"


def test_validation_error_keys(env: Env, app: App) -> None:
    record = {
        "title": {"value": "far too long title"},
        "price": {"value": "-1"},
        "stage": {"value": "Z"},
        "tags": {"value": ["A", "Q"]},
        "owner": {"value": [{"code": "ghost"}]},
        "items": {"value": [{"value": {"sku": {"value": "x"}}},
                            {"value": {"qty": {"value": "abc"}, "kind": {"value": "Z"}}},
                            {"value": {"sku": {"value": "y"}, "qty": {"value": "101"}}}]},
    }
    _, errors = post(env, app, record, prefix="records[3]")
    assert errors == {
        "records[3].title.value": ["Enter less than 11 characters."],
        "records[3].price.value": ["The value must be 0 or more."],
        "records[3].stage.value": ['The value, "Z", is not in options.'],
        "records[3].tags.values[1].value": ['The value, "Q", is not in options.'],
        "records[3].owner.values.value": ["The user (ghost) does not exist."],
        "records[3].items.value[1].value.sku.value": ["Required."],
        "records[3].items.value[1].value.kind.value": ['The value, "Z", is not in options.'],
        "records[3].items.value[2].value.qty.value": ["The value must be 100 or less."],
    }


def test_unparseable_top_level_number(env: Env, app: App) -> None:
    _, errors = post(env, app, {"price": {"value": "12abc"}})
    assert errors == {"record[price].value": ["Only numbers are allowed."],
                      "record.price.value": ["Required."]}
    _, errors = post(env, app, {"price": {"value": "x"}}, prefix="records[0]")
    assert set(errors) == {"records[0][price].value", "records[0].price.value"}


def test_number_precision_from_app_settings(env: Env) -> None:
    app = env.app(2, {"n": {"type": "NUMBER", "code": "n"}},
                  precision={"digits": "6", "decimalPlaces": "2", "roundingMode": "DOWN"})
    assert post(env, app, {"n": {"value": "1234.567"}})[0]["n"] == "1234.56"
    _, errors = post(env, app, {"n": {"value": "12345"}})
    assert errors == {"record.n.value": ["The number of significant digits is exceeded."]}


@pytest.mark.parametrize(
    "record",
    [
        ["title"],
        {"title": "Widget"},
        {"title": {"value": {"nested": 1}}},
        {"tags": {"value": "A"}},
        {"items": {"value": {"sku": "x"}}},
        {"items": {"value": ["row"]}},
        {"items": {"value": [{"value": {"sku": "plain"}}]}},
        {"related": {"value": []}},
    ],
)
def test_wrong_json_shapes_are_cb_ij01(env: Env, app: App, record: Any) -> None:
    assert error_of(post, env, app, record).code == "CB_IJ01"


def test_post_creator_fields_need_app_admin(env: Env, app: App) -> None:
    record = {"Created_by": {"value": {"code": "bob"}},
              "Created_datetime": {"value": "2020-01-02T03:04:05+09:00"}}
    assert error_of(post, env, app, record).code == "GAIA_BF02"

    data, errors = post(env, app, record, ctx=env.ctx_for(Caller(user=env.admin)))
    assert errors == {}
    assert data["Created_by"] == {"code": "bob", "name": "Bob Sato"}
    assert data["Created_datetime"] == "2020-01-01T18:04:00Z"
    assert data["Updated_by"] == {"code": "admin", "name": "Admin"}

    token = env.ctx_for(Caller(tokens={1: TokenGrant("t", 1, frozenset({"add", "manage"}))}))
    data, _ = post(env, app, {"Updated_by": {"value": {"code": "bob"}}}, ctx=token)
    assert data["Updated_by"]["code"] == "bob"
    assert data["Created_by"] == {"code": "Administrator", "name": "Administrator"}
    viewer = env.ctx_for(Caller(tokens={1: TokenGrant("t", 1, frozenset({"add"}))}))
    assert error_of(post, env, app, record, ctx=viewer).code == "GAIA_BF02"


def test_post_blank_creator_cells_mean_the_caller_and_now(env: Env, app: App) -> None:
    # cli-kintone sends a CSV's blank "Created by" cell as {"code": ""}, a blank datetime as "".
    blank = {"Created_by": {"value": {"code": ""}}, "Updated_by": {"value": {"code": ""}},
             "Created_datetime": {"value": ""}, "Updated_datetime": {"value": ""}}
    viewer = env.ctx_for(Caller(tokens={1: TokenGrant("t", 1, frozenset({"add"}))}))
    for ctx, who in ((env.ctx, ALICE), (viewer, {"code": "Administrator",
                                                 "name": "Administrator"})):
        data, errors = post(env, app, blank, ctx=ctx)
        assert errors == {}
        assert (data["Created_by"], data["Updated_by"]) == (who, who)
        assert (data["Created_datetime"], data["Updated_datetime"]) == (STAMP, STAMP)
    existing = existing_record(env, app)
    with pytest.raises(KintoneError) as info:  # a PUT may not send them at all
        put(env, app, existing, {"Created_by": {"value": {"code": ""}}})
    assert info.value.code == "GAIA_UN10"


def test_post_group_field_is_gaia_un10(env: Env, app: App) -> None:
    err = error_of(post, env, app, {"grp": {"value": ""}})
    assert (err.code, err.args_) == ("GAIA_UN10", ("GROUP",))


def test_post_with_process_management_and_categories(env: Env) -> None:
    status = {"enable": True, "actions": [], "states": {
        "Done": {"name": "Done", "index": "1", "assignee": {}},
        "Open": {"name": "Open", "index": "0", "assignee": {}}}}
    props = {"Categories": {"type": "CATEGORY", "code": "Categories", "enabled": True}}
    app = env.app(3, props, status=status)
    data, _ = post(env, app, {"Status": {"value": "Done"}, "Categories": {"value": ["x"]}})
    assert (data["Status"], data["Assignee"], data["Categories"]) == ("Open", [], [])
    plain = env.app(4, {})
    assert not {"Status", "Assignee", "Categories"} & set(post(env, plain, {})[0])


# -- PUT


def existing_record(env: Env, app: App) -> dict:
    data, errors = post(env, app, {
        "title": {"value": "Widget"}, "price": {"value": "10"},
        "items": {"value": [{"value": {"sku": {"value": "A"}, "qty": {"value": "1"}}},
                            {"value": {"sku": {"value": "B"}, "qty": {"value": "2"}}},
                            {"value": {"sku": {"value": "C"}, "qty": {"value": "3"}}}]},
    })
    assert errors == {}
    return data


def test_put_merges_and_updates_modifier(env: Env, app: App) -> None:
    existing = existing_record(env, app)
    env.sandbox.clock.set(datetime(2024, 6, 1, 9, 0, 30, tzinfo=UTC))
    bob = env.ctx_for(Caller(user={"login": "bob", "name": "Bob Sato"}))
    problems = Problems()
    data = updated_record_data(bob, app, 1, existing, {"price": {"value": "20"}}, "record",
                               problems)
    assert problems.errors == {}
    assert (data["title"], data["price"], data["double"], data["total"]) == (
        "Widget", "20", "40", "120")
    assert data["Updated_by"] == {"code": "bob", "name": "Bob Sato"}
    assert data["Updated_datetime"] == "2024-06-01T09:00:00Z"
    assert (data["Created_by"], data["Created_datetime"]) == (ALICE, STAMP)
    assert [row["id"] for row in data["items"]] == [row["id"] for row in existing["items"]]
    assert [row["value"]["line"] for row in data["items"]] == ["20", "40", "60"]  # recomputed
    assert data["stage"] == "A"  # defaults are not re-applied


def test_put_without_record_changes_nothing(env: Env, app: App) -> None:
    existing = existing_record(env, app)
    assert put(env, app, existing, None) == (existing, {})


def test_put_checks_required_on_the_merged_record(env: Env, app: App) -> None:
    existing = existing_record(env, app) | {"title": ""}
    _, errors = put(env, app, existing, {"price": {"value": "3"}})
    assert errors == {"record.title.value": ["Required."]}
    _, errors = put(env, app, existing, {"title": {"value": "Back"}})
    assert errors == {}


@pytest.mark.parametrize(
    ("code", "internal"),
    [("Record_number", "RECORD_ID"), ("Created_by", "CREATOR"),
     ("Created_datetime", "CREATED_AT"), ("Updated_by", "MODIFIER"),
     ("Updated_datetime", "MODIFIED_AT"), ("Status", "STATUS"), ("Assignee", "STATUS_ASSIGNEE"),
     ("grp", "GROUP")],
)
def test_put_read_only_fields_are_gaia_un10(env: Env, app: App, code: str, internal: str) -> None:
    err = error_of(put, env, app, {}, {code: {"value": "x"}})
    assert (err.code, err.args_) == ("GAIA_UN10", (internal,))


def test_put_category_and_reference_table(env: Env, app: App) -> None:
    assert error_of(put, env, app, {}, {"Categories": {"value": []}}).code == "GA_UO01"
    assert error_of(put, env, app, {}, {"related": {"value": []}}).code == "CB_IJ01"


def test_subtable_row_merge(env: Env, app: App) -> None:
    existing = existing_record(env, app)
    first, second, third = (row["id"] for row in existing["items"])
    data, errors = put(env, app, existing, {"items": {"value": [
        {"id": first, "value": {"qty": {"value": "99"}}},
        {"id": "9999999", "value": {"sku": {"value": "N1"}}},
        {"value": {"sku": {"value": "N2"}, "qty": {"value": "junk"}}},
        {"id": third, "value": {}},
    ]}})
    assert errors == {}
    rows = data["items"]
    assert [row["id"] for row in rows] == [first, "4", "5", third]
    assert second not in {row["id"] for row in rows}
    assert rows[0]["value"] == {"sku": "A", "qty": "99", "kind": "A", "line": "990"}
    assert rows[1]["value"]["sku"] == "N1"
    assert rows[2]["value"]["qty"] == ""  # inner garbage is silently blank
    assert rows[3]["value"] == existing["items"][2]["value"]
    assert data["total"] == str(990 + 10 + 0 + 30)


def test_subtable_cleared_by_empty_list(env: Env, app: App) -> None:
    data, _ = put(env, app, existing_record(env, app), {"items": {"value": []}})
    assert (data["items"], data["total"]) == ([], "0")


def test_subtable_required_checked_on_merged_rows(env: Env, app: App) -> None:
    existing = existing_record(env, app)
    existing["items"][1]["value"]["sku"] = ""
    rows = [{"id": row["id"], "value": {}} for row in existing["items"]]
    _, errors = put(env, app, existing, {"items": {"value": rows}})
    assert errors == {"record.items.value[1].value.sku.value": ["Required."]}


# -- unique


def test_unique_values(env: Env, app: App) -> None:
    env.store(app, 1, {"title": "Widget"})
    env.store(app, 2, {"title": ""})
    _, errors = post(env, app, {"title": {"value": "Widget"}})
    assert errors == {"record.title.value": ["This value already exists in another record."]}
    assert put(env, app, {"title": "Widget"}, {"title": {"value": "Widget"}}, rec_id=1)[1] == {}
    _, errors = put(env, app, {"title": "Gadget"}, {"title": {"value": "Widget"}}, rec_id=3)
    assert "record.title.value" in errors


def test_unique_numbers_compare_numerically(env: Env) -> None:
    app = env.app(2, {"n": {"type": "NUMBER", "code": "n", "unique": True}})
    env.store(app, 1, {"n": "15"})
    assert post(env, app, {"n": {"value": "1.5e1"}})[1] == {
        "record.n.value": ["This value already exists in another record."]}
    assert post(env, app, {"n": {"value": ""}})[1] == {}


# -- lookups


@pytest.fixture
def products(env: Env) -> App:
    app = env.app(10, {
        "code": {"type": "SINGLE_LINE_TEXT", "code": "code", "unique": True},
        "name": {"type": "SINGLE_LINE_TEXT", "code": "name"},
        "price": {"type": "NUMBER", "code": "price"},
    }, code="PROD")
    env.store(app, 5, {"code": "P1", "name": "Pen", "price": "120"})
    env.store(app, 6, {"code": "P2", "name": "Ink", "price": ""})
    return app


def lookup(key_field: str, **mappings: str) -> dict:
    return {"relatedApp": {"app": "10", "code": "PROD"}, "relatedKeyField": key_field,
            "fieldMappings": [{"field": f, "relatedField": r} for f, r in mappings.items()],
            "lookupPickerFields": [], "filterCond": "", "sort": ""}


@pytest.fixture
def orders(env: Env, products: App) -> App:
    return env.app(11, {
        "prod": {"type": "SINGLE_LINE_TEXT", "code": "prod",
                 "lookup": lookup("code", prod_name="name", prod_price="price",
                                  prod_no="Record_number")},
        "prod_name": {"type": "SINGLE_LINE_TEXT", "code": "prod_name", "defaultValue": "d"},
        "prod_price": {"type": "NUMBER", "code": "prod_price"},
        "prod_no": {"type": "SINGLE_LINE_TEXT", "code": "prod_no"},
        "by_id": {"type": "NUMBER", "code": "by_id",
                  "lookup": lookup("Record_number", by_id_name="name")},
        "by_id_name": {"type": "SINGLE_LINE_TEXT", "code": "by_id_name"},
        "lines": {"type": "SUBTABLE", "code": "lines", "fields": {
            "line_prod": {"type": "SINGLE_LINE_TEXT", "code": "line_prod",
                          "lookup": lookup("code", line_name="name")},
            "line_name": {"type": "SINGLE_LINE_TEXT", "code": "line_name"},
        }},
    })


def test_lookup_copies_mapped_fields(env: Env, orders: App) -> None:
    data, errors = post(env, orders, {"prod": {"value": "P1"}, "prod_name": {"value": "mine"},
                                      "by_id": {"value": "6"}})
    assert errors == {}
    assert (data["prod_name"], data["prod_price"], data["prod_no"]) == ("Pen", "120", "PROD-5")
    assert data["by_id_name"] == "Ink"


def test_lookup_without_key_leaves_targets_empty(env: Env, orders: App) -> None:
    data, _ = post(env, orders, {"prod_name": {"value": "mine"}})
    assert (data["prod"], data["prod_name"], data["prod_price"]) == ("", "", "")


def test_lookup_key_not_found(env: Env, orders: App) -> None:
    err = error_of(post, env, orders, {"prod": {"value": "P999"}})
    assert (err.code, err.args_) == ("GAIA_LO04", ("P999", "prod"))
    assert error_of(post, env, orders, {"by_id": {"value": "77"}}).code == "GAIA_LO04"


def test_lookup_on_put(env: Env, orders: App) -> None:
    existing, _ = post(env, orders, {"prod": {"value": "P1"}})
    kept, _ = put(env, orders, existing, {"by_id": {"value": ""}})
    assert kept["prod_name"] == "Pen"
    changed, _ = put(env, orders, existing, {"prod": {"value": "P2"}})
    assert (changed["prod_name"], changed["prod_price"]) == ("Ink", "")
    cleared, _ = put(env, orders, existing, {"prod": {"value": ""}})
    assert (cleared["prod_name"], cleared["prod_no"]) == ("", "")


def test_lookup_inside_subtable_rows(env: Env, orders: App) -> None:
    data, _ = post(env, orders, {"lines": {"value": [
        {"value": {"line_prod": {"value": "P2"}, "line_name": {"value": "x"}}},
        {"value": {}}]}})
    assert [row["value"]["line_name"] for row in data["lines"]] == ["Ink", ""]
    rows = [{"value": {"line_prod": {"value": "Q"}}}]
    err = error_of(post, env, orders, {"lines": {"value": rows}})
    assert err.args_ == ("Q", "line_prod")
