"""``[Server]`` settings as gunicorn options, and what they refuse."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace

import pytest
from gunicorn.workers.gthread import ThreadWorker

from gateway.ops.server import LONGEST_REQUEST_LINE, ServerOptions, tune_worker
from gateway.settings import SettingsError
from tests.ops.conftest import settings_for


def options(**sections: dict[str, str]) -> ServerOptions:
    return ServerOptions.from_settings(settings_for("http://kintone.example", **sections)[0])


def test_the_defaults_are_one_threaded_worker_on_loopback():
    gunicorn = options().gunicorn()
    assert gunicorn["bind"] == ["127.0.0.1:8080"]
    worker = gunicorn["worker_class"]
    assert (gunicorn["workers"], gunicorn["threads"]) == (1, 32)
    assert issubclass(worker, ThreadWorker)  # gthread, with read deadlines
    assert (worker.header_timeout, worker.body_timeout) == (10, 60)
    assert (gunicorn["timeout"], gunicorn["graceful_timeout"]) == (60, 120)
    assert gunicorn["accesslog"] is None and gunicorn["certfile"] is None
    assert gunicorn["logger_class"] == "gateway.ops.logs.GunicornLogger"
    assert gunicorn["limit_request_line"] == LONGEST_REQUEST_LINE
    formatter = gunicorn["logconfig_dict"]["formatters"]["json"]["()"]
    assert formatter == "gateway.ops.logs.JsonFormatter"


def test_tls_needs_both_files(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("x")
    tls = options(server={"CertFile": str(cert), "KeyFile": str(key)})
    assert (tls.scheme, tls.gunicorn()["certfile"], tls.gunicorn()["keyfile"]) == (
        "https", str(cert), str(key))
    with pytest.raises(SettingsError, match="CertFile and KeyFile go together"):
        options(server={"CertFile": str(cert)})
    with pytest.raises(SettingsError, match="no such file"):
        options(server={"CertFile": str(tmp_path / "missing.pem"), "KeyFile": str(key)})


def test_several_workers_need_shared_state():
    with pytest.raises(SettingsError, match=r"\[Cluster\] Redis"):
        options(server={"Workers": "4"})
    with pytest.raises(SettingsError, match="SkipTokenSecret"):
        options(server={"Workers": "4"}, cluster={"Redis": "redis://redis:6379/0"})
    assert options(server={"Workers": "4"}, cluster={"Redis": "redis://redis:6379/0"},
                   gateway={"SkipTokenSecret": "s" * 40}).workers == 4


def test_bad_values_name_their_key():
    with pytest.raises(SettingsError, match=r"\[server\] Threads"):
        options(server={"Threads": "0"})
    with pytest.raises(SettingsError, match="LogLevel"):
        options(server={"LogLevel": "chatty"})
    with pytest.raises(SettingsError, match="Redis"):
        options(server={"Workers": "2"}, cluster={"Redis": "http://redis:6379"})


def test_an_ipv6_host_is_bracketed():
    settings, _ = settings_for("http://kintone.example")
    v6 = replace(settings, gateway=replace(settings.gateway, host="::"))
    assert ServerOptions.from_settings(v6).gunicorn()["bind"] == ["[::]:8080"]



def test_a_worker_freezes_its_heap_and_shortens_the_switch_interval():
    interval = sys.getswitchinterval()
    try:
        tune_worker(None)
        assert gc.get_freeze_count() > 0
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        gc.unfreeze()
        sys.setswitchinterval(interval)
