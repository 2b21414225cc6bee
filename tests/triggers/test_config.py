"""``[Triggers]``: the example file documents the defaults; bad values name the key."""

from __future__ import annotations

import configparser

import pytest

from gateway.security.ipallow import parse_address
from gateway.settings import SettingsError, load_settings, parse_settings
from gateway.triggers.config import TriggerSettings
from tests.test_settings import EXAMPLE, PASSWORD


def test_the_example_documents_the_defaults():
    settings = load_settings(EXAMPLE, env={"KINTONE_USER_PASSWORD": "x"})
    assert TriggerSettings.from_settings(settings) == TriggerSettings()


def test_a_short_webhook_secret_is_refused():
    parser = configparser.ConfigParser()
    parser.read_string(PASSWORD + "[Triggers]\nWebhookSecret = short\n")
    with pytest.raises(SettingsError, match=r"\[triggers\] WebhookSecret"):
        TriggerSettings.from_settings(parse_settings(parser, {}))


def test_callback_settings():
    parser = configparser.ConfigParser()
    parser.read_string(PASSWORD + "[Triggers]\nCallbackAllowedIPs = 10.20.0.0/16, ::1\n"
                       "MaxAnswerBytes = 1024\n")
    config = TriggerSettings.from_settings(parse_settings(parser, {}))
    assert config.max_answer_bytes == 1024
    assert parse_address("10.20.3.4") in config.callback_allowed
    assert parse_address("10.21.0.1") not in config.callback_allowed
    parser.read_string("[Triggers]\nCallbackAllowedIPs = not-an-address\n")
    with pytest.raises(SettingsError, match=r"\[triggers\] CallbackAllowedIPs"):
        TriggerSettings.from_settings(parse_settings(parser, {}))
