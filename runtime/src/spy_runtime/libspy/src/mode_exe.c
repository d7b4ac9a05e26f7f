/* Link mode of executables (hatch-spy run/build).
 * Output goes to stdout. A panic reports like Python's last traceback lines
 * and exits with status 1, as CPython does on an uncaught exception. Ctrl-C
 * keeps its default action (the process ends), so polls have nothing to do. */
#include <stdio.h>
#include <stdlib.h>

#include "spy.h"

void spy_out_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }

void spy_mode_poll(const char *file, int32_t line) {
    (void)file;
    (void)line;
}

void spy_panic_handler(void) {
    const spy_PanicInfo *p = &spy_thread.panic;
    fflush(stdout);
    fprintf(stderr, "  File \"%s\", line %d\n", p->file, (int)p->line);
    fputs(p->kind, stderr);
    if (p->message_length) {
        fputs(": ", stderr);
        fwrite(p->message, 1, p->message_length, stderr);
    }
    fputc('\n', stderr);
    exit(1);
}
