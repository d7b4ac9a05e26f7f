/* The benchmark kernels in plain C, built with gcc -O2 as the reference. */
#include <stdint.h>

int32_t add(int32_t x, int32_t y) { return x + y; }

int32_t fib(int32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

double float_loop(int32_t n) {
    double s = 0.0, dx = 1.0 / n, x = 0.5 * dx;
    for (int32_t i = 0; i < n; i++) {
        s += 4.0 / (1.0 + x * x);
        x += dx;
    }
    return s * dx;
}
