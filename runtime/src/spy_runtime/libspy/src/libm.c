/* exp, log, sin and cos that give the same bits on every target.
 *
 * The platform libms differ in the last bit (glibc and wasi-libc's musl do,
 * e.g. exp(1.0)), so compiled SPy would print different numbers natively and
 * on wasm. These evaluate in double-double arithmetic (about 106 bits) using
 * only + - * / on doubles, which IEEE 754 defines exactly, then round once:
 * the result is the correctly rounded value except in rare hard cases, and
 * identical on every target as long as no FMA contraction happens
 * (-ffp-contract=off, set by the toolchain).
 */
#include <math.h>
#include <stdint.h>

#include "spy.h"

typedef struct {
    double hi, lo;
} dd;

static inline dd quick_two_sum(double a, double b) {
    double s = a + b;
    return (dd){s, b - (s - a)};
}

static inline dd two_sum(double a, double b) {
    double s = a + b;
    double bb = s - a;
    return (dd){s, (a - (s - bb)) + (b - bb)};
}

static inline void split(double a, double *hi, double *lo) {
    double t = 134217729.0 * a; /* 2^27 + 1 */
    *hi = t - (t - a);
    *lo = a - *hi;
}

static inline dd two_prod(double a, double b) {
    double p = a * b, ah, al, bh, bl;
    split(a, &ah, &al);
    split(b, &bh, &bl);
    return (dd){p, ((ah * bh - p) + ah * bl + al * bh) + al * bl};
}

static inline dd dd_add(dd x, dd y) {
    dd s = two_sum(x.hi, y.hi);
    dd t = two_sum(x.lo, y.lo);
    s.lo += t.hi;
    s = quick_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return quick_two_sum(s.hi, s.lo);
}

static inline dd dd_neg(dd x) { return (dd){-x.hi, -x.lo}; }

static inline dd dd_mul(dd x, dd y) {
    dd p = two_prod(x.hi, y.hi);
    p.lo += x.hi * y.lo + x.lo * y.hi;
    return quick_two_sum(p.hi, p.lo);
}

static inline dd dd_mul_d(dd x, double d) {
    dd p = two_prod(x.hi, d);
    p.lo += x.lo * d;
    return quick_two_sum(p.hi, p.lo);
}

static inline dd dd_div_d(dd x, double d) {
    double q1 = x.hi / d;
    dd p = two_prod(q1, d);
    double q2 = (((x.hi - p.hi) - p.lo) + x.lo) / d;
    return quick_two_sum(q1, q2);
}

static const dd DD_ONE = {1.0, 0.0};
static const dd LN2 = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};
/* pi/2 to about 160 bits, in three pieces */
static const double PIO2_1 = 0x1.921fb54442d18p+0;
static const double PIO2_2 = 0x1.1a62633145c07p-54;
static const double PIO2_3 = -0x1.f1976b7ed8fbcp-110;

/* e**r for |r| <= ~0.35: Taylor on r/1024, then square ten times. */
static dd exp_reduced(dd r) {
    r.hi = ldexp(r.hi, -10);
    r.lo = ldexp(r.lo, -10);
    dd s = DD_ONE;
    for (int n = 9; n >= 1; n--) s = dd_add(DD_ONE, dd_div_d(dd_mul(r, s), (double)n));
    for (int i = 0; i < 10; i++) s = dd_mul(s, s);
    return s;
}

/* e**x = 2**k * e**r with r = x - k*ln2 */
static dd exp_dd(double x, int *k_out) {
    double k = floor(x * 0x1.71547652b82fep+0 + 0.5);
    dd r = dd_add((dd){x, 0.0}, dd_neg(dd_mul_d(LN2, k)));
    *k_out = (int)k;
    return exp_reduced(r);
}

double spy_libm_exp(double x) {
    if (isnan(x)) return x;
    if (x > 709.782712893384) return HUGE_VAL;
    if (x < -745.1332191019412) return 0.0;
    int k;
    dd s = exp_dd(x, &k);
    if (k < -1020) /* subnormal result: scale in two steps */
        return ldexp(ldexp(s.hi, k + 1000) + ldexp(s.lo, k + 1000), -1000);
    return ldexp(s.hi + s.lo, k);
}

double spy_libm_log(double x) {
    if (isnan(x) || x < 0) return NAN;
    if (x == 0) return -HUGE_VAL;
    if (isinf(x)) return x;
    int e;
    double m = frexp(x, &e); /* x = m * 2**e, m in [0.5, 1) */
    if (m < 0x1.6a09e667f3bcdp-1) { /* keep m near 1: [sqrt(1/2), sqrt(2)) */
        m *= 2.0;
        e -= 1;
    }
    /* one Newton step on y = log(m) from the platform's estimate doubles
       its precision: y1 = y0 + (m * e**-y0 - 1) */
    double y0 = log(m);
    dd em = exp_reduced((dd){-y0, 0.0});
    dd t = dd_add(dd_mul_d(em, m), (dd){-1.0, 0.0});
    dd y = dd_add((dd){y0, 0.0}, t);
    y = dd_add(y, dd_mul_d(LN2, (double)e));
    return y.hi + y.lo;
}

/* sin and cos of |r| <= pi/4 as nested Taylor series in r*r */
static dd sin_reduced(dd r) {
    dd r2 = dd_mul(r, r), s = DD_ONE;
    for (int n = 27; n >= 3; n -= 2) s = dd_add(DD_ONE, dd_neg(dd_div_d(dd_mul(r2, s), (double)(n * (n - 1)))));
    return dd_mul(r, s);
}

static dd cos_reduced(dd r) {
    dd r2 = dd_mul(r, r), s = DD_ONE;
    for (int n = 26; n >= 2; n -= 2) s = dd_add(DD_ONE, dd_neg(dd_div_d(dd_mul(r2, s), (double)(n * (n - 1)))));
    return s;
}

/* x = q*pi/2 + r, exact enough for |x| < 2**30 */
static int reduce(double x, dd *r) {
    double q = floor(x * 0x1.45f306dc9c883p-1 + 0.5); /* x * 2/pi */
    dd t = dd_add((dd){x, 0.0}, dd_neg(two_prod(q, PIO2_1)));
    t = dd_add(t, dd_neg(two_prod(q, PIO2_2)));
    t = dd_add(t, (dd){-q * PIO2_3, 0.0});
    *r = t;
    return (int)((int64_t)q & 3);
}

static double sincos_quadrant(double x, int shift) {
    if (!isfinite(x)) return NAN;
    if (fabs(x) >= 0x1p30) /* beyond the reduction's range: the platform's */
        return shift ? cos(x) : sin(x);
    dd r;
    int n = (reduce(x, &r) + shift) & 3;
    dd v = (n & 1) ? cos_reduced(r) : sin_reduced(r);
    if (n & 2) v = dd_neg(v);
    return v.hi + v.lo;
}

double spy_libm_sin(double x) {
    if (x == 0) return x; /* keeps the sign of zero */
    return sincos_quadrant(x, 0);
}

double spy_libm_cos(double x) { return sincos_quadrant(x, 1); }
