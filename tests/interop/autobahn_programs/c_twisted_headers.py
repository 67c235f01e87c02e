"""Client on Twisted sending its own headers and reading the server's."""
import sys

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol, connectWS
from twisted.internet import reactor


class MyClientProtocol(WebSocketClientProtocol):
    def onConnect(self, response):
        print("OUT: server header: {0}".format(response.headers.get("x-server")))

    def onMessage(self, payload, isBinary):
        print("OUT: server saw: {0}".format(payload.decode("utf8")))
        self.sendClose(1000)

    def onClose(self, wasClean, code, reason):
        print(f"OUT: closed: {wasClean} {code}")
        reactor.stop()


if __name__ == "__main__":
    factory = WebSocketClientFactory(
        f"ws://127.0.0.1:{int(sys.argv[1])}/headers",
        headers={"X-Client": "client-value"},
        origin="https://client.example",
        useragent="ProgramUnderTest/1.0",
    )
    factory.protocol = MyClientProtocol
    connectWS(factory)
    reactor.run()
