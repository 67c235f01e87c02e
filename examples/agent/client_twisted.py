"""The client agent on Twisted: no subclass, a Deferred of an open connection.

    python examples/agent/client_twisted.py ws://127.0.0.1:9000
"""

import sys

from twisted.internet import defer, task

from wsproto_cb.twisted.agent import create_client_agent


async def main(reactor, url):
    agent = create_client_agent(reactor)
    proto = await agent.open(url, {"headers": {"X-Demo": "1"}, "protocols": []})
    replies = defer.Deferred()
    proto.on("message", lambda payload, is_binary: replies.callback(payload))
    proto.sendMessage(b"Hello from the agent")
    print(f"echo: {(await replies).decode()}")
    proto.sendClose(code=1000, reason="bye")
    await proto.is_closed
    print("closed")


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000"
    task.react(lambda reactor: defer.ensureDeferred(main(reactor, url)))
