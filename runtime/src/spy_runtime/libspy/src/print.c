/* print(): Python's formatting. Output goes through spy_out_write, which
 * each link mode defines (mode_*.c): stdout for executables, sys.stdout for
 * code called from Python, so it interleaves with Python's own output. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "spy.h"

static void out_str(const char *s) { spy_out_write(s, strlen(s)); }

void spy_print_i64(int64_t x) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, x);
    spy_out_write(buf, (size_t)n);
}

void spy_print_u64(uint64_t x) {
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRIu64, x);
    spy_out_write(buf, (size_t)n);
}

void spy_print_f64(double x) {
    char buf[32];
    spy_out_write(buf, (size_t)spy_format_f64(x, buf));
}

void spy_print_f32(float x) {
    char buf[32];
    spy_out_write(buf, (size_t)spy_format_f32(x, buf));
}

void spy_print_bool(bool x) { out_str(x ? "True" : "False"); }
void spy_print_str(const spy_Str *s) { spy_out_write(s->utf8, s->length); }
void spy_print_none(void) { out_str("None"); }
void spy_print_sep(void) { spy_out_write(" ", 1); }
void spy_print_end(void) { spy_out_write("\n", 1); }
