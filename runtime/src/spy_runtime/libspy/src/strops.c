/* str operations with Python's results: indexing and slicing by code point,
 * `in`, `*`, ordering, ord() and chr(). Strings are UTF-8, so an index
 * walks the bytes unless the string is ASCII (length == ncp). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"
#include "unicode.h"

/* the byte offset of code point `i` (0 <= i <= ncp) */
static size_t byte_of(const spy_Str *s, size_t i) {
    if (s->length == s->ncp) return i;
    size_t b = 0;
    for (size_t k = 0; k < i; k++) {
        b++;
        while (b < s->length && ((unsigned char)s->utf8[b] & 0xC0) == 0x80) b++;
    }
    return b;
}

static size_t char_len(const spy_Str *s, size_t b) {
    size_t e = b + 1;
    while (e < s->length && ((unsigned char)s->utf8[e] & 0xC0) == 0x80) e++;
    return e - b;
}

const spy_Str *spy_str_getitem(const spy_Str *s, int64_t i, const char *file, int32_t line) {
    int64_t n = (int64_t)s->ncp;
    if (i < 0) i += n;
    if (i < 0 || i >= n) spy_panic("IndexError", "string index out of range", file, line);
    size_t b = byte_of(s, (size_t)i);
    return spy_str_new(s->utf8 + b, char_len(s, b));
}

/* Python's PySlice_AdjustIndices: the start and the number of items */
static int64_t adjust(int64_t n, int64_t *start, int64_t *stop, int64_t step) {
    if (*start < 0) {
        *start += n;
        if (*start < 0) *start = step < 0 ? -1 : 0;
    } else if (*start >= n) {
        *start = step < 0 ? n - 1 : n;
    }
    if (*stop < 0) {
        *stop += n;
        if (*stop < 0) *stop = step < 0 ? -1 : 0;
    } else if (*stop >= n) {
        *stop = step < 0 ? n - 1 : n;
    }
    if (step < 0) return *stop < *start ? (*start - *stop - 1) / (-step) + 1 : 0;
    return *start < *stop ? (*stop - *start - 1) / step + 1 : 0;
}

/* a slice of a sequence of n items: its first item (in *start) and how many
 * it picks (returned), Python's rules; a missing start or stop is the end
 * the step walks from or to. str, bytes and list slices all use it. */
int64_t spy_slice_adjust(int64_t n, int64_t *start, int64_t *stop, int64_t step, bool has_start,
                         bool has_stop, const char *file, int32_t line) {
    if (step == 0) spy_panic("ValueError", "slice step cannot be zero", file, line);
    if (!has_start) *start = step < 0 ? n - 1 : 0;
    if (!has_stop) *stop = step < 0 ? -n - 1 : n;
    return adjust(n, start, stop, step);
}

int64_t spy_slice_start(int64_t n, int64_t start, int64_t stop, int64_t step, bool has_start,
                        bool has_stop, const char *file, int32_t line) {
    spy_slice_adjust(n, &start, &stop, step, has_start, has_stop, file, line);
    return start;
}

int64_t spy_slice_count(int64_t n, int64_t start, int64_t stop, int64_t step, bool has_start,
                        bool has_stop, const char *file, int32_t line) {
    return spy_slice_adjust(n, &start, &stop, step, has_start, has_stop, file, line);
}

const spy_Str *spy_str_slice(const spy_Str *s, int64_t start, int64_t stop, int64_t step,
                             bool has_start, bool has_stop, const char *file, int32_t line) {
    int64_t n = (int64_t)s->ncp;
    int64_t count = spy_slice_adjust(n, &start, &stop, step, has_start, has_stop, file, line);
    if (count <= 0) return spy_str_new("", 0);
    if (step == 1) {
        size_t a = byte_of(s, (size_t)start), e = byte_of(s, (size_t)(start + count));
        return spy_str_new(s->utf8 + a, e - a);
    }
    /* each code point's byte offset once, then the picked ones */
    size_t *offsets = malloc(((size_t)n + 1) * sizeof *offsets);
    char *buf = malloc(s->length + 1);
    if (offsets == NULL || buf == NULL) {
        free(offsets);
        free(buf);
        spy_panic("MemoryError", "out of memory", file, line);
    }
    for (size_t k = 0, b = 0; k <= (size_t)n; k++) {
        offsets[k] = b;
        if (b < s->length) b += char_len(s, b);
    }
    size_t len = 0;
    for (int64_t k = 0, i = start; k < count; k++, i += step) {
        size_t w = offsets[i + 1] - offsets[i];
        memcpy(buf + len, s->utf8 + offsets[i], w);
        len += w;
    }
    const spy_Str *out = spy_str_new(buf, len);
    free(offsets);
    free(buf);
    return out;
}

bool spy_str_contains(const spy_Str *haystack, const spy_Str *needle) {
    if (needle->length == 0) return true;
    if (needle->length > haystack->length) return false;
    /* UTF-8: a byte match of a whole encoding is a code point match */
    const char *end = haystack->utf8 + haystack->length - needle->length;
    for (const char *p = haystack->utf8; p <= end; p++) {
        p = memchr(p, needle->utf8[0], (size_t)(end - p) + 1);
        if (p == NULL) return false;
        if (memcmp(p, needle->utf8, needle->length) == 0) return true;
    }
    return false;
}

const spy_Str *spy_str_repeat(const spy_Str *s, int64_t times, const char *file, int32_t line) {
    if (times <= 0 || s->length == 0) return spy_str_new("", 0);
    if ((uint64_t)times > (SIZE_MAX / 2) / s->length)
        spy_panic("MemoryError", "out of memory", file, line);
    size_t total = s->length * (size_t)times;
    char *buf = malloc(total ? total : 1);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    for (int64_t k = 0; k < times; k++) memcpy(buf + (size_t)k * s->length, s->utf8, s->length);
    const spy_Str *out = spy_str_new(buf, total);
    free(buf);
    return out;
}

/* <0, 0, >0: UTF-8 byte order is code point order, as Python compares */
int32_t spy_str_cmp(const spy_Str *a, const spy_Str *b) {
    size_t n = a->length < b->length ? a->length : b->length;
    int c = memcmp(a->utf8, b->utf8, n);
    if (c != 0) return c < 0 ? -1 : 1;
    return a->length < b->length ? -1 : a->length > b->length;
}

int32_t spy_str_ord(const spy_Str *s, const char *file, int32_t line) {
    if (s->ncp != 1) {
        char *buf = spy_thread.message_buf;
        snprintf(buf, sizeof spy_thread.message_buf,
                 "ord() expected a character, but string of length %zu found", s->ncp);
        spy_panic("TypeError", buf, file, line);
    }
    const unsigned char *u = (const unsigned char *)s->utf8;
    if (u[0] < 0x80) return u[0];
    if (u[0] < 0xE0) return ((u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    if (u[0] < 0xF0) return ((u[0] & 0x0F) << 12) | ((u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    return ((u[0] & 0x07) << 18) | ((u[1] & 0x3F) << 12) | ((u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

const spy_Str *spy_str_chr(int64_t c, const char *file, int32_t line) {
    if (c < 0 || c > 0x10FFFF) spy_panic("ValueError", "chr() arg not in range(0x110000)", file, line);
    if (c >= 0xD800 && c <= 0xDFFF)
        spy_panic("ValueError", "chr() arg is a surrogate, which UTF-8 cannot hold", file, line);
    char b[4];
    size_t n;
    if (c < 0x80) {
        b[0] = (char)c;
        n = 1;
    } else if (c < 0x800) {
        b[0] = (char)(0xC0 | (c >> 6));
        b[1] = (char)(0x80 | (c & 0x3F));
        n = 2;
    } else if (c < 0x10000) {
        b[0] = (char)(0xE0 | (c >> 12));
        b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[2] = (char)(0x80 | (c & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (c >> 18));
        b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        b[3] = (char)(0x80 | (c & 0x3F));
        n = 4;
    }
    return spy_str_new(b, n);
}

/* ---- methods ---------------------------------------------------------------- */

bool spy_str_startswith(const spy_Str *s, const spy_Str *prefix) {
    return prefix->length <= s->length && memcmp(s->utf8, prefix->utf8, prefix->length) == 0;
}

bool spy_str_endswith(const spy_Str *s, const spy_Str *suffix) {
    return suffix->length <= s->length &&
           memcmp(s->utf8 + s->length - suffix->length, suffix->utf8, suffix->length) == 0;
}

/* the byte offset of the first `sub` in `s` at or after byte `from`, or -1 */
static int64_t find_bytes(const spy_Str *s, const spy_Str *sub, size_t from) {
    if (sub->length == 0) return from <= s->length ? (int64_t)from : -1;
    if (sub->length > s->length) return -1;
    for (size_t b = from; b + sub->length <= s->length; b++)
        if (memcmp(s->utf8 + b, sub->utf8, sub->length) == 0) return (int64_t)b;
    return -1;
}

static int32_t codepoints_before(const spy_Str *s, size_t b) {
    int32_t n = 0;
    for (size_t k = 0; k < b; k++) n += ((unsigned char)s->utf8[k] & 0xC0) != 0x80;
    return n;
}

int32_t spy_str_find(const spy_Str *s, const spy_Str *sub) {
    int64_t b = find_bytes(s, sub, 0);
    return b < 0 ? -1 : codepoints_before(s, (size_t)b);
}

int32_t spy_str_index(const spy_Str *s, const spy_Str *sub, const char *file, int32_t line) {
    int64_t b = find_bytes(s, sub, 0);
    if (b < 0) spy_panic("ValueError", "substring not found", file, line);
    return codepoints_before(s, (size_t)b);
}

int32_t spy_str_count(const spy_Str *s, const spy_Str *sub) {
    if (sub->length == 0) return (int32_t)(s->ncp + 1);
    int32_t n = 0;
    for (int64_t b = find_bytes(s, sub, 0); b >= 0; b = find_bytes(s, sub, (size_t)b + sub->length))
        n++;
    return n;
}

const spy_Str *spy_str_replace(const spy_Str *s, const spy_Str *old, const spy_Str *new_,
                               const char *file, int32_t line) {
    if (old->length == 0) { /* Python puts `new` before each character and at the end */
        size_t total = s->length + (s->ncp + 1) * new_->length;
        char *buf = malloc(total ? total : 1);
        if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
        size_t len = 0;
        for (size_t b = 0;;) {
            memcpy(buf + len, new_->utf8, new_->length);
            len += new_->length;
            if (b >= s->length) break;
            size_t w = char_len(s, b);
            memcpy(buf + len, s->utf8 + b, w);
            len += w;
            b += w;
        }
        const spy_Str *out = spy_str_new(buf, len);
        free(buf);
        return out;
    }
    int32_t n = spy_str_count(s, old);
    if (n == 0) return s;
    size_t total = s->length + (size_t)n * new_->length - (size_t)n * old->length;
    char *buf = malloc(total ? total : 1);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    size_t len = 0, from = 0;
    for (int64_t b = find_bytes(s, old, 0); b >= 0; b = find_bytes(s, old, from)) {
        memcpy(buf + len, s->utf8 + from, (size_t)b - from);
        len += (size_t)b - from;
        memcpy(buf + len, new_->utf8, new_->length);
        len += new_->length;
        from = (size_t)b + old->length;
    }
    memcpy(buf + len, s->utf8 + from, s->length - from);
    len += s->length - from;
    const spy_Str *out = spy_str_new(buf, len);
    free(buf);
    return out;
}

const spy_Str *spy_str_char_at(const spy_Str *s, int64_t b) {
    return spy_str_new(s->utf8 + b, char_len(s, (size_t)b));
}

int64_t spy_str_char_width(const spy_Str *s, int64_t b) { return (int64_t)char_len(s, (size_t)b); }

/* strip() and friends without arguments: Python's whitespace (str.isspace) */
/* is code point cp one of `chars`' (or, with chars NULL, whitespace)? */
static bool strips(uint32_t cp, const spy_Str *chars) {
    if (chars == NULL) return spy_unicode_isspace(cp);
    const unsigned char *p = (const unsigned char *)chars->utf8, *end = p + chars->length;
    while (p < end)
        if (spy_utf8_next(&p, end) == cp) return true;
    return false;
}

static const spy_Str *strip(const spy_Str *s, const spy_Str *chars, bool left, bool right) {
    const unsigned char *u = (const unsigned char *)s->utf8, *end = u + s->length;
    const unsigned char *a = u, *e = end;
    while (left && a < e) {
        const unsigned char *p = a;
        if (!strips(spy_utf8_next(&p, end), chars)) break;
        a = p;
    }
    while (right && e > a) {
        const unsigned char *start = e - 1;
        while (start > a && (*start & 0xC0) == 0x80) start--;
        const unsigned char *p = start;
        if (!strips(spy_utf8_next(&p, end), chars)) break;
        e = start;
    }
    if (a == u && e == end) return s;
    return spy_str_new((const char *)a, (size_t)(e - a));
}

const spy_Str *spy_str_strip(const spy_Str *s) { return strip(s, NULL, true, true); }
const spy_Str *spy_str_lstrip(const spy_Str *s) { return strip(s, NULL, true, false); }
const spy_Str *spy_str_rstrip(const spy_Str *s) { return strip(s, NULL, false, true); }
const spy_Str *spy_str_strip_chars(const spy_Str *s, const spy_Str *chars) {
    return strip(s, chars, true, true);
}
const spy_Str *spy_str_lstrip_chars(const spy_Str *s, const spy_Str *chars) {
    return strip(s, chars, true, false);
}
const spy_Str *spy_str_rstrip_chars(const spy_Str *s, const spy_Str *chars) {
    return strip(s, chars, false, true);
}

bool spy_str_isspace(const spy_Str *s) {
    const unsigned char *p = (const unsigned char *)s->utf8, *end = p + s->length;
    if (p == end) return false;
    while (p < end)
        if (!spy_unicode_isspace(spy_utf8_next(&p, end))) return false;
    return true;
}

int64_t spy_str_hash(const spy_Str *s) {
    /* FNV-1a over the UTF-8 bytes */
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < s->length; i++) {
        h ^= (unsigned char)s->utf8[i];
        h *= 1099511628211ULL;
    }
    return (int64_t)h;
}

int64_t spy_f64_hash(double x) {
    if (x == 0.0) return 0; /* 0.0 == -0.0 */
    if (x >= -9.2e18 && x <= 9.2e18 && x == (double)(int64_t)x) return (int64_t)x;
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    return (int64_t)(bits * 0x9E3779B97F4A7C15ULL);
}

int spy_main_argc = 0;
char **spy_main_argv = NULL;

int32_t spy_argc(void) { return (int32_t)spy_main_argc; }

const spy_Str *spy_argv_at(int32_t i) {
    const char *arg = spy_main_argv[i];
    return spy_str_new(arg, strlen(arg));
}

/* ---- case and classes: Python's str.upper/lower/isascii/isalpha/isdigit ---- */

static size_t utf8_put(char *out, uint32_t cp) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* U+03A3 lowers to final sigma when a cased character comes before it and
 * none after, case-ignorable ones skipped (CPython's handle_capital_sigma) */
static bool final_sigma(const unsigned char *start, const unsigned char *at,
                        const unsigned char *after, const unsigned char *end) {
    const unsigned char *p = at;
    bool before = false;
    while (p > start) {
        const unsigned char *q = p - 1;
        while (q > start && (*q & 0xC0) == 0x80) q--;
        const unsigned char *r = q;
        uint32_t cp = spy_utf8_next(&r, p);
        p = q;
        if (!spy_unicode_iscaseignorable(cp)) {
            before = spy_unicode_iscased(cp);
            break;
        }
    }
    if (!before) return false;
    p = after;
    while (p < end) {
        uint32_t cp = spy_utf8_next(&p, end);
        if (!spy_unicode_iscaseignorable(cp)) return !spy_unicode_iscased(cp);
    }
    return true;
}

static const spy_Str *recase(const spy_Str *s, bool upper, const char *file, int32_t line) {
    const unsigned char *start = (const unsigned char *)s->utf8, *p = start;
    const unsigned char *end = start + s->length;
    /* a code point becomes at most 3, each at most 4 bytes */
    if (s->length > (SIZE_MAX - 1) / 12) spy_panic("MemoryError", "out of memory", file, line);
    char *buf = malloc(s->length * 12 + 1);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    size_t n = 0;
    while (p < end) {
        const unsigned char *at = p;
        uint32_t cp = spy_utf8_next(&p, end);
        uint32_t out[3];
        int k;
        if (!upper && cp == 0x3A3) {
            out[0] = final_sigma(start, at, p, end) ? 0x3C2 : 0x3C3;
            k = 1;
        } else {
            k = upper ? spy_unicode_upper(cp, out) : spy_unicode_lower(cp, out);
        }
        for (int i = 0; i < k; i++) n += utf8_put(buf + n, out[i]);
    }
    const spy_Str *result = spy_str_new(buf, n);
    free(buf);
    return result;
}

const spy_Str *spy_str_upper(const spy_Str *s, const char *file, int32_t line) {
    return recase(s, true, file, line);
}

const spy_Str *spy_str_lower(const spy_Str *s, const char *file, int32_t line) {
    return recase(s, false, file, line);
}

bool spy_str_isascii(const spy_Str *s) { return s->length == s->ncp; }

static bool all_chars(const spy_Str *s, bool (*pred)(uint32_t)) {
    const unsigned char *p = (const unsigned char *)s->utf8, *end = p + s->length;
    if (p == end) return false;
    while (p < end)
        if (!pred(spy_utf8_next(&p, end))) return false;
    return true;
}

bool spy_str_isalpha(const spy_Str *s) { return all_chars(s, spy_unicode_isalpha); }

bool spy_str_isdigit(const spy_Str *s) { return all_chars(s, spy_unicode_isdigit); }

/* ---- byte offsets, for split in the standard library ---- */

int64_t spy_str_find_byte(const spy_Str *s, const spy_Str *sub, int64_t from) {
    if (from < 0 || (size_t)from > s->length) return -1;
    if (sub->length == 0) return from;
    for (size_t b = (size_t)from; b + sub->length <= s->length; b++)
        if (memcmp(s->utf8 + b, sub->utf8, sub->length) == 0) return (int64_t)b;
    return -1;
}

const spy_Str *spy_str_byte_slice(const spy_Str *s, int64_t b0, int64_t b1) {
    return spy_str_new(s->utf8 + b0, (size_t)(b1 - b0));
}

/* the byte after the run of whitespace (or of other characters) from byte b */
int64_t spy_str_skip_space(const spy_Str *s, int64_t b, bool space) {
    const unsigned char *p = (const unsigned char *)s->utf8 + b;
    const unsigned char *end = (const unsigned char *)s->utf8 + s->length;
    while (p < end) {
        if (*p < 0x80) { /* ASCII, most text: no decoding, no table */
            bool is = *p == ' ' || (*p >= '\t' && *p <= '\r') || (*p >= 0x1c && *p <= 0x1f);
            if (is != space) break;
            p++;
            continue;
        }
        const unsigned char *q = p;
        if (spy_unicode_isspace(spy_utf8_next(&q, end)) != space) break;
        p = q;
    }
    return (int64_t)(p - (const unsigned char *)s->utf8);
}
