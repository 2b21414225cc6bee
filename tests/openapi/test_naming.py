"""ASCII operation names, whatever the entity sets are called."""

from __future__ import annotations

from gateway.model import build_model
from gateway.openapi.naming import OperationIds, pascal, set_names


def app(app_id: int, name: str, code: str = "") -> dict:
    return {"appId": str(app_id), "code": code, "name": name}


def text(code: str) -> dict:
    return {"type": "SINGLE_LINE_TEXT", "code": code, "label": code}


def table(code: str) -> dict:
    return {"type": "SUBTABLE", "code": code, "fields": {"x": text("x")}}


def test_pascal_case_from_codes_and_names():
    assert pascal("customer_code") == "CustomerCode"
    assert pascal("CUSTOMERS") == "Customers"
    assert pascal("orderLines_2") == "OrderLines2"
    assert pascal("顧客") is None and pascal("___") is None


def test_non_ascii_sets_fall_back_to_the_app_id_and_names_stay_unique():
    model = build_model(
        [app(5, "顧客"), app(6, "x", "Order_items"), app(7, "y", "OrderItems"),
         app(8, "z", "ORDERS"), app(9, "Order items")],
        {5: {"明細": table("明細"), "lines": table("lines")}, 6: {"t": text("t")},
         7: {"t": text("t")}, 8: {"t": text("t")}, 9: {"t": text("t")}},
    )
    names = set_names(model)
    assert (names["Apps"].plural, names["Apps"].singular) == ("Apps", "App")
    assert names["Comments"].singular == "Comment"
    assert names["顧客"].plural == names["顧客"].singular == "App5"
    assert names["顧客_明細"].plural == "App5Table1"
    assert names["顧客_lines"].plural == "App5Lines"
    sets = {s.app_id: s.name for s in model.entity_sets.values() if s.kind == "records"}
    assert names[sets[6]].plural == "OrderItems"
    assert names[sets[7]].plural == "App7"  # OrderItems is taken
    assert (sets[9], names[sets[9]].plural) == ("OrderItems_9", "OrderItems9")
    assert names["ORDERS"].plural == "Orders"


def test_operation_ids_never_repeat():
    ids = OperationIds()
    assert [ids.claim(name) for name in ("GetCountFoo", "GetCountFoo", "GetCountFoo")] == [
        "GetCountFoo", "GetCountFoo2", "GetCountFoo3"]
