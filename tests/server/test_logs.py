"""The served gateway's log handler: batched, in order, nothing pending lost at close."""

from __future__ import annotations

import io
import logging

import orjson

from switchyard.records.sinks import current_request_id
from switchyard.server.logs import BatchingHandler, JsonFormatter, configure_logging


def test_lines_keep_their_order_and_format_and_close_writes_the_rest() -> None:
    out = io.StringIO()
    handler = BatchingHandler(out, interval=60)  # no timed flush: only close() writes
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.start()
    log = logging.getLogger("switchyard.test-logs")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel("INFO")
    log.warning("first")
    handler.defer("switchyard.requests", lambda n: f"request {n}", 7)
    log.info("third")
    assert out.getvalue() == ""  # nothing written on the caller's path
    handler.close()
    lines = out.getvalue().splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "WARNING switchyard.test-logs: first",
        "INFO switchyard.requests: request 7",
        "INFO switchyard.test-logs: third",
    ]
    # a deferred line has the formatter's timestamp layout: "YYYY-MM-DD HH:MM:SS,mmm"
    assert len(lines[1].split(" ", 2)[1]) == len("12:00:00,000")


def test_a_full_backlog_drops_and_says_how_many() -> None:
    out = io.StringIO()
    handler = BatchingHandler(out, interval=60, max_pending=2)
    for n in range(5):
        handler.defer("x", str, n)
    handler.close()
    assert out.getvalue().splitlines()[-1].endswith("3 log lines dropped (backlog full)")


def test_configure_logging_sets_levels_and_one_handler() -> None:
    out = io.StringIO()
    handler = configure_logging("info", out)
    try:
        assert logging.getLogger("switchyard").handlers == [handler]
        assert logging.getLogger("uvicorn.error").level == logging.WARNING
        logging.getLogger("switchyard.requests").info("hello")
    finally:
        handler.close()
        for name in ("switchyard", "uvicorn.error"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
            logging.getLogger(name).setLevel(logging.NOTSET)
    assert out.getvalue().rstrip().endswith("INFO switchyard.requests: hello")


def test_json_lines_carry_the_request_id_the_fields_and_the_traceback() -> None:
    out = io.StringIO()
    handler = BatchingHandler(out, interval=60, structured=True)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("switchyard.test-json-logs")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel("INFO")
    token = current_request_id.set("req-9")
    try:
        log.warning("upstream said %s", "no")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        current_request_id.reset(token)
    log.info("between requests")
    handler.defer("switchyard.requests", lambda n: {"request_id": f"r-{n}", "status": "ok"}, 3)
    handler.close()
    first, failed, between, request = (orjson.loads(x) for x in out.getvalue().splitlines())
    assert first["message"] == "upstream said no" and first["level"] == "WARNING"
    assert first["request_id"] == "req-9" and first["trace_id"] is None
    assert failed["request_id"] == "req-9" and "ValueError: boom" in failed["exception"]
    assert between["request_id"] is None
    assert request == {
        "time": request["time"],
        "level": "INFO",
        "logger": "switchyard.requests",
        "message": "request",
        "request_id": "r-3",
        "trace_id": None,
        "status": "ok",
    }
    assert request["time"].endswith("Z") and "T" in request["time"]
