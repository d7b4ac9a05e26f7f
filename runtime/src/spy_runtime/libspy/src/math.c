/* SPy's `math` and `time` modules, and float arithmetic, with Python's
 * errors: a domain error is ValueError, an overflow OverflowError. */
#include <math.h>
#include <time.h>

#include "spy.h"

double spy_math_sqrt(double x, const char *file, int32_t line) {
    if (x < 0) spy_panic("ValueError", "math domain error", file, line);
    return sqrt(x);
}

double spy_math_log(double x, const char *file, int32_t line) {
    if (x <= 0) spy_panic("ValueError", "math domain error", file, line);
    return spy_libm_log(x);
}

double spy_math_exp(double x, const char *file, int32_t line) {
    double r = spy_libm_exp(x);
    if (isinf(r) && isfinite(x)) spy_panic("OverflowError", "math range error", file, line);
    return r;
}

double spy_math_sin(double x) { return spy_libm_sin(x); }
double spy_math_cos(double x) { return spy_libm_cos(x); }
double spy_math_floor(double x) { return floor(x); }
double spy_math_fabs(double x) { return fabs(x); }

double spy_time_time(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double spy_f64_floordiv(double x, double y, const char *file, int32_t line) {
    if (y == 0) spy_panic("ZeroDivisionError", "float floor division by zero", file, line);
    /* Python's float_floor_div: floor of the exact quotient via fmod */
    double mod = fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
    if (div != 0) {
        double floordiv = floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
        return floordiv;
    }
    return copysign(0.0, x / y);
}

double spy_f64_mod(double x, double y, const char *file, int32_t line) {
    if (y == 0) spy_panic("ZeroDivisionError", "float modulo by zero", file, line);
    double r = fmod(x, y);
    if (r != 0) {
        if ((y < 0) != (r < 0)) r += y;
    } else {
        r = copysign(0.0, y);
    }
    return r;
}

static bool is_odd_integer(double y) { return fmod(fabs(y), 2.0) == 1.0; } /* exact */

/* Python's float ** (float_pow in Objects/floatobject.c): its special cases
 * in its order, then libspy's pow, the same bits on every target. */
double spy_f64_pow(double x, double y, const char *file, int32_t line) {
    if (y == 0) return 1.0; /* even nan**0 */
    if (isnan(x)) return x;
    if (isnan(y)) return x == 1.0 ? 1.0 : y;
    if (isinf(y)) { /* |x| < 1: 0 or inf by the sign of y; |x| > 1 the other way */
        double ax = fabs(x);
        if (ax == 1.0) return 1.0; /* (-1)**inf too */
        return (y > 0) == (ax > 1.0) ? HUGE_VAL : 0.0;
    }
    if (isinf(x)) {
        bool odd = is_odd_integer(y);
        if (y > 0) return odd ? x : fabs(x);
        return odd ? copysign(0.0, x) : 0.0;
    }
    if (x == 0) {
        if (y < 0)
            spy_panic("ZeroDivisionError", "0.0 cannot be raised to a negative power", file, line);
        return is_odd_integer(y) ? x : 0.0;
    }
    bool negate = false;
    if (x < 0) {
        if (y != floor(y))
            spy_panic("ValueError", "negative number cannot be raised to a fractional power",
                      file, line);
        x = -x;
        negate = is_odd_integer(y);
    }
    if (x == 1.0) return negate ? -1.0 : 1.0; /* (-1)**(huge integer) too */
    double r = spy_libm_pow(x, y);
    if (isinf(r)) spy_panic("OverflowError", "(34, 'Numerical result out of range')", file, line);
    return negate ? -r : r;
}

float spy_f32_floordiv(float x, float y, const char *file, int32_t line) {
    return (float)spy_f64_floordiv(x, y, file, line);
}
float spy_f32_mod(float x, float y, const char *file, int32_t line) {
    return (float)spy_f64_mod(x, y, file, line);
}
