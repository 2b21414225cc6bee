"""kintone-gateway: an OData v4 + Swagger API gateway for Kintone."""

__version__ = "0.1.0"
