/*
 * XOR a payload with the 4-byte WebSocket masking key (RFC 6455 section
 * 5.3), 8 bytes per step.  Shared by _mask.c (apply_mask) and _wire.c
 * (read_message, build_frame) so the loop exists once.
 */
#ifndef WSPROTO_CB_XOR_H
#define WSPROTO_CB_XOR_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

/* dst[i] = src[i] ^ key[(phase + i) % 4] for i in [0, len). */
static inline void
xor_mask(const unsigned char *src, unsigned char *dst, Py_ssize_t len,
         const unsigned char *key, Py_ssize_t phase)
{
    unsigned char rotated[8];
    uint64_t key64, chunk;
    Py_ssize_t i = 0;
    int j;

    for (j = 0; j < 8; j++) {
        rotated[j] = key[(phase + j) & 3];
    }
    /* memcpy keeps unaligned 8-byte loads and stores well defined; compilers
       turn it into a single move. */
    memcpy(&key64, rotated, 8);
    for (; i + 8 <= len; i += 8) {
        memcpy(&chunk, src + i, 8);
        chunk ^= key64;
        memcpy(dst + i, &chunk, 8);
    }
    /* i is a multiple of 8, so the tail starts at phase 0 of `rotated`. */
    for (j = 0; i < len; i++, j++) {
        dst[i] = src[i] ^ rotated[j];
    }
}

#endif
