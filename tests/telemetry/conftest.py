"""Tracing tests: a TracerProvider of their own, exporting to memory (never the global one)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


class Spans:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    @property
    def finished(self) -> Sequence[ReadableSpan]:
        return self.exporter.get_finished_spans()

    def requests(self) -> list[ReadableSpan]:
        return [s for s in self.finished if s.kind != SpanKind.CLIENT]

    def request(self) -> ReadableSpan:
        (only,) = self.requests()
        return only

    def attempts(self, parent: ReadableSpan | None = None) -> list[ReadableSpan]:
        parent = parent or self.request()
        return sorted(
            (
                s
                for s in self.finished
                if s.kind == SpanKind.CLIENT
                and s.parent is not None
                and s.parent.span_id == parent.context.span_id
            ),
            key=lambda s: s.start_time or 0,
        )


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[Spans]:
    for name in ("OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER"):
        monkeypatch.delenv(name, raising=False)
    collected = Spans()
    yield collected
    collected.provider.shutdown()
