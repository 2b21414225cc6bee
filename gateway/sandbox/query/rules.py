"""Which operators, functions and sort keys each field type accepts (reference section 13.5)."""

from __future__ import annotations

from ..fields import FieldDef
from .ast import COMPARISONS
from .dates import DATE_FUNCTIONS

ID_TYPE = "__ID__"  # the $id pseudo-field

_ORDERED = frozenset(COMPARISONS)
_EQUALITY = frozenset({"=", "!="})
_MEMBERSHIP = frozenset({"in", "not in"})
_SEARCH = frozenset({"like", "not like"})
_EMPTINESS = frozenset({"is empty", "is not empty"})

OPERATORS: dict[str, frozenset[str]] = {
    ID_TYPE: _ORDERED | _MEMBERSHIP,
    "RECORD_NUMBER": _ORDERED | _MEMBERSHIP,
    "CREATOR": _MEMBERSHIP,
    "MODIFIER": _MEMBERSHIP,
    "CREATED_TIME": _ORDERED,
    "UPDATED_TIME": _ORDERED,
    "SINGLE_LINE_TEXT": _EQUALITY | _MEMBERSHIP | _SEARCH,
    "LINK": _EQUALITY | _MEMBERSHIP | _SEARCH,
    "NUMBER": _ORDERED | _MEMBERSHIP,
    "CALC": _ORDERED | _MEMBERSHIP,
    "MULTI_LINE_TEXT": _SEARCH | _EMPTINESS,
    "RICH_TEXT": _SEARCH | _EMPTINESS,
    "CHECK_BOX": _MEMBERSHIP,
    "RADIO_BUTTON": _MEMBERSHIP,
    "DROP_DOWN": _MEMBERSHIP,
    "MULTI_SELECT": _MEMBERSHIP,
    "FILE": _SEARCH | _EMPTINESS,
    "DATE": _ORDERED,
    "TIME": _ORDERED,
    "DATETIME": _ORDERED,
    "USER_SELECT": _MEMBERSHIP,
    "ORGANIZATION_SELECT": _MEMBERSHIP,
    "GROUP_SELECT": _MEMBERSHIP,
    "STATUS": _EQUALITY | _MEMBERSHIP,
    "STATUS_ASSIGNEE": _MEMBERSHIP,
    "CATEGORY": _MEMBERSHIP,
}

# Negative operators and the positive test they negate. On subtable fields a negative operator
# means "the table has rows and no row passes the positive test".
POSITIVE = {"!=": "=", "not in": "in", "not like": "like", "is not empty": "is empty"}

_DATE_LIKE = frozenset({"DATE", "DATETIME", "CREATED_TIME", "UPDATED_TIME"})
FUNCTION_TYPES: dict[str, frozenset[str]] = {
    "LOGINUSER": frozenset({"CREATOR", "MODIFIER", "USER_SELECT", "STATUS_ASSIGNEE"}),
    "PRIMARY_ORGANIZATION": frozenset({"ORGANIZATION_SELECT"}),
    "NOW": frozenset({"DATETIME", "CREATED_TIME", "UPDATED_TIME"}),
    **{name: _DATE_LIKE for name in DATE_FUNCTIONS},
}

# Sortable types (section 13.10's recommendation; other types are rejected with GAIA_IQ03).
SORTABLE = frozenset(
    {
        ID_TYPE, "RECORD_NUMBER", "CREATED_TIME", "UPDATED_TIME", "CREATOR", "MODIFIER",
        "SINGLE_LINE_TEXT", "LINK", "NUMBER", "CALC", "RADIO_BUTTON", "DROP_DOWN", "DATE", "TIME",
        "DATETIME", "STATUS",
    }
)

_MULTI = frozenset(
    {
        "CHECK_BOX", "MULTI_SELECT", "CATEGORY", "FILE", "USER_SELECT", "ORGANIZATION_SELECT",
        "GROUP_SELECT", "STATUS_ASSIGNEE",
    }
)
_DOMAINS = {
    ID_TYPE: "id",
    "RECORD_NUMBER": "id",
    "NUMBER": "number",
    "DATE": "date",
    "TIME": "time",
    "DATETIME": "datetime",
    "CREATED_TIME": "datetime",
    "UPDATED_TIME": "datetime",
    "MULTI_LINE_TEXT": "longtext",
    "RICH_TEXT": "longtext",
    **{t: "multi" for t in _MULTI},
}
_CALC_DOMAINS = {"DATE": "date", "TIME": "time", "DATETIME": "datetime"}


def domain(ftype: str, fd: FieldDef | None) -> str:
    """How values of a field compare: id, number, date, time, datetime, longtext, multi, text.

    CALC fields compare by their format: numerically, or like DATE/TIME/DATETIME values.
    """
    if ftype == "CALC" and fd is not None:
        return "number" if fd.numeric else _CALC_DOMAINS.get(fd.props.get("format", ""), "text")
    return _DOMAINS.get(ftype, "text")
