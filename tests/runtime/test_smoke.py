from __future__ import annotations

import pytest

from .harness import future


class Echo:
    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


@pytest.mark.asyncio_task
async def test_echo_roundtrip(runtime) -> None:
    port = await runtime.listen(runtime.server_factory(Echo))
    got = future()

    class Client:
        def onOpen(self) -> None:
            self.sendMessage(b"hello")

        def onMessage(self, payload: bytes, isBinary: bool) -> None:
            got.set_result((payload, isBinary))
            self.sendClose(1000)

    proto = await runtime.connect(runtime.client_factory(Client), port)
    assert await runtime.wait(got) == (b"hello", False)
    await runtime.wait(proto.is_closed)
    assert proto.wasClean
