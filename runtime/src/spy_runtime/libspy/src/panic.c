/* Panics: record what happened, then let the link mode's handler act. */
#include <stdlib.h>
#include <string.h>

#include "spy.h"

spy_PanicInfo spy_last_panic;

void spy_panic(const char *kind, const char *msg, const char *file, int32_t line) {
    spy_last_panic.kind = kind;
    spy_last_panic.message = msg;
    spy_last_panic.message_length = strlen(msg);
    spy_last_panic.file = file;
    spy_last_panic.line = line;
    spy_panic_handler();
}

void spy_panic_str(const char *kind, const spy_Str *msg, const char *file, int32_t line) {
    spy_last_panic.kind = kind;
    spy_last_panic.message = msg->utf8;
    spy_last_panic.message_length = msg->length;
    spy_last_panic.file = file;
    spy_last_panic.line = line;
    spy_panic_handler();
}
