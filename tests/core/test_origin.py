"""Origin normal form and allowedOrigins matching (the rules of Autobahn|Python)."""

from __future__ import annotations

import pytest

from wsproto_cb.core.origin import (
    NULL_ORIGIN,
    compile_origin_patterns,
    normalize_origin,
    origin_matches,
)


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("https://example.com", "https://example.com:443"),
        ("http://example.com", "http://example.com:80"),
        ("HTTPS://Example.COM", "https://example.com:443"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://[::1]:9000", "http://[::1]:9000"),
        ("https://[2001:DB8::1]", "https://[2001:db8::1]:443"),
        ("chrome-extension://abcdef", "chrome-extension://abcdef"),
        (" https://example.com ", "https://example.com:443"),
        ("null", NULL_ORIGIN),
        ("NULL", NULL_ORIGIN),
        ("file:///home/me/page.html", NULL_ORIGIN),
    ],
)
def test_normal_form(origin: str, normal: str) -> None:
    assert normalize_origin(origin) == normal


@pytest.mark.parametrize("origin", ["", "example.com", "https://", "https://:443", "http://x:99999"])
def test_invalid_origins(origin: str) -> None:
    with pytest.raises(ValueError, match="invalid Origin"):
        normalize_origin(origin)


def allowed(patterns: list[str], origin: str) -> bool:
    return origin_matches(normalize_origin(origin), compile_origin_patterns(patterns))


@pytest.mark.parametrize(
    ("pattern", "origin", "expected"),
    [
        # Autobahn's documented shapes: the port written out
        ("https://example.com:443", "https://example.com", True),
        ("https://example.com:443", "https://example.com:443", True),
        ("https://example.com:443", "https://example.com:8443", False),
        ("https://*.example.com:*", "https://chat.example.com", True),
        ("https://*.example.com:*", "https://chat.example.com:8443", True),
        ("https://*.example.com:*", "https://example.com", False),
        ("https://*.example.com:*", "https://example.com.evil.net", False),
        ("https://*.example.com:*", "http://chat.example.com", False),
        ("https://example.com*", "https://example.com", True),
        ("*", "https://anything.example:1234", True),
        # a pattern without the port matches the default port only
        ("https://example.com", "https://example.com", True),
        ("https://example.com", "https://example.com:443", True),
        ("https://example.com", "https://example.com:8443", False),
        ("http://localhost:8080", "http://localhost:8080", True),
        ("http://localhost:8080", "http://LOCALHOST:8080", True),
        # case of the pattern does not matter; regex characters are literal
        ("https://Example.com:443", "https://example.com", True),
        ("https://ex.mple.com:443", "https://exxmple.com", False),
        ("http://[::1]:*", "http://[::1]:9000", True),
    ],
)
def test_pattern_shapes(pattern: str, origin: str, expected: bool) -> None:
    assert allowed([pattern], origin) is expected


def test_null_matches_no_pattern_not_even_star() -> None:
    assert not origin_matches(NULL_ORIGIN, compile_origin_patterns(["*"]))
