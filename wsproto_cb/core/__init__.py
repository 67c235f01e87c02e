"""The sans-I/O WebSocket protocol core: bytes in, events out; calls in, bytes out.

Nothing here imports asyncio or Twisted or touches a socket (a test checks
this), so every protocol rule can be tested with bytes alone.
"""
