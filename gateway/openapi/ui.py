"""A Swagger UI page for people at ``/api.rsc/$docs/``, its assets served from the installed
``swagger-ui-bundle`` package: users run the gateway behind firewalls, so no CDN.

The page is the bundle's own ``index.html``; only its initializer is ours. It loads ``../$oas``
relative to the page, so ``/api.rsc/@token/$docs/`` shows the document of that token without
the page ever containing the token.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from .origin import SERVICE_PATH

INITIALIZER = "swagger-initializer.js"
_INITIALIZER_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    url: new URL("../$oas", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
"""

# The gateway's default policy forbids everything; the page needs its own scripts, styles
# (Swagger UI also sets style attributes), icons inlined as data: URLs, and to fetch $oas.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; "
                           "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                           "connect-src 'self'; frame-ancestors 'none'")

blueprint = Blueprint("openapi_docs", __name__, url_prefix=SERVICE_PATH)


@blueprint.after_request
def _policy(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


@blueprint.route("/$docs")
@blueprint.route("/@<token>/$docs")
def page_without_slash(token: str | None = None) -> Response:
    # Relative asset URLs need the trailing slash.
    return redirect(request.path + "/", code=308)


@blueprint.route("/$docs/", defaults={"asset": "index.html"})
@blueprint.route("/$docs/<path:asset>")
@blueprint.route("/@<token>/$docs/", defaults={"asset": "index.html"})
@blueprint.route("/@<token>/$docs/<path:asset>")
def asset(asset: str, token: str | None = None) -> Response:
    if asset == INITIALIZER:
        return Response(_INITIALIZER_JS, mimetype="text/javascript")
    return send_from_directory(str(swagger_ui_path), asset, max_age=3600)
