"""A producer registered on a connection (``registerProducer``), driven by its transport.

Twisted's producer contract, kept for Autobahn programs that stream into a
connection: a streaming (push) producer is paused when the transport's
write buffer fills and resumed when it drains; a pull producer is asked for
more (``resumeProducing``) on the next loop turn after each frame it sent,
unless the buffer is full, and again when it drains.  Either is stopped
when the connection is lost.  The protocol makes a :class:`ProducerLink`
only when a producer registers, so connections without one pay nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from .contracts import ProducerOwner, PullProducer, PushProducer

__all__ = ["ProducerLink"]


class ProducerLink:
    """One registered producer and what it needs to know of its transport."""

    __slots__ = ("_owner", "_pull_pending", "_write_paused", "producer", "streaming")

    def __init__(
        self, owner: ProducerOwner, producer: PullProducer, streaming: bool, write_paused: bool
    ) -> None:
        self._owner = owner
        self.producer: PullProducer | None = producer
        self.streaming = streaming
        self._write_paused = write_paused
        self._pull_pending = False
        if not streaming:
            self._schedule_pull()
        elif write_paused:
            cast("PushProducer", producer).pauseProducing()

    def forget(self) -> None:
        """``unregisterProducer``: a pull already scheduled does nothing."""
        self.producer = None

    def writing_paused(self) -> None:
        """The transport's write buffer is full."""
        self._write_paused = True
        if self.producer is not None and self.streaming:
            cast("PushProducer", self.producer).pauseProducing()

    def writing_resumed(self) -> None:
        """The transport's write buffer drained."""
        self._write_paused = False
        if self.producer is not None:
            if self.streaming:
                cast("PushProducer", self.producer).resumeProducing()
            else:
                self._schedule_pull()

    def frame_written(self) -> None:
        """The producer sent a frame: a pull producer is asked for the next."""
        if self.producer is not None and not self.streaming:
            self._schedule_pull()

    def stop(self) -> None:
        """The connection is lost: stop the producer, as a transport would."""
        producer, self.producer = self.producer, None
        if producer is not None:
            try:
                producer.stopProducing()
            except Exception as exc:
                self._owner._rt.log_error("error in the producer's stopProducing", exc)

    def _schedule_pull(self) -> None:
        if self._pull_pending or self._write_paused:
            return
        self._pull_pending = True
        self._owner._rt.call_later(0, self._pull)

    def _pull(self) -> None:
        self._pull_pending = False
        owner = self._owner
        if self.producer is not None and not self._write_paused and owner.state == owner.STATE_OPEN:
            self.producer.resumeProducing()
