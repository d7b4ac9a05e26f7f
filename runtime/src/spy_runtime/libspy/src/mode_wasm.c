/* Link mode of a wasm reactor module (the wheel's .wasm).
 * Output gathers in a buffer that spy_runtime writes to sys.stdout after the
 * call (below). A panic traps: the host sees the trap, reads the panic through
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

#include "spy.h"

/* nonzero: writing raised (Ctrl-C, a closed file), and the host keeps the exception */
__attribute__((import_module("spy"), import_name("write"))) int32_t spy_host_write(const char *s,
                                                                                  size_t n);

static void host_write(const char *s, size_t n) {
    /* a Ctrl-C the host has flagged must not meet a call into Python (see
       spy_interrupt_flag): unwind at this safe point instead */
    if (spy_poll_request) __builtin_trap();
    if (spy_host_write(s, n)) spy_panic(SPY_PANIC_HOST, "", "<print>", 0);
}

/* print() output gathers here; the host takes it when the call returns or
 * traps (spy_out_buffer), in Python code of its own. Handing it over during
 * the call would be a call into Python, and a Ctrl-C that Python has not
 * handled yet kills the process there (see spy_interrupt_flag below): with a
 * hand-over at a newline every 50 ms, 1 run in 20 still died. So only past
 * 64 MiB, and a long call's progress lines appear when it ends (natively
 * they appear as they come). One hand-over per print piece also made
 * print-heavy code 100 times slower. */
#define OUT_MAX (64u << 20)

static struct {
    char *data;
    uint32_t len;
    uint32_t cap;
} out;
static void out_flush(void) {
    /* emptied first: the host copies the bytes before any Python code runs,
       and a nested call's prints (from that code) start the buffer anew,
       so they are handed over in the next round */
    while (out.len != 0) {
        uint32_t n = out.len;
        out.len = 0;
        host_write(out.data, n);
    }
}

static bool out_room(size_t n) {
    if (out.len + n <= out.cap) return true;
    size_t cap = out.cap ? 2 * (size_t)out.cap : 4096;
    while (cap < out.len + n) cap *= 2;
    char *grown = realloc(out.data, cap);
    if (grown == NULL) return false;
    out.data = grown;
    out.cap = (uint32_t)cap;
    return true;
}

void spy_out_write(const char *s, size_t n) {
    if (n > OUT_MAX - out.len || !out_room(n)) {
        out_flush();
        if (n >= OUT_MAX || !out_room(n)) {
            host_write(s, n);
            return;
        }
    }
    memcpy(out.data + out.len, s, n);
    out.len += (uint32_t)n;
}

/* {data, len, cap}: what is not handed over yet; the host prints it after
   each call and each trap, and sets len to 0 */
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

/* Every export is bracketed by spy_wasm_enter/leave: an outermost entry
 * (depth 0) first frees the previous outermost call's temporaries and the
 * retired str globals (no call is running, and the host has read that
 * call's result); each entry is a region of its own for the collector, the
 * outer one kept here by depth so that a trap can restore it. Temporaries
 * are not freed when a nested entry returns: the host reads its result
 * after the return, and the outer call's next collection takes them. */
spy_GcRegion spy_entry_regions[SPY_MAX_ENTRIES];

void spy_wasm_enter_slow(int32_t d) {
    if (d >= SPY_MAX_ENTRIES)
        spy_panic("RecursionError", "too many nested calls between Python and SPy", __FILE__,
                  __LINE__);
    spy_outermost_entry(); /* d == 0 */
}

/* After a trap the host resets what the unwound frames left: the nesting
 * depth it had when the trapped call began, and the regions of the entries
 * that the trap unwound. */
__attribute__((export_name("spy_recover"))) void spy_recover(int32_t depth) {
    while (spy_thread.depth > depth && spy_thread.depth <= SPY_MAX_ENTRIES) {
        int32_t d = --spy_thread.depth;
        spy_gc_leave(&spy_entry_regions[d], false);
    }
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
