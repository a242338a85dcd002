"""Whether the Gateway traces: ``telemetry: {otel: true}`` in the config, or the standard
``OTEL_SDK_DISABLED`` variable (``false`` turns tracing on, ``true`` keeps it off whatever the
config says). Off is the default. Reads no more than the two; imports no OpenTelemetry."""

from __future__ import annotations

from collections.abc import Mapping

from switchyard.config.schema import TelemetrySettings


def tracing_enabled(settings: TelemetrySettings, environ: Mapping[str, str]) -> bool:
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower()
    if disabled == "true":
        return False
    return settings.otel or disabled == "false"


__all__ = ["tracing_enabled"]
