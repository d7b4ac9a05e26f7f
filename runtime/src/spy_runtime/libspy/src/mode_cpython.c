/* Link mode of the CPython extension.
 * Output and polls go to hooks the extension installs at import (this file
 * is compiled without Python.h; the hooks live in spy_cpython.h). A panic
 * jumps back to the wrapper that called into SPy code, which turns the
 * thread's panic into a Python exception: the interpreter lives on. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "spy.h"

void (*spy_out_hook)(const char *s, size_t n);
void (*spy_poll_hook)(const char *file, int32_t line);

void spy_out_write(const char *s, size_t n) {
    if (spy_out_hook != NULL)
        spy_out_hook(s, n);
    else
        fwrite(s, 1, n, stdout);
}

void spy_mode_poll(const char *file, int32_t line) {
    if (spy_poll_hook != NULL) spy_poll_hook(file, line);
}

void spy_panic_handler(void) {
    jmp_buf *jb = spy_thread.panic_jmp;
    if (jb != NULL) longjmp(*jb, 1);
    /* a panic outside any guarded call is a compiler bug: say what happened */
    fprintf(stderr, "spy: unguarded panic %s at %s:%d\n", spy_thread.panic.kind,
            spy_thread.panic.file, (int)spy_thread.panic.line);
    abort();
}
