"""The Kintone query language: parser (``parse_query``) and compiler to SQL (``compile_query``)."""

from .ast import And, Call, Condition, Num, Or, Predicate, Query, SortKey, Str, Value
from .compiler import CompiledQuery, compile_query
from .parser import parse_query

__all__ = [
    "And",
    "Call",
    "CompiledQuery",
    "Condition",
    "Num",
    "Or",
    "Predicate",
    "Query",
    "SortKey",
    "Str",
    "Value",
    "compile_query",
    "parse_query",
]
