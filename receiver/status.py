"""online / late / offline, decided from ``last_seen`` and the heartbeat interval.

The addon heartbeats from an Odoo cron every ``interval`` seconds (60 by
default).  Odoo runs crons late when its cron workers are busy, so one
missed beat is normal; the rule therefore waits for two intervals plus a
grace margin before calling a server late:

* online   if ``now - last_seen <= 2 * interval + grace``       (150 s by default)
* late     if it is older than that but ``<= offline_after``     (600 s by default)
* offline  otherwise

A ``last_seen`` in the future (receiver clock stepped back) counts as online.
The same rule is exposed as ``last_seen`` bounds so storage backends can
filter by status in SQL instead of loading every record.
"""

from __future__ import annotations

from dataclasses import dataclass

from receiver.clock import now_us

ONLINE = "online"
LATE = "late"
OFFLINE = "offline"
STATUSES = (ONLINE, LATE, OFFLINE)


@dataclass(frozen=True, slots=True)
class StatusRule:
    interval: float = 60.0
    grace: float = 30.0
    offline_after: float = 600.0

    @classmethod
    def for_interval(cls, interval: float) -> StatusRule:
        """Scale the default rule to another heartbeat interval."""
        return cls(interval=interval, grace=interval / 2, offline_after=interval * 10)

    @property
    def online_window_us(self) -> int:
        return int((2 * self.interval + self.grace) * 1_000_000)

    @property
    def offline_after_us(self) -> int:
        return int(max(self.offline_after, 2 * self.interval + self.grace) * 1_000_000)

    def classify(self, last_seen_us: int, now: int | None = None) -> str:
        age = (now_us() if now is None else now) - last_seen_us
        if age <= self.online_window_us:
            return ONLINE
        if age <= self.offline_after_us:
            return LATE
        return OFFLINE

    def last_seen_bounds(self, status: str, now: int) -> tuple[int | None, int | None]:
        """Inclusive ``(low, high)`` bounds on ``last_seen`` meaning ``status`` at ``now``.

        ``None`` means unbounded.
        """
        online_from = now - self.online_window_us
        late_from = now - self.offline_after_us
        if status == ONLINE:
            return online_from, None
        if status == LATE:
            return late_from, online_from - 1
        if status == OFFLINE:
            return None, late_from - 1
        raise ValueError(f"unknown status {status!r}")
