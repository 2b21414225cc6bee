"""Apps the lookup tests share: customers (a lookup's source) and orders that look them up."""

from __future__ import annotations

from collections.abc import Callable

Post = Callable[[str, dict], dict]  # a call to the sandbox's test-only /__sandbox/ API
WRITE = ["view", "add", "edit", "delete"]


def text(code: str, **props: object) -> dict:
    return {"type": "SINGLE_LINE_TEXT", "code": code, "label": code, **props}


def customer_lookup(customers: int, target: str) -> dict:
    """A lookup keyed on the customers' ``code`` that copies their ``name`` into ``target``."""
    return {"relatedApp": {"app": str(customers)}, "relatedKeyField": "code",
            "fieldMappings": [{"field": target, "relatedField": "name"}],
            "lookupPickerFields": []}


def make_customers(post: Post, names: dict[str, str], token_rights: list[list[str]]) -> dict:
    """A customers app with ``code → name`` records and one API token per rights list."""
    return post("apps", {
        "name": "Customers",
        "fields": {"code": text("code", unique=True), "name": text("name")},
        "records": [{"code": {"value": code}, "name": {"value": name}}
                    for code, name in names.items()],
        "tokens": [{"rights": rights} for rights in token_rights],
    })


def order_fields(customers: int) -> dict:
    """``ref`` (unique), ``customer`` (a lookup) copying into ``customer_name``, ``qty``."""
    return {
        "ref": text("ref", unique=True),
        "customer": text("customer", lookup=customer_lookup(customers, "customer_name")),
        "customer_name": text("customer_name"),
        "qty": {"type": "NUMBER", "code": "qty", "label": "qty"},
    }
