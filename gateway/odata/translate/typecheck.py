"""Type checking of the filter tree: 400 for ill-typed filters, 501 for unsupported ones."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from odata_query import ast

from gateway.model import edm

from ..errors import bad_request, not_implemented
from ..evaluate import CAST, CAST_TYPES, COUNT, FUNCTIONS, literal_value, type_name
from .paths import _NULL, _NUMERIC, _resolve, _Scope, _Type

_LITERAL_TYPES: Mapping[type, str] = {
    ast.Null: _NULL, ast.Integer: edm.INT64, ast.Float: "Edm.Double", ast.String: edm.STRING,
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
    "substring": _Signature((_STR, _NUMERIC, _NUMERIC), edm.STRING, optional=1),
    **{name: _Signature((_STR,), edm.STRING) for name in ("tolower", "toupper", "trim")},
    "concat": _Signature((_STR, _STR), edm.STRING),
    **{name: _Signature((_DAYS,), "Edm.Int32") for name in ("year", "month", "day")},
    **{name: _Signature((_CLOCK,), "Edm.Int32") for name in ("hour", "minute", "second")},
    "date": _Signature((_INSTANT,), edm.DATE),
    "time": _Signature((_INSTANT,), edm.TIME_OF_DAY),
    **{name: _Signature((_NUMERIC,), edm.DECIMAL) for name in ("round", "floor", "ceiling")},
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


def _require_boolean(node: ast._Node, scope: _Scope) -> None:
    found = _type_of(node, scope)
    if found.name not in (edm.BOOLEAN, _NULL) or found.collection:
        raise bad_request(f"A Boolean expression is required, not {found}.", "$filter")


def _type_of(node: ast._Node, scope: _Scope) -> _Type:
    if isinstance(node, ast._Literal):
        if type(node) not in _LITERAL_TYPES:
            raise not_implemented(f"{type(node).__name__} literals are not supported.", "$filter")
        _check_literal(node)
        return _Type(_LITERAL_TYPES[type(node)])
    if isinstance(node, ast.Identifier | ast.Attribute):
        path = _resolve(node, scope)
        return _Type("Edm.Double") if path is None else path.type
    if isinstance(node, ast.Compare):
        return _compare_type(node, scope)
    if isinstance(node, ast.BoolOp):
        _require_boolean(node.left, scope)
        _require_boolean(node.right, scope)
        return _Type(edm.BOOLEAN)
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _require_boolean(node.operand, scope)
            return _Type(edm.BOOLEAN)
        return _numeric(node.operand, scope)
    if isinstance(node, ast.BinOp):
        return _arithmetic_type(node, scope)
    if isinstance(node, ast.Call):
        return _call_type(node, scope)
    if isinstance(node, ast.CollectionLambda):
        return _lambda_type(node, scope)
    raise bad_request(f"Unexpected {type(node).__name__} in $filter.", "$filter")


def _check_literal(node: ast._Literal) -> None:
    try:
        literal_value(node)
    except ValueError:
        raise bad_request(f"Invalid literal '{getattr(node, 'val', '')}'.", "$filter") from None


def _numeric(node: ast._Node, scope: _Scope) -> _Type:
    found = _type_of(node, scope)
    if found.name == _NULL or (found.primitive and found.name in _NUMERIC):
        return _Type(edm.DECIMAL)
    if found.primitive and found.name in (edm.DATE, edm.DATETIME_OFFSET, "Edm.Duration"):
        raise not_implemented("Date and duration arithmetic is not supported.", "$filter")
    raise bad_request(f"Arithmetic needs numbers, not {found}.", "$filter")


def _arithmetic_type(node: ast.BinOp, scope: _Scope) -> _Type:
    """Numbers with every operator; date-times, dates and durations with add and sub."""
    left, right = _type_of(node.left, scope), _type_of(node.right, scope)
    table = {ast.Add: _TEMPORAL_ADD, ast.Sub: _TEMPORAL_SUB}.get(type(node.op), {})
    names = (left.name, right.name)
    if left.primitive and right.primitive and names in table:
        return _Type(table[names])
    if _NULL in names:  # null propagates (the result is null) but keeps a type to compare
        other = right if left.name == _NULL else left
        if other.name == _NULL or (other.primitive and other.name in _NUMERIC):
            return _Type(edm.DECIMAL)
        if other.primitive and any(other.name in pair for pair in table):
            return other
    if not (left.primitive and right.primitive):
        raise bad_request(f"Arithmetic needs primitive values, not {left} and {right}.",
                          "$filter")
    if left.name in _NUMERIC and right.name in _NUMERIC:
        return _Type(edm.DECIMAL)
    raise bad_request(f"Cannot {type(node.op).__name__.lower()} {left} and {right}.", "$filter")


def _compare_type(node: ast.Compare, scope: _Scope) -> _Type:
    left = _type_of(node.left, scope)
    rights = (
        [_type_of(item, scope) for item in node.right.val]
        if isinstance(node.right, ast.List) else [_type_of(node.right, scope)]
    )
    equality = isinstance(node.comparator, ast.Eq | ast.NotEq | ast.In)
    for right in rights:
        if not _comparable(left, right, equality):
            raise bad_request(f"Cannot compare {left} with {right}.", "$filter")
    return _Type(edm.BOOLEAN)


def _comparable(left: _Type, right: _Type, equality: bool) -> bool:
    if _NULL in (left.name, right.name):
        other = right if left.name == _NULL else left
        return not other.collection and (equality or other.primitive or other.name == _NULL)
    if not (left.primitive and right.primitive):
        return False
    return left.name == right.name or (left.name in _NUMERIC and right.name in _NUMERIC)


def _call_type(node: ast.Call, scope: _Scope) -> _Type:
    name = node.func.name.lower()
    if name == COUNT:
        if _type_of(node.args[0], scope).collection:
            return _Type(edm.INT64)
        raise bad_request("/$count needs a collection-valued property.", "$filter")
    if name == CAST:
        return _cast_type(node, scope)
    if name in _UNSUPPORTED_FUNCTIONS:
        raise not_implemented(f"The function {node.func.name} is not supported.", "$filter")
    signature = _SIGNATURES.get(name)
    if signature is None:
        raise bad_request(f"Unknown function '{node.func.name}'.", "$filter")
    arity = len(signature.params)
    if not arity - signature.optional <= len(node.args) <= arity:
        raise bad_request(f"Wrong number of arguments for {node.func.name}.", "$filter")
    for arg, allowed in zip(node.args, signature.params, strict=False):
        found = _type_of(arg, scope)
        if found.name != _NULL and not (found.primitive and found.name in allowed):
            raise bad_request(f"{node.func.name} does not accept {found}.", "$filter")
    return _Type(signature.result)


def _cast_type(node: ast.Call, scope: _Scope) -> _Type:
    if len(node.args) != 2:
        raise not_implemented("cast needs a value and a type (cast($it, T) is not supported).",
                              "$filter")
    target = type_name(node.args[1])
    if target not in CAST_TYPES:
        raise not_implemented(f"cast to {target} is not supported.", "$filter")
    found = _type_of(node.args[0], scope)
    if not (found.primitive or found.name == _NULL):
        raise bad_request(f"cast needs a primitive value, not {found}.", "$filter")
    return _Type(CAST_TYPES[target])


def _lambda_type(node: ast.CollectionLambda, scope: _Scope) -> _Type:
    owner = _resolve(node.owner, scope)
    if owner is None or not owner.type.collection:
        raise bad_request("any and all need a collection-valued property.", "$filter")
    if node.lambda_ is not None:
        _require_boolean(node.lambda_.expression, scope.bind(node.lambda_.identifier.name, owner))
    return _Type(edm.BOOLEAN)
