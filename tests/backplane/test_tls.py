"""``rediss://``: the backplane over TLS to a real redis-server (``--tls-port``)
with a private CA, on an asyncio and a Twisted node together; a wrong CA or
host name is refused with a clear reason while the node serves its members."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from runtime.harness import TLSFiles

from .cluster import Client, nodes, wait_subscribed
from .redisproc import RedisServer, free_port, redis_server_path


class TLSRedis:
    """A redis-server with a TLS port (certificate for ``localhost``) beside its plain one."""

    def __init__(self, directory: str) -> None:
        self.files = TLSFiles.create(directory)
        self.other_ca = TLSFiles.create(tempfile.mkdtemp(dir=directory))
        self.tls_port = free_port()
        self.server = RedisServer(
            [
                "--tls-port", str(self.tls_port),
                "--tls-cert-file", self.files.cert_file,
                "--tls-key-file", self.files.key_file,
                "--tls-ca-cert-file", self.files.cert_file,
                "--tls-auth-clients", "no",
            ]
        )  # fmt: skip

    def url(self, host: str = "localhost", ca: str | None = None) -> str:
        return f"rediss://{host}:{self.tls_port}/0?ssl_ca_certs={ca or self.files.cert_file}"


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[TLSRedis]:
    pytest.importorskip("cryptography")
    if redis_server_path() is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    try:
        redis = TLSRedis(str(tmp_path))
    except RuntimeError as exc:  # (a build without TLS refuses --tls-port)
        pytest.skip(f"this redis-server has no TLS: {exc}")
    try:
        yield redis
    finally:
        redis.server.close()


def test_asyncio_and_twisted_nodes_broadcast_to_each_other_over_tls(
    tls_redis: TLSRedis, clients: list[Client]
) -> None:
    with nodes(tls_redis.url(), ["asyncio", "twisted"]) as started:
        members = [Client(node) for node in started]
        clients.extend(members)
        for member in members:
            member.command("join", group="tls")
        wait_subscribed(tls_redis.server, "wsproto_cb:g:tls", 2)
        for sender, receiver in ((members[0], members[1]), (members[1], members[0])):
            sender.command("broadcast", payload=f"from {sender.node.runtime}", group="tls")
            assert receiver.receive(1) == [(False, f"from {sender.node.runtime}")]
            assert sender.receive(1) == [(False, f"from {sender.node.runtime}")]
        assert all(member.command("stats")["state"] == "up" for member in members)
        assert not any(node.events("lost") for node in started)


@pytest.mark.parametrize("runtime", ["asyncio", "twisted"])
@pytest.mark.parametrize("wrong", ["ca", "host"])
def test_a_wrong_ca_or_host_name_is_refused_and_the_node_serves_its_members(
    tls_redis: TLSRedis, clients: list[Client], runtime: str, wrong: str
) -> None:
    url = (
        tls_redis.url(ca=tls_redis.other_ca.cert_file)
        if wrong == "ca"
        else tls_redis.url(host="127.0.0.1")  # (the certificate is for localhost)
    )
    with nodes(url, [runtime]) as (node,):
        line = node.proc.wait_for(r"^EVENT lost .*").group(0)
        assert "certificate" in line.lower() or "verify" in line.lower(), line
        member = Client(node)
        clients.append(member)
        member.command("join", group="local")
        member.command("broadcast", payload="still here", group="local")
        assert member.receive(1) == [(False, "still here")]
        assert member.command("stats")["state"] == "down"
