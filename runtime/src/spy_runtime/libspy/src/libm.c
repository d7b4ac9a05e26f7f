/* exp, log, pow, sin and cos that give the same bits on every target.
 *
 * The platform libms differ in the last bit (glibc and wasi-libc's musl do,
 * e.g. exp(1.0)), so compiled SPy would print different numbers natively and
 * on wasm. These evaluate in double-double arithmetic (about 106 bits) using
 * only + - * / on doubles, integer operations and exact functions (floor,
 * ldexp, frexp, sqrt), which IEEE 754 and C define exactly, then round once:
 * the result is the correctly rounded value except in rare hard cases, and
 * identical on every target as long as no FMA contraction happens
 * (-ffp-contract=off, set by the toolchain). No platform libm function that
 * rounds is called.
 *
 * The tables are 2/pi, 2**(j/64) and log(1/c) to 106 bits or more; tests/
 * test_libm_tables.py recomputes them with mpmath.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

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

static inline dd dd_add_d(dd x, double d) {
    dd s = two_sum(x.hi, d);
    s.lo += x.lo;
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

/* x / y: three quotient digits, each from the remainder of the last */
static dd dd_div(dd x, dd y) {
    double q1 = x.hi / y.hi;
    dd r = dd_add(x, dd_neg(dd_mul_d(y, q1)));
    double q2 = r.hi / y.hi;
    r = dd_add(r, dd_neg(dd_mul_d(y, q2)));
    double q3 = r.hi / y.hi;
    return dd_add_d(quick_two_sum(q1, q2), q3);
}

static const dd DD_ONE = {1.0, 0.0};
static const dd LN2 = {0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56};
/* ln2/64 in three pieces, for the reduction of exp's argument */
static const double LN2_64_1 = 0x1.62e42fefa39efp-7;
static const double LN2_64_2 = 0x1.abc9e3b39803fp-62;
static const double LN2_64_3 = 0x1.7b57a079a1934p-117;
/* pi/2 to about 160 bits, in three pieces */
static const double PIO2_1 = 0x1.921fb54442d18p+0;
static const double PIO2_2 = 0x1.1a62633145c07p-54;
static const double PIO2_3 = -0x1.f1976b7ed8fbcp-110;

static const uint32_t TWO_OVER_PI[43] = {
    0x00000000, 0xa2f9836e, 0x4e441529, 0xfc2757d1, 0xf534ddc0, 0xdb629599,
    0x3c439041, 0xfe5163ab, 0xdebbc561, 0xb7246e3a, 0x424dd2e0, 0x06492eea,
    0x09d1921c, 0xfe1deb1c, 0xb129a73e, 0xe88235f5, 0x2ebb4484, 0xe99c7026,
    0xb45f7e41, 0x3991d639, 0x835339f4, 0x9c845f8b, 0xbdf9283b, 0x1ff897ff,
    0xde05980f, 0xef2f118b, 0x5a0a6d1f, 0x6d367ecf, 0x27cb09b7, 0x4f463f66,
    0x9e5fea2d, 0x7527bac7, 0xebe5f17b, 0x3d0739f7, 0x8a5292ea, 0x6bfb5fb1,
    0x1f8d5d08, 0x56033046, 0xfc7b6bab, 0xf0cfbc20, 0x9af4361d, 0xa9e39161,
    0x5ee61b08,
};
static const struct { double cinv, hi, lo; } LOG_TABLE[47] = {
    {0x1.6c00000000000p+0, -0x1.686c81e9b14afp-2, 0x1.ddea0f7f58e3dp-57},
    {0x1.6400000000000p+0, -0x1.51aad872df82dp-2, -0x1.3927ac19f55e3p-59},
    {0x1.5c80000000000p+0, -0x1.3bdd24eb14b6ap-2, -0x1.2da3c6449a7d0p-58},
    {0x1.5580000000000p+0, -0x1.27161913f853dp-2, -0x1.e3ec2ac9676b8p-57},
    {0x1.4e80000000000p+0, -0x1.11e0e2dad9cb7p-2, -0x1.dc0cc6917022bp-63},
    {0x1.4780000000000p+0, -0x1.f871b28955045p-3, -0x1.4ad6c8812d31ap-63},
    {0x1.4180000000000p+0, -0x1.d293581b6b3e7p-3, 0x1.c04a2aa97ac8ep-58},
    {0x1.3b00000000000p+0, -0x1.a8becfc882f19p-3, 0x1.e8c37918c39ebp-58},
    {0x1.3500000000000p+0, -0x1.815c0a14357ebp-3, 0x1.4be48073a0564p-58},
    {0x1.2f80000000000p+0, -0x1.5c940075972b9p-3, -0x1.adccb73379cc5p-58},
    {0x1.2a00000000000p+0, -0x1.371fc201e8f74p-3, -0x1.de6cb62af18a0p-58},
    {0x1.2480000000000p+0, -0x1.10f8e422539b1p-3, -0x1.8f798d39f1b7dp-58},
    {0x1.1f80000000000p+0, -0x1.db5270187d927p-4, -0x1.e15ab8607d2acp-58},
    {0x1.1a80000000000p+0, -0x1.9375e55595edep-4, 0x1.e463f9e4dd920p-59},
    {0x1.1580000000000p+0, -0x1.4a50d3aa1b040p-4, -0x1.ecf768c1dd57bp-61},
    {0x1.1100000000000p+0, -0x1.075983598e471p-4, -0x1.80da5333c45b8p-59},
    {0x1.0c80000000000p+0, -0x1.868a83083f6cfp-5, 0x1.d09a5634943dbp-61},
    {0x1.0880000000000p+0, -0x1.0b94f7c196176p-5, -0x1.da43f761f4dc4p-59},
    {0x1.0400000000000p+0, -0x1.fc0a8b0fc03e4p-7, 0x1.83092c59642a1p-62},
    {0x1.0000000000000p+0, 0x0.0p+0, 0x0.0p+0},
    {0x1.f800000000000p-1, 0x1.0205658935847p-6, 0x1.27c8e8416e71fp-60},
    {0x1.f080000000000p-1, 0x1.f7a9b16782856p-6, -0x1.36c720c147756p-60},
    {0x1.e900000000000p-1, 0x1.788595a3577bap-5, 0x1.e5ef898b67923p-59},
    {0x1.e200000000000p-1, 0x1.eea31c006b87cp-5, -0x1.3e4fc93b7b66cp-59},
    {0x1.db00000000000p-1, 0x1.333d7f8183f4bp-4, 0x1.a92afc8ef70b1p-58},
    {0x1.d400000000000p-1, 0x1.700d30aeac0e1p-4, -0x1.72566212cdd05p-61},
    {0x1.cd80000000000p-1, 0x1.a956d3ecade63p-4, 0x1.e5300b12bd55ep-58},
    {0x1.c700000000000p-1, 0x1.e3707ee30487bp-4, 0x1.09ccecd579d99p-58},
    {0x1.c100000000000p-1, 0x1.0ce7ecdccc28dp-3, -0x1.692a0055dc959p-57},
    {0x1.bb00000000000p-1, 0x1.28753bc11aba5p-3, -0x1.6394d9fa33311p-57},
    {0x1.b500000000000p-1, 0x1.4462b9dc9b3dcp-3, -0x1.629c46c186385p-58},
    {0x1.af00000000000p-1, 0x1.60b3100b09476p-3, -0x1.5b2623e05016bp-58},
    {0x1.a980000000000p-1, 0x1.7b0091651528cp-3, 0x1.4069f303518c8p-57},
    {0x1.a400000000000p-1, 0x1.95a5adcf7017fp-3, 0x1.142c507fb7a3dp-58},
    {0x1.9f00000000000p-1, 0x1.ae2ca6f672bd4p-3, 0x1.ab5ca9eaa088ap-57},
    {0x1.9980000000000p-1, 0x1.c97f8079d44ecp-3, 0x1.61a8c6e6c4ee7p-57},
    {0x1.9480000000000p-1, 0x1.e2a877a6b2c12p-3, -0x1.fa21e3df99430p-58},
    {0x1.8f80000000000p-1, 0x1.fc218be620a5ep-3, -0x1.6e438c258187fp-58},
    {0x1.8b00000000000p-1, 0x1.09aa572e6c6d4p-2, 0x1.43c2e68684d53p-57},
    {0x1.8600000000000p-1, 0x1.16b5ccbacfb73p-2, 0x1.66fbd28b40935p-56},
    {0x1.8180000000000p-1, 0x1.22981fbef797bp-2, -0x1.0b04ac06cebe0p-59},
    {0x1.7d00000000000p-1, 0x1.2e9e2bce12286p-2, 0x1.8251a3b83d97ap-62},
    {0x1.7880000000000p-1, 0x1.3ac8ca38e5c5fp-2, -0x1.f7de015f253eep-56},
    {0x1.7480000000000p-1, 0x1.45b8c0a17df13p-2, 0x1.dbe305eaf5a20p-56},
    {0x1.7000000000000p-1, 0x1.522ae0738a3d8p-2, -0x1.8f7e9b38a6979p-57},
    {0x1.6c00000000000p-1, 0x1.5d5bddf595f30p-2, -0x1.6541148cbb8a2p-56},
    {0x1.6800000000000p-1, 0x1.68ac83e9c6a14p-2, 0x1.a64eadd740178p-58},
};
static const dd EXP2_TABLE[64] = {
    {0x1.0000000000000p+0, 0x0.0p+0},
    {0x1.02c9a3e778061p+0, -0x1.19083535b085dp-56},
    {0x1.059b0d3158574p+0, 0x1.d73e2a475b465p-55},
    {0x1.0874518759bc8p+0, 0x1.186be4bb284ffp-57},
    {0x1.0b5586cf9890fp+0, 0x1.8a62e4adc610bp-54},
    {0x1.0e3ec32d3d1a2p+0, 0x1.03a1727c57b53p-59},
    {0x1.11301d0125b51p+0, -0x1.6c51039449b3ap-54},
    {0x1.1429aaea92de0p+0, -0x1.32fbf9af1369ep-54},
    {0x1.172b83c7d517bp+0, -0x1.19041b9d78a76p-55},
    {0x1.1a35beb6fcb75p+0, 0x1.e5b4c7b4968e4p-55},
    {0x1.1d4873168b9aap+0, 0x1.e016e00a2643cp-54},
    {0x1.2063b88628cd6p+0, 0x1.dc775814a8495p-55},
    {0x1.2387a6e756238p+0, 0x1.9b07eb6c70573p-54},
    {0x1.26b4565e27cddp+0, 0x1.2bd339940e9d9p-55},
    {0x1.29e9df51fdee1p+0, 0x1.612e8afad1255p-55},
    {0x1.2d285a6e4030bp+0, 0x1.0024754db41d5p-54},
    {0x1.306fe0a31b715p+0, 0x1.6f46ad23182e4p-55},
    {0x1.33c08b26416ffp+0, 0x1.32721843659a6p-54},
    {0x1.371a7373aa9cbp+0, -0x1.63aeabf42eae2p-54},
    {0x1.3a7db34e59ff7p+0, -0x1.5e436d661f5e3p-56},
    {0x1.3dea64c123422p+0, 0x1.ada0911f09ebcp-55},
    {0x1.4160a21f72e2ap+0, -0x1.ef3691c309278p-58},
    {0x1.44e086061892dp+0, 0x1.89b7a04ef80d0p-59},
    {0x1.486a2b5c13cd0p+0, 0x1.3c1a3b69062f0p-56},
    {0x1.4bfdad5362a27p+0, 0x1.d4397afec42e2p-56},
    {0x1.4f9b2769d2ca7p+0, -0x1.4b309d25957e3p-54},
    {0x1.5342b569d4f82p+0, -0x1.07abe1db13cadp-55},
    {0x1.56f4736b527dap+0, 0x1.9bb2c011d93adp-54},
    {0x1.5ab07dd485429p+0, 0x1.6324c054647adp-54},
    {0x1.5e76f15ad2148p+0, 0x1.ba6f93080e65ep-54},
    {0x1.6247eb03a5585p+0, -0x1.383c17e40b497p-54},
    {0x1.6623882552225p+0, -0x1.bb60987591c34p-54},
    {0x1.6a09e667f3bcdp+0, -0x1.bdd3413b26456p-54},
    {0x1.6dfb23c651a2fp+0, -0x1.bbe3a683c88abp-57},
    {0x1.71f75e8ec5f74p+0, -0x1.16e4786887a99p-55},
    {0x1.75feb564267c9p+0, -0x1.0245957316dd3p-54},
    {0x1.7a11473eb0187p+0, -0x1.41577ee04992fp-55},
    {0x1.7e2f336cf4e62p+0, 0x1.05d02ba15797ep-56},
    {0x1.82589994cce13p+0, -0x1.d4c1dd41532d8p-54},
    {0x1.868d99b4492edp+0, -0x1.fc6f89bd4f6bap-54},
    {0x1.8ace5422aa0dbp+0, 0x1.6e9f156864b27p-54},
    {0x1.8f1ae99157736p+0, 0x1.5cc13a2e3976cp-55},
    {0x1.93737b0cdc5e5p+0, -0x1.75fc781b57ebcp-57},
    {0x1.97d829fde4e50p+0, -0x1.d185b7c1b85d1p-54},
    {0x1.9c49182a3f090p+0, 0x1.c7c46b071f2bep-56},
    {0x1.a0c667b5de565p+0, -0x1.359495d1cd533p-54},
    {0x1.a5503b23e255dp+0, -0x1.d2f6edb8d41e1p-54},
    {0x1.a9e6b5579fdbfp+0, 0x1.0fac90ef7fd31p-54},
    {0x1.ae89f995ad3adp+0, 0x1.7a1cd345dcc81p-54},
    {0x1.b33a2b84f15fbp+0, -0x1.2805e3084d708p-57},
    {0x1.b7f76f2fb5e47p+0, -0x1.5584f7e54ac3bp-56},
    {0x1.bcc1e904bc1d2p+0, 0x1.23dd07a2d9e84p-55},
    {0x1.c199bdd85529cp+0, 0x1.11065895048ddp-55},
    {0x1.c67f12e57d14bp+0, 0x1.2884dff483cadp-54},
    {0x1.cb720dcef9069p+0, 0x1.503cbd1e949dbp-56},
    {0x1.d072d4a07897cp+0, -0x1.cbc3743797a9cp-54},
    {0x1.d5818dcfba487p+0, 0x1.2ed02d75b3707p-55},
    {0x1.da9e603db3285p+0, 0x1.c2300696db532p-54},
    {0x1.dfc97337b9b5fp+0, -0x1.1a5cd4f184b5cp-54},
    {0x1.e502ee78b3ff6p+0, 0x1.39e8980a9cc8fp-55},
    {0x1.ea4afa2a490dap+0, -0x1.e9c23179c2893p-54},
    {0x1.efa1bee615a27p+0, 0x1.dc7f486a4b6b0p-54},
    {0x1.f50765b6e4540p+0, 0x1.9d3e12dd8a18bp-54},
    {0x1.fa7c1819e90d8p+0, 0x1.74853f3a5931ep-55},
};

/* (s.hi + s.lo) * 2**k rounded once, for s.hi in [0.5, 4). ldexp of the
 * rounded sum would round twice for a subnormal result; there, round the
 * value counted in units of 2**-1074 to an integer, ties to even. */
static double dd_scale_round(dd s, int k) {
    if (k >= -1021 || ldexp(s.hi, k + 1022) >= 1.0) return ldexp(s.hi + s.lo, k);
    if (k < -1080) return 0.0;
    double sh = ldexp(s.hi, k + 1074), sl = ldexp(s.lo, k + 1074); /* exact */
    double n = floor(sh);
    dd g = two_sum(sh - n, sl); /* the part after the point */
    if (g.hi > 0.5 || (g.hi == 0.5 && (g.lo > 0 || (g.lo == 0 && fmod(n, 2.0) == 1.0))))
        n += 1.0;
    return ldexp(n, -1074);
}

/* e**t = 2**k * s for |t| < 746: t = (64k + j) ln2/64 + r with |r| <= ln2/128,
 * e**r by its Taylor series, 2**(j/64) from the table. */
static dd exp_core(dd t, int *k) {
    double nf = floor(t.hi * 0x1.71547652b82fep+6 + 0.5); /* t * 64/ln2 */
    int n = (int)nf, j = n & 63;
    dd r = dd_add(t, dd_neg(two_prod(nf, LN2_64_1)));
    r = dd_add(r, dd_neg(two_prod(nf, LN2_64_2)));
    r = dd_add_d(r, -nf * LN2_64_3);
    *k = (n - j) / 64;
    /* from r**7 on the terms are below 2**-60: plain doubles suffice */
    double q = r.hi;
    double tail = q * (0x1.a01a01a01a01ap-13 +
                       q * (0x1.a01a01a01a01ap-16 +
                            q * (0x1.71de3a556c734p-19 +
                                 q * (0x1.27e4fb7789f5cp-22 + q * 0x1.ae64567f544e4p-26))));
    dd p = dd_add_d((dd){0x1.6c16c16c16c17p-10, -0x1.f49f49f49f49fp-65}, tail); /* 1/6! */
    p = dd_add((dd){0x1.1111111111111p-7, 0x1.1111111111111p-63}, dd_mul(r, p));  /* 1/5! */
    p = dd_add((dd){0x1.5555555555555p-5, 0x1.5555555555555p-59}, dd_mul(r, p));  /* 1/4! */
    p = dd_add((dd){0x1.5555555555555p-3, 0x1.5555555555555p-57}, dd_mul(r, p));  /* 1/3! */
    p = dd_add_d(dd_mul(r, p), 0.5);
    p = dd_add_d(dd_mul(r, p), 1.0);
    p = dd_add_d(dd_mul(r, p), 1.0);
    return dd_mul(EXP2_TABLE[j], p);
}

/* log(x) for finite x > 0: x = 2**e * m with m in [sqrt(1/2), sqrt(2)),
 * log(m) = log(1/c) + log(t) with t = m*c near 1 (c from the table, short
 * enough that m*c is exact), log(t) = 2 atanh(u / (2 + u)) with u = t - 1. */
static dd log_core(double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 52) - 1023;
    if (e == -1023) { /* subnormal */
        x *= 0x1p54;
        memcpy(&bits, &x, sizeof bits);
        e = (int)(bits >> 52) - 1023 - 54;
    }
    bits = (bits & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL;
    double m;
    memcpy(&m, &bits, sizeof m);
    if (m >= 0x1.6a09e667f3bcdp+0) {
        m *= 0.5;
        e += 1;
    }
    int i = (int)(m * 64.0 + 0.5) - 45;
    dd t = two_prod(m, LOG_TABLE[i].cinv);
    dd u = two_sum(t.hi - 1.0, t.lo); /* t.hi - 1 is exact (Sterbenz) */
    dd s = dd_div(u, dd_add_d(u, 2.0));
    dd z = dd_mul(s, s); /* |z| < 2**-14 */
    /* from z**4 on the terms are below 2**-59: plain doubles suffice */
    double w = z.hi;
    double tail = w * (1.0 / 9 + w * (1.0 / 11 + w * (1.0 / 13 + w * (1.0 / 15))));
    dd p = dd_add_d((dd){0x1.2492492492492p-3, 0x1.2492492492492p-57}, tail);  /* 1/7 */
    p = dd_add((dd){0x1.999999999999ap-3, -0x1.999999999999ap-57}, dd_mul(z, p)); /* 1/5 */
    p = dd_add((dd){0x1.5555555555555p-2, 0x1.5555555555555p-56}, dd_mul(z, p)); /* 1/3 */
    p = dd_add_d(dd_mul(z, p), 1.0);
    dd lt = dd_mul(dd_add(s, s), p);
    dd r = dd_add((dd){LOG_TABLE[i].hi, LOG_TABLE[i].lo}, lt);
    return dd_add(dd_mul_d(LN2, (double)e), r);
}

double spy_libm_exp(double x) {
    if (isnan(x)) return x;
    if (x > 709.8) return HUGE_VAL;
    if (x < -745.2) return 0.0;
    int k;
    dd s = exp_core((dd){x, 0.0}, &k);
    return dd_scale_round(s, k);
}

double spy_libm_log(double x) {
    if (isnan(x) || x < 0) return NAN;
    if (x == 0) return -HUGE_VAL;
    if (isinf(x)) return x;
    dd y = log_core(x);
    return y.hi + y.lo;
}

/* x**n for 1 <= |n| <= 64 by squaring. When x**n is a midpoint between two
 * doubles (x = 2**27 - 1, n = 2), every partial power has at most 53 bits,
 * so each product is exact and the final rounding ties to even, as it must;
 * an approximation through exp and log could round either way. */
static double pow_int(double x, int n) {
    int e, f;
    double m = 2.0 * frexp(x, &e); /* x = m * 2**(e-1), m in [1, 2) */
    unsigned a = (unsigned)(n < 0 ? -n : n);
    dd r = DD_ONE, b = {m, 0.0};
    for (;;) {
        if (a & 1) r = dd_mul(r, b);
        a >>= 1;
        if (a == 0) break;
        b = dd_mul(b, b);
    }
    if (n < 0) r = dd_div(DD_ONE, r);
    double h = frexp(r.hi, &f); /* r = 2**f * (h + lo') with h in [0.5, 1) */
    return dd_scale_round((dd){h, ldexp(r.lo, -f)}, (e - 1) * n + f);
}

/* x**y for finite x > 0, x != 1 and finite y != 0 (math.c does the special
 * cases and errors): inf on overflow, 0 or a subnormal on underflow. */
double spy_libm_pow(double x, double y) {
    if (y == 0.5) return sqrt(x); /* correctly rounded by IEEE */
    /* y = n / 2**k with x a perfect 2**k-th power: x**y = (x**(1/2**k))**n,
     * where the root comes exactly from sqrt; such powers can be midpoints.
     * (Far from the subnormals, so that two_prod tells a square exactly.) */
    double b = x, n = y;
    while (n != floor(n) && fabs(n) <= 64.0 && b >= 0x1p-968) {
        double s = sqrt(b);
        dd sq = two_prod(s, s);
        if (sq.hi != b || sq.lo != 0.0) break;
        b = s;
        n *= 2.0;
    }
    if (n == floor(n) && fabs(n) <= 64.0) return pow_int(b, (int)n);
    /* (2**k)**y with k*y an integer: exact, or the midpoint 2**-1075 */
    int ex;
    if (frexp(x, &ex) == 0.5) {
        dd ky = two_prod((double)(ex - 1), y);
        if (ky.lo == 0.0 && ky.hi == floor(ky.hi) && fabs(ky.hi) < 4096.0)
            return dd_scale_round(DD_ONE, (int)ky.hi);
    }
    /* |log x| >= 2**-53, so |y log x| > 2048 */
    if (fabs(y) > 0x1p64) return (x > 1.0) == (y > 0.0) ? HUGE_VAL : 0.0;
    dd t = dd_mul_d(log_core(x), y);
    if (t.hi > 709.8) return HUGE_VAL;
    if (t.hi < -745.2) return 0.0;
    int k;
    dd s = exp_core(t, &k);
    return dd_scale_round(s, k);
}

/* sin and cos of |r| <= pi/4 by their Taylor series in r*r: (-1)**k/(2k+1)!
 * and (-1)**k/(2k)!, to 106 bits for k <= 8; the terms from k = 9 on are
 * below 2**-58 and need only doubles. */
static const dd SIN_C[9] = {
    {0x1.0000000000000p+0, 0x0.0p+0},
    {-0x1.5555555555555p-3, -0x1.5555555555555p-57},
    {0x1.1111111111111p-7, 0x1.1111111111111p-63},
    {-0x1.a01a01a01a01ap-13, -0x1.a01a01a01a01ap-73},
    {0x1.71de3a556c734p-19, -0x1.c154f8ddc6c00p-73},
    {-0x1.ae64567f544e4p-26, 0x1.c062e06d1f209p-80},
    {0x1.6124613a86d09p-33, 0x1.f28e0cc748ebep-87},
    {-0x1.ae7f3e733b81fp-41, -0x1.1d8656b0ee8cbp-97},
    {0x1.952c77030ad4ap-49, 0x1.ac981465ddc6cp-103},
};
static const dd COS_C[9] = {
    {0x1.0000000000000p+0, 0x0.0p+0},
    {-0x1.0000000000000p-1, 0x0.0p+0},
    {0x1.5555555555555p-5, 0x1.5555555555555p-59},
    {-0x1.6c16c16c16c17p-10, 0x1.f49f49f49f49fp-65},
    {0x1.a01a01a01a01ap-16, 0x1.a01a01a01a01ap-76},
    {-0x1.27e4fb7789f5cp-22, -0x1.cbbc05b4fa99ap-76},
    {0x1.1eed8eff8d898p-29, -0x1.2aec959e14c06p-83},
    {-0x1.93974a8c07c9dp-37, -0x1.05d6f8a2efd1fp-92},
    {0x1.ae7f3e733b81fp-45, 0x1.1d8656b0ee8cbp-101},
};

static dd series(const dd c[9], dd r2, double tail) {
    dd p = dd_add_d(c[8], r2.hi * tail);
    for (int k = 7; k >= 0; k--) p = dd_add(c[k], dd_mul(r2, p));
    return p;
}

static dd sin_reduced(dd r) {
    dd r2 = dd_mul(r, r);
    double z = r2.hi;
    double tail = -0x1.2f49b46814157p-57 +
                  z * (0x1.71b8ef6dcf572p-66 +
                       z * (-0x1.761b41316381ap-75 +
                            z * (0x1.3f3ccdd165fa9p-84 + z * -0x1.d1ab1c2dccea3p-94)));
    return dd_mul(r, series(SIN_C, r2, tail));
}

static dd cos_reduced(dd r) {
    dd r2 = dd_mul(r, r);
    double z = r2.hi;
    double tail = -0x1.6827863b97d97p-53 +
                  z * (0x1.e542ba4020225p-62 +
                       z * (-0x1.0ce396db7f853p-70 +
                            z * (0x1.f2cf01972f578p-80 + z * -0x1.88e85fc6a4e5ap-89)));
    return series(COS_C, r2, tail);
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

/* 32 bits of 2/pi from bit p on (bit 1 is the first after the point; bits
 * at and before the point are 0), for p >= -31 */
static inline uint32_t two_over_pi_bits(int p) {
    int pos = p + 31, w = pos >> 5, sh = pos & 31;
    if (sh == 0) return TWO_OVER_PI[w];
    return (TWO_OVER_PI[w] << sh) | (TWO_OVER_PI[w + 1] >> (32 - sh));
}

/* x = q*pi/2 + r for finite |x| >= 2**30 (Payne and Hanek). With |x| = m * 2**e
 * (m a 53-bit integer), x * 2/pi mod 4 needs only the bits of 2/pi from
 * 2**(1-e) on: the earlier ones make multiples of 4. m times a 256-bit window
 * of them, in integers, gives the quadrant and 254 bits of fraction; doubles
 * come close to a multiple of pi/2 by 2**-62 at worst, which leaves more than
 * 130 good bits after the leading zeros. */
static int reduce_large(double x, dd *r) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)((bits >> 52) & 0x7ff) - 1075;
    uint64_t m = (bits & 0x000fffffffffffffULL) | (1ULL << 52);
    uint32_t w[8], p[10] = {0}, limb[2] = {(uint32_t)m, (uint32_t)(m >> 32)};
    for (int k = 0; k < 8; k++) w[7 - k] = two_over_pi_bits(e - 1 + 32 * k); /* low word first */
    for (int i = 0; i < 2; i++) {
        uint64_t carry = 0;
        for (int k = 0; k < 8; k++) {
            uint64_t t = (uint64_t)w[k] * limb[i] + p[i + k] + carry;
            p[i + k] = (uint32_t)t;
            carry = t >> 32;
        }
        p[i + 8] = (uint32_t)carry;
    }
    /* p[7..0]: 2 bits of quadrant, then the fraction f; past 1/2 use f - 1 */
    int q = (int)(p[7] >> 30), negative = (p[7] >> 29) & 1;
    p[7] &= 0x3fffffff;
    if (negative) { /* |f - 1| = 2**254 - f, the two's complement */
        q += 1;
        uint64_t c = 1;
        for (int k = 0; k < 8; k++) {
            c += (uint32_t)~p[k];
            p[k] = (uint32_t)c;
            c >>= 32;
        }
        p[7] &= 0x3fffffff;
    }
    int top = 7;
    while (top > 0 && p[top] == 0) top--;
    dd f = {0.0, 0.0};
    for (int k = top < 4 ? 0 : top - 4; k <= top; k++) /* 129 bits or more */
        f = dd_add(f, (dd){ldexp((double)p[k], 32 * k - 254), 0.0});
    f = dd_mul(f, (dd){PIO2_1, PIO2_2});
    if (negative) f = dd_neg(f);
    if (bits >> 63) { /* x < 0: -x = -q*pi/2 - r */
        f = dd_neg(f);
        q = -q;
    }
    *r = f;
    return q & 3;
}

static double sincos_quadrant(double x, int shift) {
    if (!isfinite(x)) return NAN;
    dd r;
    int n = (fabs(x) < 0x1p30 ? reduce(x, &r) : reduce_large(x, &r)) + shift;
    n &= 3;
    dd v = (n & 1) ? cos_reduced(r) : sin_reduced(r);
    if (n & 2) v = dd_neg(v);
    return v.hi + v.lo;
}

double spy_libm_sin(double x) {
    if (x == 0) return x; /* keeps the sign of zero */
    return sincos_quadrant(x, 0);
}

double spy_libm_cos(double x) { return sincos_quadrant(x, 1); }
