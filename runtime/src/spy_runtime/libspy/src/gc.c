/* The collector of temporaries (spy.h, "Collecting temporaries"): a
 * precise mark-and-sweep of the innermost region's strings and gc_alloc'd
 * blocks, run only at the safe points the compiler places, from the roots
 * it registers; and pinning, for blocks that globals reach. */
#include <stdlib.h>
#include <string.h>

#include "spy.h"

/* SPY_GC_STRESS=1 in the environment: a collection at every safe point
   after any allocation, so that a value the generated code fails to
   register is freed at once (the tests run programs so). */
static int gc_stress = -1;

void spy_gc_count(size_t bytes) {
    spy_Thread *t = &spy_thread;
    if (SPY_UNLIKELY(gc_stress < 0)) {
        const char *v = getenv("SPY_GC_STRESS");
        gc_stress = v != NULL && v[0] == '1';
    }
    t->gc_bytes += bytes;
    if (t->gc_bytes >= (t->gc_limit ? t->gc_limit : SPY_GC_MIN) || gc_stress) t->gc_due = 1;
}

void spy_keep_grow(void) {
    spy_Thread *t = &spy_thread;
    size_t cap = t->keep_cap ? 2 * t->keep_cap : 64;
    const spy_Str **grown = realloc(t->keep, cap * sizeof *t->keep);
    if (grown == NULL) spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    t->keep = grown;
    t->keep_cap = cap;
}

/* ---- blocks -------------------------------------------------------------- */

bool spy_push(void ***items, size_t *len, size_t *cap, void *p) {
    if (*len == *cap) {
        size_t grown_cap = *cap ? 2 * *cap : 64;
        void **grown = realloc(*items, grown_cap * sizeof **items);
        if (grown == NULL) return false;
        *items = grown;
        *cap = grown_cap;
    }
    (*items)[(*len)++] = p;
    return true;
}

static void blocks_add(spy_Block *b) {
    spy_Thread *t = &spy_thread;
    if (!spy_push(&t->blocks, &t->blocks_len, &t->blocks_cap, b)) {
        free(b);
        spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
    }
}

static char *item_at(void *items, const spy_Block *b, size_t i) {
    return (char *)items + i * b->item_size;
}

void *spy_gc_alloc(int64_t count, size_t item_size, const spy_PtrMap *map, const char *file,
                   int32_t line) {
    if (count < 0) spy_panic("ValueError", "gc_alloc() of a negative count", file, line);
    size_t n = (size_t)count, size = item_size ? item_size : 1;
    if ((uint64_t)count > (SIZE_MAX - sizeof(spy_Block)) / size || item_size > UINT32_MAX)
        spy_panic("MemoryError", "out of memory", file, line);
    /* one item at least, so that a block is never NULL */
    size_t bytes = sizeof(spy_Block) + (n ? n : 1) * size;
    spy_Block *b = calloc(1, bytes);
    if (b == NULL) spy_panic("MemoryError", "out of memory", file, line);
    b->map = map;
    b->count = n;
    b->item_size = (uint32_t)size;
    void *items = b + 1;
    if (map != NULL) /* a str field starts as "", never NULL */
        for (size_t i = 0; i < n; i++)
            for (uint32_t k = 0; k < map->n_str; k++)
                *(const spy_Str **)(item_at(items, b, i) + map->offsets[k]) = &spy_str_empty;
    blocks_add(b);
    spy_gc_count(bytes);
    return items;
}

/* raw_alloc: a block that is never freed, pinned from the start */
void *spy_raw_alloc(int64_t count, size_t item_size, const spy_PtrMap *map, const char *file,
                    int32_t line) {
    void *items = spy_gc_alloc(count, item_size, map, file, line);
    spy_gc_pin(items);
    spy_block_of(items)->flags |= SPY_BLOCK_RAW;
    return items;
}

void spy_blocks_free_from(size_t mark) {
    spy_Thread *t = &spy_thread;
    for (size_t i = mark; i < t->blocks_len; i++) {
        spy_Block *b = t->blocks[i];
        if (!(b->flags & SPY_BLOCK_PINNED)) free(b); /* a pinned one is a global's now */
    }
    t->blocks_len = mark;
    if (mark == 0 && t->blocks_cap > 1024) {
        free(t->blocks);
        t->blocks = NULL;
        t->blocks_cap = 0;
    }
}

bool spy_foreign_push(const void *lo, size_t nbytes) {
    spy_Thread *t = &spy_thread;
    const char *hi = (const char *)lo + (nbytes ? nbytes : 1);
    return spy_push(&t->foreign, &t->foreign_len, &t->foreign_cap, (void *)(uintptr_t)lo) &&
           spy_push(&t->foreign, &t->foreign_len, &t->foreign_cap, (void *)(uintptr_t)hi);
}

bool spy_foreign_slow(const void *items) {
    spy_Thread *t = &spy_thread;
    const char *p = items;
    for (size_t i = 0; i + 1 < t->foreign_len; i += 2)
        if ((const char *)t->foreign[i] <= p && p < (const char *)t->foreign[i + 1]) return true;
    return false;
}

/* ---- marking ---------------------------------------------------------------
 * Blocks to scan go on an explicit stack: a linked list a million nodes long
 * must not recurse a million C frames deep. */
typedef struct {
    void **items;
    size_t len, cap;
} Work;

static void work_push(Work *w, void *items) {
    if (!spy_push(&w->items, &w->len, &w->cap, items))
        spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
}

static void mark_str(const spy_Str *s) {
    if (s != NULL && s->kind == SPY_STR_TEMP) ((spy_Str *)s)->kind |= SPY_STR_MARK;
}

/* A pinned block and what it reaches are no temporaries: not traced. */
static void mark_block(Work *w, void *items) {
    if (items == NULL || spy_is_foreign(items)) return;
    spy_Block *b = spy_block_of(items);
    if (b->flags & (SPY_BLOCK_MARK | SPY_BLOCK_PINNED)) return;
    b->flags |= SPY_BLOCK_MARK;
    if (b->map != NULL) work_push(w, items);
}

/* Mark what the items of a traced block hold: their strs (a temporary's;
   a pinned block's are kept copies, which mark_str leaves) and, through
   `mark`, their blocks. */
static void scan_block(Work *w, void *items, void (*mark)(Work *, void *)) {
    spy_Block *b = spy_block_of(items);
    const spy_PtrMap *m = b->map;
    for (size_t i = 0; i < b->count; i++) {
        char *item = item_at(items, b, i);
        for (uint32_t k = 0; k < m->n_str; k++) mark_str(*(const spy_Str **)(item + m->offsets[k]));
        for (uint32_t k = 0; k < m->n_ptr; k++) mark(w, *(void **)(item + m->offsets[m->n_str + k]));
    }
}

void spy_gc_collect(void) {
    spy_Thread *t = &spy_thread;
    t->gc_due = 0;
    Work w = {NULL, 0, 0};
    for (spy_Frame *f = t->frames; f != NULL && f != t->gc_frames; f = f->prev) {
        for (uint32_t i = 0; i < f->n_str; i++) mark_str(*(const spy_Str **)f->slots[i]);
        for (uint32_t i = 0; i < f->n_ptr; i++) mark_block(&w, *(void **)f->slots[f->n_str + i]);
    }
    for (size_t k = t->gc_keep; k < t->keep_len; k++) {
        uintptr_t v = (uintptr_t)t->keep[k];
        if (v & 1u)
            mark_block(&w, (void *)(v & ~(uintptr_t)1u));
        else
            mark_str((const spy_Str *)v);
    }
    while (w.len > 0) scan_block(&w, w.items[--w.len], mark_block);
    free(w.items);

    size_t live = 0, kept = t->gc_base;
    for (size_t i = t->gc_base; i < t->arena_len; i++) {
        spy_Str *s = t->arena[i];
        if (s->kind & SPY_STR_MARK) {
            s->kind &= ~SPY_STR_MARK;
            t->arena[kept++] = s;
            live += sizeof(spy_Str) + s->length + 1;
        } else {
            free(s);
        }
    }
    t->arena_len = kept;
    kept = t->gc_block_base;
    for (size_t i = t->gc_block_base; i < t->blocks_len; i++) {
        spy_Block *b = t->blocks[i];
        if (b->flags & SPY_BLOCK_PINNED) continue; /* a global's: leaves the region */
        if (b->flags & SPY_BLOCK_MARK) {
            b->flags &= ~SPY_BLOCK_MARK;
            t->blocks[kept++] = b;
            live += sizeof(spy_Block) + (b->count ? b->count : 1) * b->item_size;
        } else {
            free(b);
        }
    }
    t->blocks_len = kept;
    t->gc_bytes = 0;
    t->gc_limit = live > SPY_GC_MIN ? live : SPY_GC_MIN;
}

/* ---- pinning ----------------------------------------------------------------
 * A block a global reaches is no region's any more: it is flagged, and so is
 * every block it reaches, and each str in them is replaced by a copy of its
 * own (strings are values: nothing can tell). The regions drop pinned blocks
 * without freeing them. */
/* Every pinned block, process-wide (threads pin concurrently: a spin lock). */
static void lock_pinned(void) {
    while (__atomic_exchange_n(&spy_process->pinned_lock, 1, __ATOMIC_ACQUIRE)) {
    }
}

static void unlock_pinned(void) {
    __atomic_store_n(&spy_process->pinned_lock, 0, __ATOMIC_RELEASE);
}

static void pin_one(void *items) {
    spy_block_of(items)->flags |= SPY_BLOCK_PINNED;
    lock_pinned();
    spy_Process *p = spy_process;
    bool ok = spy_push(&p->pinned, &p->pinned_len, &p->pinned_cap, items);
    unlock_pinned();
    if (!ok) spy_panic("MemoryError", "out of memory", __FILE__, __LINE__);
}

/* the units sharing the process's runtime: their globals are roots too */
bool spy_process_add_unit(void *const *(*roots)(size_t *n)) {
    spy_Process *p = spy_process;
    lock_pinned();
    bool ok = spy_push((void ***)&p->units, &p->units_len, &p->units_cap, (void *)roots);
    unlock_pinned();
    return ok;
}

/* a unit without gc_ptr globals (cgen emits no list), or C that links libspy
   without a generated unit (tests of libspy) */
__attribute__((weak)) void *const *spy_unit_global_roots(size_t *n) {
    *n = 0;
    return NULL;
}

void spy_gc_pinned_dropped(void) {
    __atomic_store_n(&spy_process->pinned_dirty, 1, __ATOMIC_RELEASE);
}

bool spy_gc_pinned_dirty(void) {
    return __atomic_load_n(&spy_process->pinned_dirty, __ATOMIC_ACQUIRE) != 0;
}

static void mark_pinned(Work *w, void *items) {
    if (items == NULL) return;
    spy_Block *b = spy_block_of(items);
    if (b->flags & SPY_BLOCK_MARK) return;
    b->flags |= SPY_BLOCK_MARK;
    if (b->map != NULL) work_push(w, items);
}

static void mark_unit(Work *w, void *const *(*unit_roots)(size_t *n)) {
    size_t n = 0;
    void *const *roots = unit_roots(&n);
    for (size_t i = 0; i < n; i++) mark_pinned(w, *(void *const *)roots[i]);
}

void spy_gc_collect_pinned(void) {
    spy_Process *p = spy_process;
    __atomic_store_n(&p->pinned_dirty, 0, __ATOMIC_RELEASE);
    lock_pinned();
    void **pinned = p->pinned;
    size_t pinned_len = p->pinned_len;
    Work w = {NULL, 0, 0};
    /* the globals of this unit and of every unit sharing the process's runtime */
    mark_unit(&w, spy_unit_global_roots);
    for (size_t i = 0; i < p->units_len; i++) mark_unit(&w, p->units[i]);
    for (size_t i = 0; i < pinned_len; i++)
        if (spy_block_of(pinned[i])->flags & SPY_BLOCK_RAW) mark_pinned(&w, pinned[i]);
    while (w.len > 0) scan_block(&w, w.items[--w.len], mark_pinned);
    free(w.items);
    size_t kept = 0;
    for (size_t i = 0; i < pinned_len; i++) {
        void *items = pinned[i];
        spy_Block *b = spy_block_of(items);
        if (b->flags & SPY_BLOCK_MARK) {
            b->flags &= ~SPY_BLOCK_MARK;
            pinned[kept++] = items;
            continue;
        }
        if (b->map != NULL) /* its strings are its own copies */
            for (size_t j = 0; j < b->count; j++)
                for (uint32_t k = 0; k < b->map->n_str; k++)
                    spy_str_retire(*(const spy_Str **)(item_at(items, b, j) + b->map->offsets[k]));
        free(b);
    }
    p->pinned_len = kept;
    unlock_pinned();
}

/* what pinning meets in foreign memory: the global would outlive the buffer */
SPY_NORETURN SPY_COLD static void pin_foreign(void) {
    spy_gc_pinned_dropped(); /* the blocks pinned on the way are no global's */
    spy_panic("ValueError",
              "an array over a Python buffer (an argument) is valid only during the call: "
              "store a copy where a global reaches it",
              "<array>", 0);
}

/* memory a global must not keep: an argument's buffer, or a wasm call's copy of one */
static bool pin_refused(void *items) {
    return spy_is_foreign(items) || (spy_block_of(items)->flags & SPY_BLOCK_ARG);
}

void spy_gc_pin(void *items) {
    if (items != NULL && pin_refused(items)) pin_foreign();
    if (items == NULL || spy_block_pinned(items)) return;
    Work w = {NULL, 0, 0};
    pin_one(items);
    work_push(&w, items);
    while (w.len > 0) {
        void *cur = w.items[--w.len];
        spy_Block *b = spy_block_of(cur);
        b->flags &= ~SPY_BLOCK_MARK;
        const spy_PtrMap *m = b->map;
        if (m == NULL) continue;
        for (size_t i = 0; i < b->count; i++) {
            char *item = item_at(cur, b, i);
            for (uint32_t k = 0; k < m->n_str; k++) {
                const spy_Str **slot = (const spy_Str **)(item + m->offsets[k]);
                *slot = spy_str_kept(*slot);
            }
            for (uint32_t k = 0; k < m->n_ptr; k++) {
                void *next = *(void **)(item + m->offsets[m->n_str + k]);
                if (next != NULL && pin_refused(next)) {
                    free(w.items);
                    pin_foreign();
                }
                if (next != NULL && !spy_block_pinned(next)) {
                    pin_one(next);
                    work_push(&w, next);
                }
            }
        }
    }
    free(w.items);
}

/* Items [start, end) of a pinned block are about to be overwritten: their
   strings (its own copies) are retired. */
void spy_gc_retire_range(void *items, size_t start, size_t end) {
    spy_Block *b = spy_block_of(items);
    const spy_PtrMap *m = b->map;
    if (m == NULL) return;
    if (m->n_ptr) spy_gc_pinned_dropped(); /* the blocks it pointed to may be garbage now */
    for (size_t i = start; i < end; i++)
        for (uint32_t k = 0; k < m->n_str; k++)
            spy_str_retire(*(const spy_Str **)(item_at(items, b, i) + m->offsets[k]));
}

/* Items [start, end) of a pinned block were just written: their strings
   become its own copies, their blocks are pinned. */
void spy_gc_adopt_range(void *items, size_t start, size_t end) {
    spy_Block *b = spy_block_of(items);
    const spy_PtrMap *m = b->map;
    if (m == NULL) return;
    for (size_t i = start; i < end; i++) {
        char *item = item_at(items, b, i);
        for (uint32_t k = 0; k < m->n_str; k++) {
            const spy_Str **slot = (const spy_Str **)(item + m->offsets[k]);
            *slot = spy_str_kept(*slot);
        }
        for (uint32_t k = 0; k < m->n_ptr; k++) spy_gc_pin(*(void **)(item + m->offsets[m->n_str + k]));
    }
}
