/*
 * Strict UTF-8 validation, with exactly the verdict of CPython's
 * bytes.decode("utf-8"): no overlong forms, no surrogates (ED A0..BF), nothing
 * above U+10FFFF (F4 90.. and F5..FF), no truncated sequence at the end.
 * The byte ranges are those of the Unicode Standard, table 3-7.
 * tests/core/test_wire_speedups.py compares it with the decoder on random
 * and boundary inputs.
 */
#ifndef WSPROTO_CB_UTF8_H
#define WSPROTO_CB_UTF8_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

#define UTF8_CONT(b) (((b) & 0xC0) == 0x80)

/* 1 if s[0:n] is valid UTF-8, else 0. */
static int
utf8_is_valid(const unsigned char *s, Py_ssize_t n)
{
    Py_ssize_t i = 0;
    uint64_t word;

    while (i < n) {
        /* ASCII runs 8 bytes at a time: the common case for text messages */
        if (i + 8 <= n) {
            memcpy(&word, s + i, 8);
            if ((word & UINT64_C(0x8080808080808080)) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i += 1;
        }
        else if (c < 0xC2) {            /* stray continuation or overlong 2-byte */
            return 0;
        }
        else if (c < 0xE0) {
            if (n - i < 2 || !UTF8_CONT(s[i + 1])) {
                return 0;
            }
            i += 2;
        }
        else if (c < 0xF0) {
            if (n - i < 3) {
                return 0;
            }
            unsigned char c1 = s[i + 1];
            if (!UTF8_CONT(c1) || !UTF8_CONT(s[i + 2])
                || (c == 0xE0 && c1 < 0xA0)     /* overlong */
                || (c == 0xED && c1 > 0x9F)) {  /* UTF-16 surrogate */
                return 0;
            }
            i += 3;
        }
        else if (c < 0xF5) {
            if (n - i < 4) {
                return 0;
            }
            unsigned char c1 = s[i + 1];
            if (!UTF8_CONT(c1) || !UTF8_CONT(s[i + 2]) || !UTF8_CONT(s[i + 3])
                || (c == 0xF0 && c1 < 0x90)     /* overlong */
                || (c == 0xF4 && c1 > 0x8F)) {  /* above U+10FFFF */
                return 0;
            }
            i += 4;
        }
        else {
            return 0;
        }
    }
    return 1;
}

#endif
