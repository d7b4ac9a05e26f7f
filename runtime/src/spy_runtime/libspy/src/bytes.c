/* bytes, for the standard library's `_bytes.spy`: a bytes value is a struct
 * holding one spy_Str whose bytes are any bytes (not necessarily UTF-8).
 * Only these functions, which count bytes, read it; the str functions that
 * count code points never see it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"
#include "unicode.h"

int32_t spy_bytes_len(const spy_Str *raw) { return (int32_t)raw->length; }

uint8_t spy_bytes_getitem(const spy_Str *raw, int64_t i, const char *file, int32_t line) {
    int64_t n = (int64_t)raw->length;
    if (i < 0) i += n;
    if (i < 0 || i >= n) spy_panic("IndexError", "index out of range", file, line);
    return (uint8_t)raw->utf8[i];
}

const spy_Str *spy_bytes_slice(const spy_Str *raw, int64_t start, int64_t stop, int64_t step,
                               bool has_start, bool has_stop, const char *file, int32_t line) {
    int64_t n = (int64_t)raw->length;
    int64_t count = spy_slice_adjust(n, &start, &stop, step, has_start, has_stop, file, line);
    if (count <= 0) return spy_str_new("", 0);
    if (step == 1) return spy_str_new(raw->utf8 + start, (size_t)count);
    char *buf = malloc((size_t)count);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    for (int64_t k = 0, i = start; k < count; k++, i += step) buf[k] = raw->utf8[i];
    const spy_Str *out = spy_str_new(buf, (size_t)count);
    free(buf);
    return out;
}

const spy_Str *spy_bytes_repr(const spy_Str *raw, const char *file, int32_t line) {
    /* Python's: b'...' (b"..." when there is a ' and no "), \t \n \r \\ and
     * \xNN for the rest outside printable ASCII */
    bool squote = memchr(raw->utf8, '\'', raw->length) != NULL;
    bool dquote = memchr(raw->utf8, '"', raw->length) != NULL;
    char quote = squote && !dquote ? '"' : '\'';
    if (raw->length > (SIZE_MAX - 3) / 4) spy_panic("MemoryError", "out of memory", file, line);
    char *buf = malloc(raw->length * 4 + 3);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    static const char HEXDIGITS[] = "0123456789abcdef";
    size_t n = 0;
    buf[n++] = 'b';
    buf[n++] = quote;
    for (size_t i = 0; i < raw->length; i++) {
        unsigned char c = (unsigned char)raw->utf8[i];
        if (c == (unsigned char)quote || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\t' || c == '\n' || c == '\r') {
            buf[n++] = '\\';
            buf[n++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
        } else if (c < 0x20 || c >= 0x7f) {
            buf[n++] = '\\';
            buf[n++] = 'x';
            buf[n++] = HEXDIGITS[c >> 4];
            buf[n++] = HEXDIGITS[c & 15];
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = quote;
    const spy_Str *out = spy_str_new(buf, n);
    free(buf);
    return out;
}

const spy_Str *spy_bytes_decode(const spy_Str *raw, const char *file, int32_t line) {
    int64_t bad = spy_utf8_invalid_at((const unsigned char *)raw->utf8, raw->length);
    if (bad >= 0) {
        /* the thread's buffer: a panic's message must outlive this frame */
        snprintf(spy_thread.message_buf, sizeof spy_thread.message_buf,
                 "'utf-8' codec can't decode byte 0x%02x in position %lld",
                 (unsigned char)raw->utf8[bad], (long long)bad);
        spy_panic("ValueError", spy_thread.message_buf, file, line);
    }
    return spy_str_new(raw->utf8, raw->length);
}

bool spy_bytes_contains_byte(const spy_Str *raw, int64_t b) {
    return b >= 0 && b < 256 && memchr(raw->utf8, (int)b, raw->length) != NULL;
}
