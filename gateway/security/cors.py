"""``[CORS]``: which browser pages on other origins may call the gateway.

Off unless ``AllowedOrigins`` is set. A preflight is answered before authentication (browsers
never send credentials with it); a disallowed origin gets no CORS headers at all, so the
browser refuses to hand the response to the page. Because a browser may also hold Basic
credentials for the gateway and send them with a cross-site form post, a request with an
unsafe method from an origin that is neither allowed nor the gateway's own is refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Request, Response

from ..settings import Section
from .flags import flag

ANY = "*"
DEFAULT_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS")
# What Power Automate, Power Apps and OData browser libraries send, plus our authtoken headers.
DEFAULT_HEADERS = ("authorization", "content-type", "x-ms-client-request-id", "x-authtoken",
                   "x-cdata-authtoken", "accept", "prefer", "if-match", "if-none-match",
                   "odata-version", "odata-maxversion")
DEFAULT_EXPOSED = ("etag", "location", "odata-version", "odata-entityid", "preference-applied",
                   "retry-after", "www-authenticate")
DEFAULT_MAX_AGE = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class CorsPolicy:
    origins: frozenset[str] = frozenset()  # normalized origins, or {"*"}
    methods: tuple[str, ...] = DEFAULT_METHODS
    headers: tuple[str, ...] = DEFAULT_HEADERS
    exposed: tuple[str, ...] = DEFAULT_EXPOSED
    credentials: bool = False
    max_age: int = DEFAULT_MAX_AGE

    @classmethod
    def from_settings(cls, cors: Section) -> CorsPolicy:
        origins = frozenset(_origin(o) for o in cors.get_list("AllowedOrigins"))
        credentials = flag(cors, "AllowCredentials")
        if ANY in origins and credentials:
            # Every page (even origin "null") would then act with the browser's credentials.
            raise cors.error("AllowCredentials", "cannot be true with AllowedOrigins = *: "
                             "list the origins of the pages that may send credentials")
        return cls(
            origins=origins,
            methods=tuple(m.upper() for m in cors.get_list("AllowedMethods")) or DEFAULT_METHODS,
            headers=cors.get_list("AllowedHeaders") or DEFAULT_HEADERS,
            exposed=cors.get_list("ExposedHeaders") or DEFAULT_EXPOSED,
            credentials=credentials,
            max_age=cors.get_int("MaxAge", DEFAULT_MAX_AGE, minimum=0, maximum=86_400),
        )

    def allows(self, origin: str) -> bool:
        return ANY in self.origins or _origin(origin) in self.origins

    @staticmethod
    def is_preflight(request: Request) -> bool:
        return (request.method == "OPTIONS" and "Origin" in request.headers
                and "Access-Control-Request-Method" in request.headers)

    def refuses(self, request: Request, own_origins: tuple[str, ...]) -> bool:
        """A cross-origin request with an unsafe method from a page not allowed."""
        origin = request.headers.get("Origin")
        return (origin is not None and request.method not in SAFE_METHODS
                and not self.allows(origin) and _origin(origin) not in own_origins)

    def preflight(self, request: Request) -> Response:
        """The answer to an allowed origin's preflight; ``decorate`` adds the origin's part."""
        return Response(status=204, headers={
            "Access-Control-Allow-Methods": ", ".join(self.methods),
            "Access-Control-Allow-Headers": self._allowed_headers(request),
            "Access-Control-Max-Age": str(self.max_age),
        })

    def decorate(self, response: Response, origin: str | None) -> None:
        """Add the CORS headers for ``origin`` (none when it is not allowed)."""
        if origin is None:
            return
        response.vary.add("Origin")
        if not self.allows(origin):
            return
        wildcard = ANY in self.origins  # never with credentials (refused by from_settings)
        response.headers["Access-Control-Allow-Origin"] = ANY if wildcard else origin
        # A page may read the response, so its Server-Timing too (the Resource Timing API
        # hides it from other origins without this).
        response.headers["Timing-Allow-Origin"] = ANY if wildcard else origin
        if self.credentials:
            response.headers["Access-Control-Allow-Credentials"] = "true"
        if self.exposed:
            response.headers["Access-Control-Expose-Headers"] = ", ".join(self.exposed)

    def _allowed_headers(self, request: Request) -> str:
        if ANY in self.headers:  # "*" does not cover Authorization: name what was asked for
            return request.headers.get("Access-Control-Request-Headers", "")
        return ", ".join(self.headers)


def origin_of(url: str) -> str:
    """``https://Host:443/path`` -> ``https://host:443``, the form browsers send."""
    parts = urlsplit(url)
    return _origin(f"{parts.scheme}://{parts.netloc}")


def _origin(text: str) -> str:
    return text.strip().rstrip("/").lower()
