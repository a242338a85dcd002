"""The image's run-time conditions, emulated without a container engine: `switchyard serve` on
the embedded defaults (the local models) as the Dockerfile's USER, on a read-only root
filesystem with only /tmp writable (tmpfs), as the chart's securityContext and compose's
read_only set it. A private mount namespace (``unshare``, which needs root) gives the
read-only root; ``setpriv`` drops to the uid. Then a chat and an embedding are answered, and
SIGTERM ends the server with status 0."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.deploy.dockerfile import parse
from tests.deploy.files import DOCKERFILE, ROOT
from tests.e2e.served_process import free_port, wait_until_answering

MASTER_KEY = "sk-runtime-test"


def _tools() -> None:
    missing = [tool for tool in ("unshare", "setpriv") if shutil.which(tool) is None]
    reason = f"needs root and {', '.join(missing) or 'unshare'}" if missing else None
    if reason is None and os.geteuid() != 0:
        reason = "needs root (a mount namespace with a read-only root)"
    if reason is not None:
        missing(reason)


def reachable(paths: list[Path]) -> str:
    """Shell lines (run as root in the namespace) that let any user reach ``paths``: a
    directory on the way that others may not enter (``/root``, where pyenv keeps this
    interpreter) is covered by a world-enterable tmpfs, and the paths' subtrees are bound back
    into it. In the image the interpreter is /usr/local/bin/python: nothing to do there."""
    blocked: dict[Path, set[Path]] = {}
    for path in paths:
        for parent in reversed(path.parents):
            if not parent.stat().st_mode & stat.S_IXOTH:
                blocked.setdefault(parent, set()).add(parent / path.relative_to(parent).parts[0])
                break
    if not blocked:
        return ""
    lines = ["mount -t tmpfs tmpfs /mnt"]
    kept = [(child, f"/mnt/{i}") for i, child in enumerate(sorted(set().union(*blocked.values())))]
    for child, keep in kept:
        lines.append(f"mkdir {keep} && mount --bind {shlex.quote(str(child))} {keep}")
    for parent in blocked:
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs {shlex.quote(str(parent))}")
    for child, keep in kept:
        lines.append(
            f"mkdir -p {shlex.quote(str(child))} && mount --bind {keep} {shlex.quote(str(child))}"
        )
    return "\n".join(lines)


def kept_under_tmp(paths: list[Path]) -> tuple[str, str]:
    """Shell lines before and after the fresh tmpfs on /tmp that keep ``paths`` found under
    /tmp (a checkout or virtualenv there, as in a CI clone) where they were: bound to a
    staging tmpfs first, then bound back into the new /tmp."""
    tmp = Path("/tmp")
    under = sorted({p for p in paths if tmp in p.parents})
    under = [p for p in under if not any(q in p.parents for q in under)]  # outermost only
    if not under:
        return "", ""
    before = ["mkdir -p /run/switchyard-keep", "mount -t tmpfs tmpfs /run/switchyard-keep"]
    after = []
    for i, path in enumerate(under):
        keep = f"/run/switchyard-keep/{i}"
        before.append(f"mkdir {keep} && mount --bind {shlex.quote(str(path))} {keep}")
        after.append(
            f"mkdir -p {shlex.quote(str(path))} && mount --bind {keep} {shlex.quote(str(path))}"
        )
    return "\n".join(before), "\n".join(after)


@pytest.mark.local_model
def test_serves_on_a_read_only_root_as_the_images_user() -> None:
    _tools()
    (user,) = parse(DOCKERFILE).stage("runtime").all("USER")
    uid, _, gid = user.text.partition(":")
    port = free_port()
    serve = [sys.executable, "-m", "switchyard", "serve", "--host", "127.0.0.1"]
    python = [Path(sys.base_prefix), Path(sys.prefix), ROOT / "src"]
    stage, restore = kept_under_tmp([Path(sys.prefix).resolve(), ROOT.resolve()])
    script = f"""
set -e
{reachable(python)}
{stage}
mount -o remount,bind,ro /
mount -t tmpfs -o mode=1777 tmpfs /tmp
{restore}
mkdir /tmp/work && chown {uid}:{gid} /tmp/work && cd /tmp/work
exec setpriv --reuid {uid} --regid {gid} --clear-groups {shlex.join(serve)}
"""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": "/tmp/work",
        "SWITCHYARD_MASTER_KEY": MASTER_KEY,
        "SWITCHYARD_SERVER__PORT": str(port),
        "SWITCHYARD_CONFIG": "",
    }
    process = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {MASTER_KEY}"}
    try:
        wait_until_answering(process, f"{url}/readyz", seconds=30, interval=0.1)
        status = Path(f"/proc/{process.pid}/status").read_text()
        assert f"\nUid:\t{uid}\t" in status, "the server does not run as the image's user"
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        assert f"{sys.base_prefix}/lib/python3" in maps, "the interpreter's own standard library"
        mounts = Path(f"/proc/{process.pid}/mountinfo").read_text().splitlines()
        (root,) = [line.split() for line in mounts if line.split()[4] == "/"]
        assert "ro" in root[5].split(","), "the root filesystem is writable"
        chat = httpx.post(
            f"{url}/v1/chat/completions",
            headers=auth,
            json={
                "model": "local",
                "max_tokens": 4,
                "messages": [{"role": "user", "content": "Hi"}],
            },
            timeout=60,
        )
        assert chat.status_code == 200, chat.text
        assert chat.json()["choices"][0]["message"]["content"]
        embedding = httpx.post(
            f"{url}/v1/embeddings", headers=auth, json={"model": "local-embed", "input": ["hi"]}
        )
        assert embedding.status_code == 200, embedding.text
        assert len(embedding.json()["data"][0]["embedding"]) == 384
        process.terminate()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
