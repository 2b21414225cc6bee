"""OData ``$filter`` → a Kintone query condition plus the residual the gateway checks itself.

Contract: the condition selects a SUPERSET of the records the filter selects (it never drops a
row), and ``residual`` (run with ``evaluate.matches`` on every entity Kintone returns) makes the
answer exact; ``residual is None`` means the condition alone is exact. A construct Kintone cannot
express is simply not pushed. ``not`` is pushed down to the comparisons (Kintone has none), so
each comparison is planned either for "is true" or for "is false".

Decisions where Kintone's behaviour is documented only as inferred (reference 13.7, 21):

* ``!=`` and ``not in`` are the complement of ``=`` and ``in``: they match empty values, as the
  reference and the sandbox say; OData's ``ne`` does too, so ``ne`` is exact on numbers, dates,
  choices and users. ``not (Price gt 5)`` also holds for a null price, which no Kintone operator
  can add for NUMBER/DATE/TIME/DATETIME (``= ""`` there is undocumented): not pushed.
* Text ``=``/``in`` might ignore case: pushed with a residual; ``ne``, ordering and the string
  functions are residual only. ``f = ""`` (empty text) has no case and is exact.
* ``is empty`` counts whitespace-only text as empty: on MULTI_LINE_TEXT/RICH_TEXT ``eq null``
  pushes it with a residual and ``ne null`` is not pushed (it would drop "  ").
* A choice value that is not an option cannot match (Kintone would answer GAIA_IQ10): the
  comparison becomes constant false (``MATCHES_NOTHING``), or true under ``not``.
* DATETIME values have minute precision: a literal with seconds pushes the enclosing minute as a
  looser bound and keeps the residual.
* Subtables (13.8): ``Items/any(i: ...)`` pushes the row predicates when they only use positive
  operators (a negative one means "every row"); ``and`` inside is same-row in Kintone, which is
  the lambda's meaning; two lambdas over one subtable joined by ``and`` would be forced into one
  row, so only the first is pushed. On a subtable entity set every row predicate is a record-level
  superset and keeps the residual.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from odata_query import ast

from gateway.kintone.query import field as field_code
from gateway.kintone.query import quote
from gateway.model import edm
from gateway.model.schema import EntitySet, Property, UnknownName

from .errors import bad_request, not_implemented
from .evaluate import FUNCTIONS, SPECIAL_NUMBERS, literal_value

# The condition of a filter that no record can satisfy (record ids start at 1).
MATCHES_NOTHING = "$id < 0"


@dataclass(frozen=True)
class FilterPlan:
    condition: str  # Kintone query condition ("" = no condition); every and/or parenthesised
    residual: ast._Node | None  # what the gateway must still check; None = condition is exact


def plan_filter(tree: ast._Node, entity_set: EntitySet) -> FilterPlan:
    """Check ``tree`` against the entity set (400/501) and split it for Kintone."""
    scope = _Scope(entity_set)
    _require_boolean(tree, scope)
    if entity_set.kind not in ("records", "subtable"):
        return FilterPlan("", tree)
    total, residuals = TRUE, []
    for node in _conjuncts(tree):
        cond = _plan(node, True, scope)
        if cond.tables & total.tables:
            cond = NOTHING  # Kintone would make both lambdas hold in the same row
        total = _and(total, cond)
        if not cond.exact:
            residuals.append(node)
    if total.kind == "none":
        return FilterPlan(MATCHES_NOTHING, None)
    residual = None
    for node in residuals:
        residual = node if residual is None else ast.BoolOp(ast.And(), residual, node)
    return FilterPlan(total.render(), residual)


def _conjuncts(node: ast._Node) -> Iterator[ast._Node]:
    """The top-level ``and`` terms (after De Morgan), so exact ones leave the residual."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    elif _is_not(node) and isinstance(node.operand, ast.BoolOp) and isinstance(
        node.operand.op, ast.Or
    ):
        yield from _conjuncts(ast.UnaryOp(ast.Not(), node.operand.left))
        yield from _conjuncts(ast.UnaryOp(ast.Not(), node.operand.right))
    elif _is_not(node) and _is_not(node.operand):
        yield from _conjuncts(node.operand.operand)
    else:
        yield node


def _is_not(node: ast._Node) -> bool:
    return isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)


# -- pushed conditions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cond:
    """A Kintone condition: ``all`` (no condition), ``none`` (constant false), an atom or a
    flat ``and``/``or`` of parts. ``exact``: it selects exactly what the OData part selects.
    ``tables``: subtables whose rows it constrains through an ``any`` lambda."""

    kind: Literal["all", "none", "atom", "and", "or"]
    text: str = ""
    parts: tuple[_Cond, ...] = ()
    exact: bool = True
    tables: frozenset[str] = frozenset()

    def render(self) -> str:
        if self.kind == "atom":
            return self.text
        if self.kind in ("and", "or"):
            return f" {self.kind} ".join(f"({part.render()})" for part in self.parts)
        return MATCHES_NOTHING if self.kind == "none" else ""


TRUE = _Cond("all")
NOTHING = _Cond("all", exact=False)  # nothing pushed: the residual decides
FALSE = _Cond("none")


def _loose(cond: _Cond) -> _Cond:
    """``cond`` as a mere superset (constants stay exact: they do not depend on the record)."""
    return cond if cond.kind in ("all", "none") else replace(cond, exact=False)


def _and(a: _Cond, b: _Cond) -> _Cond:
    if "none" in (a.kind, b.kind):
        return FALSE
    if a.kind == "all" or b.kind == "all":
        kept = b if a.kind == "all" else a
        return replace(kept, exact=a.exact and b.exact)
    if a.tables & b.tables:
        return replace(a, exact=False)
    return _Cond("and", parts=_flat("and", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def _or(a: _Cond, b: _Cond) -> _Cond:
    if a.kind == "none" or b.kind == "none":
        return b if a.kind == "none" else a
    if a.kind == "all" or b.kind == "all":
        always = (a.kind == "all" and a.exact) or (b.kind == "all" and b.exact)
        return TRUE if always or (a.exact and b.exact) else NOTHING
    return _Cond("or", parts=_flat("or", a, b), exact=a.exact and b.exact,
                 tables=a.tables | b.tables)


def _flat(kind: str, a: _Cond, b: _Cond) -> tuple[_Cond, ...]:
    return (a.parts if a.kind == kind else (a,)) + (b.parts if b.kind == kind else (b,))


def _any_of(conds: Sequence[_Cond]) -> _Cond:
    result = FALSE
    for cond in conds:
        result = _or(result, cond)
    return result


def _all_of(conds: Sequence[_Cond]) -> _Cond:
    result = TRUE
    for cond in conds:
        result = _and(result, cond)
    return result


# -- names and types ------------------------------------------------------------------------------

_NUMERIC = frozenset({edm.INT64, edm.DECIMAL, "Edm.Int32", "Edm.Double"})
_NULL = "null"
# Members of the shared complex types (the model keeps them in its static ComplexTypes).
_MEMBERS: Mapping[str, Mapping[str, str]] = {
    edm.ENTITY: {"Code": edm.STRING, "Name": edm.STRING},
    edm.FILE: {"ContentType": edm.STRING, "FileKey": edm.STRING, "Name": edm.STRING,
               "Size": edm.INT64},
    edm.MENTION: {"Code": edm.STRING, "Type": edm.STRING},
}


@dataclass(frozen=True)
class _Type:
    name: str  # EDM type name, or "null" for the null literal
    collection: bool = False

    @property
    def primitive(self) -> bool:
        return self.name.startswith("Edm.") and not self.collection

    def __str__(self) -> str:
        return f"Collection({self.name})" if self.collection else self.name


@dataclass(frozen=True)
class _Path:
    """What a property path denotes. ``prop`` is the Kintone field (the collection for a lambda
    variable, the complex property for ``member``); ``table`` the subtable holding the field;
    ``row_exact`` whether a pushed row predicate decides the entity (lambdas, not row sets)."""

    prop: Property
    type: _Type
    member: str | None = None
    element: bool = False
    table: str | None = None
    row_exact: bool = True


@dataclass(frozen=True)
class _Scope:
    entity_set: EntitySet
    variables: Mapping[str, _Path] = field(default_factory=dict)
    row_table: str | None = None  # inside ``Subtable/any(...)``: the subtable

    def bind(self, name: str, collection: _Path) -> _Scope:
        table = collection.prop.kintone_code if collection.prop.row_type else self.row_table
        return _Scope(self.entity_set, {**self.variables, name: collection}, table)


def _resolve(node: ast._Node, scope: _Scope) -> _Path | None:
    """The path ``node`` denotes, ``None`` if it is not a path; 400 for unknown names."""
    if isinstance(node, ast.Identifier):
        if node.name in scope.variables:
            collection = scope.variables[node.name]
            return replace(collection, type=_Type(collection.type.name), element=True)
        return _property(node.name, scope.entity_set)
    if isinstance(node, ast.Attribute):
        owner = _resolve(node.owner, scope)
        return None if owner is None else _member(owner, node.attr)
    return None


def _property(name: str, entity_set: EntitySet) -> _Path | None:
    try:
        prop = entity_set.property(name)
    except UnknownName:
        if name in SPECIAL_NUMBERS:
            return None
        raise bad_request(f"The type {entity_set.entity_type.name} has no property '{name}'.",
                          name) from None
    on_row = entity_set.kind == "subtable" and prop.kintone_type not in (edm.ID, edm.ROW_ID)
    return _Path(prop, _Type(prop.edm_type, prop.collection),
                 table=entity_set.subtable_code if on_row else None, row_exact=not on_row)


def _member(owner: _Path, name: str) -> _Path:
    if owner.type.collection or owner.type.primitive:
        raise bad_request(f"'{name}' cannot follow a value of type {owner.type}.", name)
    row_type = owner.prop.row_type
    if row_type is not None and owner.element:
        if not row_type.has_property(name):
            raise bad_request(f"The type {row_type.name} has no property '{name}'.", name)
        inner = row_type.property(name)
        return _Path(inner, _Type(inner.edm_type, inner.collection), table=owner.prop.kintone_code)
    members = _MEMBERS.get(owner.type.name, {})
    if name not in members:
        raise bad_request(f"The type {owner.type.name} has no property '{name}'.", name)
    return replace(owner, type=_Type(members[name]), member=name)


# -- type checking --------------------------------------------------------------------------------

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
}
assert _SIGNATURES.keys() == FUNCTIONS.keys()
# Functions OData defines that the gateway does not evaluate (501, not 400).
_UNSUPPORTED_FUNCTIONS = frozenset({
    "matchespattern", "fractionalseconds", "totalseconds", "totaloffsetminutes", "now",
    "maxdatetime", "mindatetime", "cast", "isof", "case", "hassubset", "hassubsequence",
})


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
        _numeric(node.left, scope)
        return _numeric(node.right, scope)
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


def _lambda_type(node: ast.CollectionLambda, scope: _Scope) -> _Type:
    owner = _resolve(node.owner, scope)
    if owner is None or not owner.type.collection:
        raise bad_request("any and all need a collection-valued property.", "$filter")
    if node.lambda_ is not None:
        _require_boolean(node.lambda_.expression, scope.bind(node.lambda_.identifier.name, owner))
    return _Type(edm.BOOLEAN)


# -- planning -------------------------------------------------------------------------------------

_COMPARATORS: Mapping[type, str] = {
    ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
    ast.In: "in",
}
_FLIPPED = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
# The operator that is true exactly when the comparison is false, and whether that also holds
# for null (ordered comparisons with null are false, so their negation is true).
_NEGATED = {
    "eq": ("ne", False), "ne": ("eq", False), "in": ("nin", False), "nin": ("in", False),
    "gt": ("le", True), "ge": ("lt", True), "lt": ("ge", True), "le": ("gt", True),
}
_ORDERED = frozenset({"gt", "ge", "lt", "le"})
_KINTONE_OPS = {"eq": "=", "ne": "!=", "gt": ">", "ge": ">=", "lt": "<", "le": "<=",
                "in": "in", "nin": "not in"}
# Kintone operators that, on a subtable field, mean "the table has rows and every row passes".
_NEGATIVE_OPS = frozenset({"!=", "not in", "not like", "is not empty"})


def _plan(node: ast._Node, positive: bool, scope: _Scope) -> _Cond:
    """The condition for "``node`` is true" (``positive``) or "``node`` is false"."""
    if isinstance(node, ast.BoolOp):
        left = _plan(node.left, positive, scope)
        right = _plan(node.right, positive, scope)
        return _and(left, right) if isinstance(node.op, ast.And) == positive else _or(left, right)
    if _is_not(node):
        return _plan(node.operand, not positive, scope)
    try:
        if isinstance(node, ast.Compare):
            return _plan_compare(node, positive, scope)
        if isinstance(node, ast.CollectionLambda):
            return _plan_lambda(node, positive, scope)
    except ValueError:
        return NOTHING  # a value no Kintone literal can carry (control characters)
    if isinstance(node, ast.Boolean):
        return TRUE if node.py_val == positive else FALSE
    if isinstance(node, ast.Null):
        return FALSE  # null is neither true nor false
    return NOTHING


def _plan_compare(node: ast.Compare, positive: bool, scope: _Scope) -> _Cond:
    op, subject, value = _COMPARATORS[type(node.comparator)], node.left, node.right
    if isinstance(subject, ast._Literal) and op in _FLIPPED:
        op, subject, value = _FLIPPED[op], value, subject
    if not isinstance(value, ast._Literal) or isinstance(value, ast.List) != (op == "in"):
        return NOTHING  # property against property or expression: residual only
    or_null = False
    if not positive:
        op, or_null = _NEGATED[op]
    if isinstance(subject, ast.Call):
        return _plan_call(subject, op, literal_value(value), or_null, scope)
    path = _resolve(subject, scope)
    if path is None or not _in_scope(path, scope):
        return NOTHING
    return _predicate(path, op, literal_value(value), or_null)


def _in_scope(path: _Path, scope: _Scope) -> bool:
    # Inside Subtable/any(...), "row matches" only equals "record matches" for predicates on
    # the row: `Items/any(i: i/Qty gt 5 or Price gt 3)` is false for a record without rows.
    return scope.row_table is None or path.table == scope.row_table


# -- predicates on one field ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    code: str
    vtype: str  # the Kintone type whose values and operators apply (a CALC's by its format)
    inner: bool  # inside a subtable: no = or !=, and negative operators mean "every row"
    nullable: bool
    options: frozenset[str] | None = None

    def atom(self, op: str, *literals: str) -> _Cond:
        if self.inner and op == "=":
            op = "in"
        if self.inner and op in _NEGATIVE_OPS:
            return NOTHING
        code = field_code(self.code)
        if op in ("in", "not in"):
            return _Cond("atom", f"{code} {op} ({', '.join(literals)})")
        return _Cond("atom", " ".join((code, op, *literals)))


Handler = Callable[[_Field, str, Any], _Cond]  # (field, op, non-null value or values)
EmptyTest = Callable[[_Field, bool], _Cond]  # (field, negated): "is null" / "is not null"


def _predicate(path: _Path, op: str, value: Any, or_null: bool) -> _Cond:
    found = _handler(path)
    if found is None:
        return NOTHING
    if value is None and op in _ORDERED:
        return TRUE if or_null else FALSE  # comparing with null is false, so its negation true
    handler, empty = found
    target = _field(path)
    cond = _with_nulls(handler, empty, target, op, value)
    if or_null and target.nullable:
        cond = _or(cond, empty(target, False))
    return cond if path.row_exact else _loose(cond)


def _with_nulls(handler: Handler, empty: EmptyTest, target: _Field, op: str, value: Any) -> _Cond:
    if value is None:
        return empty(target, op == "ne")
    if op not in ("in", "nin"):
        return handler(target, op, value)
    listed = list(dict.fromkeys(v for v in value if v is not None))
    if op == "in":
        found = handler(target, op, listed) if listed else FALSE
        return _or(found, empty(target, False)) if None in value else found
    kept = handler(target, op, listed) if listed else TRUE
    return _and(kept, empty(target, True)) if None in value else kept


def _field(path: _Path) -> _Field:
    prop = path.prop
    options = prop.props.get("options")
    return _Field(
        code=prop.kintone_code or "",
        vtype=edm.value_type(prop.kintone_type or "", prop.props),
        inner=path.table is not None,
        nullable=prop.nullable or path.member is not None,
        options=frozenset(options) if isinstance(options, Mapping) else None,
    )


def _handler(path: _Path) -> tuple[Handler, EmptyTest] | None:
    prop = path.prop
    if path.element or prop.kintone_code is None:
        return None  # collection elements are planned by their lambda
    if path.member is not None:
        return (_codes, _unknown_empty) if _is_creator(prop) and path.member == "Code" else None
    vtype = edm.value_type(prop.kintone_type or "", prop.props)
    if vtype in ("SINGLE_LINE_TEXT", "LINK") and prop.kintone_type == vtype:
        return _text, _text_empty
    return _HANDLERS.get(vtype)


def _is_creator(prop: Property) -> bool:
    return prop.kintone_type in ("CREATOR", "MODIFIER")


def _id(target: _Field, op: str, value: Any) -> _Cond:
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


def _number(target: _Field, op: str, value: Any) -> _Cond:
    values = value if op in ("in", "nin") else [value]
    literals = [_number_literal(v) for v in values]
    if None in literals:
        return NOTHING
    return target.atom(_KINTONE_OPS[op], *literals)


def _number_literal(value: Any) -> str | None:
    """A quoted number; ``None`` when Kintone's double arithmetic could not hold it exactly."""
    if not _finite(value):
        return None
    number = Decimal(value)
    if len(number.as_tuple().digits) > 15:
        return None
    return quote(format(number, "f"))


def _temporal(target: _Field, op: str, value: Any) -> _Cond:
    if op in ("in", "nin"):
        single = "eq" if op == "in" else "ne"
        parts = [_temporal(target, single, v) for v in value]
        return _any_of(parts) if op == "in" else _all_of(parts)
    text, truncated = _temporal_literal(target.vtype, value)
    if truncated:
        # The literal lies inside a minute; Kintone compares whole minutes (15.1).
        loose_op = {"eq": "=", "gt": ">=", "ge": ">=", "lt": "<=", "le": "<="}.get(op)
        return _loose(_temporal_atom(target, loose_op, text)) if loose_op else NOTHING
    return _temporal_atom(target, _KINTONE_OPS[op], text)


def _temporal_atom(target: _Field, op: str, text: str) -> _Cond:
    if target.inner and op == "=":  # subtable fields refuse = and DATE refuses in
        return _and(target.atom(">=", text), target.atom("<=", text))
    return target.atom(op, text)


def _temporal_literal(vtype: str, value: Any) -> tuple[str, bool]:
    """The Kintone literal (minute precision) and whether seconds were cut off."""
    if vtype == "DATE":
        return quote(value.isoformat()), False
    if vtype == "TIME":
        return quote(value.strftime("%H:%M")), bool(value.second or value.microsecond)
    moment = value.astimezone(UTC)
    cut = bool(moment.second or moment.microsecond)
    return quote(moment.strftime("%Y-%m-%dT%H:%M:00Z")), cut


def _text(target: _Field, op: str, value: Any) -> _Cond:
    """Pushed with a residual: Kintone may compare case-insensitively. Empty text is null in
    OData, so '' equals nothing."""
    if op in ("eq", "in"):
        wanted = [v for v in ([value] if op == "eq" else value) if v]
        if not wanted:
            return FALSE
        return _loose(target.atom("=" if op == "eq" else "in", *map(quote, wanted)))
    if op in ("ne", "nin") and not any([value] if op == "ne" else value):
        return TRUE
    return NOTHING


def _long_text(target: _Field, op: str, value: Any) -> _Cond:
    if op in _ORDERED or any([value] if op in ("eq", "ne") else value):
        return NOTHING
    return FALSE if op in ("eq", "in") else TRUE  # empty text is null in OData


def _choice(target: _Field, op: str, value: Any) -> _Cond:
    if target.options is None:
        return NOTHING  # without the options a value could make Kintone fail (GAIA_IQ10)
    return _codes(target, op, value, target.options)


def _codes(target: _Field, op: str, value: Any, allowed: frozenset[str] | None = None) -> _Cond:
    """``in``/``not in`` over exact codes: option keys, statuses, login names."""
    if op in _ORDERED:
        return NOTHING
    wanted = [value] if op in ("eq", "ne") else value
    known = [v for v in wanted if v and (allowed is None or v in allowed)]
    positive = op in ("eq", "in")
    if not known:
        return FALSE if positive else TRUE
    return target.atom("in" if positive else "not in", *map(quote, known))


def _text_empty(target: _Field, negated: bool) -> _Cond:
    return target.atom("!=" if negated else "=", quote(""))


def _long_text_empty(target: _Field, negated: bool) -> _Cond:
    # `is empty` also matches whitespace-only text, which OData does not call null.
    return NOTHING if negated else _loose(target.atom("is empty"))


def _choice_empty(target: _Field, negated: bool) -> _Cond:
    return target.atom("not in" if negated else "in", quote(""))


def _never_empty(target: _Field, negated: bool) -> _Cond:
    return TRUE if negated else FALSE


def _unknown_empty(target: _Field, negated: bool) -> _Cond:
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
    "STATUS": (_codes, _unknown_empty),
}


# -- functions ------------------------------------------------------------------------------------


def _plan_call(call: ast.Call, op: str, value: Any, or_null: bool, scope: _Scope) -> _Cond:
    """``year(D) op 2024`` as a range of D; other functions stay in the residual."""
    if call.func.name.lower() != "year" or or_null or op not in _ORDERED | {"eq"}:
        return NOTHING
    path = _resolve(call.args[0], scope)
    if path is None or not _in_scope(path, scope) or _handler(path) != _TEMPORAL:
        return NOTHING
    if not isinstance(value, int) or not 1 <= value <= 9998:
        return NOTHING
    start, end = _year_start(path, value), _year_start(path, value + 1)
    target = _field(path)
    bounds = {
        "eq": lambda: _and(target.atom(">=", start), target.atom("<", end)),
        "gt": lambda: target.atom(">=", end),
        "ge": lambda: target.atom(">=", start),
        "lt": lambda: target.atom("<", start),
        "le": lambda: target.atom("<", end),
    }
    cond = bounds[op]()
    return cond if path.row_exact else _loose(cond)


def _year_start(path: _Path, year: int) -> str:
    vtype = _field(path).vtype
    # Entities carry date-times in UTC, so year() counts in UTC.
    start = date(year, 1, 1) if vtype == "DATE" else datetime(year, 1, 1, tzinfo=UTC)
    return _temporal_literal(vtype, start)[0]


# -- lambdas --------------------------------------------------------------------------------------

_OPTION_TYPES = frozenset({"CHECK_BOX", "MULTI_SELECT"})
_VALUE_COLLECTIONS = _OPTION_TYPES | {"CATEGORY"}
_ENTITY_COLLECTIONS = frozenset(
    {"USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "STATUS_ASSIGNEE"}
)


def _plan_lambda(node: ast.CollectionLambda, positive: bool, scope: _Scope) -> _Cond:
    collection = _resolve(node.owner, scope)
    if collection is None or isinstance(node.operator, ast.All):
        return NOTHING
    if not _in_scope(collection, scope):
        return NOTHING
    if collection.prop.row_type is not None:
        return _plan_rows(node, collection, positive, scope)
    target = _field(collection)
    if node.lambda_ is None:
        cond = _non_empty(target, positive)
    else:
        listed = _listed(node.lambda_, target.vtype)
        cond = NOTHING if listed is None else _contains(target, listed, positive)
    return cond if collection.row_exact else _loose(cond)


def _non_empty(target: _Field, positive: bool) -> _Cond:
    """``F/any()``: something selected / some file attached."""
    if target.vtype in _OPTION_TYPES:
        return target.atom("not in" if positive else "in", quote(""))
    if target.vtype == "FILE":
        return target.atom("is not empty" if positive else "is empty")
    return NOTHING


def _contains(target: _Field, listed: list[str], positive: bool) -> _Cond:
    allowed = target.options if target.vtype in _OPTION_TYPES else None
    if target.vtype in _OPTION_TYPES and allowed is None:
        return NOTHING
    return _codes(target, "in" if positive else "nin", listed, allowed)


def _listed(lam: ast.Lambda, vtype: str) -> list[str] | None:
    """The values of ``x eq 'a' or x in ('b', 'c')`` (``u/Code`` for users, organisations and
    groups); ``None`` for any other lambda body."""
    var = lam.identifier.name
    if vtype in _VALUE_COLLECTIONS:
        def is_element(node: ast._Node) -> bool:
            return isinstance(node, ast.Identifier) and node.name == var
    elif vtype in _ENTITY_COLLECTIONS:
        def is_element(node: ast._Node) -> bool:
            return (isinstance(node, ast.Attribute) and node.attr == "Code"
                    and isinstance(node.owner, ast.Identifier) and node.owner.name == var)
    else:
        return None
    return _listed_values(lam.expression, is_element)


def _listed_values(node: ast._Node, is_element: Callable[[ast._Node], bool]) -> list[str] | None:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.Or):
        left = _listed_values(node.left, is_element)
        right = _listed_values(node.right, is_element)
        return None if left is None or right is None else left + right
    if not isinstance(node, ast.Compare) or not isinstance(node.comparator, ast.Eq | ast.In):
        return None
    subject, value = node.left, node.right
    if isinstance(subject, ast._Literal) and isinstance(node.comparator, ast.Eq):
        subject, value = value, subject
    if not (is_element(subject) and isinstance(value, ast._Literal)):
        return None
    values = literal_value(value)
    # Elements are never null, so a listed null matches nothing.
    return [v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str)]


def _plan_rows(
    node: ast.CollectionLambda, rows: _Path, positive: bool, scope: _Scope
) -> _Cond:
    """``Items/any(i: ...)``: Kintone's row predicates already mean "some row"."""
    if not positive or node.lambda_ is None:
        return NOTHING  # "no row" and "has rows" have no Kintone form
    inner = scope.bind(node.lambda_.identifier.name, rows)
    cond = _plan(node.lambda_.expression, True, inner)
    if cond.kind in ("all", "none"):
        return cond if cond.kind == "none" else NOTHING
    # Kintone keeps one row for the predicates of one `and`; whether that reaches into a nested
    # `or` is not documented, so such a shape is only a superset.
    exact = cond.exact and not _and_over_or(cond)
    return replace(cond, exact=exact, tables=cond.tables | {rows.prop.kintone_code or ""})


def _and_over_or(cond: _Cond) -> bool:
    if cond.kind == "and" and any(part.kind == "or" for part in cond.parts):
        return True
    return any(_and_over_or(part) for part in cond.parts)


__all__ = ["MATCHES_NOTHING", "FilterPlan", "plan_filter"]
