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

from dataclasses import dataclass

from odata_query import ast

from gateway.model.schema import EntitySet

from ..tree import Node
from .conditions import MATCHES_NOTHING, NOTHING, TRUE, and_
from .paths import Scope
from .planning import conjuncts, plan
from .typecheck import require_boolean


@dataclass(frozen=True)
class FilterPlan:
    condition: str  # Kintone query condition ("" = no condition); every and/or parenthesised
    residual: Node | None  # what the gateway must still check; None = condition is exact


def plan_filter(tree: Node, entity_set: EntitySet) -> FilterPlan:
    """Check ``tree`` against the entity set (400/501) and split it for Kintone."""
    scope = Scope(entity_set)
    require_boolean(tree, scope)
    if entity_set.kind not in ("records", "subtable"):
        return FilterPlan("", tree)
    total, residuals = TRUE, []
    for node in conjuncts(tree):
        cond = plan(node, scope)
        if cond.tables & total.tables:
            cond = NOTHING  # Kintone would make both lambdas hold in the same row
        total = and_(total, cond)
        if not cond.exact:
            residuals.append(node)
    if total.kind == "none":
        return FilterPlan(MATCHES_NOTHING, None)
    residual: Node | None = None
    for node in residuals:
        residual = node if residual is None else ast.BoolOp(ast.And(), residual, node)
    return FilterPlan(total.render(), residual)


__all__ = ["MATCHES_NOTHING", "FilterPlan", "plan_filter"]
