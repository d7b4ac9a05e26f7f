/* Float formatting exactly as Python's repr(): the shortest digit string that
 * reads back to the same value, then Python's choice between positional and
 * exponent notation (exponent when the decimal point lies before -4 or after
 * 16 digits). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"

/* Shortest significant digits (no dot) and decimal exponent `decpt`, meaning
 * value = 0.DIGITS * 10**decpt. `reads_back` checks a candidate. */
static int shortest_digits(double x, int max_precision, bool is_f32, char *digits,
                           int *decpt) {
    char tmp[40];
    for (int prec = 1; prec <= max_precision; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, x);
        bool same = is_f32 ? (strtof(tmp, NULL) == (float)x) : (strtod(tmp, NULL) == x);
        if (same || prec == max_precision) break;
    }
    /* tmp is "d.ddde[+-]XX" (or "de[+-]XX" for one digit) */
    int nd = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    int exp10 = atoi(p + 1);
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
