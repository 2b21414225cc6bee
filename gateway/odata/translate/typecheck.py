"""Type checking of the filter tree: 400 for ill-typed filters, 501 for unsupported ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odata_query import ast

from gateway.model import edm

from ..errors import bad_request, not_implemented
from ..evaluate import CAST_TYPES, FUNCTIONS, literal_value, type_name
from ..tree import CAST, COUNT, Literal, Node, Visitor
from .paths import NULL, NUMERIC, Scope, ValueType, resolve

_LITERAL_TYPES: Mapping[type, str] = {
    ast.Null: NULL, ast.Integer: edm.INT64, ast.Float: "Edm.Double", ast.String: edm.STRING,
    ast.Boolean: edm.BOOLEAN, ast.Date: edm.DATE, ast.Time: edm.TIME_OF_DAY,
    ast.DateTime: edm.DATETIME_OFFSET, ast.Duration: "Edm.Duration", ast.GUID: "Edm.Guid",
}


@dataclass(frozen=True)
class _Signature:
    params: tuple[frozenset[str], ...]
    result: str
    optional: int = 0  # trailing parameters that may be left out


_STR = frozenset({edm.STRING})
_DAYS = frozenset({edm.DATE, edm.DATETIME_OFFSET})
_CLOCK = frozenset({edm.DATETIME_OFFSET, edm.TIME_OF_DAY})
_INSTANT = frozenset({edm.DATETIME_OFFSET})
_SIGNATURES: Mapping[str, _Signature] = {
    **{name: _Signature((_STR, _STR), edm.BOOLEAN) for name in
       ("contains", "startswith", "endswith")},
    "length": _Signature((_STR,), "Edm.Int32"),
    "indexof": _Signature((_STR, _STR), "Edm.Int32"),
    "substring": _Signature((_STR, NUMERIC, NUMERIC), edm.STRING, optional=1),
    **{name: _Signature((_STR,), edm.STRING) for name in ("tolower", "toupper", "trim")},
    "concat": _Signature((_STR, _STR), edm.STRING),
    **{name: _Signature((_DAYS,), "Edm.Int32") for name in ("year", "month", "day")},
    **{name: _Signature((_CLOCK,), "Edm.Int32") for name in ("hour", "minute", "second")},
    "date": _Signature((_INSTANT,), edm.DATE),
    "time": _Signature((_INSTANT,), edm.TIME_OF_DAY),
    **{name: _Signature((NUMERIC,), edm.DECIMAL) for name in ("round", "floor", "ceiling")},
    "fractionalseconds": _Signature((_CLOCK,), edm.DECIMAL),
    "totaloffsetminutes": _Signature((_INSTANT,), "Edm.Int32"),
}
assert _SIGNATURES.keys() | {CAST, COUNT} == FUNCTIONS.keys()
# Functions OData defines that the gateway does not evaluate (501, not 400). now(),
# mindatetime() and maxdatetime() never get here: parsing made them literals.
_UNSUPPORTED_FUNCTIONS = frozenset({
    "matchespattern", "totalseconds", "isof", "case", "hassubset", "hassubsequence",
})
_DURATION = "Edm.Duration"
# add and sub beyond numbers: (left, right) -> result, for add and for sub.
_TEMPORAL_ADD: Mapping[tuple[str, str], str] = {
    (edm.DATETIME_OFFSET, _DURATION): edm.DATETIME_OFFSET,
    (_DURATION, edm.DATETIME_OFFSET): edm.DATETIME_OFFSET,
    (edm.DATE, _DURATION): edm.DATE, (_DURATION, edm.DATE): edm.DATE,
    (_DURATION, _DURATION): _DURATION,
}
_TEMPORAL_SUB: Mapping[tuple[str, str], str] = {
    (edm.DATETIME_OFFSET, _DURATION): edm.DATETIME_OFFSET, (edm.DATE, _DURATION): edm.DATE,
    (_DURATION, _DURATION): _DURATION, (edm.DATETIME_OFFSET, edm.DATETIME_OFFSET): _DURATION,
    (edm.DATE, edm.DATE): _DURATION,
}


def require_boolean(node: Node, scope: Scope) -> None:
    """400 unless ``node`` is a well-typed Boolean expression (or null) in ``scope``."""
    _boolean(_TypeOf(scope).visit(node))


class _TypeOf(Visitor):
    """A node's type in ``scope``; a 400 (ill-typed) or 501 (unsupported) on the way."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope

    def generic_visit(self, node: Node) -> ValueType:
        if not isinstance(node, Literal):
            raise bad_request(f"Unexpected {type(node).__name__} in $filter.", "$filter")
        if type(node) not in _LITERAL_TYPES:
            raise not_implemented(f"{type(node).__name__} literals are not supported.", "$filter")
        _check_literal(node)
        return ValueType(_LITERAL_TYPES[type(node)])

    def _path(self, node: ast.Identifier | ast.Attribute) -> ValueType:
        path = resolve(node, self._scope)
        return ValueType("Edm.Double") if path is None else path.type

    visit_Identifier = visit_Attribute = _path

    def visit_BoolOp(self, node: ast.BoolOp) -> ValueType:
        _boolean(self.visit(node.left))
        _boolean(self.visit(node.right))
        return ValueType(edm.BOOLEAN)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ValueType:
        found = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            _boolean(found)
            return ValueType(edm.BOOLEAN)
        return _numeric(found)

    def visit_BinOp(self, node: ast.BinOp) -> ValueType:
        """Numbers with every operator; date-times, dates and durations with add and sub."""
        left, right = self.visit(node.left), self.visit(node.right)
        table = {ast.Add: _TEMPORAL_ADD, ast.Sub: _TEMPORAL_SUB}.get(type(node.op), {})
        names = (left.name, right.name)
        if left.primitive and right.primitive and names in table:
            return ValueType(table[names])
        if NULL in names:  # null propagates (the result is null) but keeps a type to compare
            other = right if left.name == NULL else left
            if other.name == NULL or (other.primitive and other.name in NUMERIC):
                return ValueType(edm.DECIMAL)
            if other.primitive and any(other.name in pair for pair in table):
                return other
        if not (left.primitive and right.primitive):
            raise bad_request(f"Arithmetic needs primitive values, not {left} and {right}.",
                              "$filter")
        if left.name in NUMERIC and right.name in NUMERIC:
            return ValueType(edm.DECIMAL)
        raise bad_request(f"Cannot {type(node.op).__name__.lower()} {left} and {right}.",
                          "$filter")

    def visit_Compare(self, node: ast.Compare) -> ValueType:
        left = self.visit(node.left)
        rights = (
            [self.visit(item) for item in node.right.val]
            if isinstance(node.right, ast.List) else [self.visit(node.right)]
        )
        equality = isinstance(node.comparator, ast.Eq | ast.NotEq | ast.In)
        for right in rights:
            if not _comparable(left, right, equality):
                raise bad_request(f"Cannot compare {left} with {right}.", "$filter")
        return ValueType(edm.BOOLEAN)

    def visit_Call(self, node: ast.Call) -> ValueType:
        name = node.func.name.lower()
        if name == COUNT:
            if self.visit(node.args[0]).collection:
                return ValueType(edm.INT64)
            raise bad_request("/$count needs a collection-valued property.", "$filter")
        if name == CAST:
            return self._cast(node)
        if name in _UNSUPPORTED_FUNCTIONS:
            raise not_implemented(f"The function {node.func.name} is not supported.", "$filter")
        signature = _SIGNATURES.get(name)
        if signature is None:
            raise bad_request(f"Unknown function '{node.func.name}'.", "$filter")
        arity = len(signature.params)
        if not arity - signature.optional <= len(node.args) <= arity:
            raise bad_request(f"Wrong number of arguments for {node.func.name}.", "$filter")
        for arg, allowed in zip(node.args, signature.params, strict=False):
            found = self.visit(arg)
            if found.name != NULL and not (found.primitive and found.name in allowed):
                raise bad_request(f"{node.func.name} does not accept {found}.", "$filter")
        return ValueType(signature.result)

    def _cast(self, node: ast.Call) -> ValueType:
        if len(node.args) != 2:
            raise not_implemented("cast needs a value and a type (cast($it, T) is not "
                                  "supported).", "$filter")
        target = type_name(node.args[1])
        if target not in CAST_TYPES:
            raise not_implemented(f"cast to {target} is not supported.", "$filter")
        found = self.visit(node.args[0])
        if not (found.primitive or found.name == NULL):
            raise bad_request(f"cast needs a primitive value, not {found}.", "$filter")
        return ValueType(CAST_TYPES[target])

    def visit_CollectionLambda(self, node: ast.CollectionLambda) -> ValueType:
        owner = resolve(node.owner, self._scope)
        if owner is None or not owner.type.collection:
            raise bad_request("any and all need a collection-valued property.", "$filter")
        if node.lambda_ is not None:
            inner = self._scope.bind(node.lambda_.identifier.name, owner)
            _boolean(_TypeOf(inner).visit(node.lambda_.expression))
        return ValueType(edm.BOOLEAN)


def _boolean(found: ValueType) -> None:
    if found.name not in (edm.BOOLEAN, NULL) or found.collection:
        raise bad_request(f"A Boolean expression is required, not {found}.", "$filter")


def _numeric(found: ValueType) -> ValueType:
    if found.name == NULL or (found.primitive and found.name in NUMERIC):
        return ValueType(edm.DECIMAL)
    if found.primitive and found.name in (edm.DATE, edm.DATETIME_OFFSET, "Edm.Duration"):
        raise not_implemented("Date and duration arithmetic is not supported.", "$filter")
    raise bad_request(f"Arithmetic needs numbers, not {found}.", "$filter")


def _check_literal(node: Literal) -> None:
    try:
        literal_value(node)
    except ValueError:
        raise bad_request(f"Invalid literal '{getattr(node, 'val', '')}'.", "$filter") from None


def _comparable(left: ValueType, right: ValueType, equality: bool) -> bool:
    if NULL in (left.name, right.name):
        other = right if left.name == NULL else left
        return not other.collection and (equality or other.primitive or other.name == NULL)
    if not (left.primitive and right.primitive):
        return False
    return left.name == right.name or (left.name in NUMERIC and right.name in NUMERIC)
