"""The API described for tools: Swagger 2.0 at ``/api.rsc/$oas`` (Power Automate's HTTP +
Swagger action and custom connectors), OpenAPI 3.1 at ``$oas?version=3``, and a Swagger UI page.

Built from the same model as ``$metadata``; imports neither the web layer nor the sandbox.
"""

from .oas3 import to_openapi3
from .origin import Origin
from .own_api import own_spec
from .routes import register
from .swagger2 import build_swagger2

__all__ = ["Origin", "build_swagger2", "own_spec", "register", "to_openapi3"]
