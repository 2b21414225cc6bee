"""When a failed Kintone call may be sent again, and how long to wait first."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .errors import KintoneError

# Answers that mean Kintone did not apply the request, whatever its method: throttling
# (GAIA_TO04 concurrent requests, GAIA_TM12 cursors) and database-lock failures.
NOT_APPLIED_CODES = frozenset({"GAIA_TO04", "GAIA_TM12", "GAIA_DA02", "GAIA_RE18", "GAIA_LT01"})
# Answers that may come after a write was applied: only idempotent calls are sent again.
TRANSIENT_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter: attempt ``n`` waits between half and all of
    ``base_delay * 2**n`` (capped by ``max_delay``), so that clients throttled together do not
    come back together."""

    retries: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2**attempt)
        backoff = ceiling / 2 + random.uniform(0, ceiling / 2)
        return min(self.max_delay, max(backoff, retry_after or 0.0))


def is_retryable(error: KintoneError, *, idempotent: bool) -> bool:
    """``error`` is a Kintone answer, or a KintoneUnavailable for no answer (status 503)."""
    if error.status == 429 or error.code in NOT_APPLIED_CODES:
        return True
    return idempotent and error.status in TRANSIENT_STATUSES
