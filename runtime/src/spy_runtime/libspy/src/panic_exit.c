/* Panic handler of executables: report like Python's last traceback lines,
 * then exit with status 1 (what CPython does on an uncaught exception). */
#include <stdio.h>
#include <stdlib.h>

#include "spy.h"

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
