"""Kintone calculation formulas: CALC fields and auto-calculated SINGLE_LINE_TEXT fields.

Supported: number and string literals, field references (subtable columns inside ``SUM``, or as
row values from a field of the same subtable), ``+ - * / ^ &``, ``= != <> < <= > >=``
(yielding 1/0), parentheses and the functions ``SUM``, ``ROUND``, ``ROUNDUP``, ``ROUNDDOWN``,
``IF``, ``AND``, ``OR``, ``NOT``, ``CONTAINS``, ``YEN`` and ``DATE_FORMAT``.

Semantics as observed on real Kintone: empty numbers count as 0; a quotient is rounded to 4
decimal places; DATE/DATETIME/TIME values are epoch seconds (DATE at midnight UTC, TIME since
midnight); booleans are 1/0; any evaluation error (division by zero, a text result in a numeric
CALC, too many digits, an empty date in arithmetic) yields ``""``.

Not supported (rejected at deploy with GAIA_IL01 like any unknown function): every other function
of Kintone's formula language. Deploy-time checks cover syntax, unknown fields and functions,
argument counts, non-referable field types, subtable columns outside SUM and circular references,
but not operator/argument type mismatches (those evaluate to ``""``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from .clock import iso_minute
from .errors import KintoneError
from .fields import FieldDef, Form
from .temporal import parse_datetime
from .values import Precision, format_number, is_computed, parse_number

Value = Decimal | str | list | None  # None: an empty date/time, which makes results empty


class CalcError(Exception):
    """The formula cannot be parsed or evaluated (Kintone shows #ERROR!, the API ``""``)."""


# ---------------------------------------------------------------------------------------------
# Parsing

@dataclass(frozen=True)
class Num:
    value: Decimal


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Ref:
    code: str


@dataclass(frozen=True)
class Neg:
    operand: Node


@dataclass(frozen=True)
class Bin:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Num | Str | Ref | Neg | Bin | Call

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<num>\d+(?:\.\d*)?|\.\d+)
      | (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<op><>|!=|<=|>=|[-+*/^&=<>(),])
      | (?P<name>(?:[^\W\d]|[・＄￥])(?:\w|[・＄￥])*)
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")


def _tokenize(expression: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    expression = expression.rstrip()
    while pos < len(expression):
        match = _TOKEN_RE.match(expression, pos)
        if not match or match.end() == pos:
            raise CalcError(f"unexpected character at {pos}")
        kind = match.lastgroup or ""
        tokens.append((kind, match[kind]))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, expression: str) -> None:
        self.tokens = _tokenize(expression)
        self.pos = 0

    def parse(self) -> Node:
        node = self._binary(0)
        if self.pos != len(self.tokens):
            raise CalcError("unexpected trailing input")
        return node

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take_op(self, ops: tuple[str, ...]) -> str | None:
        token = self._peek()
        if token and token[0] == "op" and token[1] in ops:
            self.pos += 1
            return token[1]
        return None

    def _expect(self, op: str) -> None:
        if self._take_op((op,)) is None:
            raise CalcError(f"expected {op}")

    # Precedence, loosest first: comparisons, &, + -, * /.
    _LEVELS = (_COMPARISONS, ("&",), ("+", "-"), ("*", "/"))

    def _binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self._unary()
        node = self._binary(level + 1)
        while (op := self._take_op(self._LEVELS[level])) is not None:
            node = Bin(op, node, self._binary(level + 1))
        return node

    def _unary(self) -> Node:
        if self._take_op(("-",)):
            return Neg(self._unary())
        if self._take_op(("+",)):
            return self._unary()
        base = self._primary()
        if self._take_op(("^",)):
            return Bin("^", base, self._unary())
        return base

    def _primary(self) -> Node:
        token = self._peek()
        if token is None:
            raise CalcError("unexpected end")
        self.pos += 1
        kind, text = token
        if kind == "num":
            return Num(Decimal(text))
        if kind == "str":
            return Str(re.sub(r"\\(.)", r"\1", text[1:-1]))
        if kind == "name":
            if self._take_op(("(",)):
                return Call(text.upper(), self._arguments())
            return Ref(text)
        if text == "(":
            node = self._binary(0)
            self._expect(")")
            return node
        raise CalcError(f"unexpected {text}")

    def _arguments(self) -> tuple[Node, ...]:
        if self._take_op((")",)):
            return ()
        args = [self._binary(0)]
        while self._take_op((",",)):
            args.append(self._binary(0))
        self._expect(")")
        return tuple(args)


def parse(expression: str) -> Node:
    return _Parser(expression).parse()


# ---------------------------------------------------------------------------------------------
# Values of fields as formulas see them

def _epoch(moment: datetime) -> Decimal:
    return Decimal(int(moment.timestamp()))


def _date_seconds(stored: Any) -> Value:
    return _epoch(datetime.fromisoformat(stored).replace(tzinfo=UTC)) if stored else None


def _datetime_seconds(stored: Any) -> Value:
    moment = parse_datetime(stored) if stored else None
    return _epoch(moment) if moment else None


def _time_seconds(stored: Any) -> Value:
    if not stored:
        return None
    parsed = time.fromisoformat(stored)
    return Decimal(parsed.hour * 3600 + parsed.minute * 60)


def _number(stored: Any) -> Value:
    return parse_number(stored) if stored else Decimal(0)


def _text(stored: Any) -> Value:
    return stored or ""


def _entity(stored: Any) -> Value:
    return (stored or {}).get("code", "")


def _choices(stored: Any) -> Value:
    return list(stored or [])


_READERS: dict[str, Callable[[Any], Value]] = {
    "NUMBER": _number,
    "DATE": _date_seconds,
    "DATETIME": _datetime_seconds,
    "CREATED_TIME": _datetime_seconds,
    "UPDATED_TIME": _datetime_seconds,
    "TIME": _time_seconds,
    "SINGLE_LINE_TEXT": _text,
    "DROP_DOWN": _text,
    "RADIO_BUTTON": _text,
    "CHECK_BOX": _choices,
    "MULTI_SELECT": _choices,
    "CREATOR": _entity,
    "MODIFIER": _entity,
}
REFERABLE_TYPES = frozenset(_READERS) | {"CALC"}


# ---------------------------------------------------------------------------------------------
# Evaluation

_QUOTIENT = Decimal("0.0001")
_TRUE, _FALSE = Decimal(1), Decimal(0)


def _as_number(value: Value) -> Decimal | None:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        number = parse_number(value) if value else Decimal(0)
        if number is not None:
            return number
    raise CalcError("not a number")


def _as_text(value: Value) -> str:
    if isinstance(value, list):
        raise CalcError("array outside SUM")
    if isinstance(value, Decimal):
        return format_number(value)
    return value or ""


def _truth(value: Value) -> bool:
    if isinstance(value, str | list):
        raise CalcError("not a condition")
    return bool(value)


def _arith(op: str, left: Decimal, right: Decimal) -> Decimal:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        if right == 0:
            raise CalcError("division by zero")
        return (left / right).quantize(_QUOTIENT, ROUND_HALF_UP)
    exponent = int(right)  # Kintone drops the exponent's fraction
    if not -100 <= exponent <= 100 or (left == 0 and exponent < 0):
        raise CalcError("exponent out of range")
    return left**exponent


def _comparable(left: Value, right: Value) -> tuple[Any, Any]:
    """Numbers compare as numbers, anything else (and an empty date) as text."""
    try:
        a, b = _as_number(left), _as_number(right)
    except CalcError:
        a = b = None
    if a is not None and b is not None:
        return a, b
    return _as_text(left), _as_text(right)


def _compare(op: str, left: Value, right: Value) -> Decimal:
    a, b = _comparable(left, right)
    result = {"=": a == b, "!=": a != b, "<>": a != b, "<": a < b, "<=": a <= b, ">": a > b,
              ">=": a >= b}[op]
    return _TRUE if result else _FALSE


Row = tuple[str, int] | None  # (subtable code, row index) a formula is evaluated in


class _Scope:
    """Evaluates the formulas of one record, memoising computed fields per row."""

    def __init__(self, form: Form, data: dict, tz: ZoneInfo, precision: Precision) -> None:
        self.form, self.data, self.tz, self.precision = form, data, tz, precision
        self._memo: dict[tuple[str, Row], Value | CalcError] = {}
        self._active: set[tuple[str, Row]] = set()

    # -- field references

    def field(self, fd: FieldDef, row: Row) -> Value:
        """A field's formula value; a column of another table (or at top level) is a list."""
        if fd.table is not None and (row is None or row[0] != fd.table):
            rows = self.data.get(fd.table) or []
            return [self.field(fd, (fd.table, index)) for index in range(len(rows))]
        own_row = row if fd.table is not None else None
        if is_computed(fd):
            return self.computed(fd, own_row)
        if fd.type not in _READERS:
            raise CalcError(f"{fd.code} cannot be referenced")
        source = self.data if own_row is None else self.data[own_row[0]][own_row[1]]["value"]
        return _READERS[fd.type](source.get(fd.code))

    def computed(self, fd: FieldDef, row: Row) -> Value:
        key = (fd.code, row)
        if key not in self._memo:
            if key in self._active:
                raise CalcError("circular reference")
            self._active.add(key)
            try:
                self._memo[key] = self._evaluate_field(fd, row)
            except (CalcError, ArithmeticError) as error:
                self._memo[key] = CalcError(str(error))
            finally:
                self._active.discard(key)
        result = self._memo[key]
        if isinstance(result, CalcError):
            raise result
        return result

    def _evaluate_field(self, fd: FieldDef, row: Row) -> Value:
        value = self.scalar(parse(fd.props.get("expression") or ""), row)
        if fd.type == "CALC" and value is not None:
            return self._numeric_result(value)
        return value

    def _numeric_result(self, value: Value) -> Decimal:
        if not isinstance(value, Decimal):
            raise CalcError("a CALC field needs a number")
        rounded = self.precision.apply(value)
        if rounded is None:
            raise CalcError("too many digits")
        return rounded

    # -- expressions

    def eval(self, node: Node, row: Row) -> Value:
        if isinstance(node, Num | Str):
            return node.value
        if isinstance(node, Ref):
            fd = self.form.get(node.code)
            if fd is None:
                raise CalcError(f"unknown field {node.code}")
            return self.field(fd, row)
        if isinstance(node, Neg):
            operand = _as_number(self.scalar(node.operand, row))
            return None if operand is None else -operand
        if isinstance(node, Bin):
            return self._binary(node, row)
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise CalcError(f"unknown function {node.name}")
        return function.run(self, node.args, row)

    def scalar(self, node: Node, row: Row) -> Value:
        value = self.eval(node, row)
        if isinstance(value, list):
            raise CalcError("array outside SUM")
        return value

    def _binary(self, node: Bin, row: Row) -> Value:
        left, right = self.scalar(node.left, row), self.scalar(node.right, row)
        if node.op == "&":
            return _as_text(left) + _as_text(right)
        if node.op in _COMPARISONS:
            return _compare(node.op, left, right)
        a, b = _as_number(left), _as_number(right)
        if a is None or b is None:
            return None
        return _arith(node.op, a, b)


# ---------------------------------------------------------------------------------------------
# Functions

@dataclass(frozen=True)
class Function:
    min_args: int
    max_args: int | None
    run: Callable[[_Scope, tuple[Node, ...], Row], Value]


def _sum(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    total = Decimal(0)
    for arg in args:
        value = scope.eval(arg, row)
        for item in value if isinstance(value, list) else [value]:
            total += _as_number(item) or 0
    return total


def _rounder(mode: str) -> Callable:
    def run(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
        number = _as_number(scope.scalar(args[0], row))
        places = _as_number(scope.scalar(args[1], row)) if len(args) > 1 else Decimal(0)
        if number is None:
            return None
        return number.quantize(Decimal(1).scaleb(-int(places or 0)), mode)

    return run


def _if(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    chosen = args[1] if _truth(scope.scalar(args[0], row)) else args[2]
    return scope.scalar(chosen, row)


def _and(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    return _TRUE if all(_truth(scope.scalar(arg, row)) for arg in args) else _FALSE


def _or(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    return _TRUE if any(_truth(scope.scalar(arg, row)) for arg in args) else _FALSE


def _not(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    return _FALSE if _truth(scope.scalar(args[0], row)) else _TRUE


def _contains(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    haystack = scope.eval(args[0], row)
    needle = _as_text(scope.scalar(args[1], row))
    items = haystack if isinstance(haystack, list) else [_as_text(haystack)]
    return _TRUE if needle in items else _FALSE


def _yen(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    number = _as_number(scope.scalar(args[0], row))
    places = int(_as_number(scope.scalar(args[1], row)) or 0)
    if number is None:
        return ""
    rounded = number.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    sign = "-" if rounded < 0 else ""
    return f"{sign}¥{format(abs(rounded), ',f')}"


# DATE_FORMAT patterns, longest first so "MM" wins over "M".
_DATE_TOKENS = {
    "YYYY": "%Y", "YY": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "{month}",
    "dd": "%d", "d": "{day}", "EEEE": "%A", "EEE": "%a", "HH": "%H", "H": "{hour}",
    "hh": "%I", "h": "{hour12}", "mm": "%M", "m": "{minute}", "ss": "%S", "s": "{second}",
    "a": "%p", "Z": "%z",
}
_DATE_TOKEN_RE = re.compile("|".join(sorted(_DATE_TOKENS, key=len, reverse=True)))


def _format_moment(moment: datetime, pattern: str) -> str:
    fields = {"month": moment.month, "day": moment.day, "hour": moment.hour,
              "hour12": moment.hour % 12 or 12, "minute": moment.minute, "second": moment.second}

    def render(match: re.Match) -> str:
        spec = _DATE_TOKENS[match[0]]
        return spec.format(**fields) if spec.startswith("{") else moment.strftime(spec)

    return _DATE_TOKEN_RE.sub(render, pattern)


def _date_format(scope: _Scope, args: tuple[Node, ...], row: Row) -> Value:
    seconds = _as_number(scope.scalar(args[0], row))
    pattern = _as_text(scope.scalar(args[1], row))
    zone_name = _as_text(scope.scalar(args[2], row))
    if seconds is None:
        return ""
    try:
        zone = scope.tz if zone_name == "system" else ZoneInfo(zone_name)
    except (ValueError, KeyError) as error:
        raise CalcError(f"unknown time zone {zone_name}") from error
    try:
        moment = datetime.fromtimestamp(int(seconds), zone)
    except (OverflowError, OSError, ValueError) as error:
        raise CalcError("date out of range") from error
    return _format_moment(moment, pattern)


FUNCTIONS: dict[str, Function] = {
    "SUM": Function(1, None, _sum),
    "ROUND": Function(1, 2, _rounder(ROUND_HALF_UP)),
    "ROUNDUP": Function(1, 2, _rounder(ROUND_UP)),
    "ROUNDDOWN": Function(1, 2, _rounder(ROUND_DOWN)),
    "IF": Function(3, 3, _if),
    "AND": Function(1, 32, _and),
    "OR": Function(1, 32, _or),
    "NOT": Function(1, 1, _not),
    "CONTAINS": Function(2, 2, _contains),
    "YEN": Function(2, 2, _yen),
    "DATE_FORMAT": Function(3, 3, _date_format),
}


# ---------------------------------------------------------------------------------------------
# Output formats of CALC fields (section 15.1)

def _clock(seconds: Decimal, *, wrap: bool) -> str:
    minutes = int(seconds) // 60 if seconds >= 0 else -(int(-seconds) // 60)
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if wrap:
        minutes %= 24 * 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


_FORMATTERS: dict[str, Callable[[Decimal], str]] = {
    "NUMBER": format_number,
    "NUMBER_DIGIT": format_number,
    "DATETIME": lambda s: iso_minute(datetime.fromtimestamp(int(s), UTC)),
    "DATE": lambda s: datetime.fromtimestamp(int(s), UTC).date().isoformat(),
    "TIME": lambda s: _clock(s % 86400, wrap=True),
    "HOUR_MINUTE": lambda s: _clock(s, wrap=False),
    "DAY_HOUR_MINUTE": lambda s: _clock(s, wrap=False),
}


def format_result(fd: FieldDef, value: Value) -> str:
    """The stored string of a computed field's value."""
    if value is None:
        return ""
    if fd.type != "CALC":
        return _as_text(value)
    try:
        return _FORMATTERS.get(fd.props.get("format") or "NUMBER", format_number)(value)
    except (OverflowError, OSError, ValueError, InvalidOperation):
        return ""


# ---------------------------------------------------------------------------------------------
# Public API

def compute_fields(form: Form, data: dict, *, tz: ZoneInfo, precision: Precision) -> None:
    """Fill every computed field of ``data`` (top level and each subtable row) in place."""
    scope = _Scope(form, data, tz, precision)
    for fd in form.all():
        if not is_computed(fd):
            continue
        if fd.table is None:
            data[fd.code] = _result(scope, fd, None)
            continue
        for index, row in enumerate(data.get(fd.table) or []):
            row["value"][fd.code] = _result(scope, fd, (fd.table, index))


def _result(scope: _Scope, fd: FieldDef, row: Row) -> str:
    try:
        return format_result(fd, scope.computed(fd, row))
    except (CalcError, InvalidOperation, ArithmeticError):
        return ""


def evaluate(expression: str, form: Form, data: dict, *, tz: ZoneInfo = UTC,
             precision: Precision | None = None) -> Value:
    """The raw value of a top-level formula over ``data`` (raises CalcError)."""
    scope = _Scope(form, data, tz, precision or Precision())
    try:
        return scope.scalar(parse(expression), None)
    except (InvalidOperation, ArithmeticError) as error:
        raise CalcError(str(error)) from error


def check_expression(expression: str, form: Form, code: str = "") -> None:
    """Deploy-time validation of the formula of field ``code``; GAIA_IL01 when invalid."""
    try:
        node = parse(expression)
        fd = form.get(code)
        _Checker(form, fd.table if fd else None).check(node, in_sum=False)
        _check_cycles(form, code, node)
    except CalcError as error:
        raise KintoneError("GAIA_IL01", (code,)) from error


@dataclass
class _Checker:
    form: Form
    table: str | None

    def check(self, node: Node, *, in_sum: bool) -> None:
        if isinstance(node, Ref):
            self._check_ref(node.code, in_sum=in_sum)
        elif isinstance(node, Neg):
            self.check(node.operand, in_sum=False)
        elif isinstance(node, Bin):
            self.check(node.left, in_sum=False)
            self.check(node.right, in_sum=False)
        elif isinstance(node, Call):
            self._check_call(node)

    def _check_ref(self, code: str, *, in_sum: bool) -> None:
        fd = self.form.get(code)
        if fd is None or (fd.type not in REFERABLE_TYPES and not is_computed(fd)):
            raise CalcError(f"cannot reference {code}")
        if fd.table is not None and fd.table != self.table and not in_sum:
            raise CalcError(f"subtable column {code} outside SUM")

    def _check_call(self, node: Call) -> None:
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise CalcError(f"unknown function {node.name}")
        count = len(node.args)
        if count < function.min_args or (function.max_args is not None
                                         and count > function.max_args):
            raise CalcError(f"wrong number of arguments for {node.name}")
        for index, arg in enumerate(node.args):
            # Columns are allowed as SUM arguments and as CONTAINS's first argument.
            takes_array = node.name == "SUM" or (node.name == "CONTAINS" and index == 0)
            self.check(arg, in_sum=takes_array)


def _references(node: Node) -> set[str]:
    if isinstance(node, Ref):
        return {node.code}
    if isinstance(node, Neg):
        return _references(node.operand)
    if isinstance(node, Bin):
        return _references(node.left) | _references(node.right)
    if isinstance(node, Call):
        return set().union(*(_references(arg) for arg in node.args))
    return set()


def _check_cycles(form: Form, code: str, node: Node) -> None:
    """Follow references through computed fields; reaching ``code`` again is a cycle."""
    pending, seen = list(_references(node)), set()
    while pending:
        current = pending.pop()
        if current == code:
            raise CalcError("circular reference")
        fd = form.get(current)
        if current in seen or fd is None or not is_computed(fd):
            continue
        seen.add(current)
        pending.extend(_references(parse(fd.props.get("expression") or "")))
