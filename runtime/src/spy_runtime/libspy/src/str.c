/* Strings: allocation, concatenation, comparison and conversions. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"

static size_t count_codepoints(const char *s, size_t n) {
    size_t ncp = 0;
    for (size_t i = 0; i < n; i++)
        ncp += ((unsigned char)s[i] & 0xC0) != 0x80; /* skip continuation bytes */
    return ncp;
}

/* The arena of temporaries: every SPY_STR_TEMP allocation since the last reset. */
static void **arena;
size_t spy_arena_len;
static size_t arena_cap;

static void arena_add(void *p) {
    if (spy_arena_len == arena_cap) {
        size_t cap = arena_cap ? 2 * arena_cap : 64;
        void **grown = realloc(arena, cap * sizeof *arena);
        if (grown == NULL) {
            free(p);
            spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
        }
        arena = grown;
        arena_cap = cap;
    }
    arena[spy_arena_len++] = p;
}

void spy_arena_free_all(void) {
    for (size_t i = 0; i < spy_arena_len; i++) free(arena[i]);
    spy_arena_len = 0;
}

/* One allocation: header followed by the NUL-terminated bytes. */
static spy_Str *str_alloc(size_t nbytes, char **data, spy_StrKind kind) {
    spy_Str *s = malloc(sizeof(spy_Str) + nbytes + 1);
    if (s == NULL) spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    if (kind == SPY_STR_TEMP) arena_add(s);
    *data = (char *)(s + 1);
    (*data)[nbytes] = '\0';
    s->length = nbytes;
    s->utf8 = *data;
    s->kind = kind;
    return s;
}

const spy_Str *spy_str_new_kind(const char *utf8, size_t nbytes, spy_StrKind kind) {
    char *data;
    spy_Str *s = str_alloc(nbytes, &data, kind);
    memcpy(data, utf8, nbytes);
    s->ncp = count_codepoints(data, nbytes);
    return s;
}

const spy_Str *spy_str_new(const char *utf8, size_t nbytes) {
    return spy_str_new_kind(utf8, nbytes, SPY_STR_TEMP);
}

const spy_Str *spy_str_persist(const spy_Str *s) {
    if (s->kind == SPY_STR_STATIC || s->kind == SPY_STR_KEPT) return s;
    char *data;
    spy_Str *kept = str_alloc(s->length, &data, SPY_STR_KEPT);
    memcpy(data, s->utf8, s->length);
    kept->ncp = s->ncp;
    return kept;
}

const spy_Str *spy_str_concat(const spy_Str *a, const spy_Str *b) {
    char *data;
    spy_Str *s = str_alloc(a->length + b->length, &data, SPY_STR_TEMP);
    memcpy(data, a->utf8, a->length);
    memcpy(data + a->length, b->utf8, b->length);
    s->ncp = a->ncp + b->ncp;
    return s;
}

bool spy_str_eq(const spy_Str *a, const spy_Str *b) {
    return a == b || (a->length == b->length && memcmp(a->utf8, b->utf8, a->length) == 0);
}

const spy_Str *spy_str_from_i64(int64_t x) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, x);
    return spy_str_new(buf, (size_t)n);
}

const spy_Str *spy_str_from_u64(uint64_t x) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, x);
    return spy_str_new(buf, (size_t)n);
}

const spy_Str *spy_str_from_f64(double x) {
    char buf[32];
    int n = spy_format_f64(x, buf);
    return spy_str_new(buf, (size_t)n);
}

const spy_Str *spy_str_from_f32(float x) {
    char buf[32];
    int n = spy_format_f32(x, buf);
    return spy_str_new(buf, (size_t)n);
}

const spy_Str *spy_str_from_bool(bool x) {
    return x ? spy_str_new("True", 4) : spy_str_new("False", 5);
}

/* ---- parsing, as Python's int() and float() do -------------------------- */

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

SPY_NORETURN static void invalid_literal(const char *what, const spy_Str *s,
                                         const char *file, int32_t line) {
    char head[64];
    /* Python's message quotes the repr; quoting the raw text is close enough. */
    int n = snprintf(head, sizeof head, "invalid literal for %s: '", what);
    size_t total = (size_t)n + s->length + 2;
    char *msg = malloc(total);
    if (msg == NULL) spy_panic("MemoryError", "out of memory", file, line);
    memcpy(msg, head, (size_t)n);
    memcpy(msg + n, s->utf8, s->length);
    msg[total - 2] = '\'';
    msg[total - 1] = '\0';
    spy_panic("ValueError", msg, file, line);
}

/* Strip whitespace, read sign and digits (underscores allowed between digits).
 * Returns false on a malformed literal; sets *overflow past UINT64_MAX. */
static bool parse_int(const spy_Str *s, bool *negative, uint64_t *magnitude,
                      bool *overflow) {
    const char *p = s->utf8, *end = s->utf8 + s->length;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    *negative = false;
    *overflow = false;
    *magnitude = 0;
    if (p < end && (*p == '+' || *p == '-')) *negative = (*p++ == '-');
    if (p == end) return false;
    bool prev_digit = false;
    for (; p < end; p++) {
        if (*p == '_') {
            if (!prev_digit || p + 1 == end) return false;
            prev_digit = false;
            continue;
        }
        if (*p < '0' || *p > '9') return false;
        uint64_t d = (uint64_t)(*p - '0');
        if (*magnitude > (UINT64_MAX - d) / 10) *overflow = true;
        *magnitude = *magnitude * 10 + d;
        prev_digit = true;
    }
    return true;
}

SPY_NORETURN static void out_of_range(const char *tname, const char *file, int32_t line) {
    char msg[64];
    snprintf(msg, sizeof msg, "value out of range for %s", tname);
    char *copy = malloc(strlen(msg) + 1);
    if (copy == NULL) spy_panic("OverflowError", "value out of range", file, line);
    strcpy(copy, msg);
    spy_panic("OverflowError", copy, file, line);
}

int64_t spy_str_to_i64(const spy_Str *s, int64_t min, int64_t max, const char *tname,
                       const char *file, int32_t line) {
    bool negative, overflow;
    uint64_t mag;
    if (!parse_int(s, &negative, &mag, &overflow))
        invalid_literal("int() with base 10", s, file, line);
    if (overflow) out_of_range(tname, file, line);
    if (negative) {
        if (mag > (uint64_t)0 - (uint64_t)min) out_of_range(tname, file, line);
        return (int64_t)(0 - mag);
    }
    if (mag > (uint64_t)max) out_of_range(tname, file, line);
    return (int64_t)mag;
}

uint64_t spy_str_to_u64(const spy_Str *s, uint64_t max, const char *tname,
                        const char *file, int32_t line) {
    bool negative, overflow;
    uint64_t mag;
    if (!parse_int(s, &negative, &mag, &overflow))
        invalid_literal("int() with base 10", s, file, line);
    if (overflow || mag > max || (negative && mag != 0)) out_of_range(tname, file, line);
    return mag;
}

double spy_str_to_f64(const spy_Str *s, const char *file, int32_t line) {
    const char *p = s->utf8, *end = s->utf8 + s->length;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    size_t n = (size_t)(end - p);
    /* Python accepts digits with underscores, inf, nan; strtod also accepts
     * hex floats, which Python does not: refuse an 'x'. */
    char *buf = malloc(n + 1);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 'x' || p[i] == 'X') j = 0, i = n; /* force failure */
        else if (p[i] != '_') buf[j++] = p[i];
    }
    buf[j] = '\0';
    char *stop = NULL;
    double v = j ? strtod(buf, &stop) : 0.0;
    bool ok = j != 0 && stop == buf + j;
    free(buf);
    if (!ok) invalid_literal("float()", s, file, line);
    return v;
}
