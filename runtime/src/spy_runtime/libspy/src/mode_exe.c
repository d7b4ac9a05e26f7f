/* Link mode of executables (hatch-spy run/build).
 * Output goes to stdout. A panic reports like Python's last traceback lines
 * and exits with status 1, as CPython does on an uncaught exception. */
#include <stdio.h>
#include <stdlib.h>

#include "spy.h"

void spy_out_write(const char *s, size_t n) { fwrite(s, 1, n, stdout); }

void spy_panic_handler(void) {
    fflush(stdout);
    fprintf(stderr, "  File \"%s\", line %d\n", spy_last_panic.file, (int)spy_last_panic.line);
    fputs(spy_last_panic.kind, stderr);
    if (spy_last_panic.message_length) {
        fputs(": ", stderr);
        fwrite(spy_last_panic.message, 1, spy_last_panic.message_length, stderr);
    }
    fputc('\n', stderr);
    exit(1);
}
