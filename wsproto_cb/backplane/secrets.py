"""Where a backplane's secrets come from: arguments, files, the environment; never argv.

Two secrets: the Redis URL (it may carry a password) and the envelope
signing key.  Command lines are visible to every user of the machine
(``ps``, ``/proc/PID/cmdline``), so the command-line tools take both from a
file or an environment variable, and worker processes receive them through
their environment, never through their arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .envelope import EnvelopeKey

__all__ = [
    "SECRET_ENV",
    "URL_ENV",
    "backplane_url",
    "envelope_key",
    "read_secret_file",
]

#: the envelope signing secret (see docs/scale-out.md, "Trust")
SECRET_ENV = "WSPROTO_CB_BACKPLANE_SECRET"
#: the backplane URL, for ``wsproto-cb serve`` and ``twistd wsproto_cb``
URL_ENV = "WSPROTO_CB_BACKPLANE_URL"


def read_secret_file(path: str, what: str) -> bytes:
    """The file's bytes without surrounding whitespace (a trailing newline, say)."""
    try:
        with open(path, "rb") as file:
            data = file.read(1024 * 1024)
    except OSError as exc:
        raise ValueError(f"cannot read the {what} file {path!r}: {exc.strerror or exc}") from None
    data = data.strip()
    if not data:
        raise ValueError(f"the {what} file {path!r} is empty")
    return data


def envelope_key(
    secret: bytes | str | None = None,
    secret_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> EnvelopeKey | None:
    """The signing key from ``secret``, else ``secret_file``, else :data:`SECRET_ENV`;
    None when none is given (envelopes are then unsigned)."""
    if secret is not None and secret_file is not None:
        raise ValueError("give the backplane secret or a file holding it, not both")
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    elif secret_file is not None:
        secret = read_secret_file(secret_file, "backplane secret")
    elif secret is None:
        value = (os.environ if environ is None else environ).get(SECRET_ENV, "")
        if not value:
            return None
        secret = value.encode("utf-8")
    return EnvelopeKey(secret)


def backplane_url(
    url: str | None,
    url_file: str | None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The URL from ``--backplane``, else ``--backplane-file``, else :data:`URL_ENV`."""
    if url is not None and url_file is not None:
        raise ValueError("give --backplane or --backplane-file, not both")
    if url is not None:
        return url
    if url_file is not None:
        return read_secret_file(url_file, "backplane URL").decode("utf-8", "replace")
    value = (os.environ if environ is None else environ).get(URL_ENV, "")
    return value or None
