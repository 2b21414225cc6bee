"""What every Flask-facing package shares: the services container kept on the application
(``context``), the caller's view of the model (``described``), OData error responses
(``errors``) and the per-request cost meter (``cost``).

Below the feature packages (web, writes, triggers, ops, console, openapi), above the protocol
(odata) and the services (service): a feature imports this, never another feature's views.
"""
