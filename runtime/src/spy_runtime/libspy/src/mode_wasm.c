/* Link mode of a wasm reactor module (the wheel's .wasm).
 * Output goes to the host's `spy.write` import (spy_runtime writes it to
 * sys.stdout). A panic traps: the host sees the trap, reads the panic through
 * spy_panic_info(), puts the stack pointer back where the call began
 * (spy_runtime reads the exported __stack_pointer) and raises the exception;
 * the instance, its heap and its `var` globals live on. A poll traps when the
 * host has flagged Ctrl-C.
 *
 * The exports the host needs live here because this object is linked
 * explicitly; members of libspy.a are pulled in only when referenced. */
#include <stdint.h>
#include <stdlib.h>

#include "spy.h"

/* nonzero: writing raised (Ctrl-C, a closed file), and the host keeps the exception */
__attribute__((import_module("spy"), import_name("write"))) int32_t spy_host_write(const char *s,
                                                                                  size_t n);

void spy_out_write(const char *s, size_t n) {
    if (spy_host_write(s, n)) spy_panic(SPY_PANIC_HOST, "", "<print>", 0);
}

/* The host sets spy_poll_request from its signal watcher thread when Ctrl-C
 * arrives; the next poll traps (spy.h) and the host, finding the flag still
 * set, clears it and raises. No call into the host here: a Python callback
 * entered while a signal is pending dies in wasmtime-py's trampoline. */
__attribute__((export_name("spy_interrupt_flag"))) volatile int32_t *spy_interrupt_flag(void) {
    return &spy_poll_request;
}

void spy_mode_poll(const char *file, int32_t line) {
    (void)file;
    (void)line;
}

void spy_mode_outermost_entry(void) {}

void spy_panic_handler(void) { __builtin_trap(); }

__attribute__((export_name("spy_panic_info"))) spy_PanicInfo *spy_panic_info(void) {
    return &spy_thread.panic;
}

/* After a trap the host resets what the unwound frames left: the nesting
 * depth it had when the trapped call began. */
__attribute__((export_name("spy_recover"))) void spy_recover(int32_t depth) {
    spy_thread.depth = depth;
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
