"""A tiny Kintone REST client for tests: real HTTP to the sandbox, no cleverness."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field

import requests

_names = itertools.count(1)


@dataclass
class Kintone:
    base_url: str
    headers: dict = field(default_factory=dict)
    guest_space: int | None = None

    @classmethod
    def with_password(cls, base_url: str, login: str, password: str, **kw) -> Kintone:
        token = base64.b64encode(f"{login}:{password}".encode()).decode()
        return cls(base_url, {"X-Cybozu-Authorization": token}, **kw)

    @classmethod
    def with_tokens(cls, base_url: str, *tokens: str, **kw) -> Kintone:
        return cls(base_url, {"X-Cybozu-API-Token": ",".join(tokens)}, **kw)

    def url(self, api: str) -> str:
        prefix = f"/k/guest/{self.guest_space}/v1" if self.guest_space else "/k/v1"
        return f"{self.base_url}{prefix}/{api}.json"

    def request(self, method: str, api: str, body: dict | None = None, *,
                params: dict | None = None, headers: dict | None = None) -> requests.Response:
        return requests.request(
            method, self.url(api), json=body, params=params,
            headers={**self.headers, **(headers or {})}, timeout=30,
        )

    def get(self, api: str, params: dict | None = None, **kw) -> requests.Response:
        return self.request("GET", api, params=params, **kw)

    def post(self, api: str, body: dict, **kw) -> requests.Response:
        return self.request("POST", api, body, **kw)

    def put(self, api: str, body: dict, **kw) -> requests.Response:
        return self.request("PUT", api, body, **kw)

    def delete(self, api: str, body: dict | None = None, **kw) -> requests.Response:
        return self.request("DELETE", api, body, **kw)

    def ok(self, method: str, api: str, body: dict | None = None, **kw) -> dict:
        """The JSON of a call that must succeed."""
        response = self.request(method, api, body, **kw)
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    def make_app(self, fields: dict, *, name: str | None = None, process: dict | None = None,
                 space: int | None = None, thread: int | None = None) -> int:
        """Create and deploy an app through the app administration API, as a real client would."""
        body: dict = {"name": name or f"Test app {next(_names)}"}
        if space is not None:
            body.update(space=space, thread=thread or space)
        app = int(self.ok("POST", "preview/app", body)["app"])
        if fields:
            self.ok("POST", "preview/app/form/fields", {"app": app, "properties": fields})
        if process is not None:
            self.ok("PUT", "preview/app/status", {"app": app, **process})
        self.ok("POST", "preview/app/deploy", {"apps": [{"app": app}]})
        return app


def error_of(response: requests.Response) -> tuple[int, str]:
    """``(HTTP status, Kintone error code)`` of a failed call."""
    return response.status_code, response.json().get("code")
