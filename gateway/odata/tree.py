"""The ``$filter`` expression tree and the parser that builds it: odata-query, adapted.

This is the one module that reaches into odata-query's private names. The library keeps the base
classes of its tree private (``_Node``, ``_Literal``, ``_Comparator``) although every walker of
the tree needs them, for type hints and to tell a literal from an expression, and its parser
takes its function table from a private method. Here they get public names, so a release that
renames them breaks this file and nothing else. The walkers themselves are odata-query's
``NodeVisitor``s (one per target: type check, Kintone plan, evaluation, folding), each a
``visit_<NodeClass>`` method per node kind it handles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeAlias

from odata_query import ast
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.visitor import NodeVisitor

from ..model import identifiers

Node: TypeAlias = ast._Node
Literal: TypeAlias = ast._Literal
Comparator: TypeAlias = ast._Comparator

# ``Path/$count`` is parsed as a call of this name, which no client can spell as a function.
COUNT = "$count"
CAST = "cast"


class Lexer(ODataLexer):
    """odata-query's lexer, reading a TimeOfDay's seconds as optional (``09:30``), as the OData
    ABNF does (``timeOfDayValue``): its own pattern makes them required by a typo. Identifiers
    follow the ABNF too (Unicode letters first, ``優先度``): its own pattern is ASCII-first. A
    ``/$count`` after a name sticks to it (``Items/$count``), for ``syntax`` to turn into a
    call: the library's grammar has no ``$count``."""

    tokens = ODataLexer.tokens

    # sly's class body defines ``_`` (the token decorator), which linters cannot see. Not the
    # bare name QUALIFIED: sly's class body reads upper-case names as token names.
    @_(identifiers.QUALIFIED + r"(?:/\$count)?")  # type: ignore[name-defined]  # noqa: F821
    def ODATA_IDENTIFIER(self, t):
        return ODataLexer.ODATA_IDENTIFIER(self, t)

    @_(r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,12})?)?")  # type: ignore[name-defined]  # noqa: F821
    def TIME(self, t):
        return ODataLexer.TIME(self, t)


def parser() -> ODataParser:
    """odata-query's parser, also taking ``cast(value, Type)``, which its function table lacks."""
    parser = ODataParser()
    known = parser._function_call

    def function_call(func: ast.Identifier, args: list[Node]) -> Node:
        if not func.namespace and func.name.lower() == CAST and len(args) == 2:
            return ast.Call(func, args)
        return known(func, args)

    # An instance attribute: the grammar calls it so.
    parser._function_call = function_call  # type: ignore[method-assign]
    return parser


class Visitor(NodeVisitor):
    """odata-query's ``NodeVisitor``, finding a node class's ``visit_<NodeClass>`` method once
    rather than on every node: the evaluator runs on every entity a page returns."""

    _methods: ClassVar[dict[type, Callable[[Any, Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._methods = {}

    def visit(self, node: Node) -> Any:
        kind = type(node)
        method = self._methods.get(kind)
        if method is None:
            method = self._methods[kind] = getattr(
                type(self), f"visit_{kind.__name__}", type(self).generic_visit)
        return method(self, node)


def children(node: Node) -> list[Node]:
    """The nodes directly under ``node``, in field order."""
    out: list[Node] = []
    for value in vars(node).values():
        if isinstance(value, Node):
            out.append(value)
        elif isinstance(value, list):
            out.extend(v for v in value if isinstance(v, Node))
    return out
