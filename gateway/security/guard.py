"""The checks every request passes, in order: client address, per-address rate, body size,
CORS (a preflight is answered here, before authentication), authtoken, the user's methods,
per-user rate and concurrency."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Request, Response, g, request

from ..events import RefusalReason, RequestRefused, Stream
from ..settings import Settings
from .audit import current_entry
from .authn import Authenticator, presented
from .cors import CorsPolicy, origin_of
from .documents import DocumentAccess, public_preflight
from .errors import Refusal, too_many_requests
from .flags import flag
from .hardening import add_headers, check_body, max_body
from .ipallow import IpPolicy
from .ratelimit import ConcurrencyLimiter, GcraBackend, HourlyLimiter, Limits, SlotBackend
from .rights import privilege_of
from .users import User

_USER = "security_user"
_SLOT = "security_slot"
# Set (by the gateway, never from a header) in the WSGI environ of a $batch's requests: they
# run in the batch's slot of the user's concurrent requests.
IN_BATCH = "kintone_gateway.in_batch"


@dataclass(frozen=True)
class Guard:
    ip: IpPolicy
    cors: CorsPolicy
    authenticator: Authenticator
    limits: Limits
    hourly: HourlyLimiter
    running: ConcurrencyLimiter
    max_body: int
    own_origins: tuple[str, ...]
    documents: DocumentAccess
    events: Stream  # told of every refusal
    # Endpoints callers reach without an authtoken (Kintone's webhooks carry none); the address
    # allowlist, per-address limits and body limit still apply.
    anonymous: set[str] = field(default_factory=set)

    @classmethod
    def from_settings(cls, settings: Settings, authenticator: Authenticator,
                      clock: Callable[[], float], events: Stream, *,
                      hourly: GcraBackend | None = None,
                      running: SlotBackend | None = None) -> Guard:
        """``hourly`` and ``running``: the rate limits' backends (default: this process's)."""
        security = settings.section("Security")
        public_url = settings.gateway.public_url
        return cls(ip=IpPolicy.from_settings(security),
                   cors=CorsPolicy.from_settings(settings.section("CORS")),
                   authenticator=authenticator,
                   limits=Limits.from_settings(security),
                   hourly=HourlyLimiter(clock, backend=hourly),
                   running=ConcurrencyLimiter(running),
                   max_body=max_body(security),
                   own_origins=(origin_of(public_url),) if public_url else (),
                   documents=DocumentAccess(flag(settings.section("Application"),
                                                 "PublicApiDocument")),
                   events=events)

    def before(self) -> Response | None:
        self._admit_address(request)
        try:
            check_body(request, self.max_body)
        except Refusal as refusal:
            self._refused("body", refusal.status)
            raise
        if request.endpoint in self.anonymous:
            return None
        user = None
        if self.documents.serves(request):
            if self.cors.is_preflight(request):
                return public_preflight(request)
            try:
                user = self.authenticator.document_user(request, self.documents)
                if user is None and self.documents.public and presented(request, True) is None:
                    return None
            except Refusal as refusal:
                self._refused("credentials", refusal.status)
                raise
        if self.cors.is_preflight(request):
            return self._preflight(request)
        if self.cors.refuses(request, (*self.own_origins, origin_of(request.host_url))):
            raise self._refusal("origin", Refusal.of(
                "OriginNotAllowed", message="Pages from this origin may not change data through "
                "the gateway ([CORS] AllowedOrigins)."))
        try:
            user = user or self.authenticator.authenticate(request)
        except Refusal as refusal:
            self._refused("credentials", refusal.status)
            raise
        setattr(g, _USER, user)
        _note(user=user.name)
        # A method no right names (TRACE ...) is left to the method policy: a 405.
        if privilege_of(request.method) and not user.rights.allows_anywhere(request.method):
            raise self._refusal("method", Refusal.of(
                "MethodForbidden", user=user.name, method=request.method))
        self._admit_user(user)
        return None

    def after(self, response: Response) -> Response:
        self.cors.decorate(response, request.headers.get("Origin"))
        add_headers(response, secure=request.is_secure)
        return response

    def teardown(self, _error: BaseException | None) -> None:
        slot = g.pop(_SLOT, None)
        if slot is not None:
            self.running.release(slot)

    def _admit_address(self, req: Request) -> None:
        client = self.ip.client(req.remote_addr or "", req.headers.get("X-Forwarded-For"))
        _note(client_ip=str(client) if client else req.remote_addr)
        if client is None or not self.ip.allows(client):
            raise self._refusal("address", Refusal.of(
                "AddressNotAllowed", client=client or "this address"))
        wait = self.hourly.hit(f"ip {client}", self.limits.per_hour_per_ip)
        if wait is not None:
            raise self._refusal("hourly", too_many_requests(
                f"More than {self.limits.per_hour_per_ip} requests an hour came from "
                f"{client}.", wait))

    def _preflight(self, req: Request) -> Response:
        if not self.cors.allows(req.headers["Origin"]):
            raise self._refusal("origin", Refusal.of(
                "OriginNotAllowed", message="This origin may not call the gateway ([CORS] "
                "AllowedOrigins)."))
        return self.cors.preflight(req)

    def _admit_user(self, user: User) -> None:
        per_hour = self.limits.per_hour if user.per_hour is None else user.per_hour
        wait = self.hourly.hit(f"user {user.name}", per_hour)
        if wait is not None:
            raise self._refusal("hourly", too_many_requests(
                f"User {user.name} made {per_hour} requests this hour.", wait))
        if request.environ.get(IN_BATCH):
            return
        concurrent = self.limits.concurrent if user.concurrent is None else user.concurrent
        if not self.running.acquire(user.name, concurrent):
            raise self._refusal("concurrent", too_many_requests(
                f"User {user.name} already has {concurrent} requests running.", 1))
        setattr(g, _SLOT, user.name)

    def _refusal(self, reason: RefusalReason, refusal: Refusal) -> Refusal:
        """``refusal``, told to the stream."""
        self._refused(reason, refusal.status)
        return refusal

    def _refused(self, reason: RefusalReason, status: int) -> None:
        self.events.publish(RequestRefused(reason, status))


def current_user() -> User | None:
    """The authenticated user of the current request (``None`` before authentication)."""
    return g.get(_USER)


def _note(**fields: str | None) -> None:
    entry = current_entry()
    if entry is not None:
        for name, value in fields.items():
            setattr(entry, name, value)
