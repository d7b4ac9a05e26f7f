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
#include <string.h>
#include <time.h>

#include "spy.h"

/* nonzero: writing raised (Ctrl-C, a closed file), and the host keeps the exception */
__attribute__((import_module("spy"), import_name("write"))) int32_t spy_host_write(const char *s,
                                                                                  size_t n);

static void host_write(const char *s, size_t n) {
    if (spy_host_write(s, n)) spy_panic(SPY_PANIC_HOST, "", "<print>", 0);
}

/* print() output is buffered here and handed to the host when 4 KiB have
 * gathered, at a newline once 50 ms have passed since the last hand-over
 * (so progress lines still appear as they come), and when the outermost call
 * returns (spy_out_flush, from the export shims); after a trap the host takes
 * what is left (spy_out_buffer) before raising. Each hand-over is a call into
 * Python: one per print piece made print-heavy code slow, and each is a
 * moment where a Ctrl-C that Python has not handled yet kills the process
 * (see spy_interrupt_flag below). */
#define OUT_CAP 4096
#define OUT_LINE_NS 50000000LL

static char out_data[OUT_CAP];
static struct {
    const char *data;
    uint32_t len;
} out = {out_data, 0};
/* never yet: WASI's monotonic clock may start near 0 with the instance */
static int64_t out_flushed_ns = INT64_MIN / 2;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void spy_out_flush(void) {
    /* emptied first: the host copies the bytes before any Python code runs,
       and a nested call's prints (from that code) start the buffer anew,
       so they are handed over in the next round */
    while (out.len != 0) {
        uint32_t n = out.len;
        out.len = 0;
        out_flushed_ns = now_ns();
        host_write(out_data, n);
    }
}

void spy_out_write(const char *s, size_t n) {
    if (n > OUT_CAP - out.len) {
        spy_out_flush();
        if (n >= OUT_CAP) {
            host_write(s, n);
            return;
        }
    }
    memcpy(out_data + out.len, s, n);
    out.len += (uint32_t)n;
    if (memchr(s, '\n', n) != NULL && now_ns() - out_flushed_ns >= OUT_LINE_NS) spy_out_flush();
}

/* what a trapped call left unprinted: {data, len}; the host prints it and
   sets len to 0 */
__attribute__((export_name("spy_out_buffer"))) void *spy_out_buffer(void) { return &out; }

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
