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


@pytest.mark.parametrize("wrong", ["neutral", "other runtime"])
@pytest.mark.asyncio_task
async def test_a_protocol_class_for_another_runtime_is_refused_clearly(runtime, wrong) -> None:
    """Not a silent hang: the connection is dropped and the error says what to subclass."""
    import asyncio

    from wsproto_cb import server

    from .harness import captured_errors

    other = "twisted" if runtime.name == "asyncio" else "asyncio"
    base = server.WebSocketServerProtocol if wrong == "neutral" else None
    if base is None:
        import importlib

        base = importlib.import_module(f"wsproto_cb.{other}").WebSocketServerProtocol
    factory = runtime.server_factory(Echo)
    factory.protocol = type("Misplaced", (Echo, base), {})
    with captured_errors() as errors:
        port = await runtime.listen(factory)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no answer
        writer.close()
    expected = f"subclass wsproto_cb.{runtime.name}.WebSocketServerProtocol"
    assert any(expected in error.message for error in errors), errors


@pytest.mark.parametrize("name", ["asyncio", "twisted"])
def test_the_class_check_is_redone_when_the_protocol_class_changes(name) -> None:
    """The verdict on ``factory.protocol`` is kept between connections, but a
    class set later, made for another runtime, is still refused."""
    import importlib

    from .harness import captured_errors

    here = importlib.import_module(f"wsproto_cb.{name}")
    other = importlib.import_module(
        "wsproto_cb.twisted" if name == "asyncio" else "wsproto_cb.asyncio"
    )
    factory = here.WebSocketServerFactory()

    def make() -> object:
        return factory() if name == "asyncio" else factory.buildProtocol(None)

    factory.protocol = type("Right", (Echo, here.WebSocketServerProtocol), {})
    first, second = make(), make()
    assert type(first) is type(second) is factory.protocol and first is not second
    assert first.factory is factory
    factory.protocol = type("Misplaced", (Echo, other.WebSocketServerProtocol), {})
    with captured_errors() as errors:
        if name == "asyncio":
            with pytest.raises(TypeError, match=f"subclass wsproto_cb.{name}"):
                make()
        else:
            assert make() is None
    assert any(f"subclass wsproto_cb.{name}" in error.message for error in errors), errors
