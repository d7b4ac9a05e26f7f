/* SPy's `unsafe` module: gc_alloc'd blocks and the memory functions over
 * them, every access checked against the block's length (spy.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spy.h"

void spy_ptr_bad_index(const void *p, int64_t i, size_t length, const char *file, int32_t line) {
    if (p == NULL) spy_panic("MemoryError", "NULL pointer dereference", file, line);
    char *buf = spy_thread.message_buf;
    snprintf(buf, sizeof spy_thread.message_buf,
             "index %" PRId64 " out of bounds for a block of %zu items", i, length);
    spy_panic("IndexError", buf, file, line);
}

/* [start, end) of a block of `length` items, as a byte range */
static void check_range(const void *p, size_t length, int64_t start, int64_t end,
                        const char *what, const char *file, int32_t line) {
    if (p == NULL) spy_panic("MemoryError", "NULL pointer dereference", file, line);
    if (start < 0 || end < start || (uint64_t)end > length) {
        char *buf = spy_thread.message_buf;
        snprintf(buf, sizeof spy_thread.message_buf,
                 "%s: range [%" PRId64 ", %" PRId64 ") out of bounds for a block of %zu items",
                 what, start, end, length);
        spy_panic("IndexError", buf, file, line);
    }
}

void spy_mem_setbytes(void *p, size_t length, int64_t start, int64_t end, int32_t byte,
                      size_t item_size, const char *file, int32_t line) {
    check_range(p, length, start, end, "ptr_setbytes", file, line);
    memset((char *)p + (size_t)start * item_size, byte & 0xFF, (size_t)(end - start) * item_size);
}

void spy_mem_copy(void *dst, size_t dst_length, int64_t dst_start, int64_t dst_end,
                  const void *src, size_t src_length, int64_t src_start, int64_t src_end,
                  size_t item_size, bool overlap_ok, const char *file, int32_t line) {
    const char *what = overlap_ok ? "ptr_move" : "ptr_copy";
    check_range(dst, dst_length, dst_start, dst_end, what, file, line);
    check_range(src, src_length, src_start, src_end, what, file, line);
    if (dst_end - dst_start != src_end - src_start) {
        char *buf = spy_thread.message_buf;
        snprintf(buf, sizeof spy_thread.message_buf, "%s: ranges of different lengths", what);
        spy_panic("ValueError", buf, file, line);
    }
    size_t n = (size_t)(dst_end - dst_start) * item_size;
    char *d = (char *)dst + (size_t)dst_start * item_size;
    const char *s = (const char *)src + (size_t)src_start * item_size;
    if (!overlap_ok && n != 0 && d < s + n && s < d + n)
        spy_panic("ValueError", "ptr_copy: the ranges overlap (use ptr_move)", file, line);
    /* into a pinned block (a global's): what it held is retired, what it
       gets becomes its own, as for a store (spy.h) */
    bool pinned = !spy_is_foreign(dst) && spy_block_pinned(dst);
    if (pinned) spy_gc_retire_range(dst, (size_t)dst_start, (size_t)dst_end);
    memmove(d, s, n);
    if (pinned) spy_gc_adopt_range(dst, (size_t)dst_start, (size_t)dst_end);
}

int32_t spy_mem_cmp(const void *a, size_t a_length, int64_t a_start, int64_t a_end,
                    const void *b, size_t b_length, int64_t b_start, int64_t b_end,
                    size_t item_size, const char *file, int32_t line) {
    check_range(a, a_length, a_start, a_end, "ptr_cmp", file, line);
    check_range(b, b_length, b_start, b_end, "ptr_cmp", file, line);
    if (a_end - a_start != b_end - b_start)
        spy_panic("ValueError", "ptr_cmp: ranges of different lengths", file, line);
    int c = memcmp((const char *)a + (size_t)a_start * item_size,
                   (const char *)b + (size_t)b_start * item_size,
                   (size_t)(a_end - a_start) * item_size);
    return c < 0 ? -1 : c > 0;
}
