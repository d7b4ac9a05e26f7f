/* The wasm backend's marshalling: a call whose arguments or result hold
 * containers gets its arguments as one buffer the host wrote and gives its
 * result as one buffer the host reads (and frees with spy_free). Both sides
 * write by type, in order, with no layout: integers and floats in their
 * width, little-endian; bool one byte; str and bytes a u32 length and the
 * bytes; list and dict a u32 count and the items (a dict's as key, value);
 * a tuple its items; an array its sizes (u32 each) and its items in C
 * order, and after the result, the items of each array argument the
 * function writes, which the host copies back into the caller's buffer.
 * spy_runtime's _marshal.py is the host's side. */
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

void *spy_read_array(spy_Reader *r, int ndim, size_t item_size, int32_t shape[3]) {
    int64_t n = 1;
    for (int d = 0; d < 3; d++) {
        uint32_t size = d < ndim ? spy_read_u32(r) : 1;
        if (size > INT32_MAX) spy_panic("MemoryError", "array too large", HERE, 0);
        shape[d] = (int32_t)size;
        n *= size;
        if (n > INT32_MAX) spy_panic("MemoryError", "array too large", HERE, 0);
    }
    void *items = spy_gc_alloc(n, item_size, NULL, HERE, 0);
    spy_block_of(items)->flags |= SPY_BLOCK_ARG; /* as natively: no global keeps it */
    spy_read_into(r, items, (size_t)n * item_size);
    return items;
}

void spy_write_array(spy_Writer *w, const void *first, int ndim, size_t item_size,
                     const int32_t shape[3], const int32_t strides[3], bool sizes) {
    if (sizes)
        for (int d = 0; d < ndim; d++) spy_write_u32(w, (uint32_t)shape[d]);
    const char *base = first;
    bool dense = (shape[2] == 1 || strides[2] == 1) && (shape[1] == 1 || strides[1] == shape[2]) &&
                 (shape[0] == 1 || strides[0] == (int64_t)shape[1] * shape[2]);
    if (dense) { /* C order already: one copy */
        spy_write(w, base, (size_t)shape[0] * (size_t)shape[1] * (size_t)shape[2] * item_size);
        return;
    }
    for (int32_t i = 0; i < shape[0]; i++)
        for (int32_t j = 0; j < shape[1]; j++) {
            const char *row = base + ((int64_t)i * strides[0] + (int64_t)j * strides[1]) * (int64_t)item_size;
            if (strides[2] == 1 || shape[2] == 1) { /* a run of items: one copy */
                spy_write(w, row, (size_t)shape[2] * item_size);
                continue;
            }
            for (int32_t k = 0; k < shape[2]; k++)
                spy_write(w, row + (int64_t)k * strides[2] * (int64_t)item_size, item_size);
        }
}
