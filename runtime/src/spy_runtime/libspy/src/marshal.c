/* The wasm backend's marshalling: a call whose arguments or result hold
 * containers gets its arguments as one buffer the host wrote and gives its
 * result as one buffer the host reads (and frees with spy_free). Both sides
 * write by type, in order, with no layout: integers and floats in their
 * width, little-endian; bool one byte; str and bytes a u32 length and the
 * bytes; list and dict a u32 count and the items (a dict's as key, value);
 * a tuple its items. spy_runtime's _marshal.py is the host's side. */
#include <stdlib.h>
#include <string.h>

#include "spy.h"

static const char HERE[] = "<marshal>";

const uint8_t *spy_read(spy_Reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n)
        spy_panic("RuntimeError", "the host's arguments end too early", HERE, 0);
    const uint8_t *at = r->p;
    r->p += n;
    return at;
}

void spy_read_into(spy_Reader *r, void *dest, size_t n) { memcpy(dest, spy_read(r, n), n); }

uint32_t spy_read_u32(spy_Reader *r) {
    uint32_t v;
    memcpy(&v, spy_read(r, 4), 4);
    return v;
}

const spy_Str *spy_read_str(spy_Reader *r) {
    uint32_t n = spy_read_u32(r);
    return spy_str_new((const char *)spy_read(r, n), n);
}

void spy_write(spy_Writer *w, const void *data, size_t n) {
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap - w->len < n) cap *= 2;
        uint8_t *bigger = realloc(w->buf, cap);
        if (bigger == NULL) spy_panic("MemoryError", "out of memory for a result", HERE, 0);
        w->buf = bigger;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

void spy_write_u32(spy_Writer *w, uint32_t v) { spy_write(w, &v, 4); }

void spy_write_str(spy_Writer *w, const spy_Str *s) {
    spy_write_u32(w, (uint32_t)s->length);
    spy_write(w, s->utf8, s->length);
}
