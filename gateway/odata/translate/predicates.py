"""Predicates on one Kintone field, per Kintone type, with OData's null semantics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from gateway.kintone.query import field as field_code
from gateway.kintone.query import quote
from gateway.kintone.ranges import RANGE, day_in_range, utc_in_range
from gateway.model import edm
from gateway.model.schema import Property
from gateway.odata.errors import ODataError, bad_request

from .conditions import FALSE, NOTHING, TRUE, Cond, all_of, and_, any_of, loose, or_
from .paths import Path

ORDERED = frozenset({"gt", "ge", "lt", "le"})
_KINTONE_OPS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=",
                "in": "in", "nin": "not in"}
# Kintone operators that, on a subtable field, mean "the table has rows and every row passes".
_NEGATIVE_OPS = frozenset({"!=", "not in", "not like", "is not empty"})


@dataclass(frozen=True)
class Field:
    code: str
    vtype: str  # the Kintone type whose values and operators apply (a CALC's by its format)
    inner: bool  # inside a subtable: no = or !=, and negative operators mean "every row"
    nullable: bool
    options: frozenset[str] | None = None

    def atom(self, op: str, *literals: str) -> Cond:
        if self.inner and op == "=":
            op = "in"
        if self.inner and op in _NEGATIVE_OPS:
            return NOTHING
        code = field_code(self.code)
        if op in ("in", "not in"):
            return Cond("atom", f"{code} {op} ({', '.join(literals)})")
        return Cond("atom", " ".join((code, op, *literals)))


Handler = Callable[[Field, str, Any], Cond]  # (field, op, non-null value or values)
EmptyTest = Callable[[Field, bool], Cond]  # (field, negated): "is null" / "is not null"


def predicate(path: Path, op: str, value: Any, or_null: bool) -> Cond:
    """The condition for ``path op value`` (``value`` a list for ``in``/``nin``), or the field
    being null too when ``or_null``."""
    found = _handler(path)
    if found is None:
        return NOTHING
    if value is None and op in ORDERED:
        return TRUE if or_null else FALSE  # comparing with null is false, so its negation true
    handler, empty = found
    target = field_of(path)
    cond = _with_nulls(handler, empty, target, op, value)
    if or_null and target.nullable:
        cond = or_(cond, empty(target, False))
    return cond if path.row_exact else loose(cond)


def _with_nulls(handler: Handler, empty: EmptyTest, target: Field, op: str, value: Any) -> Cond:
    if value is None:
        return empty(target, op == "ne")
    if op not in ("in", "nin"):
        return handler(target, op, value)
    listed = list(dict.fromkeys(v for v in value if v is not None))
    if op == "in":
        found = handler(target, op, listed) if listed else FALSE
        return or_(found, empty(target, False)) if None in value else found
    kept = handler(target, op, listed) if listed else TRUE
    return and_(kept, empty(target, True)) if None in value else kept


def field_of(path: Path) -> Field:
    prop = path.prop
    options = prop.props.get("options")
    return Field(
        code=prop.kintone_code or "",
        vtype=edm.value_type(prop.kintone_type or "", prop.props),
        inner=path.table is not None,
        nullable=prop.nullable or path.member is not None,
        options=frozenset(options) if isinstance(options, Mapping) else None,
    )


def _handler(path: Path) -> tuple[Handler, EmptyTest] | None:
    prop = path.prop
    if path.element or prop.kintone_code is None:
        return None  # collection elements are planned by their lambda
    if path.member is not None:
        return (codes, _unknown_empty) if _is_creator(prop) and path.member == "Code" else None
    vtype = edm.value_type(prop.kintone_type or "", prop.props)
    if vtype in ("SINGLE_LINE_TEXT", "LINK") and prop.kintone_type == vtype:
        return _text, _text_empty
    return _HANDLERS.get(vtype)


def is_temporal(path: Path) -> bool:
    """Whether ``path`` is a Kintone date, time or date-time field, compared as one."""
    return _handler(path) == _TEMPORAL


def _is_creator(prop: Property) -> bool:
    return prop.kintone_type in ("CREATOR", "MODIFIER")


def _id(target: Field, op: str, value: Any) -> Cond:
    """Record ids are positive integers: fractional or non-positive literals fold away."""
    if op in ("in", "nin"):
        ids = [str(int(v)) for v in value if _is_id(v)]
        if not ids:
            return FALSE if op == "in" else TRUE
        return target.atom(_KINTONE_OPS[op], *ids)
    if op in ("eq", "ne"):
        if not _is_id(value):
            return FALSE if op == "eq" else TRUE
        return target.atom(_KINTONE_OPS[op], str(int(value)))
    if not _finite(value):
        return NOTHING
    bound = _ceil(value) if op in ("ge", "lt") else _floor(value)
    if op in ("gt", "ge") and bound <= (0 if op == "gt" else 1):
        return TRUE
    if op in ("lt", "le") and bound <= (1 if op == "lt" else 0):
        return FALSE
    return target.atom(_KINTONE_OPS[op], str(bound))


def _is_id(value: Any) -> bool:
    return _finite(value) and value == int(value) and value >= 1


def _finite(value: Any) -> bool:
    return isinstance(value, int | Decimal) and Decimal(value).is_finite()


def _floor(value: Any) -> int:
    return int(Decimal(value).to_integral_value(rounding="ROUND_FLOOR"))


def _ceil(value: Any) -> int:
    return int(Decimal(value).to_integral_value(rounding="ROUND_CEILING"))


def _number(target: Field, op: str, value: Any) -> Cond:
    values = value if op in ("in", "nin") else [value]
    literals = [_number_literal(v) for v in values]
    exact = [text for text in literals if text is not None]
    if len(exact) < len(literals):
        return NOTHING
    return target.atom(_KINTONE_OPS[op], *exact)


def _number_literal(value: Any) -> str | None:
    """A quoted number; ``None`` when Kintone's double arithmetic could not hold it exactly."""
    if not _finite(value):
        return None
    number = Decimal(value)
    if len(number.as_tuple().digits) > 15:
        return None
    return quote(format(number, "f"))


def _temporal(target: Field, op: str, value: Any) -> Cond:
    if op in ("in", "nin"):
        single = "eq" if op == "in" else "ne"
        parts = [_temporal(target, single, v) for v in value]
        return any_of(parts) if op == "in" else all_of(parts)
    text, truncated = temporal_literal(target.vtype, value)
    if truncated:
        # The literal lies inside a minute; Kintone compares whole minutes (15.1).
        loose_op = {"eq": "=", "gt": ">=", "ge": ">=", "lt": "<=", "le": "<="}.get(op)
        return loose(_temporal_atom(target, loose_op, text)) if loose_op else NOTHING
    return _temporal_atom(target, _KINTONE_OPS[op], text)


def _temporal_atom(target: Field, op: str, text: str) -> Cond:
    if target.inner and op == "=":  # subtable fields refuse = and DATE refuses in
        return and_(target.atom(">=", text), target.atom("<=", text))
    return target.atom(op, text)


def temporal_literal(vtype: str, value: Any) -> tuple[str, bool]:
    """The Kintone literal (minute precision) and whether seconds were cut off."""
    if vtype == "TIME":
        return quote(value.strftime("%H:%M")), bool(value.second or value.microsecond)
    if vtype == "DATE":
        if not day_in_range(value):
            raise _out_of_range(value)
        return quote(value.isoformat()), False
    moment = utc_in_range(value)
    if moment is None:
        raise _out_of_range(value)
    cut = bool(moment.second or moment.microsecond)
    # isoformat, not strftime's %Y: that drops the zeros of a year before 1000 (mindatetime()).
    return quote(moment.replace(second=0, microsecond=0, tzinfo=None).isoformat() + "Z"), cut


def _out_of_range(value: Any) -> ODataError:
    return bad_request(f"{value.isoformat()} is outside the dates Kintone can compare "
                       f"({RANGE}).", "$filter")


def _text(target: Field, op: str, value: Any) -> Cond:
    """Pushed with a residual: Kintone may compare case-insensitively. Empty text is null in
    OData, so '' equals nothing."""
    if op in ("eq", "in"):
        wanted = [v for v in ([value] if op == "eq" else value) if v]
        if not wanted:
            return FALSE
        return loose(target.atom("=" if op == "eq" else "in", *map(quote, wanted)))
    if op in ("ne", "nin") and not any([value] if op == "ne" else value):
        return TRUE
    return NOTHING


def _long_text(target: Field, op: str, value: Any) -> Cond:
    if op in ORDERED or any([value] if op in ("eq", "ne") else value):
        return NOTHING
    return FALSE if op in ("eq", "in") else TRUE  # empty text is null in OData


def _choice(target: Field, op: str, value: Any) -> Cond:
    if target.options is None:
        return NOTHING  # without the options a value could make Kintone fail (GAIA_IQ10)
    return codes(target, op, value, target.options)


def codes(target: Field, op: str, value: Any, allowed: frozenset[str] | None = None) -> Cond:
    """``in``/``not in`` over exact codes: option keys, statuses, login names."""
    if op in ORDERED:
        return NOTHING
    wanted = [value] if op in ("eq", "ne") else value
    known = [v for v in wanted if v and (allowed is None or v in allowed)]
    positive = op in ("eq", "in")
    if not known:
        return FALSE if positive else TRUE
    return target.atom("in" if positive else "not in", *map(quote, known))


def _text_empty(target: Field, negated: bool) -> Cond:
    return target.atom("!=" if negated else "=", quote(""))


def _long_text_empty(target: Field, negated: bool) -> Cond:
    # `is empty` also matches whitespace-only text, which OData does not call null.
    return NOTHING if negated else loose(target.atom("is empty"))


def _choice_empty(target: Field, negated: bool) -> Cond:
    return target.atom("not in" if negated else "in", quote(""))


def _never_empty(target: Field, negated: bool) -> Cond:
    return TRUE if negated else FALSE


def _unknown_empty(target: Field, negated: bool) -> Cond:
    return NOTHING


_TEMPORAL = (_temporal, _unknown_empty)
_HANDLERS: Mapping[str, tuple[Handler, EmptyTest]] = {
    edm.ID: (_id, _never_empty),
    "NUMBER": (_number, _unknown_empty),
    "DATE": _TEMPORAL,
    "TIME": _TEMPORAL,
    "DATETIME": _TEMPORAL,
    "CREATED_TIME": _TEMPORAL,
    "UPDATED_TIME": _TEMPORAL,
    "MULTI_LINE_TEXT": (_long_text, _long_text_empty),
    "RICH_TEXT": (_long_text, _long_text_empty),
    "DROP_DOWN": (_choice, _choice_empty),
    "RADIO_BUTTON": (_choice, _choice_empty),
    "STATUS": (codes, _unknown_empty),
}
