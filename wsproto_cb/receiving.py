"""Autobahn's streaming receive API: the per-message and per-frame hooks, and their defaults.

A protocol that overrides any of ``onMessageBegin``, ``onMessageFrameBegin``,
``onMessageFrameData``, ``onMessageFrameEnd``, ``onMessageFrame`` or
``onMessageEnd`` is told of each message piece by piece; the defaults
reassemble the pieces (one :class:`~wsproto_cb.core.message_buffer.MessageBuffer`
per frame and per message) and call ``onMessage``, as Autobahn's do.  Each hook
may return an awaitable: the hooks of one received piece run in order, each
after the previous one's awaitable is done.  A protocol that overrides none
of them never reaches this module on its hot path
(:func:`uses_streaming_hooks`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .core.events import MessageData
from .core.message_buffer import MessageBuffer

if TYPE_CHECKING:
    from .contracts import ReceivingHost

    _Host = ReceivingHost
else:
    _Host = object

__all__ = ["STREAMING_HOOKS", "StreamingReceive", "uses_streaming_hooks"]

STREAMING_HOOKS = (
    "onMessageBegin",
    "onMessageFrameBegin",
    "onMessageFrameData",
    "onMessageFrameEnd",
    "onMessageFrame",
    "onMessageEnd",
)

_Step = tuple[Callable[..., object], tuple[object, ...]]


def uses_streaming_hooks(cls: type) -> bool:
    """Whether ``cls`` overrides any streaming receive hook."""
    return any(
        getattr(cls, name) is not getattr(StreamingReceive, name) for name in STREAMING_HOOKS
    )


class StreamingReceive(_Host):
    """The streaming receive hooks of a protocol (a base of ``WebSocketProtocol``).

    The protocol assembles fragmented messages in ``_msg_buffer`` too.
    """

    #: the message being assembled
    _msg_buffer: MessageBuffer | None
    #: the frame being assembled by the default hooks
    _frame_buffer: MessageBuffer | None
    #: whether the message being assembled is binary
    _msg_binary: bool

    def _init_receiving(self) -> None:
        self._msg_buffer = None
        self._frame_buffer = None
        self._msg_binary = False

    def onMessageBegin(self, isBinary: bool) -> Any:
        """A message starts (streaming receive; the default starts assembling it)."""
        self._msg_binary = isBinary
        self._msg_buffer = MessageBuffer()

    def onMessageFrameBegin(self, length: int) -> Any:
        """A frame of the message starts; ``length`` is its payload length from the header."""
        self._frame_buffer = MessageBuffer()

    def onMessageFrameData(self, payload: bytes) -> Any:
        """Payload of the current frame, as it arrives (a frame may come in several pieces)."""
        if self._frame_buffer is not None:
            self._frame_buffer.append(payload)

    def onMessageFrameEnd(self) -> Any:
        """The current frame ended; the default hands its data to :meth:`onMessageFrame`."""
        buffer, self._frame_buffer = self._frame_buffer, None
        data = buffer.take() if buffer is not None else b""
        # a list of chunks, as in Autobahn; here at most one
        return self.onMessageFrame([data] if data else [])

    def onMessageFrame(self, payload: list[bytes]) -> Any:
        """A whole frame's payload, as a list of chunks (the default adds it to the message)."""
        buffer = self._msg_buffer
        if buffer is not None:
            for chunk in payload:
                buffer.append(chunk)

    def onMessageEnd(self) -> Any:
        """The message ended; the default calls :meth:`onMessage` with the whole payload."""
        buffer, self._msg_buffer = self._msg_buffer, None
        payload = buffer.take() if buffer is not None else b""
        result = self.onMessage(payload, self._msg_binary)
        if self._listeners:
            self.fire("message", payload, is_binary=self._msg_binary)
        return result

    def _streaming_dispatch(self, ev: MessageData) -> None:
        # Each hook may be async; the chain for one event must run in order,
        # so the remaining hooks are queued and run one by one.
        steps: list[_Step] = []
        if ev.message_start:
            steps.append((self.onMessageBegin, (ev.is_binary,)))
        if ev.frame_start:
            steps.append((self.onMessageFrameBegin, (ev.frame_length,)))
        if ev.data:
            steps.append((self.onMessageFrameData, (ev.data,)))
        if ev.frame_end:
            steps.append((self.onMessageFrameEnd, ()))
        if ev.message_end:
            steps.append((self.onMessageEnd, ()))
        self._run_steps(steps)

    def _run_steps(self, steps: list[_Step]) -> None:
        # Each step runs from the previous one's on_result: at once when it
        # returned a plain value, when its awaitable is done otherwise.  (A
        # loop here would run the rest while an earlier step is still awaited.)
        if steps:
            fn, args = steps.pop(0)
            self._invoke(fn, args, on_result=lambda _r: self._run_steps(steps))
