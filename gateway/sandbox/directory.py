"""Users, organisations and groups of the sandbox tenant (cybozu.com's common directory)."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from .store import Database

_TABLES = {"user": ("users", "login"), "organization": ("organizations", "code"),
           "group": ("groups_", "code")}


@dataclass
class Directory:
    db: Database

    def _get(self, kind: str, key: str) -> dict | None:
        table, column = _TABLES[kind]
        with self.db.lock:
            row = self.db.conn.execute(
                f"SELECT data FROM {table} WHERE {column} = ?", (key,)
            ).fetchone()
        return json.loads(row["data"]) if row else None

    def _put(self, kind: str, key: str, data: dict) -> None:
        table, column = _TABLES[kind]
        with self.db.lock:
            self.db.conn.execute(
                f"INSERT INTO {table} ({column}, data) VALUES (?, ?) "
                f"ON CONFLICT ({column}) DO UPDATE SET data = excluded.data",
                (key, json.dumps(data, ensure_ascii=False)),
            )

    def _all(self, kind: str) -> list[dict]:
        table, column = _TABLES[kind]
        with self.db.lock:
            rows = self.db.conn.execute(f"SELECT data FROM {table} ORDER BY {column}").fetchall()
        return [json.loads(r["data"]) for r in rows]

    def user(self, login: str) -> dict | None:
        return self._get("user", login)

    def organization(self, code: str) -> dict | None:
        return self._get("organization", code)

    def group(self, code: str) -> dict | None:
        return self._get("group", code)

    def entity(self, kind: str, code: str) -> dict | None:
        """``kind`` is USER, ORGANIZATION or GROUP, as in mentions and entity lists."""
        return self._get(kind.lower(), code)

    def users(self) -> list[dict]:
        return self._all("user")

    def add_user(
        self,
        login: str,
        password: str,
        name: str | None = None,
        *,
        organizations: list[str] | None = None,
        groups: list[str] | None = None,
        timezone: str | None = None,
        language: str | None = None,
        admin: bool = True,
    ) -> dict:
        user = {
            "login": login,
            "name": name or login,
            "password": password,
            "organizations": organizations or [],
            "primaryOrganization": (organizations or [None])[0],
            "groups": groups or [],
            "timezone": timezone,
            "language": language,
            "admin": admin,
        }
        self._put("user", login, user)
        return user

    def add_organization(self, code: str, name: str | None = None) -> dict:
        org = {"code": code, "name": name or code}
        self._put("organization", code, org)
        return org

    def add_group(self, code: str, name: str | None = None) -> dict:
        group = {"code": code, "name": name or code}
        self._put("group", code, group)
        return group

    def authenticate(self, login: str, password: str) -> dict | None:
        user = self.user(login)
        # Compare even for unknown users so timing does not reveal which logins exist.
        expected = (user or {}).get("password", "\0unknown")
        if hmac.compare_digest(expected.encode(), password.encode()) and user:
            return user
        return None
