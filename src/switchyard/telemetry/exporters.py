"""The OpenTelemetry SDK's ``TracerProvider`` a Gateway builds for itself, from the standard
``OTEL_*`` variables.

The SDK reads most of them itself: ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (the
service is ``switchyard`` unless they name one), ``OTEL_TRACES_SAMPLER`` and its argument,
``OTEL_BSP_*`` (the batch processor), ``OTEL_EXPORTER_OTLP_*`` (the OTLP exporter's endpoint,
headers, protocol...). This module picks the exporters, as ``OTEL_TRACES_EXPORTER`` says (a
comma-separated list):

- ``otlp`` (the default): the OTLP exporter, ``http/protobuf`` unless
  ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or ``OTEL_EXPORTER_OTLP_PROTOCOL`` says ``grpc``.
  It comes with the ``opentelemetry-exporter-otlp`` package, which Switchyard does not
  install: asked for by name and missing, start-up fails with a
  :class:`~switchyard.errors.ConfigError` naming the package; left to the default and
  missing, a warning names it and spans are made (trace ids reach the upstreams and the logs)
  but not exported;
- ``console``: each span as one line of JSON on standard output (:class:`JsonLinesExporter`:
  a line per span suits a log pipeline; the SDK's own console exporter pretty-prints and
  re-serialises the resource for every span, five times the CPU);
- ``none``: no exporter.

Every exporter sits behind a ``BatchSpanProcessor``: spans are exported from the SDK's own
thread, off the request path.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import orjson
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from switchyard.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider

log = logging.getLogger("switchyard.telemetry")
OTLP_PACKAGE = "opentelemetry-exporter-otlp"
EXPORTERS = ("otlp", "console", "none")


def build_tracer_provider(environ: Mapping[str, str]) -> TracerProvider:
    """A ``TracerProvider`` exporting as the ``OTEL_*`` variables in ``environ`` say."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "switchyard"}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters(environ):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def exporters(environ: Mapping[str, str]) -> list[SpanExporter]:
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    chosen = [name.strip() for name in named.split(",") if name.strip()] or ["otlp"]
    out: list[SpanExporter] = []
    for name in chosen:
        if name == "none":
            continue
        if name == "console":
            out.append(JsonLinesExporter())
        elif name == "otlp":
            otlp = _otlp(environ, asked=bool(named))
            if otlp is not None:
                out.append(otlp)
        else:
            raise ConfigError(
                [("OTEL_TRACES_EXPORTER", f"unknown exporter {name!r} (one of {EXPORTERS})")],
                "environment",
            )
    return out


class JsonLinesExporter(SpanExporter):
    """Each span as one JSON object a line (OTLP's field names, ids in hex, times in Unix
    nanoseconds, the resource's attributes on every line), written to ``out`` (stdout) a
    batch at a time."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self._resources: dict[int, bytes] = {}  # id(resource) -> its attributes as JSON

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        out = self._out or sys.stdout
        out.write("".join([self._line(span) for span in spans]))
        out.flush()
        return SpanExportResult.SUCCESS

    def _line(self, span: ReadableSpan) -> str:
        context, parent, status = span.context, span.parent, span.status
        line: dict[str, Any] = {
            "name": span.name,
            "kind": span.kind.name,
            "trace_id": f"{context.trace_id:032x}" if context else None,
            "span_id": f"{context.span_id:016x}" if context else None,
            "parent_span_id": f"{parent.span_id:016x}" if parent else None,
            "start_time_unix_nano": span.start_time,
            "end_time_unix_nano": span.end_time,
            "status": {"code": status.status_code.name, "description": status.description},
            "attributes": dict(span.attributes or {}),
        }
        if span.events:
            line["events"] = [
                {
                    "name": e.name,
                    "time_unix_nano": e.timestamp,
                    "attributes": dict(e.attributes or {}),
                }
                for e in span.events
            ]
        resource = self._resources.get(id(span.resource))
        if resource is None:
            resource = orjson.dumps(dict(span.resource.attributes))
            self._resources[id(span.resource)] = resource
        return (orjson.dumps(line)[:-1] + b',"resource":' + resource + b"}\n").decode()


def _otlp(environ: Mapping[str, str], *, asked: bool) -> SpanExporter | None:
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()
    try:
        if protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter,
            )
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found,unused-ignore]
                OTLPSpanExporter,
            )
    except ImportError:
        message = (
            f"the OTLP exporter ({protocol}) needs the {OTLP_PACKAGE!r} package, which is not "
            f"installed: pip install {OTLP_PACKAGE}, or set OTEL_TRACES_EXPORTER=console|none"
        )
        if asked:
            raise ConfigError([("OTEL_TRACES_EXPORTER", message)], "environment") from None
        log.warning("traces are not exported: %s", message)
        return None
    exporter: SpanExporter = OTLPSpanExporter()
    return exporter


__all__ = ["EXPORTERS", "OTLP_PACKAGE", "JsonLinesExporter", "build_tracer_provider", "exporters"]
