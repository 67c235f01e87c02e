"""``self.log`` for protocol classes: txaio's logger methods over the stdlib ``logging``.

Autobahn programs log with ``self.log.info("got {n} bytes", n=len(payload))``
(txaio's loggers take a ``str.format`` template and keyword arguments) and
``self.log.failure(...)`` inside ``except``.  On asyncio this writes to
the stdlib logger named after the protocol class; the Twisted classes use
``twisted.logger.Logger`` instead, which has the same methods.  The
template is formatted only when the level is enabled.
"""

from __future__ import annotations

import logging
import sys
import weakref
from typing import Any

__all__ = ["FormatLogger"]

_TRACE = 5  # below DEBUG, as txaio's "trace"

#: the logger of each class that has used ``self.log`` (kept here, not on the
#: user's class; a class that goes away takes its entry along)
_class_loggers: weakref.WeakKeyDictionary[type, FormatLogger] = weakref.WeakKeyDictionary()


class _FailureView:
    """What ``{log_failure.value}`` in a template refers to."""

    def __init__(self, value: BaseException | None) -> None:
        self.value = value

    def __str__(self) -> str:
        return repr(self.value)


class FormatLogger:
    """A txaio-style logger; as a class attribute, it logs under the class's name."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._logger = logger

    def __get__(self, instance: Any, owner: type) -> FormatLogger:
        if self._logger is not None:
            return self
        # one logger per class, made on first use
        cache = _class_loggers.get(owner)
        if cache is None:
            cache = FormatLogger(logging.getLogger(f"{owner.__module__}.{owner.__qualname__}"))
            _class_loggers[owner] = cache
        return cache

    @property
    def logger(self) -> logging.Logger:
        """The standard-library logger the messages go to."""
        return self._logger or logging.getLogger("wsproto_cb")

    def emit(self, level: int, message: str | None, **kwargs: Any) -> None:
        """Log ``message`` at ``level``, formatted with ``kwargs`` (``{name}`` style, as txaio)."""
        logger = self.logger
        if not logger.isEnabledFor(level):
            return
        exc_info = kwargs.pop("_exc_info", None)
        text = message or ""
        if kwargs:
            try:
                text = text.format(**kwargs)
            except (KeyError, IndexError, AttributeError, ValueError):
                text = f"{text} {kwargs!r}"
        logger.log(level, "%s", text, exc_info=exc_info)

    def critical(self, message: str | None = None, **kwargs: Any) -> None:
        """Log at CRITICAL."""
        self.emit(logging.CRITICAL, message, **kwargs)

    def error(self, message: str | None = None, **kwargs: Any) -> None:
        """Log at ERROR."""
        self.emit(logging.ERROR, message, **kwargs)

    def warn(self, message: str | None = None, **kwargs: Any) -> None:
        """Log at WARNING (also ``warning``)."""
        self.emit(logging.WARNING, message, **kwargs)

    warning = warn

    def info(self, message: str | None = None, **kwargs: Any) -> None:
        """Log at INFO."""
        self.emit(logging.INFO, message, **kwargs)

    def debug(self, message: str | None = None, **kwargs: Any) -> None:
        """Log at DEBUG."""
        self.emit(logging.DEBUG, message, **kwargs)

    def trace(self, message: str | None = None, **kwargs: Any) -> None:
        """Log below DEBUG (txaio's trace level)."""
        self.emit(_TRACE, message, **kwargs)

    def failure(
        self,
        message: str | None = None,
        failure: Any = None,
        level: str = "critical",
        **kwargs: Any,
    ) -> None:
        """Log the exception being handled (or ``failure``) with its traceback."""
        value = getattr(failure, "value", failure)
        if value is None:
            value = sys.exc_info()[1]
        kwargs.setdefault("log_failure", _FailureView(value))
        if value is not None:
            kwargs["_exc_info"] = (type(value), value, value.__traceback__)
        levels = {"critical": logging.CRITICAL, "error": logging.ERROR, "warn": logging.WARNING}
        self.emit(levels.get(level, logging.CRITICAL), message or "Unhandled error", **kwargs)
