/* Strings: allocation, concatenation, comparison and conversions. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"
#include "unicode.h"

static size_t count_codepoints(const char *s, size_t n) {
    size_t ncp = 0;
    for (size_t i = 0; i < n; i++)
        ncp += ((unsigned char)s[i] & 0xC0) != 0x80; /* skip continuation bytes */
    return ncp;
}

/* The thread's arena of temporaries: every SPY_STR_TEMP allocation not yet
 * released (spy.h: "Who frees a string"). */
static void arena_add(void *p) {
    spy_Thread *t = &spy_thread;
    if (!spy_push(&t->arena, &t->arena_len, &t->arena_cap, p)) {
        free(p);
        spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    }
}

void spy_arena_free_from(size_t mark) {
    spy_Thread *t = &spy_thread;
    for (size_t i = mark; i < t->arena_len; i++) free(t->arena[i]);
    t->arena_len = mark;
    if (mark == 0 && t->arena_cap > 1024) { /* a burst of temporaries: give it back */
        free(t->arena);
        t->arena = NULL;
        t->arena_cap = 0;
    }
}

/* ---- values of str globals ------------------------------------------------
 * Storing into a str global copies the value out of the arena. The old value
 * may still be in a local of a running call (`s = g; g = "x"; print(s)`), on
 * this thread or another, so it is retired, and the retired values are freed
 * when the number of running calls that can see str globals drops to zero
 * (the generated boundary brackets those calls with spy_globals_enter/leave).
 * Natively the count and the list are shared by all threads: atomics and a
 * spin lock, held only to push or take the list. */
typedef struct Retired {
    struct Retired *next;
} Retired;

#define retired (*(Retired **)&spy_process->retired)
#define globals_users (spy_process->globals_users)

static void lock_retired(void) {
    while (__atomic_exchange_n(&spy_process->retired_lock, 1, __ATOMIC_ACQUIRE)) {
    }
}

static void unlock_retired(void) {
    __atomic_store_n(&spy_process->retired_lock, 0, __ATOMIC_RELEASE);
}

/* -1 while spy_gc_collect_pinned runs: calls that can see globals wait */
void spy_globals_enter(void) {
    for (;;) {
        int32_t n = __atomic_load_n(&globals_users, __ATOMIC_ACQUIRE);
        if (n >= 0 && __atomic_compare_exchange_n(&globals_users, &n, n + 1, false,
                                                  __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return;
    }
}

static void free_retired(void) {
    lock_retired();
    Retired *list = retired;
    retired = NULL;
    unlock_retired();
    /* a call that started meanwhile reads only current values, never these */
    while (list != NULL) {
        Retired *next = list->next;
        free(list);
        list = next;
    }
}

void spy_globals_leave(void) {
    if (__atomic_sub_fetch(&globals_users, 1, __ATOMIC_ACQ_REL) != 0) return;
    free_retired();
    int32_t zero = 0;
    if (spy_gc_pinned_dirty() && __atomic_compare_exchange_n(&globals_users, &zero, -1, false,
                                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        spy_gc_collect_pinned();
        free_retired(); /* the strings of the blocks it freed */
        __atomic_store_n(&globals_users, 0, __ATOMIC_RELEASE);
    }
}

void spy_outermost_entry(void) {
    spy_arena_release(0);
    spy_blocks_release(0);
    free_retired();
    if (spy_gc_pinned_dirty()) { /* wasm: one thread, and no call is running */
        spy_gc_collect_pinned();
        free_retired();
    }
}

/* One allocation: header followed by the NUL-terminated bytes; a KEPT string
 * has a Retired link in front, so retiring it allocates nothing. */
static spy_Str *str_alloc(size_t nbytes, char **data, spy_StrKind kind) {
    size_t front = kind == SPY_STR_KEPT ? sizeof(Retired) : 0;
    if (nbytes > SIZE_MAX - sizeof(spy_Str) - front - 1)
        spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    char *block = malloc(front + sizeof(spy_Str) + nbytes + 1);
    if (block == NULL) spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    spy_Str *s = (spy_Str *)(block + front);
    if (kind == SPY_STR_TEMP) {
        arena_add(s);
        spy_gc_count(sizeof(spy_Str) + nbytes + 1);
    }
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

const spy_Str spy_str_empty = SPY_STR_LITERAL(0, 0, "");

/* A copy owned by a global or a pinned block: a temporary dies with its
   region, a host string with its call, a KEPT one when its owner replaces it. */
const spy_Str *spy_str_kept(const spy_Str *s) {
    if (s->kind == SPY_STR_STATIC) return s;
    char *data;
    spy_Str *kept = str_alloc(s->length, &data, SPY_STR_KEPT);
    memcpy(data, s->utf8, s->length);
    kept->ncp = s->ncp;
    return kept;
}

const spy_Str *spy_str_new(const char *utf8, size_t nbytes) {
    return spy_str_new_kind(utf8, nbytes, SPY_STR_TEMP);
}

const spy_Str *spy_str_repr(const spy_Str *s, const char *file, int32_t line) {
    /* at most 10 bytes per character (\U0010ffff) and the two quotes */
    if (s->length > (SIZE_MAX - 2) / 10) spy_panic("MemoryError", "out of memory", file, line);
    size_t cap = 10 * s->length + 2;
    char *buf = malloc(cap);
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    bool complete;
    size_t n = spy_unicode_repr(s->utf8, s->length, buf, cap, SIZE_MAX, &complete);
    const spy_Str *out = spy_str_new(buf, n);
    free(buf);
    return out;
}

void spy_global_str_store(const spy_Str **slot, const spy_Str *value) {
    value = spy_str_kept(value);
    spy_str_retire(__atomic_exchange_n(slot, value, __ATOMIC_ACQ_REL));
}

void spy_str_retire(const spy_Str *old) {
    if (old != NULL && old->kind == SPY_STR_KEPT) {
        Retired *r = (Retired *)((char *)old - sizeof(Retired));
        lock_retired();
        r->next = retired;
        retired = r;
        unlock_retired();
    }
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

/* ---- parsing, as Python's int() and float() do --------------------------
 * Python reads the text with every non-ASCII whitespace character as ' ' and
 * every decimal digit of any script ('٣') as its ASCII digit; any other
 * non-ASCII character makes the literal invalid
 * (_PyUnicode_TransformDecimalAndSpaceToASCII). Then it strips ASCII
 * whitespace at both ends, and underscores may stand only between two digits
 * (PEP 515). Nothing here allocates. */

typedef struct {
    const unsigned char *p, *end;
} Reader;

/* the next character as Python's transform makes it; 0 at the end and '?'
   for a character that cannot be part of a literal */
static int next_char(Reader *r) {
    if (r->p == r->end) return 0;
    if (*r->p < 0x80) return *r->p++ ? r->p[-1] : '?';
    uint32_t cp = spy_utf8_next(&r->p, r->end);
    if (spy_unicode_isspace(cp)) return ' ';
    int d = spy_unicode_decimal(cp);
    return d >= 0 ? '0' + d : '?';
}

static bool is_space(int c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool is_digit(int c) { return c >= '0' && c <= '9'; }

/* the first character that is not a space */
static int skip_spaces(Reader *r) {
    int c;
    while (is_space(c = next_char(r))) {
    }
    return c;
}

/* Python's message quotes repr(s) cut at 200 characters ("%.200R", as
 * int() does; float() does not cut, we do and add "..."), in the thread's
 * bounded message buffer, so a long literal costs nothing. */
SPY_NORETURN static void invalid_literal(const char *head, bool ellipsis, const spy_Str *s,
                                         const char *file, int32_t line) {
    char *buf = spy_thread.message_buf;
    size_t cap = sizeof spy_thread.message_buf - 4, n = strlen(head); /* room for "..." */
    memcpy(buf, head, n);
    bool complete;
    n += spy_unicode_repr(s->utf8, s->length, buf + n, cap - n, 200, &complete);
    if (!complete && ellipsis) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    spy_panic("ValueError", buf, file, line);
}

/* Sign and base-10 digits between optional whitespace. Returns false on a
 * malformed literal; sets *overflow past UINT64_MAX. */
static bool parse_int(const spy_Str *s, bool *negative, uint64_t *magnitude,
                      bool *overflow) {
    Reader r = {(const unsigned char *)s->utf8, (const unsigned char *)s->utf8 + s->length};
    *negative = false;
    *overflow = false;
    *magnitude = 0;
    int c = skip_spaces(&r);
    if (c == '+' || c == '-') {
        *negative = c == '-';
        c = next_char(&r);
    }
    if (!is_digit(c)) return false;
    int prev;
    do {
        if (c != '_') {
            uint64_t d = (uint64_t)(c - '0');
            if (*magnitude > (UINT64_MAX - d) / 10) *overflow = true;
            *magnitude = *magnitude * 10 + d;
        }
        prev = c;
        c = next_char(&r);
        if (c == '_' && prev == '_') return false;
    } while (is_digit(c) || c == '_');
    if (prev == '_') return false;
    if (is_space(c)) c = skip_spaces(&r);
    return c == 0;
}

SPY_NORETURN static void out_of_range(const char *tname, const char *file, int32_t line) {
    snprintf(spy_thread.message_buf, sizeof spy_thread.message_buf,
             "value out of range for %s", tname);
    spy_panic("OverflowError", spy_thread.message_buf, file, line);
}

#define INT_LITERAL "invalid literal for int() with base 10: "

int64_t spy_str_to_i64(const spy_Str *s, int64_t min, int64_t max, const char *tname,
                       const char *file, int32_t line) {
    bool negative, overflow;
    uint64_t mag;
    if (!parse_int(s, &negative, &mag, &overflow)) invalid_literal(INT_LITERAL, false, s, file, line);
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
    if (!parse_int(s, &negative, &mag, &overflow)) invalid_literal(INT_LITERAL, false, s, file, line);
    if (overflow || mag > max || (negative && mag != 0)) out_of_range(tname, file, line);
    return mag;
}

/* If the lower-case word w follows at *c (in any case), read past it. */
static bool word(Reader *r, int *c, const char *w) {
    Reader save = *r;
    int ch = *c;
    for (; *w; w++, ch = next_char(r)) {
        if ((ch | 0x20) != *w) {
            *r = save;
            return false;
        }
    }
    *c = ch;
    return true;
}

/* Significant digits handed to strtod: a double's rounding midpoints have at
 * most 767 significant digits, so the first 800 and a sticky 1 standing for
 * any non-zero digits after them round as all the digits would. */
#define MAX_DIGITS 800
#define MAX_EXP 1000000000 /* an exponent beyond this is read as this */

/* digits [. digits] [e [sign] digits], underscores between digits: the value
 * by strtod (correctly rounded by glibc and musl alike) from a bounded copy */
static bool parse_decimal(Reader *r, int *c, double *v) {
    char buf[MAX_DIGITS + 32];
    size_t nd = 0;      /* digits in buf: the integer D, leading zeros left out */
    int64_t scale = 0;  /* value = D * 10**scale */
    bool any = false, point = false, sticky = false;
    int ch = *c, prev = 0;
    for (;; prev = ch, ch = next_char(r)) {
        if (ch == '_') {
            if (!is_digit(prev)) return false;
            prev = ch;
            ch = next_char(r);
            if (!is_digit(ch)) return false;
        }
        if (is_digit(ch)) {
            any = true;
            if (nd == 0 && ch == '0') {
                scale -= point;
            } else if (nd < MAX_DIGITS) {
                buf[nd++] = (char)ch;
                scale -= point;
            } else {
                sticky |= ch != '0';
                scale += !point;
            }
        } else if (ch == '.' && !point) {
            point = true;
        } else {
            break;
        }
    }
    if (!any) return false;
    if (ch == 'e' || ch == 'E') { /* an exponent must follow */
        bool neg = false;
        int64_t e = 0;
        ch = next_char(r);
        if (ch == '+' || ch == '-') {
            neg = ch == '-';
            ch = next_char(r);
        }
        if (!is_digit(ch)) return false;
        for (prev = 0;; prev = ch, ch = next_char(r)) {
            if (ch == '_') {
                if (!is_digit(prev)) return false;
                prev = ch;
                ch = next_char(r);
                if (!is_digit(ch)) return false;
            }
            if (!is_digit(ch)) break;
            e = e * 10 + (ch - '0');
            if (e > MAX_EXP) e = MAX_EXP;
        }
        scale += neg ? -e : e;
    }
    *c = ch;
    if (nd == 0) {
        *v = 0.0;
        return true;
    }
    if (sticky) {
        buf[nd++] = '1';
        scale -= 1;
    }
    if (scale > 100000) scale = 100000; /* D has 1 to 801 digits: still inf or 0 */
    if (scale < -100000) scale = -100000;
    snprintf(buf + nd, sizeof buf - nd, "e%d", (int)scale);
    *v = strtod(buf, NULL);
    return true;
}

double spy_str_to_f64(const spy_Str *s, const char *file, int32_t line) {
    Reader r = {(const unsigned char *)s->utf8, (const unsigned char *)s->utf8 + s->length};
    int c = skip_spaces(&r);
    bool negative = false;
    double v;
    if (c == '+' || c == '-') {
        negative = c == '-';
        c = next_char(&r);
    }
    if (word(&r, &c, "inf")) {
        word(&r, &c, "inity");
        v = HUGE_VAL;
    } else if (word(&r, &c, "nan")) {
        v = NAN;
    } else if (!parse_decimal(&r, &c, &v)) {
        c = '?';
    }
    if (is_space(c)) c = skip_spaces(&r);
    if (c != 0) invalid_literal("could not convert string to float: ", true, s, file, line);
    return negative ? -v : v;
}

void spy_str_len_overflow(const char *file, int32_t line) {
    spy_panic("OverflowError", "len() of a string of more than 2147483647 characters (len is an i32)",
              file, line);
}
