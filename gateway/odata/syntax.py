"""Syntax of $filter, $orderby, $select and $search beyond what the parser library checks.

``odata-query`` parses the OData 4.0 expression grammar. What it cannot parse is either invalid
(400) or a valid construct this gateway does not implement (501): ``UNSUPPORTED`` lists those
constructs, so the difference is explicit and reviewable.
"""

from __future__ import annotations

import re
from typing import NoReturn

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.visitor import NodeTransformer

from ..model.identifiers import IDENTIFIER, QUALIFIED
from .errors import ODataError, bad_request, not_implemented
from .folding import fold
from .tree import CAST, COUNT, Lexer, Literal, Node, Visitor, children, parser

# Valid OData constructs the gateway answers with 501: (pattern, description).
UNSUPPORTED: tuple[tuple[re.Pattern, str], ...] = tuple(
    (re.compile(pattern), description)
    for pattern, description in (
        (r"(?<!/)\$count", "$count outside a path"),
        (r"/\$count\s*\(", "/$count with options"),
        (r"\$filter\(", "$filter path segments"),
        (r"\$(it|this|root)\b", "$it, $this and $root"),
        (r"@", "parameter aliases and instance annotations"),
        (r"\b(has|divby)\b", "the has and divby operators"),
        (r"\bgeo\.|\bgeo(metry|graphy)'", "geospatial functions and literals"),
        (r"\[\s*\S|\{\s*[\"}]", "JSON array and object literals"),
        (r"\b(cast|isof|case|hassubset|hassubsequence)\s*\(",
         "isof, case, hassubset, hassubsequence and cast($it, T)"),
        (r"[A-Za-z_]\w*\.[A-Za-z_]\w*\s*(\(|')", "namespace-qualified functions and enum literals"),
        (r"\)\s*/", "paths after function calls"),
        (r"\w\(\d+\)", "key predicates in expressions"),
        (r"\bin\s*\(\s*[^'\"\d\s-]", "in with a non-literal right operand"),
        (r"\bin\s*\(\s*\)", "in with an empty list"),
    )
)


# An expression's nesting (each operator, call and parenthesis a level; a chain of N ``or`` is
# N levels) and size (nodes): what the translators walk recursively, kept well inside Python's
# recursion limit and cheap to translate.
MAX_DEPTH = 100
MAX_NODES = 5000
_STRING = re.compile(r"'(?:[^']|'')*'")
_QUOTED = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")
_DIRECTION = re.compile(r"\s+(asc|desc)\s*$", re.I)
# Valid $select items the gateway does not implement: type casts, actions, nested options,
# annotations (``Model.Type/Prop``, ``Address($select=Street)``, ``@Core.Messages``, ``Model.*``).
_SEGMENT = rf"@?{QUALIFIED}\.?(?:\*|\(.*\))?"
_QUALIFIED_SELECT = re.compile(rf"{_SEGMENT}(?:/{_SEGMENT})*")
_SIMPLE_PATH = re.compile(rf"{IDENTIFIER}(?:/{IDENTIFIER})*")


def parse_filter(text: str) -> Node:
    """The filter's tree, with ``now()`` as this moment (see ``folding``)."""
    if not text.strip():
        raise bad_request("The $filter expression is empty.", "$filter")
    if text[0].isspace():
        raise bad_request("The $filter expression must not start with whitespace.", "$filter")
    try:
        tree = parser().parse(Lexer().tokenize(_widen_single_item_lists(_no_blank_calls(text))))
    except (ODataException, TypeError, ValueError, IndexError, AttributeError):
        raise _unparsable(text, "$filter") from None
    _check_size(tree)  # first: what follows walks the tree recursively
    tree = _Counts().visit(tree)
    _ListCheck().visit(tree)
    return fold(tree)


def _no_blank_calls(text: str) -> str:
    """``now( )`` as ``now()``: the ABNF allows the blank, the library's grammar does not."""
    return _BLANK_CALL.sub(lambda m: m[0] if m[0].startswith("'") else "()", text)


_BLANK_CALL = re.compile(r"'(?:[^']|'')*'|\(\s+\)")


class _Counts(NodeTransformer):
    """``Items/$count`` (a name the lexer ended with ``/$count``) as the call ``$count(Items)``."""

    _SUFFIX = "/$count"

    def visit_Identifier(self, node: ast.Identifier) -> Node:
        if not node.name.endswith(self._SUFFIX):
            return node
        return _count(ast.Identifier(node.name[:-len(self._SUFFIX)], node.namespace))

    def visit_Attribute(self, node: ast.Attribute) -> Node:
        owner = self.visit(node.owner)
        if not node.attr.endswith(self._SUFFIX):
            return ast.Attribute(owner, node.attr)
        return _count(ast.Attribute(owner, node.attr[:-len(self._SUFFIX)]))


def _count(path: Node) -> ast.Call:
    return ast.Call(ast.Identifier(COUNT), [path])


def _check_size(tree: Node) -> None:
    nodes = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            raise bad_request(f"The $filter expression is nested more than {MAX_DEPTH} levels "
                              "deep (each operator, function call and chained and/or is a "
                              "level): use in (...) for long lists of values.", "$filter")
        if nodes > MAX_NODES:
            raise bad_request(f"The $filter expression has more than {MAX_NODES} terms.",
                              "$filter")
        stack.extend((child, depth + 1) for child in children(node))


def _widen_single_item_lists(text: str) -> str:
    """``X in (1)`` as ``X in (1,1)``: the parser reads a one-item list as a parenthesised value.

    Repeating the item keeps the meaning and lets the parser see a list.
    """
    try:
        tokens = list(Lexer().tokenize(text))
    except ODataException:
        return text  # the parser will report it
    inserts = [
        (close.index, text[item.index:close.index].strip())
        for keyword, open_, item, close in zip(
            tokens, tokens[1:], tokens[2:], tokens[3:], strict=False
        )
        if keyword.type == "IN" and open_.type == "(" and close.type == ")"
        and isinstance(item.value, Literal)
    ]
    for position, item in reversed(inserts):
        text = f"{text[:position]},{item}{text[position:]}"
    return text


def _unparsable(text: str, option: str) -> ODataError:
    construct = unsupported_construct(text)
    if construct:
        return not_implemented(f"{option}: {construct} are not supported.", option)
    return bad_request(f"Invalid {option} expression: {text}", option)


def unsupported_construct(text: str) -> str | None:
    """The description of an unsupported construct the text uses (string literals ignored)."""
    code = _STRING.sub("''", text)
    return next((desc for pattern, desc in UNSUPPORTED if pattern.search(code)), None)


class _ListCheck(Visitor):
    """Lists may only be the right operand of ``in`` and hold only literals; names are plain.
    Other nodes are walked by ``generic_visit``."""

    def visit_Compare(self, node: ast.Compare) -> None:
        if not (isinstance(node.comparator, ast.In) and isinstance(node.right, ast.List)):
            self.generic_visit(node)
            return
        self.visit(node.left)
        if not all(isinstance(item, Literal) for item in node.right.val):
            raise bad_request("An in list may only contain literals.", "$filter")

    def visit_List(self, node: ast.List) -> None:
        raise bad_request("A list is only allowed as the right operand of in.", "$filter")

    def visit_Call(self, node: ast.Call) -> None:
        if node.func.namespace:
            name = ".".join([*node.func.namespace, node.func.name])
            raise not_implemented(f"The function {name} is not supported.", "$filter")
        if node.func.name.lower() == CAST and len(node.args) == 2:
            self.visit(node.args[0])  # the second argument is a qualified type name
            return
        for arg in node.args:
            self.visit(arg)

    def visit_Identifier(self, node: ast.Identifier) -> None:
        if node.namespace:
            raise bad_request(f"Unknown name '{'.'.join([*node.namespace, node.name])}'.",
                              "$filter")


def check_orderby_item(item: str) -> NoReturn:
    """An $orderby item that is not a property path: a valid expression (501) or garbage (400)."""
    if unsupported_construct(item):
        raise not_implemented(f"$orderby expression '{item}' is not supported.", "$orderby")
    expression = _DIRECTION.sub("", item)
    try:
        parser().parse(Lexer().tokenize(expression))
    except (ODataException, TypeError, ValueError, IndexError, AttributeError):
        raise bad_request(f"Invalid $orderby item '{item}'.", "$orderby") from None
    raise not_implemented(f"$orderby expression '{item}' is not supported.", "$orderby")


def split_top_level(text: str) -> list[str]:
    """Comma-separated items, ignoring commas inside parentheses (``F(a,b),G``)."""
    items, depth, start = [], 0, 0
    for position, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append(text[start:])
    return [item.strip() for item in items]


def check_select_item(item: str) -> None:
    if item == "*" or _SIMPLE_PATH.fullmatch(item):
        return
    if _QUALIFIED_SELECT.fullmatch(item):
        raise not_implemented(f"$select item '{item}' is not supported.", "$select")
    raise bad_request(f"Invalid $select item '{item}'.", "$select")


def balanced(text: str) -> bool:
    """Parentheses balance outside quoted strings."""
    depth = 0
    for char in _QUOTED.sub("w", text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def check_search(text: str) -> None:
    """$search is not implemented; its syntax is still checked so that garbage gets a 400."""
    if not text.strip() or not balanced(text):
        raise bad_request("Invalid $search expression.", "$search")
