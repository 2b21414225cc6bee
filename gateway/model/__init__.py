"""The OData entity model of Kintone apps: names, EDM types, the model and its cache.

Pure: built from Kintone JSON handed in by the caller; imports neither the Kintone client,
the web layer nor the sandbox.
"""

from .builder import Aliases, build_model
from .cache import ModelCache, ModelUnavailable
from .edm import to_odata
from .narrow import narrowed
from .schema import (
    ComplexType,
    EntitySet,
    EntityType,
    FormField,
    Model,
    NavigationProperty,
    Property,
    UnknownName,
)

__all__ = [
    "Aliases",
    "ComplexType",
    "EntitySet",
    "EntityType",
    "FormField",
    "Model",
    "ModelCache",
    "ModelUnavailable",
    "NavigationProperty",
    "Property",
    "UnknownName",
    "build_model",
    "narrowed",
    "to_odata",
]
