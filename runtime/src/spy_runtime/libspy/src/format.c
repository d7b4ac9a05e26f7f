/* Float formatting exactly as Python's repr(): the shortest digit string that
 * reads back to the same value, then Python's choice between positional and
 * exponent notation (exponent when the decimal point lies before -4 or after
 * 16 digits). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"

/* Splits "d.ddde[+-]XX" (or "de[+-]XX") into its digits and decimal exponent. */
static int split_sci(const char *sci, char *digits, int *exp10) {
    int nd = 0;
    const char *p = sci;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    *exp10 = atoi(p + 1);
    return nd;
}

/* Moves DIGITS (nd of them, value d.ddd * 10**exp10) one unit in the last
 * place up or down, keeping nd digits. */
static void step_digits(char *digits, int nd, int *exp10, int up) {
    int i = nd - 1;
    if (up) {
        while (i >= 0 && digits[i] == '9') digits[i--] = '0';
        if (i >= 0) {
            digits[i]++;
        } else { /* 9.99 -> 10.0: one more digit before the point */
            digits[0] = '1';
            (*exp10)++;
        }
    } else {
        while (i >= 0 && digits[i] == '0') digits[i--] = '9';
        digits[i]--; /* digits[0] is never 0, so i >= 0 here */
        if (digits[0] == '0') { /* 1.00 -> 0.99: one digit fewer before the point */
            memmove(digits, digits + 1, (size_t)(nd - 1));
            digits[nd - 1] = '9';
            (*exp10)--;
        }
    }
}

static bool reads_back(const char *digits, int nd, int exp10, double x, bool is_f32) {
    char tmp[48];
    int n = 0;
    tmp[n++] = digits[0];
    tmp[n++] = '.';
    memcpy(tmp + n, digits + 1, (size_t)(nd - 1));
    n += nd - 1;
    snprintf(tmp + n, sizeof tmp - (size_t)n, "e%d", exp10);
    return is_f32 ? strtof(tmp, NULL) == (float)x : strtod(tmp, NULL) == x;
}

/* Shortest significant digits (no dot) and decimal exponent `decpt`, meaning
 * value = 0.DIGITS * 10**decpt; among the shortest, the nearest to x, as
 * Python's repr() chooses. At each length the nearest rounding is tried first;
 * when it does not read back, its neighbour on the other side of x still may:
 * at a power of two the gap below x is half the gap above, so the nearest
 * string below can miss while the one above hits (2**-24 prints
 * 5.960464477539063e-08, not the 17 digits of the exact value). */
static int shortest_digits(double x, int max_precision, bool is_f32, char *digits,
                           int *decpt) {
    char tmp[40];
    int nd = 0, exp10 = 0;
    for (int prec = 1; prec <= max_precision; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        nd = split_sci(tmp, digits, &exp10);
        if (reads_back(digits, nd, exp10, x, is_f32) || prec == max_precision) break;
        int up = strtod(tmp, NULL) < x;
        char other[24];
        int other_exp = exp10;
        memcpy(other, digits, (size_t)nd);
        step_digits(other, nd, &other_exp, up);
        if (reads_back(other, nd, other_exp, x, is_f32)) {
            memcpy(digits, other, (size_t)nd);
            exp10 = other_exp;
            break;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    *decpt = exp10 + 1;
    return nd;
}

static int format_float(double x, int max_precision, bool is_f32, char *buf) {
    if (isnan(x)) return (int)(strcpy(buf, "nan"), 3);
    if (isinf(x)) return x > 0 ? (int)(strcpy(buf, "inf"), 3) : (int)(strcpy(buf, "-inf"), 4);
    char *out = buf;
    if (signbit(x)) {
        *out++ = '-';
        x = -x;
    }
    if (x == 0) {
        strcpy(out, "0.0");
        return (int)(out - buf) + 3;
    }
    char digits[24];
    int decpt;
    int nd = shortest_digits(x, max_precision, is_f32, digits, &decpt);
    if (decpt > -4 && decpt <= 16) {
        if (decpt <= 0) {
            *out++ = '0';
            *out++ = '.';
            for (int i = 0; i < -decpt; i++) *out++ = '0';
            memcpy(out, digits, (size_t)nd);
            out += nd;
        } else if (decpt >= nd) {
            memcpy(out, digits, (size_t)nd);
            out += nd;
            for (int i = nd; i < decpt; i++) *out++ = '0';
            *out++ = '.';
            *out++ = '0';
        } else {
            memcpy(out, digits, (size_t)decpt);
            out += decpt;
            *out++ = '.';
            memcpy(out, digits + decpt, (size_t)(nd - decpt));
            out += nd - decpt;
        }
    } else {
        *out++ = digits[0];
        if (nd > 1) {
            *out++ = '.';
            memcpy(out, digits + 1, (size_t)(nd - 1));
            out += nd - 1;
        }
        out += sprintf(out, "e%c%02d", decpt - 1 < 0 ? '-' : '+', abs(decpt - 1));
    }
    *out = '\0';
    return (int)(out - buf);
}

int spy_format_f64(double x, char *buf) { return format_float(x, 17, false, buf); }

/* f32 has no Python counterpart: print the shortest digits that read back to
 * the same f32 (as numpy does), in Python's notation. */
int spy_format_f32(float x, char *buf) { return format_float((double)x, 9, true, buf); }
