"""The client agent on asyncio: ``await agent.open(url, options)``, then ``on("message")``.

    python examples/agent/client_asyncio.py ws://127.0.0.1:9000
"""

import asyncio
import sys

from wsproto_cb.asyncio.agent import create_client_agent


async def main(url):
    agent = create_client_agent()
    proto = await agent.open(url, {"headers": {"X-Demo": "1"}, "protocols": []})
    replies = asyncio.Queue()
    proto.on("message", lambda payload, is_binary: replies.put_nowait(payload))
    proto.sendMessage(b"Hello from the agent")
    print(f"echo: {(await replies.get()).decode()}")
    proto.sendClose(code=1000, reason="bye")
    await proto.is_closed
    print("closed")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:9000"))
