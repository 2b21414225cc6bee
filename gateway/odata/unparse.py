"""A ``$filter`` tree back to its text, e.g. the residual a support case reads in the debug
headers (``web/timing.py``)."""

from __future__ import annotations

from odata_query import ast
from odata_query.roundtrip import AstToODataVisitor


class _Text(AstToODataVisitor):
    def visit_String(self, node: ast.String) -> str:
        # The library writes the value as is: a quote inside would end the literal.
        return "'" + node.val.replace("'", "''") + "'"


def filter_text(tree: ast._Node) -> str:
    return _Text().visit(tree)
