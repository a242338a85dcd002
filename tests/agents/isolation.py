"""Is this process in a network namespace with only loopback? The runner asks before it
starts anything, and refuses to start an agent when the answer is no.

The kernel is asked about the namespace this process is in: ``socket.if_nameindex()`` lists
its interfaces and ``/proc/self/net/route`` and ``ipv6_route`` its routes. ``/sys/class/net``
is no witness: it shows the namespace of whoever mounted ``/sys``, so under ``unshare -n`` it
still lists the host's interfaces.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

PROC_NET = Path("/proc/self/net")


def bring_up_loopback() -> None:
    """``ip link set lo up``: a new namespace's loopback starts down."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)


def why_not_isolated(interfaces: list[str] | None = None, proc_net: Path = PROC_NET) -> str | None:
    """None when only ``lo`` exists and every route goes through it, else what was found.
    ``interfaces`` and ``proc_net`` default to this process's own."""
    names = [name for _, name in socket.if_nameindex()] if interfaces is None else interfaces
    others = sorted(name for name in names if name != "lo")
    if others:
        return f"network interfaces other than lo: {', '.join(others)}"
    routes = _route_devices(proc_net / "route", skip_header=True, device_column=0)
    routes += _route_devices(proc_net / "ipv6_route", skip_header=False, device_column=-1)
    leaving = sorted({device for device in routes if device != "lo"})
    if leaving:
        return f"routes through {', '.join(leaving)}"
    return None


def _route_devices(path: Path, *, skip_header: bool, device_column: int) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()[1 if skip_header else 0 :]
    return [line.split()[device_column] for line in lines if line.strip()]


__all__ = ["bring_up_loopback", "why_not_isolated"]
