"""What prometheus-client's multiprocess mode (``serve --workers N``) costs per request:
``Metrics.emit`` of one typical record (a plain chat answered by a configured deployment, with
usage), in memory and with ``PROMETHEUS_MULTIPROC_DIR`` set (every value written to a
memory-mapped file). Each mode runs in a fresh interpreter: prometheus-client picks its value
class at import.

    .venv/bin/python bench/metrics_emit.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

EMITS = 20_000
ROUNDS = 5


def measure() -> float:
    """Microseconds per emit, the best of :data:`ROUNDS` rounds."""
    from switchyard.records.metrics import Metrics
    from switchyard.records.record import RequestRecord
    from switchyard.types import Principal
    from switchyard.types.usage import Usage

    metrics = Metrics(aliases=["smart"], deployments=[("up", "m")], providers=["up"])
    record = RequestRecord(
        principal=Principal("r"), kind="chat", alias="smart", started_at=time.time(), started=0.0
    )
    record.provider, record.model = "up", "m"
    record.usage = Usage(input_tokens=3, output_tokens=5)
    record.latency_ms, record.upstream_ms = 2.0, 1.5
    metrics.emit(record)  # every labelled child made
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(EMITS):
            metrics.emit(record)
        best = min(best, time.perf_counter() - started)
    return best / EMITS * 1e6


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(f"{measure():.2f}")
        return
    with tempfile.TemporaryDirectory(prefix="switchyard-bench-metrics-") as directory:
        for mode, extra in (
            ("in memory", {}),
            ("multiprocess", {"PROMETHEUS_MULTIPROC_DIR": directory}),
        ):
            env = {**os.environ, **extra}
            out = subprocess.run(
                [sys.executable, __file__, "--one"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            print(f"{mode}: {out.stdout.strip()} µs per Metrics.emit")


if __name__ == "__main__":
    main()
