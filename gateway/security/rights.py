"""What a user may do: HTTP methods per resource (an entity set name, or ``*`` for all).

The four privileges follow CData API Server: GET, POST, PUT (which also covers PATCH and MERGE,
the partial updates), DELETE. Written ``GET,POST:Orders,Customers GET:*`` - grants separated by
spaces, each ``METHODS:RESOURCES``; ``*`` as METHODS means all four.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

ANY = "*"
PRIVILEGES = ("GET", "POST", "PUT", "DELETE")
_PRIVILEGE_OF = {"GET": "GET", "HEAD": "GET", "OPTIONS": "GET", "POST": "POST", "PUT": "PUT",
                 "PATCH": "PUT", "MERGE": "PUT", "DELETE": "DELETE"}
_RESOURCE = re.compile(r"\*|[^\W\d]\w*")


class RightsError(ValueError):
    """A rights text, method or resource name that cannot be read."""


def privilege_of(method: str) -> str | None:
    """The privilege an HTTP method needs; ``None`` for a method no privilege allows."""
    return _PRIVILEGE_OF.get(method.upper())


def parse_methods(items: Iterable[str]) -> frozenset[str]:
    """``GET, PATCH`` -> ``{GET, PUT}``; ``*`` -> all four privileges."""
    privileges = set()
    for item in (i.strip().upper() for i in items):
        if item == ANY:
            return frozenset(PRIVILEGES)
        privilege = privilege_of(item) if item != "OPTIONS" else None
        if privilege is None:
            raise RightsError(f"unknown method {item!r} (use GET, POST, PUT, PATCH, MERGE, "
                              "DELETE or *)")
        privileges.add(privilege)
    if not privileges:
        raise RightsError("no method given")
    return frozenset(privileges)


def parse_resources(items: Iterable[str]) -> tuple[str, ...]:
    resources = tuple(i.strip() for i in items if i.strip())
    for name in resources:
        if not _RESOURCE.fullmatch(name):
            raise RightsError(f"{name!r} is not an entity set name or *")
    if not resources:
        raise RightsError("no resource given")
    return resources


@dataclass(frozen=True)
class Rights:
    grants: Mapping[str, frozenset[str]]  # resource name or "*" -> privileges

    @classmethod
    def of(cls, methods: Iterable[str], resources: Iterable[str]) -> Rights:
        privileges = parse_methods(methods)
        return cls(MappingProxyType({name: privileges for name in parse_resources(resources)}))

    @classmethod
    def parse(cls, text: str) -> Rights:
        grants: dict[str, frozenset[str]] = {}
        for grant in text.split():
            methods, colon, resources = grant.partition(":")
            if not colon:
                raise RightsError(f"{grant!r} is not of the form METHODS:RESOURCES")
            for name, privileges in cls.of(methods.split(","), resources.split(",")).grants.items():
                grants[name] = grants.get(name, frozenset()) | privileges
        if not grants:
            raise RightsError("no grant given")
        return cls(MappingProxyType(grants))

    def allows(self, method: str, resource: str) -> bool:
        privilege = privilege_of(method)
        return any(privilege in self.grants.get(name, ()) for name in (resource, ANY))

    @property
    def everything(self) -> bool:
        """Every privilege on every entity set: an administrator's rights."""
        return all(self.allows(method, ANY) for method in PRIVILEGES)

    def allows_anywhere(self, method: str) -> bool:
        privilege = privilege_of(method)
        return any(privilege in privileges for privileges in self.grants.values())

    def __str__(self) -> str:
        by_privileges: dict[frozenset[str], list[str]] = {}
        for name, privileges in self.grants.items():
            by_privileges.setdefault(privileges, []).append(name)
        return " ".join(f"{_methods_text(privileges)}:{','.join(names)}"
                        for privileges, names in by_privileges.items())


def _methods_text(privileges: frozenset[str]) -> str:
    if privileges == frozenset(PRIVILEGES):
        return ANY
    return ",".join(p for p in PRIVILEGES if p in privileges)


READ_ONLY = Rights.of(["GET"], [ANY])
FULL = Rights.of([ANY], [ANY])
