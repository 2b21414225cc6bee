"""OData ``$filter`` semantics over one entity shaped as the gateway serves it.

An entity is ``{property name: value}`` with ``str``, ``int``, ``Decimal``, ``bool``, ``date``,
aware ``datetime``, ``time``, ``None``, lists (collections) and dicts (complex values, keyed by
property name). The gateway runs this on what Kintone returned for the pushed-down condition, so
the answer is exactly OData's whatever Kintone's own matching rules are.

Null semantics follow OData 4.01 (part 2, 5.1.1): ``eq``/``ne`` treat null as a value (``null eq
null``), ordered comparisons with a null operand are false, arithmetic and functions propagate
null, and ``and``/``or``/``not`` are three-valued with null as "unknown". An entity matches when
the filter is true (not null). Expressions are assumed type-checked (``translate.plan_filter``
checks them first); a mismatch that slips through is still a 400, never a crash.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from odata_query import ast

from ..kintone.ranges import FIRST_DAY, LAST_DAY
from .errors import bad_request, not_implemented
from .numbers import INT64_MAX, int64
from .tree import CAST, COUNT, Comparator, Literal, Node, Visitor

# Double literals that the parser reads as names.
SPECIAL_NUMBERS: Mapping[str, float] = {"INF": math.inf, "NaN": math.nan}


def matches(tree: Node, entity: Mapping[str, Any]) -> bool:
    return _Evaluator(entity, {}).visit(tree) is True


def literal_value(node: Literal) -> Any:
    """The Python value of a literal: numbers as ``int``/``Decimal``, date-times always aware."""
    return _LITERAL_VALUE.visit(node)


class _LiteralValue(Visitor):
    def visit_Float(self, node: ast.Float) -> Decimal:
        return Decimal(node.val)

    def visit_DateTime(self, node: ast.DateTime) -> datetime:
        moment = node.py_val
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def visit_List(self, node: ast.List) -> list[Any]:
        return [self.visit(item) for item in node.val]

    def visit_Integer(self, node: ast.Integer) -> int:
        return _int64(node.val)

    def visit_Duration(self, node: ast.Duration) -> timedelta:
        try:
            return duration_value(node.val)
        except ValueError:
            raise bad_request(f"Invalid duration '{node.val}': days, hours, minutes and "
                              f"seconds only.", "$filter") from None

    def _python_value(self, node: Literal) -> Any:
        return node.py_val

    visit_Null = visit_String = visit_Boolean = visit_Date = visit_Time = _python_value

    def generic_visit(self, node: Node) -> Any:
        raise not_implemented(f"{type(node).__name__} literals are not supported.", "$filter")


_LITERAL_VALUE = _LiteralValue()


def duration_value(text: str) -> timedelta:
    """An ``Edm.Duration`` (``P1DT2H30M0.5S``, a sign allowed) as an exact ``timedelta``.

    OData's durations count days, hours, minutes and seconds only (``dayTimeDuration``): years
    and months have no fixed length and are a ValueError (400)."""
    match = _DURATION.fullmatch(text.upper())
    if match is None:
        raise ValueError(text)
    sign, days, hours, minutes, seconds = match.groups()
    if days is hours is minutes is seconds is None:
        raise ValueError(text)
    total = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0),
                      microseconds=int(Decimal(seconds or 0) * 1_000_000))
    return -total if sign == "-" else total


_DURATION = re.compile(r"([+-])?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,6})?)S)?)?")
# mindatetime() and maxdatetime(): the first and last instants Kintone can compare (see
# kintone.ranges; no record holds a date-time outside them), to the microsecond.
MIN_DATETIME = datetime.combine(FIRST_DAY, time(), UTC)
MAX_DATETIME = datetime.combine(LAST_DAY, time(23, 59, 59, 999999), UTC)

# What cast() converts to: the target type and the type its result has in comparisons.
CAST_TYPES: Mapping[str, str] = {
    "Edm.String": "Edm.String", "Edm.Boolean": "Edm.Boolean", "Edm.Date": "Edm.Date",
    "Edm.DateTimeOffset": "Edm.DateTimeOffset", "Edm.TimeOfDay": "Edm.TimeOfDay",
    "Edm.Decimal": "Edm.Decimal", "Edm.Double": "Edm.Double", "Edm.Single": "Edm.Double",
    "Edm.Int64": "Edm.Int64", "Edm.Int32": "Edm.Int32", "Edm.Int16": "Edm.Int32",
    "Edm.Byte": "Edm.Int32", "Edm.SByte": "Edm.Int32",
}
_INT_RANGES: Mapping[str, tuple[int, int]] = {
    "Edm.Int64": (-2**63, 2**63 - 1), "Edm.Int32": (-2**31, 2**31 - 1),
    "Edm.Int16": (-2**15, 2**15 - 1), "Edm.Byte": (0, 255), "Edm.SByte": (-128, 127),
}

def _int64(text: str) -> int:
    # Kintone holds no wider integer, and would answer one with an error of its own.
    value = int64(text)
    if value is None:
        raise ValueError(f"{text} is not an Edm.Int64 (ASCII digits, at most {INT64_MAX})")
    return value


Env = Mapping[str, Any]  # lambda variables in scope


class _Evaluator(Visitor):
    """A node's value on ``entity``, with the lambda variables in ``env``."""

    def __init__(self, entity: Mapping[str, Any], env: Env) -> None:
        self._entity = entity
        self._env = env

    def generic_visit(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return literal_value(node)
        raise not_implemented(f"{type(node).__name__} is not supported in $filter.", "$filter")

    def visit_Identifier(self, node: ast.Identifier) -> Any:
        name = node.name
        if name in self._env:
            return self._env[name]
        if name not in self._entity and name in SPECIAL_NUMBERS:
            return SPECIAL_NUMBERS[name]
        return self._entity.get(name)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        owner = self.visit(node.owner)
        return owner.get(node.attr) if isinstance(owner, Mapping) else None

    # -- logic

    def visit_BoolOp(self, node: ast.BoolOp) -> bool | None:
        left = self.visit(node.left)
        # The short cut is the three-valued rule: false and null = false, true or null = true.
        decisive = isinstance(node.op, ast.Or)
        if left is decisive:
            return decisive
        right = self.visit(node.right)
        if right is decisive:
            return decisive
        if left is None or right is None:
            return None
        return not decisive

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if value is None:
            return None
        if isinstance(node.op, ast.Not):
            return not value
        return -value

    def visit_CollectionLambda(self, node: ast.CollectionLambda) -> bool:
        items = self.visit(node.owner) or []
        if node.lambda_ is None:
            return bool(items)
        name, body = node.lambda_.identifier.name, node.lambda_.expression
        results = (_Evaluator(self._entity, {**self._env, name: item}).visit(body)
                   for item in items)
        if isinstance(node.operator, ast.All):
            return all(result is True for result in results)
        return any(result is True for result in results)

    # -- comparison

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        right = self.visit(node.right)
        op = node.comparator
        if isinstance(op, ast.In):
            return any(_equal(left, item) for item in right or [])
        if isinstance(op, ast.Eq):
            return _equal(left, right)
        if isinstance(op, ast.NotEq):
            return not _equal(left, right)
        if left is None or right is None:
            return False
        return _ordered(op, left, right)

    # -- arithmetic

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left = self.visit(node.left)
        right = self.visit(node.right)
        if left is None or right is None:
            return None
        if _is_number(left) and _is_number(right):
            if isinstance(node.op, ast.Div | ast.Mod) and right == 0:
                # OData leaves integer division by zero to the service; null filters out.
                return None
            return _ARITHMETIC[type(node.op)](left, right)
        if isinstance(node.op, ast.Add | ast.Sub):
            return temporal_arithmetic(isinstance(node.op, ast.Add), left, right)
        raise not_implemented("Arithmetic is only supported on numbers, dates and durations.",
                              "$filter")

    # -- functions

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.name.lower()
        function = FUNCTIONS.get(name)
        if function is None:
            raise not_implemented(f"The function {node.func.name} is not supported.", "$filter")
        if name == CAST:  # its second argument is a type name, not a value
            value = self.visit(node.args[0])
            return None if value is None else cast(value, type_name(node.args[1]))
        if node.func.name == COUNT:  # a collection is never null: no rows count 0
            return len(self.visit(node.args[0]) or [])
        args = []
        for arg in node.args:  # not a comprehension: that is one more frame per nested call
            args.append(self.visit(arg))
        if any(arg is None for arg in args):
            return None
        try:
            return function(*args)
        except (TypeError, AttributeError):
            raise bad_request(f"Invalid arguments for {node.func.name}.", "$filter") from None


# -- comparison -----------------------------------------------------------------------------------


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    try:
        return bool(left == right) and _same_kind(left, right)
    except InvalidOperation:
        return False


def _same_kind(left: Any, right: Any) -> bool:
    # Python says date(2024, 1, 1) != datetime(2024, 1, 1) but True == 1; OData keeps them apart.
    return isinstance(left, bool) == isinstance(right, bool)


_ORDER: Mapping[type, Callable[[Any, Any], bool]] = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
}


def _ordered(op: Comparator, left: Any, right: Any) -> bool:
    try:
        return _ORDER[type(op)](left, right)
    except InvalidOperation:  # NaN
        return False
    except TypeError:
        raise bad_request(f"Cannot compare {_kind(left)} with {_kind(right)}.", "$filter") from None


def _kind(value: Any) -> str:
    return type(value).__name__


# -- arithmetic -----------------------------------------------------------------------------------


def temporal_arithmetic(add: bool, left: Any, right: Any) -> Any:
    """``add``/``sub`` on date-times, dates and durations (null when the result is out of
    range, or a date would get a time of day); a 400 for other operands."""
    if add and isinstance(left, timedelta) and not isinstance(right, timedelta):
        left, right = right, left  # duration add date-time: commutative
    try:
        if isinstance(right, timedelta):
            if isinstance(left, date | timedelta):
                return _shifted(left, right if add else -right)
        elif not add and _same_temporal(left, right):
            return left - right
    except OverflowError:
        return None
    raise bad_request(f"Cannot {'add' if add else 'subtract'} {_kind(right)} "
                      f"{'to' if add else 'from'} {_kind(left)}.", "$filter")


def _shifted(value: date | timedelta, by: timedelta) -> Any:
    if isinstance(value, datetime | timedelta):
        return value + by
    if by % timedelta(days=1):
        return None  # a date plus hours is no date
    return value + by


def _same_temporal(left: Any, right: Any) -> bool:
    return (isinstance(left, datetime) and isinstance(right, datetime)) or (
        type(left) is date and type(right) is date)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal | float) and not isinstance(value, bool)


def _divide(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        return int(Decimal(left) / Decimal(right))  # integer division truncates toward zero
    return _decimal(left) / _decimal(right)


def _modulo(left: Any, right: Any) -> Any:
    # OData's mod keeps the sign of the dividend, like Decimal's % (Python's int % floors).
    result = _decimal(left) % _decimal(right)
    return int(result) if isinstance(left, int) and isinstance(right, int) else result


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


_ARITHMETIC: Mapping[type, Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: _divide,
    ast.Mod: _modulo,
}


# -- functions ------------------------------------------------------------------------------------


def _substring(text: str, start: int, length: int | None = None) -> str:
    start = max(int(start), 0)
    return text[start:] if length is None else text[start : start + max(int(length), 0)]


def _round(value: Any) -> Any:
    # OData rounds half away from zero; Python's round() rounds half to even.
    return _decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def type_name(node: Node) -> str:
    """The qualified type name cast() names (``Edm.String``)."""
    if not isinstance(node, ast.Identifier):
        raise bad_request("cast needs a type name as its second argument.", "$filter")
    return ".".join([*node.namespace, node.name])


def cast(value: Any, target: str) -> Any:
    """OData's cast to a primitive type; null when the value has no such representation."""
    if target == "Edm.String":
        return _as_text(value)
    if target in _INT_RANGES:
        number = _as_number(value)
        low, high = _INT_RANGES[target]
        if number is None or number != number.to_integral_value() or not low <= number <= high:
            return None
        return int(number)
    if target in ("Edm.Decimal", "Edm.Double", "Edm.Single"):
        return _as_number(value)
    if target == "Edm.Boolean":
        return value if isinstance(value, bool) else {"true": True, "false": False}.get(
            value.lower()) if isinstance(value, str) else None
    return _as_temporal(value, target)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _as_temporal(value: Any, target: str) -> Any:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value \
                else time.fromisoformat(value) if ":" in value else date.fromisoformat(value)
        except ValueError:
            return None
        if isinstance(value, datetime) and value.tzinfo is None:
            return None  # OData date-times carry an offset
    if target == "Edm.Date":
        return value.astimezone(UTC).date() if isinstance(value, datetime) else (
            value if type(value) is date else None)
    if target == "Edm.DateTimeOffset":
        if isinstance(value, datetime):
            return value
        return datetime.combine(value, time(), UTC) if type(value) is date else None
    if isinstance(value, datetime):  # Edm.TimeOfDay
        return value.astimezone(UTC).time().replace(tzinfo=None)
    return value if isinstance(value, time) else None


def _fractional_seconds(value: datetime | time) -> Decimal:
    return Decimal(value.microsecond) / 1_000_000


def _total_offset_minutes(value: datetime) -> int:
    offset = value.utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def _date_part(name: str) -> Callable[[Any], int]:
    return lambda value: getattr(value, name)


def _date_of(value: datetime) -> date:
    return value.date()


def _time_of(value: datetime) -> time:
    return value.time()


FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "contains": lambda text, part: part in text,
    "startswith": lambda text, part: text.startswith(part),
    "endswith": lambda text, part: text.endswith(part),
    "length": len,
    "indexof": lambda text, part: text.find(part),
    "substring": _substring,
    "tolower": str.lower,
    "toupper": str.upper,
    "trim": str.strip,
    "concat": lambda left, right: left + right,
    "year": _date_part("year"),
    "month": _date_part("month"),
    "day": _date_part("day"),
    "hour": _date_part("hour"),
    "minute": _date_part("minute"),
    "second": _date_part("second"),
    "date": _date_of,
    "time": _time_of,
    "round": _round,
    "floor": math.floor,
    "ceiling": math.ceil,
    "fractionalseconds": _fractional_seconds,
    "totaloffsetminutes": _total_offset_minutes,
    COUNT: len,
    CAST: cast,
}
