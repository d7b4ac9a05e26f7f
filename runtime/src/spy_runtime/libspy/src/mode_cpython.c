/* Link mode of the CPython extension.
 * Output goes to the hook the extension installs at import (it writes to
 * sys.stdout). A panic jumps back to the wrapper that called into SPy code,
 * which turns spy_last_panic into a Python exception: the interpreter lives on. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include "spy.h"

_Thread_local jmp_buf *spy_panic_jmp;
void (*spy_out_hook)(const char *s, size_t n);

void spy_out_write(const char *s, size_t n) {
    if (spy_out_hook != NULL)
        spy_out_hook(s, n);
    else
        fwrite(s, 1, n, stdout);
}

void spy_panic_handler(void) {
    if (spy_panic_jmp != NULL) longjmp(*spy_panic_jmp, 1);
    /* a panic outside any guarded call is a compiler bug: say what happened */
    fprintf(stderr, "spy: unguarded panic %s at %s:%d\n", spy_last_panic.kind,
            spy_last_panic.file, (int)spy_last_panic.line);
    abort();
}
