"""A record sink for tests: keeps every request's record, in order."""

from __future__ import annotations

from switchyard.records.record import RequestRecord


class Collect:
    """``Gateway(..., sinks=[Collect()])``, then read ``.records``."""

    def __init__(self) -> None:
        self.records: list[RequestRecord] = []

    def emit(self, record: RequestRecord) -> None:
        self.records.append(record)


__all__ = ["Collect"]
