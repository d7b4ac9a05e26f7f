/* libspy: the C runtime every compiled SPy module links.
 *
 * One header on purpose: generated code includes only this file, and the
 * small integer helpers below are `static inline` so that the C compiler can
 * fold them into the caller (the checks cost a compare and a branch).
 */
#ifndef SPY_H
#define SPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPY_RUNTIME_ABI_MAJOR 0
#define SPY_RUNTIME_ABI_MINOR 1

#if defined(__GNUC__) || defined(__clang__)
#define SPY_NORETURN __attribute__((noreturn))
#define SPY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SPY_COLD __attribute__((cold, noinline))
#else
#define SPY_NORETURN
#define SPY_UNLIKELY(x) (x)
#define SPY_COLD
#endif

/* Before small innermost loops. wasmtime checks the epoch (for Ctrl-C) at
 * every loop back-edge, and the check's slow path is a call that makes
 * Cranelift spill float registers: unrolling divides that cost by four.
 * Native code needs no hint. */
#if defined(__wasm__) && defined(__clang__)
#define SPY_LOOP_HINT _Pragma("clang loop unroll_count(4)")
#else
#define SPY_LOOP_HINT
#endif

/* ---- strings -------------------------------------------------------------
 * Immutable UTF-8. `length` counts bytes, `ncp` code points (len() is O(1)).
 * Literals are static const objects; runtime strings are one allocation.
 *
 * Who frees a runtime string: strings made while compiled code runs are
 * temporaries in an arena, freed all at once by spy_arena_reset(), which the
 * entry points called from Python run first (so a call's temporaries live
 * until the next call, after its result was converted). A string stored into
 * a `var` global is copied out of the arena first (spy_str_persist). */
typedef enum {
    SPY_STR_STATIC = 0, /* a literal */
    SPY_STR_TEMP = 1,   /* in the arena */
    SPY_STR_HOST = 2,   /* made for the host (an argument); the host frees it */
    SPY_STR_KEPT = 3,   /* persisted for a global; never freed */
} spy_StrKind;

typedef struct spy_Str {
    size_t length;
    size_t ncp;
    const char *utf8;
    uint32_t kind; /* spy_StrKind */
} spy_Str;

#define SPY_STR_LITERAL(nbytes, ncp, s) {(nbytes), (ncp), (s), SPY_STR_STATIC}

extern size_t spy_arena_len;
void spy_arena_free_all(void);
/* inline: most calls make no string, and pay a load and a branch */
static inline void spy_arena_reset(void) {
    if (SPY_UNLIKELY(spy_arena_len)) spy_arena_free_all();
}
const spy_Str *spy_str_persist(const spy_Str *s);
const spy_Str *spy_str_new_kind(const char *utf8, size_t nbytes, spy_StrKind kind);

const spy_Str *spy_str_new(const char *utf8, size_t nbytes);
const spy_Str *spy_str_concat(const spy_Str *a, const spy_Str *b);
bool spy_str_eq(const spy_Str *a, const spy_Str *b);
static inline int32_t spy_str_len(const spy_Str *s) { return (int32_t)s->ncp; }
const spy_Str *spy_str_from_i64(int64_t x);
const spy_Str *spy_str_from_u64(uint64_t x);
const spy_Str *spy_str_from_f64(double x);
const spy_Str *spy_str_from_f32(float x);
const spy_Str *spy_str_from_bool(bool x);
/* int(s) / float(s) with Python's parsing rules; panic on bad input. */
int64_t spy_str_to_i64(const spy_Str *s, int64_t min, int64_t max, const char *tname,
                       const char *file, int32_t line);
uint64_t spy_str_to_u64(const spy_Str *s, uint64_t max, const char *tname,
                        const char *file, int32_t line);
double spy_str_to_f64(const spy_Str *s, const char *file, int32_t line);

/* Python's repr() of a double: shortest round-tripping digits. `buf` needs
 * 32 bytes. Returns the number of bytes written (no NUL counted). */
int spy_format_f64(double x, char *buf);
int spy_format_f32(float x, char *buf);

/* ---- panics --------------------------------------------------------------
 * A panic is SPy's uncaught exception: kind ("ValueError"), message and the
 * .spy location. spy_panic records it in `spy_last_panic` and hands over to
 * spy_panic_handler(), which each link mode defines once: print and exit (an
 * executable), longjmp back to the Python boundary (an extension module), or
 * trap (a wasm reactor, where the host reads spy_last_panic). */
typedef struct spy_PanicInfo {
    const char *kind;
    const char *message;
    size_t message_length;
    const char *file;
    int32_t line;
} spy_PanicInfo;

extern spy_PanicInfo spy_last_panic;

SPY_NORETURN SPY_COLD void spy_panic(const char *kind, const char *msg, const char *file,
                                     int32_t line);
SPY_NORETURN SPY_COLD void spy_panic_str(const char *kind, const spy_Str *msg,
                                         const char *file, int32_t line);
SPY_NORETURN void spy_panic_handler(void);

/* ---- print ----------------------------------------------------------------
 * spy_out_write is defined by the link mode (src/mode_*.c). */
void spy_out_write(const char *s, size_t n);
void spy_print_i64(int64_t x);
void spy_print_u64(uint64_t x);
void spy_print_f64(double x);
void spy_print_f32(float x);
void spy_print_bool(bool x);
void spy_print_str(const spy_Str *s);
void spy_print_none(void);
void spy_print_sep(void);
void spy_print_end(void);

/* ---- math and time (SPy's `math` and `time` modules) ---------------------- */
double spy_math_sqrt(double x, const char *file, int32_t line);
double spy_math_log(double x, const char *file, int32_t line);
double spy_math_exp(double x, const char *file, int32_t line);
double spy_math_sin(double x);
double spy_math_cos(double x);
double spy_math_floor(double x);
double spy_math_fabs(double x);
double spy_time_time(void);

/* The same bits on every target (src/libm.c), unlike the platform libms. */
double spy_libm_exp(double x);
double spy_libm_log(double x);
double spy_libm_sin(double x);
double spy_libm_cos(double x);

/* ---- float arithmetic with Python's rules --------------------------------- */
/* true division is inline: a call would keep the C compiler from
   pipelining divisions in loops */
static inline double spy_f64_div(double x, double y, const char *file, int32_t line) {
    if (SPY_UNLIKELY(y == 0)) spy_panic("ZeroDivisionError", "float division by zero", file, line);
    return x / y;
}
static inline float spy_f32_div(float x, float y, const char *file, int32_t line) {
    if (SPY_UNLIKELY(y == 0)) spy_panic("ZeroDivisionError", "float division by zero", file, line);
    return x / y;
}
double spy_f64_floordiv(double x, double y, const char *file, int32_t line);
double spy_f64_mod(double x, double y, const char *file, int32_t line);
double spy_f64_pow(double x, double y, const char *file, int32_t line);
float spy_f32_floordiv(float x, float y, const char *file, int32_t line);
float spy_f32_mod(float x, float y, const char *file, int32_t line);

/* float -> int casts saturate and map NaN to 0 (as SPy's operator.h does). */
#define SPY_FLOAT_TO_INT(NAME, CT, MINV, MAXV)                                         \
    static inline CT spy_##NAME(double x) {                                            \
        if (x != x) return 0;                                                          \
        if (x >= (double)(MAXV)) return (MAXV);                                        \
        if (x <= (double)(MINV)) return (MINV);                                        \
        return (CT)x;                                                                  \
    }
SPY_FLOAT_TO_INT(f64_to_i8, int8_t, INT8_MIN, INT8_MAX)
SPY_FLOAT_TO_INT(f64_to_u8, uint8_t, 0, UINT8_MAX)
SPY_FLOAT_TO_INT(f64_to_i32, int32_t, INT32_MIN, INT32_MAX)
SPY_FLOAT_TO_INT(f64_to_u32, uint32_t, 0, UINT32_MAX)
SPY_FLOAT_TO_INT(f64_to_i64, int64_t, INT64_MIN, INT64_MAX)
SPY_FLOAT_TO_INT(f64_to_u64, uint64_t, 0, UINT64_MAX)
#undef SPY_FLOAT_TO_INT

/* ---- integer arithmetic with Python's rules, wrapping at the width -------- */
#define SPY_SIGNED_OPS(T, CT, UCT, MINV)                                                \
    static inline CT spy_##T##_floordiv(CT x, CT y, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        if (SPY_UNLIKELY(y == -1)) return (CT)(0 - (UCT)x); /* MIN // -1 wraps */     \
        CT q = x / y;                                                                  \
        if ((x % y != 0) && ((x < 0) != (y < 0))) q -= 1;                              \
        return q;                                                                      \
    }                                                                                  \
    static inline CT spy_##T##_mod(CT x, CT y, const char *file, int32_t line) {       \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        if (SPY_UNLIKELY(y == -1)) return 0;                                           \
        CT r = x % y;                                                                  \
        if (r != 0 && ((r < 0) != (y < 0))) r += y;                                    \
        return r;                                                                      \
    }                                                                                  \
    static inline double spy_##T##_div(CT x, CT y, const char *file, int32_t line) {   \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "division by zero", file, line);            \
        return (double)x / (double)y;                                                  \
    }                                                                                  \
    static inline CT spy_##T##_shl(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)((UCT)x << n);                                                      \
    }                                                                                  \
    static inline CT spy_##T##_shr(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return x < 0 ? -1 : 0;                     \
        return (CT)(x >> n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_pow(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0))                                                       \
            spy_panic("ValueError", "negative exponent in integer power", file, line);  \
        UCT result = 1, base = (UCT)x;                                                 \
        while (n) {                                                                    \
            if (n & 1) result *= base;                                                 \
            base *= base;                                                              \
            n >>= 1;                                                                   \
        }                                                                              \
        return (CT)result;                                                             \
    }

#define SPY_UNSIGNED_OPS(T, CT)                                                         \
    static inline CT spy_##T##_floordiv(CT x, CT y, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        return x / y;                                                                  \
    }                                                                                  \
    static inline CT spy_##T##_mod(CT x, CT y, const char *file, int32_t line) {       \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        return x % y;                                                                  \
    }                                                                                  \
    static inline double spy_##T##_div(CT x, CT y, const char *file, int32_t line) {   \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "division by zero", file, line);            \
        return (double)x / (double)y;                                                  \
    }                                                                                  \
    static inline CT spy_##T##_shl(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)(x << n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_shr(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)(x >> n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_pow(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0))                                                       \
            spy_panic("ValueError", "negative exponent in integer power", file, line);  \
        CT result = 1, base = x;                                                       \
        while (n) {                                                                    \
            if (n & 1) result *= base;                                                 \
            base *= base;                                                              \
            n >>= 1;                                                                   \
        }                                                                              \
        return result;                                                                 \
    }

SPY_SIGNED_OPS(i8, int8_t, uint8_t, INT8_MIN)
SPY_SIGNED_OPS(i32, int32_t, uint32_t, INT32_MIN)
SPY_SIGNED_OPS(i64, int64_t, uint64_t, INT64_MIN)
SPY_UNSIGNED_OPS(u8, uint8_t)
SPY_UNSIGNED_OPS(u32, uint32_t)
SPY_UNSIGNED_OPS(u64, uint64_t)
#undef SPY_SIGNED_OPS
#undef SPY_UNSIGNED_OPS

/* range() with a step that is not the literal 1: the number of iterations,
 * computed without overflow (the values themselves may wrap only past it). */
static inline uint64_t spy_range_len(int64_t start, int64_t stop, int64_t step,
                                     const char *file, int32_t line) {
    if (SPY_UNLIKELY(step == 0))
        spy_panic("ValueError", "range() arg 3 must not be zero", file, line);
    if (step > 0) {
        if (start >= stop) return 0;
        return ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
    }
    if (start <= stop) return 0;
    return ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
}

#endif /* SPY_H */

