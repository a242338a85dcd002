"""`switchyard serve --ssl-certfile/--ssl-keyfile`: HTTPS with a certificate the test made,
trusted by the client through its own authority (and by nobody else)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from tests.e2e.served_process import serve_process
from tests.fakes.certificates import make_certificates

SERVED = """
server: {host: 127.0.0.1, port: PORT, log_level: warning}
providers: {f: {type: fake, reply: "over tls"}}
models: [{name: smart, deployments: [{provider: f, model: m}]}]
"""
CHAT = {"model": "smart", "messages": [{"role": "user", "content": "x"}]}


@pytest.mark.parametrize("how", ["options", "config"])
def test_serve_answers_over_https_to_a_client_trusting_its_authority(
    tmp_path: Path, how: str
) -> None:
    certificates = make_certificates(tmp_path)
    cert, key = str(certificates.cert), str(certificates.key)
    config, args = SERVED, ["--ssl-certfile", cert, "--ssl-keyfile", key]
    if how == "config":
        config = SERVED.replace("log_level", f"ssl_certfile: {cert}, ssl_keyfile: {key}, log_level")
        args = []
    trusting = certificates.client_context()
    with serve_process(config, tmp_path, args=args, tls=trusting) as server:
        assert server.url.startswith("https://")
        with httpx.Client(base_url=server.url, verify=trusting) as client:
            reply = client.post("/v1/chat/completions", json=CHAT)
            assert reply.status_code == 200
            assert reply.json()["choices"][0]["message"]["content"] == "over tls"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{server.url}/healthz")  # the system's authorities do not know it
        with pytest.raises(httpx.TransportError):  # no plain HTTP on the HTTPS port
            httpx.get(server.url.replace("https://", "http://") + "/healthz")
        assert server.stop(timeout=30) == 0


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from switchyard.cli import app

    (tmp_path / "c.yaml").write_text(SERVED.replace("PORT", "1"))
    result = CliRunner().invoke(
        app, ["serve", "--config", str(tmp_path / "c.yaml"), "--ssl-certfile", "x.pem"]
    )
    assert result.exit_code == 2
    assert "HTTPS needs both --ssl-certfile and --ssl-keyfile" in result.output
