"""``[Triggers]``: the polling and webhook triggers' settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..security.ipallow import AddressList
from ..settings import Secret, Section, Settings

SECTION = "Triggers"
MIN_SECRET = 16  # characters: the secret is the inbound endpoint's only credential


@dataclass(frozen=True)
class TriggerSettings:
    webhook_secret: Secret | None = field(default=None, repr=False)
    database: str = "triggers.sqlite"
    state_secret: Secret | None = field(default=None, repr=False)
    poll_seconds: int = 60  # Retry-After when nothing is new
    batch_size: int = 100  # records per polling answer
    settle_seconds: float = 60.0  # how late Kintone may still stamp a record with a past minute
    max_attempts: int = 12
    retry_seconds: float = 10.0  # the first back-off; doubled after each failed attempt
    max_retry_seconds: float = 3600.0
    delivery_timeout: float = 10.0  # a whole attempt: connect, send, read the answer
    workers: int = 4
    # Internal addresses callbacks may reach (the others are refused: see ``outbound``).
    callback_allowed: AddressList = field(default_factory=lambda: AddressList(()))
    max_answer_bytes: int = 65_536  # of a callback's answer read (and discarded)

    @classmethod
    def from_settings(cls, settings: Settings) -> TriggerSettings:
        s = settings.section(SECTION)
        secret = s.get_secret("WebhookSecret")
        if secret is not None and len(secret.reveal()) < MIN_SECRET:
            raise s.error("WebhookSecret", f"must be at least {MIN_SECRET} characters")
        return cls(
            webhook_secret=secret,
            database=s.get("Database", cls.database) or cls.database,
            state_secret=s.get_secret("StateSecret"),
            poll_seconds=s.get_int("PollSeconds", cls.poll_seconds, minimum=1, maximum=86_400),
            batch_size=s.get_int("BatchSize", cls.batch_size, minimum=1, maximum=300),
            settle_seconds=s.get_float("SettleSeconds", cls.settle_seconds, minimum=0,
                                       maximum=3600),
            max_attempts=s.get_int("MaxAttempts", cls.max_attempts, minimum=1, maximum=100),
            retry_seconds=s.get_float("RetrySeconds", cls.retry_seconds, minimum=0.01,
                                      maximum=86_400),
            max_retry_seconds=s.get_float("MaxRetrySeconds", cls.max_retry_seconds,
                                          minimum=0.01, maximum=7 * 86_400),
            delivery_timeout=s.get_float("DeliveryTimeout", cls.delivery_timeout, minimum=0.1,
                                         maximum=300),
            workers=s.get_int("Workers", cls.workers, minimum=1, maximum=64),
            callback_allowed=_addresses(s, "CallbackAllowedIPs"),
            max_answer_bytes=s.get_int("MaxAnswerBytes", cls.max_answer_bytes, minimum=0,
                                       maximum=10_485_760),
        )


def _addresses(section: Section, key: str) -> AddressList:
    try:
        return AddressList.parse(section.get_list(key))
    except ValueError as exc:
        raise section.error(key, str(exc)) from None
