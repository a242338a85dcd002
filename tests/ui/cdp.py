"""A small headless-Chromium driver over the Chrome DevTools Protocol (a websocket), enough to
drive the dashboard like a user: navigate, evaluate JavaScript, wait, take screenshots.

Chromium comes from Debian's packages (``/usr/bin/chromium``). Missing: the test is skipped on
a developer's machine and fails in CI (``CI=true``), where ``.ci/browser.sh`` installs it.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.services import missing

CHROMIUM = os.environ.get("SWITCHYARD_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,900",
    "--remote-debugging-port=0",
]


def chromium_or_skip() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if os.access(CHROMIUM, os.X_OK) else None)
    if found is None:
        missing(f"no Chromium at {CHROMIUM}: run `bash .ci/browser.sh` (apt-get install chromium)")
    return found


class Browser:
    """One Chromium process with a fresh profile and one page (a flattened CDP session)."""

    def __init__(self, executable: str) -> None:
        self._profile = tempfile.mkdtemp(prefix="switchyard-chromium-")
        self._process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._exit = ExitStack()
        self._socket: ClientConnection = self._exit.enter_context(
            connect(self._browser_url(), max_size=64 * 1024 * 1024)
        )
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self._session: str | None = attached["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    def _browser_url(self) -> str:
        """Chromium writes its port and browser path into the profile once it listens."""
        active = Path(self._profile, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._process.returncode}")
            if active.exists():
                lines = active.read_text().split()
                if len(lines) >= 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port")

    def _call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send(method, params, None)

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._send(method, params, self._session)

    def _send(self, method: str, params: dict[str, Any] | None, session: str | None) -> Any:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        self._socket.send(json.dumps(message))
        while True:  # events arrive in between: skip them
            reply = json.loads(self._socket.recv(timeout=30))
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.evaluate(expression)
            except RuntimeError as exc:  # the page is being replaced by a navigation
                value, problem = None, str(exc)[:300]
            else:
                problem = repr(value)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for: {expression} (last: {problem})")
            time.sleep(0.1)

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})
        self.wait_for(f"location.href === {json.dumps(url)} && document.readyState === 'complete'")

    def path(self) -> str:
        return str(self.evaluate("location.pathname"))

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        try:
            self._exit.close()
        finally:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            shutil.rmtree(self._profile, ignore_errors=True)


__all__ = ["Browser", "chromium_or_skip"]
