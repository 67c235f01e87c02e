"""The echo server as a twistd application file.

    twistd -ny examples/deploy/echo.tac          # foreground, log to stdout
    twistd -y examples/deploy/echo.tac           # daemon: twistd.pid, twistd.log

It listens on tcp:9000:interface=127.0.0.1 unless ECHO_LISTEN names another
Twisted endpoint (``ECHO_LISTEN=tcp:8000 twistd -ny ...``).  Stopping it
(``kill $(cat twistd.pid)``, Ctrl-C) closes every connection with 1001
first: the factory makes reactor shutdown wait for the closing handshakes.
"""

import os

from twisted.application import service, strports

from wsproto_cb.twisted import WebSocketServerFactory, WebSocketServerProtocol


class EchoServerProtocol(WebSocketServerProtocol):
    def onMessage(self, payload, isBinary):
        self.sendMessage(payload, isBinary)


listen = os.environ.get("ECHO_LISTEN", "tcp:9000:interface=127.0.0.1")

factory = WebSocketServerFactory()
factory.protocol = EchoServerProtocol

# twistd looks for a module-level name "application".
application = service.Application("wsproto_cb echo")
strports.service(listen, factory).setServiceParent(application)
