/* libspy: the C runtime every compiled SPy module links.
 *
 * One header on purpose: generated code includes only this file, and the
 * small integer helpers below are `static inline` so that the C compiler can
 * fold them into the caller (the checks cost a compare and a branch).
 */
#ifndef SPY_H
#define SPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPY_RUNTIME_ABI_MAJOR 0
#define SPY_RUNTIME_ABI_MINOR 5

#if defined(__GNUC__) || defined(__clang__)
#define SPY_NORETURN __attribute__((noreturn))
#define SPY_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SPY_COLD __attribute__((cold, noinline))
#else
#define SPY_NORETURN
#define SPY_UNLIKELY(x) (x)
#define SPY_COLD
#endif

/* Before small innermost loops. The poll's side exit (spy.h, polls) keeps
 * clang from unrolling them by itself, and unrolling is what lets the CPU
 * overlap iterations (a float loop of divisions ran 18% slower without it). */
#if defined(__clang__)
#define SPY_LOOP_HINT _Pragma("clang loop unroll_count(2)")
#else
#define SPY_LOOP_HINT
#endif

/* ---- per-thread call state -------------------------------------------------
 * Everything a call of compiled code changes besides the program's own `var`
 * globals lives here, once per thread: threads calling compiled functions at
 * the same time do not share panics, temporaries or stack limits. Natively
 * it is initial-exec TLS (one %fs-relative load; the extension asks for
 * static TLS space, as any C library with __thread does). wasm32-wasi
 * without threads has one thread: a plain global. */
#if defined(__wasm__)
#define SPY_TLS
#else
#define SPY_TLS _Thread_local __attribute__((tls_model("initial-exec")))
#endif

typedef struct spy_PanicInfo {
    const char *kind;
    const char *message;
    size_t message_length;
    const char *file;
    int32_t line;
} spy_PanicInfo;

struct spy_Frame;
struct spy_Str;

typedef struct spy_Thread {
    /* polls until the next spy_poll_slow(); starts at 0, so a thread's first
       poll initializes the rest */
    int32_t budget;
    int32_t depth;       /* entries from the host now running (wasm) */
    char *stack_limit;   /* a frame below this address is RecursionError; NULL: not looked up yet */
    spy_PanicInfo panic; /* this thread's last panic */
    void **arena;        /* the temporaries: see "Who frees a string" */
    size_t arena_len;
    size_t arena_cap;
    /* reclaiming temporaries during a call: see "Collecting temporaries" */
    struct spy_Frame *frames;        /* the innermost registered frame */
    const struct spy_Str **keep;     /* temporaries held across a call */
    size_t keep_len;
    size_t keep_cap;
    void **blocks;                   /* gc_alloc'd blocks (their headers) */
    size_t blocks_len;
    size_t blocks_cap;
    size_t gc_base;                  /* the innermost entry's first arena slot */
    size_t gc_block_base;            /* and first block */
    struct spy_Frame *gc_frames;     /* and the frames from before it */
    size_t gc_keep;                  /* and the keep stack's height then */
    size_t gc_bytes;                 /* allocated since the last collection */
    size_t gc_limit;                 /* collect after allocating this much */
    int32_t gc_due;
    void **foreign;                  /* [lo, hi) pairs: see "Foreign memory" */
    size_t foreign_len;
    size_t foreign_cap;
    void *panic_jmp;     /* extension: the innermost guarded call's jmp_buf */
    void *host_state;    /* extension: the PyThreadState saved while the GIL is released */
    int32_t hold_host;   /* extension: arguments are converting (Python calls and SPy
                            code in turn): a slow poll keeps the GIL */
    char message_buf[256]; /* panic messages libspy formats */
} spy_Thread;

/* ---- one runtime per process ----------------------------------------------
 * Packages linked dynamically pass strings, blocks and panics to each other,
 * so every SPy extension in a process must use one collector, one set of
 * arenas per thread and one list of pinned blocks. The first extension to
 * load provides its state (a capsule on spy_runtime._panic, named with the
 * runtime ABI); the others join it (spy_cpython.h, spy_py_init), and their
 * libspy code works on it: the layouts below are the runtime ABI. Code reaches
 * its thread's state through a pointer in its own TLS, set on first use from
 * the provider (one more load than the provider's own TLS; an executable or
 * a wasm module is its own provider). */
#define SPY_MAX_FILES 256

typedef struct spy_Process {
    uint32_t abi_major, abi_minor; /* the provider's SPY_RUNTIME_ABI_* */
    uint32_t size, thread_size;    /* sizeof(spy_Process), sizeof(spy_Thread) */
    spy_Thread *(*thread)(void);   /* the calling thread's state, in the provider's TLS */
    /* gc.c: every pinned block, and the units whose globals are its roots */
    void **pinned;
    size_t pinned_len, pinned_cap;
    int pinned_lock, pinned_dirty;
    void *const *(**units)(size_t *n);
    size_t units_len, units_cap;
    /* str.c: retired values of str globals, and the calls that can see them */
    void *retired;
    int retired_lock;
    int32_t globals_users;
    /* file.c: open() */
    void *files[SPY_MAX_FILES];
    uint32_t generations[SPY_MAX_FILES];
} spy_Process;

extern spy_Process *spy_process __attribute__((visibility("hidden")));
/* a unit (its spy_unit_global_roots) joins the marking of pinned blocks */
bool spy_process_add_unit(void *const *(*roots)(size_t *n));

#if defined(__wasm__)
extern spy_Thread spy_thread_own;
#define spy_thread spy_thread_own
#else
extern SPY_TLS spy_Thread *spy_thread_ptr __attribute__((visibility("hidden")));
SPY_COLD spy_Thread *spy_thread_attach(void);
static inline spy_Thread *spy_thread_get(void) {
    spy_Thread *t = spy_thread_ptr;
    if (SPY_UNLIKELY(t == NULL)) t = spy_thread_attach();
    return t;
}
#define spy_thread (*spy_thread_get())
#endif

/* ---- polls -------------------------------------------------------------------
 * Generated code polls in every loop and before every real recursive call,
 * so that a long call can be interrupted (Ctrl-C), can let other Python
 * threads run, and raises RecursionError before the stack ends. A poll is a
 * safe point: an interrupt surfaces as a panic there, never inside libc.
 *
 * Natively a poll takes from the thread's budget; when it runs out,
 * spy_poll_slow() measures the stack (RecursionError when less than the
 * reserve is left), refills the budget, capped at the room left divided by
 * SPY_FRAME_BOUND (a generous bound of the frames between two polls, so no
 * run of polls between two measurements can pass the reserve), and runs the
 * link mode's spy_mode_poll (signals, the GIL). On wasm every poll is a read
 * of spy_poll_request, which the host sets on Ctrl-C, and traps when it is
 * set: wasm has no GIL to give back, the engine guards the stack, and a trap
 * keeps Cranelift from spilling float registers around a call in the loop
 * (a float loop ran 2.6x slower). Where each kind goes: compiler/cgen.py,
 * and docs/architecture.md for what each costs. */
#define SPY_POLL_INTERVAL 16384
#define SPY_FRAME_BOUND 16384
SPY_COLD void spy_poll_slow(const char *file, int32_t line);
void spy_mode_poll(const char *file, int32_t line);
SPY_NORETURN SPY_COLD void spy_recursion_error(const char *file, int32_t line);

/* the host's Ctrl-C flag (wasm) */
extern volatile int32_t spy_poll_request __attribute__((visibility("hidden")));

#if defined(__wasm__)

#define SPY_WASM_POLL()                                      \
    do {                                                     \
        if (SPY_UNLIKELY(spy_poll_request)) __builtin_trap(); \
    } while (0)
#define SPY_POLL(file, line) SPY_WASM_POLL()
#define SPY_LOOP_ENTER(pb) int32_t pb = 0
#define SPY_LOOP_POLL(pb, file, line) \
    do {                              \
        (void)(pb);                   \
        SPY_WASM_POLL();              \
    } while (0)
#define SPY_LOOP_LEAVE(pb) ((void)(pb))
#define SPY_CHUNK_POLL(count, file, line) SPY_WASM_POLL()

#else

/* one poll: before a real recursive call (SPY_ENTER), at the top of a tail
   iteration */
#define SPY_POLL(file, line)                                                     \
    do {                                                                         \
        if (SPY_UNLIKELY(--spy_thread.budget < 0)) spy_poll_slow((file), (line)); \
    } while (0)

/* `while`: the loop counts in a local (a register; the budget in
 * thread-local memory is a store per iteration as long as the loop holds a
 * call, even the cold one of the slow poll). It starts from the thread's
 * budget and gives back what it used, never more than is left: nested loops
 * add up, and the budget never grows between two stack measurements (a
 * `break` or `return` skips the give-back, which only makes the next slow
 * poll later). */
#define SPY_LOOP_ENTER(pb) int32_t pb = spy_thread.budget
#define SPY_LOOP_POLL(pb, file, line)      \
    do {                                   \
        if (SPY_UNLIKELY(--(pb) < 0)) {    \
            spy_poll_slow((file), (line)); \
            (pb) = spy_thread.budget;      \
        }                                  \
    } while (0)
#define SPY_LOOP_LEAVE(pb)                                      \
    do {                                                        \
        if ((pb) < spy_thread.budget) spy_thread.budget = (pb); \
    } while (0)

/* `for ... in range(...)` runs in chunks of SPY_CHUNK iterations with one
 * poll per chunk, which takes the chunk's length: the inner loop is the loop
 * without polls, which the C compiler unrolls and pipelines */
#define SPY_CHUNK_POLL(count, file, line)                     \
    do {                                                      \
        if (SPY_UNLIKELY((spy_thread.budget -= (count)) < 0)) \
            spy_poll_slow((file), (line));                    \
    } while (0)

#endif

#define SPY_CHUNK 4096
#define SPY_ENTER(file, line) SPY_POLL(file, line)

/* ---- strings -------------------------------------------------------------
 * Immutable UTF-8. `length` counts bytes, `ncp` code points (len() is O(1)).
 * Literals are static const objects; runtime strings are one allocation.
 *
 * Who frees a runtime string: strings made while compiled code runs are
 * temporaries in the thread's arena. Each entry from Python is a region of
 * it (spy_gc_enter/spy_gc_leave below): a long call collects its region at
 * safe points, and a native wrapper frees what is left once the result is
 * converted; nested calls (a callback from print into compiled code) touch
 * only their own region. A string stored into a `var` global is copied out
 * of the arena (spy_global_str_store); the value it replaces may still be
 * held by a running call, so it is retired and freed once no call that can
 * see str globals runs (spy_globals_enter/leave). */
typedef enum {
    SPY_STR_STATIC = 0, /* a literal */
    SPY_STR_TEMP = 1,   /* in the arena */
    SPY_STR_HOST = 2,   /* made for the host (an argument); the host frees it */
    SPY_STR_KEPT = 3,   /* the value of a global; retired, then freed */
} spy_StrKind;

typedef struct spy_Str {
    size_t length;
    size_t ncp;
    const char *utf8;
    uint32_t kind; /* spy_StrKind */
} spy_Str;

#define SPY_STR_LITERAL(nbytes, ncp, s) {(nbytes), (ncp), (s), SPY_STR_STATIC}

void spy_arena_free_from(size_t mark);
/* free the blocks from `mark` on, but the pinned ones (they belong to globals) */
void spy_blocks_free_from(size_t mark);
static inline void spy_blocks_release(size_t mark) {
    if (SPY_UNLIKELY(spy_thread.blocks_len > mark)) spy_blocks_free_from(mark);
}
static inline void spy_arena_release(size_t mark) {
    if (SPY_UNLIKELY(spy_thread.arena_len > mark)) spy_arena_free_from(mark);
}
void spy_global_str_store(const spy_Str **slot, const spy_Str *value);
void spy_globals_enter(void);
void spy_globals_leave(void);
/* wasm, at an outermost entry from the host: no call is running, so free the
   temporaries and the retired values */
void spy_outermost_entry(void);

const spy_Str *spy_str_new_kind(const char *utf8, size_t nbytes, spy_StrKind kind);

/* ---- collecting temporaries ------------------------------------------------
 * A long call frees the temporaries no one can reach any more, so that a loop
 * making strings runs in bounded memory. Only at safe points the compiler
 * places (SPY_GC_POLL: the top of each iteration of a loop that allocates,
 * and before a real recursive call of a function that allocates), never
 * inside an allocation, so a value in the middle of an expression is safe.
 * The roots are exact, reported by the generated code:
 *   - each function that can reach a safe point registers the addresses of
 *     its str variables and of its gc_ptr variables' addresses (struct
 *     variables' fields too) in a spy_Frame on the thread's frame list,
 *     from entry to return;
 *   - a temporary that must live across a call that can reach a safe point
 *     (the left operand of `a + b + f()`) is pushed on the keep stack
 *     (spy_keep) until its statement ends.
 * A collection marks what they reach and frees the rest of the temporaries
 * made since the innermost entry from the host (a region: spy_gc_enter /
 * spy_gc_leave at every Python-facing wrapper and wasm export): a callback's
 * collection never touches the suspended outer call's values, whose
 * in-flight temporaries need not be registered. Globals hold KEPT copies
 * and arguments are HOST strings, so a temporary is only ever reachable
 * from its own thread's frames: no thread waits for another.
 *
 * gc_alloc'd blocks are temporaries of the region too, traced through the
 * pointer map of their item type (the offsets of its str and gc_ptr
 * fields). A block stored into a `var` global, or into a block that is, is
 * pinned: it leaves the regions (never freed for now), and so does, at once,
 * everything it reaches (a str in it becomes a KEPT copy); a store into a
 * pinned block pins what it stores (cgen's barrier, spy_mem_copy's). A
 * collection
 * is due after allocating as much as was live after the last one (at least
 * SPY_GC_MIN bytes): at most twice the live memory plus SPY_GC_MIN. */
typedef struct spy_Frame {
    struct spy_Frame *prev;
    uint32_t n_str;            /* slots[0, n_str): addresses of `const spy_Str *` */
    uint32_t n_ptr;            /* then: addresses of gc_ptr items pointers */
    void *const *slots;
} spy_Frame;

typedef struct spy_GcRegion {
    size_t base;
    size_t block_base;
    spy_Frame *frames;
    size_t keep;
} spy_GcRegion;

/* Where an item of a gc_alloc'd block holds references: the byte offsets of
   its str fields, then of its gc_ptr fields (their `p`). */
typedef struct spy_PtrMap {
    uint32_t n_str;
    uint32_t n_ptr;
    const uint32_t *offsets;
} spy_PtrMap;

/* In front of a block's items (gc_ptr.p points just past it). */
typedef struct spy_Block {
    const spy_PtrMap *map; /* NULL: the items hold no references */
    size_t count;
    uint32_t item_size;
    uint32_t flags;        /* SPY_BLOCK_MARK, SPY_BLOCK_PINNED */
} spy_Block;

#define SPY_BLOCK_MARK 1u
#define SPY_BLOCK_PINNED 2u
#define SPY_BLOCK_RAW 4u /* raw_alloc: never freed, a root of the pinned blocks */
#define SPY_BLOCK_ARG 8u /* a wasm call's copy of an array argument: pinned, a ValueError
                            as natively (see "foreign memory") */

static inline spy_Block *spy_block_of(const void *items) {
    return (spy_Block *)((char *)(uintptr_t)items - sizeof(spy_Block));
}
static inline bool spy_block_pinned(const void *items) {
    return items != NULL && (spy_block_of(items)->flags & SPY_BLOCK_PINNED);
}
/* a block is stored into a global (or a pinned block): it and all it reaches leave the regions */
void spy_gc_pin(void *items);

/* ---- foreign memory ---------------------------------------------------------
 * An array argument of a native call views the caller's buffer (a NumPy
 * array's memory) in place: its gc_ptr points at items that have no block
 * header. The wrapper registers the buffer's bytes for the call (the thread's
 * `foreign` ranges, released with the buffer); the collector never reads a
 * header there, and pinning one (storing the view where a global reaches it,
 * which would outlive the buffer) is a ValueError. */
bool spy_foreign_push(const void *lo, size_t nbytes);
static inline size_t spy_foreign_mark(void) { return spy_thread.foreign_len; }
static inline void spy_foreign_release(size_t mark) { spy_thread.foreign_len = mark; }
bool spy_foreign_slow(const void *items);
static inline bool spy_is_foreign(const void *items) {
    return SPY_UNLIKELY(spy_thread.foreign_len != 0) && spy_foreign_slow(items);
}
/* Pinned blocks that globals no longer reach are freed when no call that can
 * see globals runs (natively the last spy_globals_leave, on wasm an outermost
 * entry), by a mark from the unit's gc_ptr globals and its raw blocks. The
 * generated unit lists the addresses of its gc_ptr globals' `p`: */
void *const *spy_unit_global_roots(size_t *n) __attribute__((visibility("hidden")));
/* a reference to a pinned block was dropped (a global or a pinned item replaced) */
void spy_gc_pinned_dropped(void);
bool spy_gc_pinned_dirty(void);
/* with every call that can see globals excluded: free what they cannot reach */
void spy_gc_collect_pinned(void);
/* a store of items [start, end) into a pinned block: retire before, adopt after */
void spy_gc_retire_range(void *items, size_t start, size_t end);
void spy_gc_adopt_range(void *items, size_t start, size_t end);
/* what a pinned block's str field may hold: `s` itself, or a KEPT copy of a temporary */
const spy_Str *spy_str_kept(const spy_Str *s);
/* a KEPT value its owner replaced: freed once no call that can see it runs */
void spy_str_retire(const spy_Str *old);
void spy_gc_count(size_t bytes);
/* append `p` to a growing array of pointers; false when out of memory */
bool spy_push(void ***items, size_t *len, size_t *cap, void *p);
extern const spy_Str spy_str_empty;

#define SPY_GC_MIN ((size_t)1 << 20)
#define SPY_STR_MARK 0x80000000u

SPY_COLD void spy_gc_collect(void);
SPY_COLD void spy_keep_grow(void);
#define SPY_GC_POLL()                                       \
    do {                                                    \
        if (SPY_UNLIKELY(spy_thread.gc_due)) spy_gc_collect(); \
    } while (0)

/* The keep stack holds strs, and blocks' items pointers with the low bit set. */
static inline void spy_keep(const spy_Str *s) {
    spy_Thread *t = &spy_thread;
    if (SPY_UNLIKELY(t->keep_len == t->keep_cap)) spy_keep_grow();
    t->keep[t->keep_len++] = s;
}
static inline void spy_keep_block(const void *items) {
    spy_keep((const spy_Str *)((uintptr_t)items | 1u));
}

/* A region begins at each entry from the host; `saved` holds the outer one. */
static inline void spy_gc_enter(spy_GcRegion *saved) {
    spy_Thread *t = &spy_thread;
    saved->base = t->gc_base;
    saved->block_base = t->gc_block_base;
    saved->frames = t->gc_frames;
    saved->keep = t->gc_keep;
    t->gc_base = t->arena_len;
    t->gc_block_base = t->blocks_len;
    t->gc_frames = t->frames;
    t->gc_keep = t->keep_len;
}

/* When the entry returns (or unwinds from a panic): the frames and kept
   values of the region are gone; with `release`, its temporaries too (a
   native wrapper, once the result is a Python object). */
static inline void spy_gc_leave(const spy_GcRegion *saved, bool release) {
    spy_Thread *t = &spy_thread;
    t->frames = t->gc_frames;
    t->keep_len = t->gc_keep;
    if (release) {
        spy_arena_release(t->gc_base);
        spy_blocks_release(t->gc_block_base);
    }
    t->gc_base = saved->base;
    t->gc_block_base = saved->block_base;
    t->gc_frames = saved->frames;
    t->gc_keep = saved->keep;
}

#if defined(__wasm__)
/* What each wasm export does around its call (mode_wasm.c), inline: a call
   after a float loop made Cranelift keep its values in memory (the float
   loop ran 1.25x slower). The slow path runs at an outermost entry. */
#define SPY_MAX_ENTRIES 4096
extern spy_GcRegion spy_entry_regions[SPY_MAX_ENTRIES] __attribute__((visibility("hidden")));
SPY_COLD void spy_wasm_enter_slow(int32_t depth);
static inline void spy_wasm_enter(void) {
    int32_t d = spy_thread.depth;
    if (SPY_UNLIKELY(d == 0 || d >= SPY_MAX_ENTRIES)) spy_wasm_enter_slow(d);
    spy_thread.depth = d + 1;
    spy_gc_enter(&spy_entry_regions[d]);
}
static inline void spy_wasm_leave(void) {
    int32_t d = --spy_thread.depth;
    spy_gc_leave(&spy_entry_regions[d], false);
}
#endif

const spy_Str *spy_str_new(const char *utf8, size_t nbytes);
const spy_Str *spy_str_concat(const spy_Str *a, const spy_Str *b);
bool spy_str_eq(const spy_Str *a, const spy_Str *b);
/* strops.c: Python's str operations, by code point */
const spy_Str *spy_str_getitem(const spy_Str *s, int64_t i, const char *file, int32_t line);
const spy_Str *spy_str_slice(const spy_Str *s, int64_t start, int64_t stop, int64_t step,
                             bool has_start, bool has_stop, const char *file, int32_t line);
bool spy_str_contains(const spy_Str *haystack, const spy_Str *needle);
const spy_Str *spy_str_repeat(const spy_Str *s, int64_t times, const char *file, int32_t line);
int32_t spy_str_cmp(const spy_Str *a, const spy_Str *b);
int32_t spy_str_ord(const spy_Str *s, const char *file, int32_t line);
const spy_Str *spy_str_chr(int64_t c, const char *file, int32_t line);
bool spy_str_startswith(const spy_Str *s, const spy_Str *prefix);
bool spy_str_endswith(const spy_Str *s, const spy_Str *suffix);
int32_t spy_str_find(const spy_Str *s, const spy_Str *sub);
int32_t spy_str_index(const spy_Str *s, const spy_Str *sub, const char *file, int32_t line);
int32_t spy_str_count(const spy_Str *s, const spy_Str *sub);
const spy_Str *spy_str_strip(const spy_Str *s);
const spy_Str *spy_str_lstrip(const spy_Str *s);
const spy_Str *spy_str_rstrip(const spy_Str *s);
/* strip(chars): the code points of `chars` instead of whitespace */
const spy_Str *spy_str_strip_chars(const spy_Str *s, const spy_Str *chars);
const spy_Str *spy_str_lstrip_chars(const spy_Str *s, const spy_Str *chars);
const spy_Str *spy_str_rstrip_chars(const spy_Str *s, const spy_Str *chars);
bool spy_str_isspace(const spy_Str *s);
const spy_Str *spy_str_upper(const spy_Str *s, const char *file, int32_t line);
const spy_Str *spy_str_lower(const spy_Str *s, const char *file, int32_t line);
bool spy_str_isascii(const spy_Str *s);
bool spy_str_isalpha(const spy_Str *s);
bool spy_str_isdigit(const spy_Str *s);
/* byte offsets, for split in the standard library (`_list.spy`) */
int64_t spy_str_find_byte(const spy_Str *s, const spy_Str *sub, int64_t from);
const spy_Str *spy_str_byte_slice(const spy_Str *s, int64_t b0, int64_t b1);
int64_t spy_str_skip_space(const spy_Str *s, int64_t b, bool space);
const spy_Str *spy_str_replace(const spy_Str *s, const spy_Str *old, const spy_Str *new_,
                               const char *file, int32_t line);
/* `for ch in s`: the character at byte `b`, and how many bytes it takes */
static inline int64_t spy_str_nbytes(const spy_Str *s) { return (int64_t)s->length; }
const spy_Str *spy_str_char_at(const spy_Str *s, int64_t b);
int64_t spy_str_char_width(const spy_Str *s, int64_t b);
/* A program's command line, for `def main(argv: list[str])`: the generated C
 * main stores it, the standard library reads it (none in an extension). */
extern int spy_main_argc;
extern char **spy_main_argv;
int32_t spy_argc(void);
const spy_Str *spy_argv_at(int32_t i);
/* files, for the standard library's open(): handles into a table of FILE* */
int32_t spy_file_open(const spy_Str *path, const spy_Str *mode, const char *file, int32_t line);
int32_t spy_file_write(int32_t h, const spy_Str *s, const char *file, int32_t line);
const spy_Str *spy_file_read(int32_t h, const char *file, int32_t line);
const spy_Str *spy_file_readline(int32_t h, const char *file, int32_t line);
void spy_file_close(int32_t h);
/* a WASI command's start: enter the folder the host names (no-op natively) */
void spy_wasi_enter_cwd(void);
/* bytes (the standard library's `_bytes.spy` holds its bytes in a spy_Str) */
int32_t spy_bytes_len(const spy_Str *raw);
uint8_t spy_bytes_getitem(const spy_Str *raw, int64_t i, const char *file, int32_t line);
const spy_Str *spy_bytes_slice(const spy_Str *raw, int64_t start, int64_t stop, int64_t step,
                               bool has_start, bool has_stop, const char *file, int32_t line);
const spy_Str *spy_bytes_repr(const spy_Str *raw, const char *file, int32_t line);
const spy_Str *spy_bytes_decode(const spy_Str *raw, const char *file, int32_t line);
bool spy_bytes_contains_byte(const spy_Str *raw, int64_t b);
/* the wasm backend's marshalling of containers (marshal.c): a reader over
 * the host's argument buffer, a growing writer for the result */
typedef struct {
    const uint8_t *p, *end;
} spy_Reader;
typedef struct {
    uint8_t *buf;
    size_t len, cap;
} spy_Writer;
const uint8_t *spy_read(spy_Reader *r, size_t n);
void spy_read_into(spy_Reader *r, void *dest, size_t n);
uint32_t spy_read_u32(spy_Reader *r);
const spy_Str *spy_read_str(spy_Reader *r);
void spy_write(spy_Writer *w, const void *data, size_t n);
void spy_write_u32(spy_Writer *w, uint32_t v);
void spy_write_str(spy_Writer *w, const spy_Str *s);
/* an array: its NDIM sizes (u32 each), then its items in C order; read
 * into a new block (`shape` gets 1 past NDIM); written from item `first`
 * through `strides` (in items), with the sizes or (`sizes` false: the
 * items of an argument the call wrote, going back) without */
void *spy_read_array(spy_Reader *r, int ndim, size_t item_size, int32_t shape[3]);
void spy_write_array(spy_Writer *w, const void *first, int ndim, size_t item_size,
                     const int32_t shape[3], const int32_t strides[3], bool sizes);
/* slices (strops.c): Python's rules for the first item and the count of a
 * slice of n items, for str, bytes and the standard library's list */
int64_t spy_slice_adjust(int64_t n, int64_t *start, int64_t *stop, int64_t step, bool has_start,
                         bool has_stop, const char *file, int32_t line);
int64_t spy_slice_start(int64_t n, int64_t start, int64_t stop, int64_t step, bool has_start,
                        bool has_stop, const char *file, int32_t line);
int64_t spy_slice_count(int64_t n, int64_t start, int64_t stop, int64_t step, bool has_start,
                        bool has_stop, const char *file, int32_t line);
/* hash(): equal values hash equal (a float equal to an int hashes as the
 * int, as in Python); dicts use them, so they need not be Python's numbers */
int64_t spy_str_hash(const spy_Str *s);
int64_t spy_f64_hash(double x);
/* the argument orders Python evaluates in: `needle in s`, `n * s` */
static inline bool spy_str_in(const spy_Str *needle, const spy_Str *s) {
    return spy_str_contains(s, needle);
}
static inline const spy_Str *spy_str_rrepeat(int64_t times, const spy_Str *s, const char *file,
                                             int32_t line) {
    return spy_str_repeat(s, times, file, line);
}
/* len() is an i32: past INT32_MAX characters an OverflowError, never a wrapped length */
SPY_NORETURN SPY_COLD void spy_str_len_overflow(const char *file, int32_t line);
static inline int32_t spy_str_len(const spy_Str *s, const char *file, int32_t line) {
    if (SPY_UNLIKELY(s->ncp > INT32_MAX)) spy_str_len_overflow(file, line);
    return (int32_t)s->ncp;
}
const spy_Str *spy_str_from_i64(int64_t x);
const spy_Str *spy_str_from_u64(uint64_t x);
const spy_Str *spy_str_from_f64(double x);
const spy_Str *spy_str_from_f32(float x);
const spy_Str *spy_str_from_bool(bool x);
/* ---- unsafe: gc_ptr[T] is {T *p; size_t length;} -------------------------
 * Every access is checked: a NULL pointer is a MemoryError, an index outside
 * [0, length) an IndexError. A block is a temporary of its region, freed by
 * the collector (see "Collecting temporaries"); its str fields start as "". */
void *spy_gc_alloc(int64_t count, size_t item_size, const spy_PtrMap *map, const char *file,
                   int32_t line);
void *spy_raw_alloc(int64_t count, size_t item_size, const spy_PtrMap *map, const char *file,
                    int32_t line);
SPY_NORETURN SPY_COLD void spy_ptr_bad_index(const void *p, int64_t i, size_t length,
                                             const char *file, int32_t line);
static inline size_t spy_ptr_check(const void *p, size_t length, int64_t i, const char *file,
                                   int32_t line) {
    if (SPY_UNLIKELY(p == NULL || i < 0 || (uint64_t)i >= length))
        spy_ptr_bad_index(p, i, length, file, line);
    return (size_t)i;
}
/* the `_slice` forms of ptr_setbytes, ptr_copy/ptr_move and ptr_cmp; counts in items */
void spy_mem_setbytes(void *p, size_t length, int64_t start, int64_t end, int32_t byte,
                      size_t item_size, const char *file, int32_t line);
void spy_mem_copy(void *dst, size_t dst_length, int64_t dst_start, int64_t dst_end,
                  const void *src, size_t src_length, int64_t src_start, int64_t src_end,
                  size_t item_size, bool overlap_ok, const char *file, int32_t line);
int32_t spy_mem_cmp(const void *a, size_t a_length, int64_t a_start, int64_t a_end,
                    const void *b, size_t b_length, int64_t b_start, int64_t b_end,
                    size_t item_size, const char *file, int32_t line);

/* Python's repr() of a str: quoted, escapes as Python writes them */
const spy_Str *spy_str_repr(const spy_Str *s, const char *file, int32_t line);
/* int(s) / float(s) with Python's parsing rules; panic on bad input. */
int64_t spy_str_to_i64(const spy_Str *s, int64_t min, int64_t max, const char *tname,
                       const char *file, int32_t line);
uint64_t spy_str_to_u64(const spy_Str *s, uint64_t max, const char *tname,
                        const char *file, int32_t line);
double spy_str_to_f64(const spy_Str *s, const char *file, int32_t line);

/* Python's repr() of a double: shortest round-tripping digits. `buf` needs
 * 32 bytes. Returns the number of bytes written (no NUL counted). */
int spy_format_f64(double x, char *buf);
int spy_format_f32(float x, char *buf);

/* ---- panics --------------------------------------------------------------
 * A panic is SPy's uncaught exception: kind ("ValueError"), message and the
 * .spy location. spy_panic records it in the thread's `panic` and hands over
 * to spy_panic_handler(), which each link mode defines once: print and exit
 * (an executable), longjmp back to the Python boundary (an extension
 * module), or trap (a wasm reactor, where the host reads the panic).
 * SPY_PANIC_HOST means "the host has an exception of its own pending" (a
 * KeyboardInterrupt raised by a poll): the boundary re-raises that one. */
#define SPY_PANIC_HOST "<host exception>"

SPY_NORETURN SPY_COLD void spy_panic(const char *kind, const char *msg, const char *file,
                                     int32_t line);
SPY_NORETURN SPY_COLD void spy_panic_str(const char *kind, const spy_Str *msg,
                                         const char *file, int32_t line);
SPY_NORETURN void spy_panic_handler(void);

/* ---- print ----------------------------------------------------------------
 * spy_out_write is defined by the link mode (src/mode_*.c). */
void spy_out_write(const char *s, size_t n);
void spy_print_i64(int64_t x);
void spy_print_u64(uint64_t x);
void spy_print_f64(double x);
void spy_print_f32(float x);
void spy_print_bool(bool x);
void spy_print_str(const spy_Str *s);
void spy_print_none(void);
void spy_print_sep(void);
void spy_print_end(void);

/* ---- math and time (SPy's `math` and `time` modules) ---------------------- */
double spy_math_sqrt(double x, const char *file, int32_t line);
double spy_math_log(double x, const char *file, int32_t line);
double spy_math_exp(double x, const char *file, int32_t line);
double spy_math_sin(double x);
double spy_math_cos(double x);
double spy_math_floor(double x);
double spy_math_fabs(double x);
double spy_time_time(void);

/* The same bits on every target (src/libm.c), unlike the platform libms. */
double spy_libm_exp(double x);
double spy_libm_log(double x);
double spy_libm_sin(double x);
double spy_libm_cos(double x);
/* x**y for finite x > 0, x != 1, finite y != 0; spy_f64_pow does the rest */
double spy_libm_pow(double x, double y);

/* ---- float arithmetic with Python's rules --------------------------------- */
/* true division is inline: a call would keep the C compiler from
   pipelining divisions in loops */
static inline double spy_f64_div(double x, double y, const char *file, int32_t line) {
    if (SPY_UNLIKELY(y == 0)) spy_panic("ZeroDivisionError", "float division by zero", file, line);
    return x / y;
}
static inline float spy_f32_div(float x, float y, const char *file, int32_t line) {
    if (SPY_UNLIKELY(y == 0)) spy_panic("ZeroDivisionError", "float division by zero", file, line);
    return x / y;
}
double spy_f64_floordiv(double x, double y, const char *file, int32_t line);
double spy_f64_mod(double x, double y, const char *file, int32_t line);
double spy_f64_pow(double x, double y, const char *file, int32_t line);
float spy_f32_floordiv(float x, float y, const char *file, int32_t line);
float spy_f32_mod(float x, float y, const char *file, int32_t line);

/* float -> int casts saturate and map NaN to 0 (as SPy's operator.h does). */
#define SPY_FLOAT_TO_INT(NAME, CT, MINV, MAXV)                                         \
    static inline CT spy_##NAME(double x) {                                            \
        if (x != x) return 0;                                                          \
        if (x >= (double)(MAXV)) return (MAXV);                                        \
        if (x <= (double)(MINV)) return (MINV);                                        \
        return (CT)x;                                                                  \
    }
SPY_FLOAT_TO_INT(f64_to_i8, int8_t, INT8_MIN, INT8_MAX)
SPY_FLOAT_TO_INT(f64_to_u8, uint8_t, 0, UINT8_MAX)
SPY_FLOAT_TO_INT(f64_to_i32, int32_t, INT32_MIN, INT32_MAX)
SPY_FLOAT_TO_INT(f64_to_u32, uint32_t, 0, UINT32_MAX)
SPY_FLOAT_TO_INT(f64_to_i64, int64_t, INT64_MIN, INT64_MAX)
SPY_FLOAT_TO_INT(f64_to_u64, uint64_t, 0, UINT64_MAX)
#undef SPY_FLOAT_TO_INT

/* ---- integer arithmetic with Python's rules, wrapping at the width -------- */
#define SPY_SIGNED_OPS(T, CT, UCT, MINV)                                                \
    static inline CT spy_##T##_floordiv(CT x, CT y, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        if (SPY_UNLIKELY(y == -1)) return (CT)(0 - (UCT)x); /* MIN // -1 wraps */     \
        CT q = x / y;                                                                  \
        if ((x % y != 0) && ((x < 0) != (y < 0))) q -= 1;                              \
        return q;                                                                      \
    }                                                                                  \
    static inline CT spy_##T##_mod(CT x, CT y, const char *file, int32_t line) {       \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        if (SPY_UNLIKELY(y == -1)) return 0;                                           \
        CT r = x % y;                                                                  \
        if (r != 0 && ((r < 0) != (y < 0))) r += y;                                    \
        return r;                                                                      \
    }                                                                                  \
    static inline double spy_##T##_div(CT x, CT y, const char *file, int32_t line) {   \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "division by zero", file, line);            \
        return (double)x / (double)y;                                                  \
    }                                                                                  \
    static inline CT spy_##T##_shl(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)((UCT)x << n);                                                      \
    }                                                                                  \
    static inline CT spy_##T##_shr(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return x < 0 ? -1 : 0;                     \
        return (CT)(x >> n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_pow(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0))                                                       \
            spy_panic("ValueError", "negative exponent in integer power", file, line);  \
        UCT result = 1, base = (UCT)x;                                                 \
        while (n) {                                                                    \
            if (n & 1) result *= base;                                                 \
            base *= base;                                                              \
            n >>= 1;                                                                   \
        }                                                                              \
        return (CT)result;                                                             \
    }

#define SPY_UNSIGNED_OPS(T, CT)                                                         \
    static inline CT spy_##T##_floordiv(CT x, CT y, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        return x / y;                                                                  \
    }                                                                                  \
    static inline CT spy_##T##_mod(CT x, CT y, const char *file, int32_t line) {       \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "integer division or modulo by zero", file, \
                      line);                                                           \
        return x % y;                                                                  \
    }                                                                                  \
    static inline double spy_##T##_div(CT x, CT y, const char *file, int32_t line) {   \
        if (SPY_UNLIKELY(y == 0))                                                      \
            spy_panic("ZeroDivisionError", "division by zero", file, line);            \
        return (double)x / (double)y;                                                  \
    }                                                                                  \
    static inline CT spy_##T##_shl(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)(x << n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_shr(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0)) spy_panic("ValueError", "negative shift count", file, line); \
        if (n >= (int64_t)(8 * sizeof(CT))) return 0;                                  \
        return (CT)(x >> n);                                                           \
    }                                                                                  \
    static inline CT spy_##T##_pow(CT x, int64_t n, const char *file, int32_t line) {  \
        if (SPY_UNLIKELY(n < 0))                                                       \
            spy_panic("ValueError", "negative exponent in integer power", file, line);  \
        CT result = 1, base = x;                                                       \
        while (n) {                                                                    \
            if (n & 1) result *= base;                                                 \
            base *= base;                                                              \
            n >>= 1;                                                                   \
        }                                                                              \
        return result;                                                                 \
    }

SPY_SIGNED_OPS(i8, int8_t, uint8_t, INT8_MIN)
SPY_SIGNED_OPS(i32, int32_t, uint32_t, INT32_MIN)
SPY_SIGNED_OPS(i64, int64_t, uint64_t, INT64_MIN)
SPY_UNSIGNED_OPS(u8, uint8_t)
SPY_UNSIGNED_OPS(u32, uint32_t)
SPY_UNSIGNED_OPS(u64, uint64_t)
#undef SPY_SIGNED_OPS
#undef SPY_UNSIGNED_OPS

/* range() with a step that is not the literal 1: the number of iterations,
 * computed without overflow (the values themselves may wrap only past it). */
static inline uint64_t spy_range_len(int64_t start, int64_t stop, int64_t step,
                                     const char *file, int32_t line) {
    if (SPY_UNLIKELY(step == 0))
        spy_panic("ValueError", "range() arg 3 must not be zero", file, line);
    if (step > 0) {
        if (start >= stop) return 0;
        return ((uint64_t)stop - (uint64_t)start - 1) / (uint64_t)step + 1;
    }
    if (start <= stop) return 0;
    return ((uint64_t)start - (uint64_t)stop - 1) / (0 - (uint64_t)step) + 1;
}

#endif /* SPY_H */

