"""Sending from other threads: worker threads push readings to every client.

    python examples/threads/server.py [--runtime asyncio|twisted] [--port 9000]

Each worker thread (standing in for a device reader or a job pool) calls
``factory.broadcastThreadsafe(...)``, and answers the client that asked with
``proto.sendMessageThreadsafe(...)``: no lock, no loop reference, the same
calls on both runtimes.  Try ``wsproto-cb connect ws://127.0.0.1:9000``.
"""

import argparse
import importlib
import queue
import threading
import time

WORKERS = 3
READINGS = 5


def worker(n, factory, requests):
    for i in range(READINGS):
        factory.broadcastThreadsafe(f"worker {n}: reading {i}".encode())
        time.sleep(0.05)
    while True:  # then answer requests handed over by the loop
        proto, text = requests.get()
        proto.sendMessageThreadsafe(f"worker {n} did {text.upper()}".encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runtime", choices=["asyncio", "twisted"], default="asyncio")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    ws = importlib.import_module(f"wsproto_cb.{args.runtime}")
    requests = queue.Queue()

    class Readings(ws.WebSocketServerProtocol):
        def onOpen(self):
            if not self.factory.started:  # the first client starts the workers
                self.factory.started = True
                for n in range(WORKERS):
                    threading.Thread(
                        target=worker, args=(n, self.factory, requests), daemon=True
                    ).start()

        def onMessage(self, payload, isBinary):
            requests.put((self, payload.decode()))  # work off the loop

    factory = ws.WebSocketServerFactory(f"ws://127.0.0.1:{args.port}")
    factory.protocol = Readings
    factory.started = False
    print(f"listening on ws://127.0.0.1:{args.port} ({args.runtime})", flush=True)
    if args.runtime == "asyncio":
        import asyncio

        async def serve():
            server = await asyncio.get_running_loop().create_server(
                factory, "127.0.0.1", args.port
            )
            async with server:
                await server.serve_forever()

        asyncio.run(serve())
    else:
        from twisted.internet import reactor

        reactor.listenTCP(args.port, factory, interface="127.0.0.1")
        reactor.run()


if __name__ == "__main__":
    main()
