/* Link mode of a wasm reactor module (the wheel's .wasm).
 * Output goes to the host's `spy.write` import (spy_runtime writes it to
 * sys.stdout). A panic traps: the host sees the trap, reads spy_last_panic
 * through spy_panic_info() and raises the exception; the trapped instance is
 * discarded (its stack pointer is lost).
 *
 * The exports the host needs live here because this object is linked
 * explicitly; members of libspy.a are pulled in only when referenced. */
#include <stdlib.h>

#include "spy.h"

__attribute__((import_module("spy"), import_name("write"))) void spy_host_write(const char *s,
                                                                               size_t n);

void spy_out_write(const char *s, size_t n) { spy_host_write(s, n); }

void spy_panic_handler(void) { __builtin_trap(); }

__attribute__((export_name("spy_panic_info"))) spy_PanicInfo *spy_panic_info(void) {
    return &spy_last_panic;
}

__attribute__((export_name("spy_alloc"))) void *spy_alloc(size_t n) { return malloc(n); }

__attribute__((export_name("spy_free"))) void spy_free(void *p) { free(p); }

/* a str argument from `n` UTF-8 bytes the host wrote at `utf8`; the host
   frees it with spy_str_free_host after the call */
__attribute__((export_name("spy_str_from_host"))) const spy_Str *spy_str_from_host(
    const char *utf8, size_t n) {
    return spy_str_new_kind(utf8, n, SPY_STR_HOST);
}

__attribute__((export_name("spy_str_free_host"))) void spy_str_free_host(spy_Str *s) {
    if (s->kind == SPY_STR_HOST) free(s);
}
