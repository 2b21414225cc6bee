"""The README, checked: every ``curl`` example runs as written against ``kintone-gateway demo``
(a real process, started as the README says) and answers what the README shows after it."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.cli import DEMO_REQUESTS_PER_HOUR, demo_settings, main
from gateway.sandbox.demo import DemoInfo
from gateway.security.users import read_section
from gateway.web import create_app
from gateway.web.server import WebServer
from tests.sandbox.test_cli import DEMO_LINES, running

README = Path(__file__).resolve().parents[1] / "README.md"
SERVICE = "http://localhost:8080/api.rsc/"
# A ```sh block holding one curl command, then the block showing its answer, if it has one.
EXAMPLE = re.compile(r"```sh\n(curl [^\n]+)\n```(?:\n\n```(json|text)\n(.*?)```)?", re.S)
TOKEN = "readme-example-token-0123456789abcdef"


def examples() -> list[tuple[str, str, str]]:
    return EXAMPLE.findall(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, str]]:
    """The demo's service URL and authtoken, started with --token as the README says."""
    with running("demo", "--port", "0", "--token", TOKEN, count=DEMO_LINES) as lines:
        (service,) = lines["service"]
        assert lines["authtoken"] == [f"demo {TOKEN}"]  # --token keeps the authtoken
        yield service, TOKEN


def curl(command: str, service: str, token: str) -> requests.Response:
    """``command`` as curl would send it (the options the README uses)."""
    words = iter(shlex.split(command.replace("$AUTHTOKEN", token))[1:])
    method, headers, data, auth, url = "GET", {}, None, None, ""
    for word in words:
        if word == "-u":
            auth = tuple(next(words).split(":", 1))
        elif word == "-X":
            method = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers[name.strip()] = value.strip()
        elif word == "-d":
            data = next(words).encode()
        else:
            assert not word.startswith("-"), f"the test knows no curl option {word}"
            url = word
    assert url.startswith(SERVICE), url
    return requests.request(method, service + url.removeprefix(SERVICE), auth=auth,
                            headers=headers, data=data, timeout=60)


def test_the_readme_has_examples_of_every_kind():
    commands = " ".join(command for command, _, _ in examples())
    for part in ("$filter", "$select", "$orderby", "$count", "$expand", "/Comments", "$value",
                 "-X PATCH"):
        assert part in commands, part


def test_every_example_answers_as_the_readme_shows(demo):
    service, token = demo
    for command, kind, shown in examples():  # in order: the write comes before its read-back
        response = curl(command, service, token)
        assert response.status_code < 300, (command, response.text)
        if kind == "json":
            assert response.json() == json.loads(shown.replace(SERVICE, service)), command
        elif kind == "text":
            assert response.text == shown.strip(), command
        else:
            assert response.text == "", command


INFO = DemoInfo("demo", "pw", {}, {})


def test_the_demo_user_has_a_generous_rate_limit():
    settings, _ = demo_settings("http://localhost:1", INFO)
    (user,) = read_section(settings.section("Users")).values()
    assert user.per_hour == DEMO_REQUESTS_PER_HOUR >= 100 * 1000


@pytest.mark.parametrize(("allowed", "status"), [(None, 200), ("192.0.2.0/24", 403),
                                                 ("192.0.2.0/24, 127.0.0.1", 200)])
def test_allowed_ips_say_who_may_call_the_demo(allowed, status):
    settings, _ = demo_settings("http://localhost:1", INFO, allowed_ips=allowed)
    server = WebServer(create_app(settings)).start()
    try:
        response = requests.get(f"{server.url}/healthz", timeout=30)
    finally:
        server.stop()
    assert response.status_code == status


@pytest.mark.parametrize("option", [["--token", "short"], ["--token", "x" * 31 + "!"],
                                    ["--allowed-ips", "not-an-address"]])
def test_bad_demo_options_are_refused_before_anything_starts(capsys, option):
    with pytest.raises(SystemExit) as stop:
        main(["demo", *option])
    assert stop.value.code == 2 and option[0] in capsys.readouterr().err
