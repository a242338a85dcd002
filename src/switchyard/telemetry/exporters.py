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
- ``console``: each span as one line of JSON on standard output (the SDK's own rendering of
  the span, without its pretty-printing: a line per span suits a log pipeline, and
  pretty-printing alone would triple the exporter's CPU);
- ``none``: no exporter.

Every exporter sits behind a ``BatchSpanProcessor``: spans are exported from the SDK's own
thread, off the request path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from switchyard.errors import ConfigError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

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
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            out.append(ConsoleSpanExporter(formatter=_json_line))
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


def _json_line(span: ReadableSpan) -> str:
    line: str = span.to_json(indent=None)
    return line + "\n"


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


__all__ = ["EXPORTERS", "OTLP_PACKAGE", "build_tracer_provider", "exporters"]
