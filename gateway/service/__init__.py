"""The read service: the model of the exposed apps, and reads planned and run against Kintone.

Knows OData's query options and Kintone's client; knows nothing of HTTP or Flask.
"""

from .pages import CallBudget, Page, Window
from .reads import CollectionQuery, Reader, TokenPage
from .schema import list_apps, load_model, model_cache
from .skiptoken import SkipTokens

__all__ = [
    "CallBudget",
    "CollectionQuery",
    "Page",
    "Reader",
    "SkipTokens",
    "TokenPage",
    "Window",
    "list_apps",
    "load_model",
    "model_cache",
]
