"""Which implementations are in use: the C twins, or the pure-Python reference.

``wsproto_cb/core/speedups.py`` chooses once, at import: the C functions of
``_mask`` and ``_wire`` when they import, the pure-Python ones when they do
not or ``WSPROTO_CB_NO_SPEEDUPS=1``.  ``WSPROTO_CB_REQUIRE_SPEEDUPS=1``
(set by .ci/run) turns a missing extension into a failure here, so CI
cannot silently test only the fallback.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest

from wsproto_cb.core import frames, masking, message_buffer, whole_message

PROBE = """
from wsproto_cb.core import frames as f, masking as m, message_buffer as b, whole_message as w
print(
    m.HAS_SPEEDUPS,
    m.apply_mask is m.apply_mask_python,
    w.read_message is w.read_message_python,
    f.frame_bytes is f.frame_bytes_python,
    b.PayloadBuilder is b.PayloadBuilderPython,
    m.apply_mask(b"Hello", bytes.fromhex("37fa213d")).hex(),
)
"""


def _probe(env_overrides: dict[str, str]) -> str:
    env = {k: v for k, v in os.environ.items() if k != "WSPROTO_CB_NO_SPEEDUPS"}
    env.update(env_overrides)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_env_var_forces_the_python_reference() -> None:
    assert _probe({"WSPROTO_CB_NO_SPEEDUPS": "1"}) == "False True True True True 7f9f4d5158"


@pytest.mark.parametrize("extension", ["_mask", "_wire"])
def test_c_twins_used_when_built(extension: str) -> None:
    try:
        importlib.import_module(f"wsproto_cb.core.{extension}")
    except ImportError as exc:
        if os.environ.get("WSPROTO_CB_REQUIRE_SPEEDUPS", "") not in ("", "0"):
            pytest.fail(f"C extension required but not importable: {exc}")
        pytest.skip(f"C extension not built: {exc}")
    assert _probe({}) == "True False False False False 7f9f4d5158"
    if os.environ.get("WSPROTO_CB_NO_SPEEDUPS", "") in ("", "0"):
        assert masking.apply_mask is masking.apply_mask_c
        assert whole_message.read_message is whole_message.read_message_c
        assert frames.frame_bytes is frames.frame_bytes_c
        assert message_buffer.PayloadBuilder is message_buffer.PayloadBuilderC


def test_direct_send_used_when_built() -> None:
    """``wsproto_cb._sendnow`` (not a twin: the runtimes' one-call ``send(2)``)."""
    from wsproto_cb import direct_send

    try:
        importlib.import_module("wsproto_cb._sendnow")
    except ImportError as exc:
        if os.environ.get("WSPROTO_CB_REQUIRE_SPEEDUPS", "") not in ("", "0"):
            pytest.fail(f"C extension required but not importable: {exc}")
        pytest.skip(f"C extension not built: {exc}")
    disabled = os.environ.get("WSPROTO_CB_NO_SPEEDUPS", "") not in ("", "0")
    assert (direct_send.send_fd is None) is disabled


def test_direct_send_takes_what_the_socket_takes() -> None:
    """Bytes sent, 0 for a full socket or an error (never an exception)."""
    import socket

    send_fd = pytest.importorskip("wsproto_cb._sendnow").send_now
    a, b = socket.socketpair()
    with a, b:
        a.setblocking(False)
        assert send_fd(a.fileno(), b"hello") == 5
        assert send_fd(a.fileno(), memoryview(b"__ world")[2:]) == 6
        assert b.recv(100) == b"hello world"
        taken = 0
        while (n := send_fd(a.fileno(), b"x" * 65536)) > 0:
            taken += n
        assert n == 0 and taken > 0  # full: 0, not EAGAIN raised
        b.close()
        assert send_fd(a.fileno(), b"late") == 0  # the peer is gone: EPIPE, reported as 0
    assert send_fd(-1, b"x") == 0
    with pytest.raises(TypeError):
        send_fd(0, "text")
