"""User administration for the console: the same users file, key and lines as
``kintone-gateway users add``, changed in place (``security.users_file``)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..security.authn import Authenticator
from ..security.provision import issue
from ..security.rights import ANY, PRIVILEGES, Rights
from ..security.tokens import TokenKey
from ..security.users import User, UserStore, parse_expiry
from ..security.users_file import add_user_line, remove_user_line, replace_user_line


class Refused(ValueError):
    """A change the console will not make; the text says why."""


def is_admin(user: User) -> bool:
    """Every right on every entity set: what the console (and the dead letters) require."""
    return all(user.rights.allows(method, ANY) for method in PRIVILEGES)


@dataclass(frozen=True)
class Issued:
    user: User
    token: str  # shown once


class UserAdmin:
    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

    @property
    def store(self) -> UserStore:
        return self._authenticator.users

    def editable(self, name: str) -> bool:
        """Users of settings.cfg's own [Users] are changed there, not here."""
        return name in _file_users(self.store)

    def add(self, name: str, rights_text: str, expires_text: str) -> Issued:
        rights = Rights.parse(rights_text or "GET:*")
        expires = parse_expiry(expires_text) if expires_text.strip() else None
        user, token = issue(self._key(), name, rights, expires=expires)
        if user.name in self.store.all():
            raise Refused(f"User {user.name} already exists.")
        add_user_line(self.store.path, user)
        return Issued(user, token)

    def change_rights(self, name: str, rights_text: str) -> User:
        user = replace(self._existing(name), rights=Rights.parse(rights_text))
        self._keep_an_admin(name, user)
        replace_user_line(self.store.path, user)
        return user

    def rotate(self, name: str) -> Issued:
        old = self._existing(name)
        user, token = issue(self._key(), old.name, old.rights, per_hour=old.per_hour,
                            concurrent=old.concurrent, expires=old.expires)
        replace_user_line(self.store.path, user)
        return Issued(user, token)

    def revoke(self, name: str) -> None:
        self._keep_an_admin(self._existing(name).name, None)
        remove_user_line(self.store.path, name)

    def _existing(self, name: str) -> User:
        user = self.store.get(name)
        if user is None:
            raise Refused(f"There is no user {name}.")
        if not self.editable(user.name):
            raise Refused(f"User {user.name} is defined in [Users] of the settings file; "
                          "change it there.")
        return user

    def _keep_an_admin(self, name: str, becomes: User | None) -> None:
        now = time.time()
        users = {**self.store.all(), name: becomes}
        if not any(u is not None and is_admin(u) and not u.expired(now) for u in users.values()):
            raise Refused(f"User {name} is the last admin: add another admin first.")

    def _key(self) -> TokenKey:
        key = self._authenticator.key
        if key is None:
            raise Refused("There is no token key yet.")
        return key


def _file_users(store: UserStore) -> Mapping[str, User]:
    inline = store.inline
    return {name: user for name, user in store.all().items() if name not in inline}
