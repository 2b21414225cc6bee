"""A Swagger UI page for people at ``/api.rsc/$docs/``, its assets served from the installed
``flask-swagger-ui`` package (Swagger UI 5, which renders OpenAPI 3.1): users run the gateway
behind firewalls, so no CDN, and no third-party file in this repository.

The page and its initializer are ours. The page loads ``../$oas?version=3`` (and offers the
Swagger 2.0 and dynamic documents) relative to itself, with the
page's credentials (the browser's Basic login: ``$oas`` answers 401 with ``WWW-Authenticate``,
so the browser retries with them), and never asks an outside validator about the document, so
no URL the page requests leaves the gateway. ``/api.rsc/@TOKEN/$docs/`` (and anything under it)
answers 303 to ``/api.rsc/$docs/``, setting nothing: served there, the page would fetch ``$oas``
and run "Try it out" under ``@TOKEN`` paths, putting the token in every URL it requests.
"""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, redirect, request, send_from_directory, url_for
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from .origin import SERVICE_PATH

ASSETS = Path(flask_swagger_ui.__file__).resolve().parent / "dist"
INITIALIZER = "swagger-initializer.js"
_INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Kintone Gateway API</title>
  <link rel="stylesheet" href="swagger-ui.css">
  <link rel="stylesheet" href="index.css">
  <link rel="icon" type="image/png" href="favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="swagger-ui-bundle.js"></script>
  <script src="swagger-ui-standalone-preset.js"></script>
  <script src="swagger-initializer.js"></script>
</body>
</html>
"""
_INITIALIZER_JS = """window.onload = function () {
  window.ui = SwaggerUIBundle({
    // OpenAPI 3.1 first: no size limit applies to it (Power Automate's 1 MB is for 2.0).
    urls: [
      { name: "OpenAPI 3.1", url: new URL("../$oas?version=3", document.baseURI).href },
      { name: "Swagger 2.0 (Power Automate)", url: new URL("../$oas", document.baseURI).href },
      { name: "Dynamic connector (Swagger 2.0)",
        url: new URL("../$oas?dynamic=true", document.baseURI).href },
    ],
    "urls.primaryName": "OpenAPI 3.1",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    withCredentials: true,
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


_LOG_IN = ("The API documentation is at {page}; log in there with your user name and your "
           "authtoken as the password. Keep the authtoken out of URLs.\n")


@blueprint.route("/$docs")
def page_without_slash() -> BaseResponse:
    # Relative asset URLs need the trailing slash.
    return redirect(request.path + "/", code=308)


@blueprint.route("/@<token>/$docs")
@blueprint.route("/@<token>/$docs/")
@blueprint.route("/@<token>/$docs/<path:asset>")
def page_with_token(token: str, asset: str = "") -> BaseResponse:
    page = url_for(".asset")
    response = redirect(page, code=303)
    response.set_data(_LOG_IN.format(page=page))
    response.mimetype = "text/plain"
    return response


@blueprint.route("/$docs/", defaults={"asset": "index.html"})
@blueprint.route("/$docs/<path:asset>")
def asset(asset: str) -> Response:
    if asset == "index.html":
        return Response(_INDEX_HTML, mimetype="text/html")
    if asset == INITIALIZER:
        return Response(_INITIALIZER_JS, mimetype="text/javascript")
    return send_from_directory(str(ASSETS), asset, max_age=3600)
