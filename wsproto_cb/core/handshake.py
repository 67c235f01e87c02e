"""The RFC 6455 opening handshake, both sides, sans I/O.

One import point for the handshake API.  The pieces live in
:mod:`.http` (HTTP heads: parser, values, writer, keys),
:mod:`.handshake_server` and :mod:`.handshake_client`.
"""

from __future__ import annotations

from .handshake_client import ClientHandshake, validate_response
from .handshake_server import SUPPORTED_VERSION, ServerHandshake, validate_request
from .headers import Headers
from .http import (
    WEBSOCKET_GUID,
    HandshakeRequest,
    HandshakeResponse,
    HttpHeadReader,
    accept_key,
    generate_key,
)

__all__ = [
    "SUPPORTED_VERSION",
    "WEBSOCKET_GUID",
    "ClientHandshake",
    "HandshakeRequest",
    "HandshakeResponse",
    "Headers",
    "HttpHeadReader",
    "ServerHandshake",
    "accept_key",
    "generate_key",
    "validate_request",
    "validate_response",
]
