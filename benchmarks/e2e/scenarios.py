"""S1-S6: one function each, run by the driver process against one server.

Each takes the run's settings (a dict, see :mod:`benchmarks.e2e.driver`)
and returns a dict of figures; ``rate`` is the scenario's main figure
(round trips/s, messages/s, MB/s, connections/s), ``server_us_per_op`` the
server's CPU time per operation.
"""

from __future__ import annotations

import errno
import select
import socket
import statistics
import time
from typing import Any

from . import wire
from .loads import (
    ADDR,
    BINARY,
    CLOSE,
    CLOSE_FRAME,
    TEXT,
    Conn,
    Window,
    close_all,
    open_conn,
    run_echo_load,
)
from .procstat import rss_bytes

__all__ = ["SCENARIOS"]

Result = dict[str, Any]
PAYLOAD_64 = b"0123456789abcdef" * 4
MIB = 1 << 20


def _quantiles(samples_ns: list[int]) -> dict[str, float]:
    s = sorted(samples_ns)
    n = len(s)

    def q(p: float) -> float:
        return s[min(n - 1, int(p * n))] / 1000.0

    return {"p50_us": q(0.50), "p99_us": q(0.99), "max_us": s[-1] / 1000.0}


def _single_conn(cfg: dict[str, Any], offer: str | None = None) -> Conn:
    c = open_conn(cfg["port"], cfg["raw"], offer)
    c.sock.setblocking(True)
    return c


def s1_ping_pong(cfg: dict[str, Any]) -> Result:
    """One connection, 64-byte text messages, one at a time: round trips/s, latency."""
    raw = cfg["raw"]
    c = _single_conn(cfg)
    frame = wire.build_frame(TEXT, PAYLOAD_64)
    expect = frame if raw else wire.build_frame(TEXT, PAYLOAD_64, masked=False)
    size = len(expect)
    send, recv = c.sock.send, c.sock.recv
    clock = time.perf_counter_ns
    window = Window(cfg["pid"])
    lat: list[int] = []
    warm_end = clock() + int(cfg["warmup"] * 1e9)
    end: int | None = None
    max_ops = cfg["max_ops"]
    n = 0
    while True:
        t0 = clock()
        send(frame)
        data = recv(65536)
        while len(data) < size:
            more = recv(65536)
            if not more:
                raise wire.ReplyError("server closed the connection")
            data += more
        t1 = clock()
        if data != expect:
            raise wire.ReplyError(f"unexpected reply {data[:40]!r}")
        if end is not None:
            lat.append(t1 - t0)
            n += 1
            if n >= max_ops or t1 >= end:
                break
        elif t1 >= warm_end:
            window.open(0)
            end = t1 + int(cfg["duration"] * 1e9)
    result = window.close(n)
    result.update(_quantiles(lat))
    c.sock.setblocking(False)
    close_all([c], raw)
    return result


def _multi(cfg: dict[str, Any], messages: list[bytes], offer: str | None) -> Result:
    raw = cfg["raw"]
    conns = [open_conn(cfg["port"], raw, offer) for _ in range(cfg["conns"])]
    try:
        compressed = not raw and offer is not None
        if compressed and any(c.params is None for c in conns):
            raise wire.ReplyError("the server did not accept permessage-deflate")
        frames: list[list[bytes]] = []
        for c in conns:
            if c.params is not None:
                frames.append(
                    [
                        wire.build_frame(TEXT, wire.compress_message(m, c.params), rsv1=True)
                        for m in messages
                    ]
                )
            else:
                frames.append([wire.build_frame(TEXT, m) for m in messages])
        replies: list[list[bytes]] | None
        if compressed:
            replies = None
        elif raw:
            replies = frames
        else:
            plain = [wire.build_frame(TEXT, m, masked=False) for m in messages]
            replies = [plain for _ in conns]
        result = run_echo_load(
            conns,
            frames,
            replies,
            messages,
            Window(cfg["pid"]),
            cfg["warmup"],
            cfg["duration"],
            cfg["max_ops"],
        )
        if compressed:
            result["deflate"] = conns[0].params.as_dict()  # type: ignore[union-attr]
            sizes = [len(f) for f in frames[0]]
            result["client_frame_bytes"] = sum(sizes) / len(sizes)
        result["message_bytes"] = sum(len(m) for m in messages) / len(messages)
        return result
    finally:
        close_all(conns, raw)


def s2_many_small(cfg: dict[str, Any]) -> Result:
    """N connections, 64-byte text, one message in flight per connection."""
    return _multi(cfg, [PAYLOAD_64], None)


def s4_json(cfg: dict[str, Any]) -> Result:
    """N connections, ~2 KB JSON text, with or without permessage-deflate."""
    offer = wire.BROWSER_DEFLATE_OFFER if cfg["variant"] == "deflate" else None
    return _multi(cfg, wire.json_messages(), offer)


def s3_large(cfg: dict[str, Any]) -> Result:
    """One connection, 1 MiB binary messages echoed one at a time: MB/s."""
    raw = cfg["raw"]
    c = open_conn(cfg["port"], raw, None)
    payload = bytes(range(256)) * (MIB // 256)
    frame = wire.build_frame(BINARY, payload)
    expect = frame if raw else wire.build_frame(BINARY, payload, masked=False)
    size = len(expect)
    rbuf = bytearray(size)
    rview = memoryview(rbuf)
    fview = memoryview(frame)
    sock = c.sock
    poller = select.poll()
    fd = sock.fileno()
    window = Window(cfg["pid"])
    rtts: list[int] = []
    warm_end = time.perf_counter_ns() + int(cfg["warmup"] * 1e9)
    end: int | None = None
    n = 0
    while True:
        t0 = time.perf_counter_ns()
        sent = got = 0
        while got < size:
            progressed = False
            if sent < len(frame):
                try:
                    sent += sock.send(fview[sent:])
                    progressed = True
                except BlockingIOError:
                    pass
            try:
                k = sock.recv_into(rview[got:])
                if k == 0:
                    raise wire.ReplyError("server closed the connection")
                got += k
                progressed = True
            except BlockingIOError:
                pass
            if not progressed:
                poller.register(fd, select.POLLIN | (select.POLLOUT if sent < len(frame) else 0))
                if not poller.poll(10_000):
                    raise TimeoutError("no progress for 10 s on a 1 MiB echo")
                poller.unregister(fd)
        t1 = time.perf_counter_ns()
        if rbuf != expect:
            raise wire.ReplyError("1 MiB echo differs from what was sent")
        if end is not None:
            rtts.append(t1 - t0)
            n += 1
            if n >= cfg["max_ops"] or t1 >= end:
                break
        elif t1 >= warm_end:
            window.open(0)
            end = t1 + int(cfg["duration"] * 1e9)
    result = window.close(n)
    result["ops_bytes"] = len(payload)
    result["rate"] = n * len(payload) / result["wall_s"] / 1e6  # MB/s of echoed payload
    result["msgs_per_s"] = n / result["wall_s"]
    q = _quantiles(rtts)
    result.update({"p50_ms": q["p50_us"] / 1000, "max_ms": q["max_us"] / 1000})
    result["p99_ms"] = q["p99_us"] / 1000
    result["rtt_median_ms"] = statistics.median(rtts) / 1e6
    close_all([c], raw)
    return result


def s5_churn(cfg: dict[str, Any]) -> Result:
    """Open, handshake, close handshake, TCP close; ``conns`` of them at a time."""
    port = cfg["port"]
    request = wire.handshake_request(port, None)
    ep = select.epoll()
    states: dict[int, list[Any]] = {}  # fd -> [sock, state, buf]
    CONNECTING, HEAD, CLOSING = 0, 1, 2
    done = errors = 0
    window = Window(cfg["pid"])
    warm_end = time.perf_counter() + cfg["warmup"]
    end = warm_end + cfg["duration"]
    phase = 0
    starting = True
    result: Result | None = None
    last_progress = time.perf_counter()

    def start() -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rc = s.connect_ex((ADDR, port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            raise OSError(rc, f"connect: {errno.errorcode.get(rc, rc)}")
        states[s.fileno()] = [s, CONNECTING, b""]
        ep.register(s.fileno(), select.EPOLLOUT)

    def finish(fd: int, ok: bool) -> None:
        nonlocal done, errors
        s = states.pop(fd)[0]
        ep.unregister(fd)
        s.close()
        if ok:
            done += 1
        else:
            errors += 1

    try:
        for _ in range(cfg["conns"]):
            start()
        while states:
            events = ep.poll(0.5)
            now = time.perf_counter()
            if events:
                last_progress = now
            elif now - last_progress > 10:
                raise TimeoutError(f"S5: no progress for 10 s ({len(states)} connections open)")
            for fd, _ in events:
                st = states[fd]
                sock = st[0]
                if st[1] == CONNECTING:
                    err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        finish(fd, False)
                    else:
                        sock.send(request)
                        st[1] = HEAD
                        ep.modify(fd, select.EPOLLIN)
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if st[1] == HEAD:
                    if not data:
                        finish(fd, False)
                        continue
                    st[2] += data
                    if b"\r\n\r\n" in st[2]:
                        head, _, rest = st[2].partition(b"\r\n\r\n")
                        wire.parse_handshake_response(head, None)
                        st[2] = rest
                        st[1] = CLOSING
                        sock.send(CLOSE_FRAME)
                elif data:
                    st[2] += data
                else:  # the server closed TCP after the closing handshake
                    frames, _ = wire.parse_frames(st[2])
                    ok = bool(frames) and frames[-1][0] == CLOSE
                    finish(fd, ok)
                    if starting:
                        start()
            if phase == 0 and now >= warm_end:
                window.open(done)
                phase = 1
            elif phase == 1 and (now >= end or done - window.ops0 >= cfg["max_ops"]):
                result = window.close(done)
                phase = 2
                starting = False
            if errors > 10:
                raise wire.ReplyError(f"S5: {errors} connections failed")
    finally:
        for st in states.values():
            st[0].close()
        ep.close()
    if result is None:
        raise RuntimeError("the run ended before its timed window")
    result["errors"] = errors
    return result


def _open_batch(cfg: dict[str, Any], n: int, offer: str | None) -> list[Conn]:
    """``n`` connections, handshakes 32 at a time (listen backlogs are ~50-128)."""
    out: list[Conn] = []
    while len(out) < n:
        batch = [open_conn(cfg["port"], cfg["raw"], offer) for _ in range(min(32, n - len(out)))]
        out.extend(batch)
    return out


def _echo_each(conns: list[Conn], raw: bool, message: bytes) -> None:
    """One message on every connection, 32 at a time, each echo checked."""
    for i in range(0, len(conns), 32):
        batch = conns[i : i + 32]
        for c in batch:
            c.sock.setblocking(True)
            c.sock.settimeout(10)
            body = message
            if c.params is not None:
                frame = wire.build_frame(TEXT, wire.compress_message(message, c.params), rsv1=True)
            else:
                frame = wire.build_frame(TEXT, body)
            c.expect = frame if raw else None
            c.sock.sendall(frame)
        for c in batch:
            buf = b""
            while True:
                chunk = c.sock.recv(65536)
                if not chunk:
                    raise wire.ReplyError("server closed the connection")
                buf += chunk
                if raw:
                    if len(buf) >= len(c.expect or b""):
                        break
                    continue
                frames, _ = wire.parse_frames(buf)
                if frames:
                    break
            if raw:
                if buf != c.expect:
                    raise wire.ReplyError("raw echo differs")
            else:
                opcode, rsv1, payload = frames[0]
                if rsv1 and c.inflate is not None and c.params is not None:
                    payload = c.inflate.message(payload, c.params)
                if opcode != TEXT or payload != message:
                    raise wire.ReplyError("echo differs")
            c.sock.setblocking(False)


def s6_memory(cfg: dict[str, Any]) -> Result:
    """Server RSS per idle connection, then after one message on each."""
    offer = wire.BROWSER_DEFLATE_OFFER if cfg["variant"] == "deflate" else None
    raw = cfg["raw"]
    pid = cfg["pid"]
    n = cfg["conns"]
    settle = cfg.get("settle", 0.5)
    # warm up: lazily imported code and first-use caches are not per connection
    warm = _open_batch(cfg, 32, offer)
    if offer is not None and any(c.params is None for c in warm):
        close_all(warm, raw)
        raise wire.ReplyError("the server did not accept permessage-deflate")
    _echo_each(warm, raw, PAYLOAD_64)
    close_all(warm, raw)
    time.sleep(settle)
    rss0 = rss_bytes(pid)
    t0 = time.perf_counter()
    conns = _open_batch(cfg, n, offer)
    open_s = time.perf_counter() - t0
    try:
        time.sleep(settle)
        rss1 = rss_bytes(pid)
        _echo_each(conns, raw, PAYLOAD_64)
        time.sleep(settle)
        rss2 = rss_bytes(pid)
    finally:
        close_all(conns, raw, timeout=20)
    per_idle = (rss1 - rss0) / n
    return {
        "ops": n,
        "rate": per_idle / 1024,  # KiB per idle connection
        "idle_kib": per_idle / 1024,
        "after_msg_kib": (rss2 - rss0) / n / 1024,
        "rss_before_mib": rss0 / MIB,
        "rss_idle_mib": rss1 / MIB,
        "rss_after_msg_mib": rss2 / MIB,
        "open_s": open_s,
        "deflate": conns[0].params.as_dict() if conns and conns[0].params else None,
    }


SCENARIOS = {
    "S1": s1_ping_pong,
    "S2": s2_many_small,
    "S3": s3_large,
    "S4": s4_json,
    "S5": s5_churn,
    "S6": s6_memory,
}
