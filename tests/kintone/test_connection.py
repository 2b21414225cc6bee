"""How the client reaches Kintone: over HTTPS (the server's certificate checked against the CA
bundle named, or not at all; a client certificate when the domain asks for one), and through
the proxy the environment names."""

from __future__ import annotations

import base64
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from gateway.kintone import KintoneError, KintoneUnavailable
from gateway.sandbox import Sandbox, SandboxServer

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def pem(authority: trustme.CA, tmp_path_factory: pytest.TempPathFactory
        ) -> Callable[[str, Any], str]:
    """``pem(name, blob)``: a certificate or key written to a file, its path."""
    folder = tmp_path_factory.mktemp("pem")

    def write(name: str, blob: Any) -> str:
        path = Path(folder, name)
        blob.write_to_path(str(path))
        return str(path)

    return write


def _https(sandbox: Sandbox, authority: trustme.CA, *, client_ca: trustme.CA | None = None
           ) -> SandboxServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    if client_ca is not None:  # the domain asks every client for a certificate it issued
        context.verify_mode = ssl.CERT_REQUIRED
        client_ca.configure_trust(context)
    return SandboxServer(sandbox, tls=context).start()


@pytest.fixture
def https(sandbox: Sandbox, authority: trustme.CA) -> Iterator[SandboxServer]:
    with _https(sandbox, authority) as server:
        yield server


def test_kintone_over_https_with_its_ca_named(connect, https, authority, pem):
    client = connect(url=https.url, ssl_server_cert=pem("ca.pem", authority.cert_pem))
    assert https.url.startswith("https://")
    assert isinstance(client.get_apps(), list)


def test_a_certificate_no_known_ca_issued_is_refused(connect, https):
    client = connect(url=https.url)  # checked against the usual public CAs
    with pytest.raises(KintoneUnavailable, match="SSLError"):
        client.get_apps()


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # as asked
def test_verification_off_accepts_any_certificate(connect, https):
    assert isinstance(connect(url=https.url, ssl_server_cert="*").get_apps(), list)


def test_a_client_certificate_is_presented_when_the_domain_asks(connect, sandbox, authority,
                                                                 pem):
    clients = trustme.CA()
    issued = clients.issue_cert("gateway@example.com")
    cert, key = pem("client.pem", issued.cert_chain_pems[0]), pem("client.key",
                                                                  issued.private_key_pem)
    both = pem("client-and-key.pem", issued.private_key_and_cert_chain_pem)
    ca = pem("ca.pem", authority.cert_pem)
    with _https(sandbox, authority, client_ca=clients) as server:
        assert isinstance(connect(url=server.url, ssl_server_cert=ca, ssl_client_cert=cert,
                                  ssl_client_cert_key=key).get_apps(), list)
        assert isinstance(connect(url=server.url, ssl_server_cert=ca,
                                  ssl_client_cert=both).get_apps(), list)
        with pytest.raises(KintoneUnavailable):
            connect(url=server.url, ssl_server_cert=ca).get_apps()


class Seen:
    """WSGI middleware: the Host and Proxy-Authorization headers of the calls it saw, and the
    encodings each accepted."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.calls: list[tuple[str, str | None]] = []
        self.encodings: list[str | None] = []

    def __call__(self, environ: dict, start_response: Any) -> Any:
        self.calls.append((environ.get("HTTP_HOST", ""), environ.get("HTTP_PROXY_AUTHORIZATION")))
        self.encodings.append(environ.get("HTTP_ACCEPT_ENCODING"))
        return self._app(environ, start_response)


@pytest.fixture
def proxy(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    """A sandbox that is also an HTTP proxy (it serves absolute request URLs), named by
    ``HTTP_PROXY`` with credentials; yields what it saw."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    with SandboxServer(sandbox) as server:
        seen = Seen(server.app.wsgi_app)
        server.app.wsgi_app = seen  # type: ignore[method-assign]
        server.start()
        monkeypatch.setenv("HTTP_PROXY", f"http://proxy-user:p%40ss@127.0.0.1:{server.port}")
        yield seen


# Nothing listens there: a call only succeeds through the proxy.
BEHIND_PROXY = "http://127.0.0.2:9"


def test_calls_go_through_the_proxy_the_environment_names(connect, proxy):
    seen = proxy
    apps = connect(url=BEHIND_PROXY).get_apps()
    assert isinstance(apps, list)
    credentials = base64.b64encode(b"proxy-user:p@ss").decode()
    assert seen.calls == [("127.0.0.2:9", f"Basic {credentials}")]


def test_no_proxy_exempts_the_kintone_host(connect, proxy, monkeypatch):
    seen = proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.2")
    with pytest.raises(KintoneUnavailable):
        connect(url=BEHIND_PROXY, connect_timeout=0.5).get_apps()
    assert seen.calls == []


def test_the_client_reads_the_proxy_once(connect, proxy, monkeypatch):
    seen = proxy
    client = connect(url=BEHIND_PROXY)
    monkeypatch.setenv("NO_PROXY", "*")
    client.get_apps()
    assert len(seen.calls) == 1


def test_answers_come_compressed_but_files_as_stored(connect, proxy):
    """Kintone gzips its JSON when asked (a page of records shrinks tenfold); a file is asked
    for as stored, so that its bytes and Content-Length reach the client unchanged."""
    client = connect(url=BEHIND_PROXY)
    client.get_apps()
    with pytest.raises(KintoneError):  # no such file; what was asked is what matters
        client.download_file("no-such-key")
    assert proxy.encodings == ["gzip, deflate", "identity"]
