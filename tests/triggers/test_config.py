"""``[Triggers]``: the example file documents the defaults; bad values name the key."""

from __future__ import annotations

import configparser

import pytest

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
