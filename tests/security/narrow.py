"""Users with narrow rights for gateways started by ``start_gateway``: ``users({"bob":
"GET:Customers"})`` gives the settings sections to start it with, and each user's token."""

from __future__ import annotations

from gateway.security import Rights, add_user
from gateway.settings import Section, Settings
from tests.gateway.conftest import IN_MEMORY_TRIGGERS


def users(rights: dict[str, str], sections: dict[str, Section] | None = None
          ) -> tuple[dict[str, Section], dict[str, dict[str, str]]]:
    """The sections (``sections`` plus ``[Security]``'s key and ``[Users]``) and, per user, the
    header carrying its token."""
    settings = Settings(kintone=None, gateway=None,  # type: ignore[arg-type]  (sections only)
                        sections={**IN_MEMORY_TRIGGERS, **(sections or {})})
    headers = {}
    for name, text in rights.items():
        settings, token = add_user(settings, name, Rights.parse(text))
        headers[name] = {"X-Authtoken": token}
    return dict(settings.sections), headers
