"""`switchyard serve --workers 2`: two processes on one port, one set of metrics across them."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import MmapedDict
from tests.e2e.served_process import free_port, serve_process

SERVED = """
server: {host: 127.0.0.1, port: PORT, log_level: warning}
providers: {f: {type: fake, reply: "hi", latency: 0.03}}
models: [{name: smart, deployments: [{provider: f, model: m}]}]
"""
CHAT = {"model": "smart", "messages": [{"role": "user", "content": "x"}]}
REQUESTS = 60


def _ask(url: str) -> int:
    # a connection of its own: the kernel hands each new one to either worker
    with httpx.Client(base_url=url, timeout=10) as client:
        return client.post("/v1/chat/completions", json=CHAT).status_code


def _requests_total(scraped: str) -> float:
    found = re.search(
        r'^llm_requests_total\{alias="smart",model="m",provider="f",status="success"\} (\S+)$',
        scraped,
        re.MULTILINE,
    )
    return float(found.group(1)) if found else 0.0


def _per_process(directory: Path) -> dict[str, float]:
    """llm_requests_total as each worker wrote it in its own file (counter_<pid>.db)."""
    counted = {}
    for path in directory.glob("counter_*.db"):
        values = MmapedDict.read_all_values_from_file(str(path))
        counted[path.stem] = sum(
            value for key, value, *_ in values if '"llm_requests_total"' in key
        )
    return counted


def test_two_workers_share_the_port_and_one_scrape_counts_every_request(
    tmp_path: Path,
) -> None:
    env = {"TMPDIR": str(tmp_path)}  # where serve makes its metrics directory
    with serve_process(SERVED, tmp_path, env=env, args=["--workers", "2"]) as server:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: _ask(server.url), range(REQUESTS)))
        assert statuses == [200] * REQUESTS
        (metrics_dir,) = tmp_path.glob("switchyard-metrics-*")
        per_process = _per_process(metrics_dir)
        served_by = [n for n in per_process.values() if n > 0]
        assert len(served_by) == 2, per_process  # both workers answered some
        assert sum(served_by) == REQUESTS
        for _ in range(6):  # whichever worker answers the scrape, it counts all of them
            with httpx.Client(base_url=server.url) as client:
                assert _requests_total(client.get("/metrics").text) == REQUESTS
        status = server.stop(timeout=30)
        stderr = server.process.stderr.read() if server.process.stderr else ""
    assert status == 0, stderr
    assert "server.workers is 2 and router.breaker_store.backend is memory" in stderr
    assert not list(tmp_path.glob("switchyard-metrics-*"))  # removed at exit


def test_a_burst_of_keep_alive_connections_is_spread_over_the_workers(tmp_path: Path) -> None:
    """As a load generator or a pooling client opens them: all at once, then kept. With one
    shared socket the first worker awake accepted nearly all (58 of 64 seen); each worker's own
    SO_REUSEPORT socket gets a fair share."""
    env = {"TMPDIR": str(tmp_path)}
    body = json.dumps(CHAT).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with serve_process(SERVED, tmp_path, env=env, args=["--workers", "2"]) as server:
        port = int(server.url.rsplit(":", 1)[1])
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(64)]
        try:
            for connection in connections:
                connection.sendall(request)
            for connection in connections:
                assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        finally:
            for connection in connections:
                connection.close()
        (metrics_dir,) = tmp_path.glob("switchyard-metrics-*")
        per_process = sorted(_per_process(metrics_dir).values())
        assert server.stop(timeout=30) == 0
    assert sum(per_process) == 64
    assert len(per_process) == 2 and per_process[0] >= 16, per_process


def test_per_process_limits_and_cache_are_named_in_a_warning(tmp_path: Path) -> None:
    config = SERVED.replace(
        "models:", "limits: {global: {rpm: 100}}\ncache: {backend: memory}\nmodels:"
    )
    with serve_process(config, tmp_path, args=["--workers", "2"]) as server:
        status = server.stop(timeout=30)
        stderr = server.process.stderr.read() if server.process.stderr else ""
    assert status == 0
    assert "limits.backend is memory: each worker counts rate limits" in stderr
    assert "cache.backend is memory: each worker caches its own answers" in stderr


def test_a_worker_that_cannot_start_stops_the_server_with_status_3(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    config = tmp_path / "switchyard.yaml"
    config.write_text(SERVED.replace("PORT", str(free_port())))
    bad = str(tmp_path / "bad.pem")
    done = subprocess.run(
        [sys.executable, "-m", "switchyard", "serve", "--config", str(config), "--workers",
         "2", "--ssl-certfile", bad, "--ssl-keyfile", bad],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "failed to start" in done.stderr


def test_a_non_loopback_address_without_a_master_key_is_refused_before_any_worker(
    tmp_path: Path,
) -> None:
    config = tmp_path / "switchyard.yaml"
    config.write_text(SERVED.replace("PORT", str(free_port())).replace("127.0.0.1", "0.0.0.0"))
    done = subprocess.run(
        [sys.executable, "-m", "switchyard", "serve", "--config", str(config), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 2
    assert "refusing to listen on 0.0.0.0" in done.stderr


def test_sigterm_mid_load_drains_every_worker_and_loses_no_usage_row(tmp_path: Path) -> None:
    """Three workers on a fresh SQLite file (migrated once, before they start)."""
    import asyncio
    import threading

    from tests.databases import read_usage

    url = f"sqlite+aiosqlite:///{tmp_path / 'usage.db'}"
    config = SERVED + f'storage: {{url: "{url}", flush_seconds: 5}}\n'
    answered: list[int] = []
    with serve_process(config, tmp_path, args=["--workers", "3"]) as server:
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                try:
                    answered.append(_ask(server.url))
                except httpx.TransportError:
                    return

        threads = [threading.Thread(target=load) for _ in range(6)]
        for thread in threads:
            thread.start()
        while len(answered) < 40:
            time.sleep(0.01)
        status = server.stop(timeout=30)
        stop.set()
        for thread in threads:
            thread.join()
    assert status == 0
    rows, _ = asyncio.run(read_usage(url))
    assert answered.count(200) >= 40
    assert len([r for r in rows if r["status"] == "success"]) == answered.count(200)


def _workers(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    found = set()
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"multiprocessing" in command and b"resource_tracker" not in command:
            found.add(int(child))
    return found


def test_a_worker_killed_while_serving_is_replaced_and_its_counts_are_kept(
    tmp_path: Path,
) -> None:
    import os
    import signal

    with serve_process(SERVED, tmp_path, args=["--workers", "2"]) as server:
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(lambda _: _ask(server.url), range(20))) == {200}
        before = _workers(server.process.pid)
        assert len(before) == 2
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while True:  # a replacement starts and serves
            now = _workers(server.process.pid)
            if len(now) == 2 and victim not in now and _ask(server.url) == 200:
                break
            assert time.monotonic() < deadline, f"no replacement: {now}"
            time.sleep(0.2)
        with ThreadPoolExecutor(4) as pool:
            assert set(pool.map(lambda _: _ask(server.url), range(10))) == {200}
        with httpx.Client(base_url=server.url) as client:
            # the killed worker's requests still count: its file stays in the directory
            assert _requests_total(client.get("/metrics").text) == 20 + 1 + 10
        assert server.stop(timeout=30) == 0
        stderr = server.process.stderr.read() if server.process.stderr else ""
    assert f"worker {victim} died (exit status -9): starting another" in stderr


def test_workers_stop_when_their_supervisor_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL to `serve` (it cannot pass SIGTERM on): its workers do not serve on unsupervised."""
    with serve_process(SERVED, tmp_path, args=["--workers", "2"]) as server:
        supervisor = server.process.pid
        children = Path(f"/proc/{supervisor}/task/{supervisor}/children")
        workers = [int(pid) for pid in children.read_text().split()]
        assert workers
        server.process.kill()
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(Path(f"/proc/{pid}").exists() for pid in workers):
            assert time.monotonic() < deadline, f"workers {workers} outlived their supervisor"
            time.sleep(0.1)
