/* Panics: record what happened in the thread's state, then let the link
 * mode's handler act. */
#include <string.h>

#include "spy.h"

static SPY_NORETURN void record(const char *kind, const char *msg, size_t n, const char *file,
                                int32_t line) {
    spy_PanicInfo *p = &spy_thread.panic;
    p->kind = kind;
    p->message = msg;
    p->message_length = n;
    p->file = file;
    p->line = line;
    spy_panic_handler();
}

void spy_panic(const char *kind, const char *msg, const char *file, int32_t line) {
    record(kind, msg, strlen(msg), file, line);
}

void spy_panic_str(const char *kind, const spy_Str *msg, const char *file, int32_t line) {
    record(kind, msg->utf8, msg->length, file, line);
}
