/* print(): Python's formatting, written to stdout through stdio. */
#include <inttypes.h>
#include <stdio.h>

#include "spy.h"

void spy_print_i64(int64_t x) { printf("%" PRId64, x); }
void spy_print_u64(uint64_t x) { printf("%" PRIu64, x); }

void spy_print_f64(double x) {
    char buf[32];
    spy_format_f64(x, buf);
    fputs(buf, stdout);
}

void spy_print_f32(float x) {
    char buf[32];
    spy_format_f32(x, buf);
    fputs(buf, stdout);
}

void spy_print_bool(bool x) { fputs(x ? "True" : "False", stdout); }
void spy_print_str(const spy_Str *s) { fwrite(s->utf8, 1, s->length, stdout); }
void spy_print_none(void) { fputs("None", stdout); }
void spy_print_sep(void) { putchar(' '); }
void spy_print_end(void) { putchar('\n'); }
