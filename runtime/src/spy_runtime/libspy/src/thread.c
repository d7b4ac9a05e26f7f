/* The per-thread call state, polls and the recursion guard (see spy.h). */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <stdint.h>
#include <stdlib.h>

#if !defined(__wasm__) && defined(__linux__)
#include <pthread.h>
#endif

#include "spy.h"

#if defined(__wasm__)
spy_Thread spy_thread_own;
static spy_Thread *own_thread(void) { return &spy_thread_own; }
#else
static SPY_TLS spy_Thread spy_thread_own;
SPY_TLS spy_Thread *spy_thread_ptr;
static spy_Thread *own_thread(void) { return &spy_thread_own; }

spy_Thread *spy_thread_attach(void) {
    spy_thread_ptr = spy_process->thread();
    return spy_thread_ptr;
}
#endif

static spy_Process process_own = {
    SPY_RUNTIME_ABI_MAJOR, SPY_RUNTIME_ABI_MINOR, sizeof(spy_Process), sizeof(spy_Thread),
    own_thread,
};
spy_Process *spy_process = &process_own;
volatile int32_t spy_poll_request; /* wasm: see mode_wasm.c */

/* Stack kept free below the recursion limit: room for the panic path and for
 * Python code that a callback (print to a Python sys.stdout) runs there. */
#define SPY_STACK_RESERVE (512 * 1024)

void spy_recursion_error(const char *file, int32_t line) {
    spy_panic("RecursionError", "maximum recursion depth exceeded", file, line);
}

#if !defined(__wasm__)
/* The lowest address this thread's frames may reach; NULL when unknown
   (then no check happens). */
static char *stack_limit(void) {
#if defined(__linux__)
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return NULL;
    int rc = pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
    if (rc != 0 || size < 2 * SPY_STACK_RESERVE) return NULL;
    /* the main thread's stack grows up to RLIMIT_STACK; glibc reports that
       size, and a huge one (unlimited) is capped at what a thread gets */
    char *top = (char *)addr + size;
    size_t usable = size > ((size_t)1 << 30) ? ((size_t)1 << 30) : size;
    return top - usable + SPY_STACK_RESERVE;
#else
    return NULL;
#endif
}

#endif

void spy_poll_slow(const char *file, int32_t line) {
    int32_t budget = SPY_POLL_INTERVAL;
#if !defined(__wasm__)
    if (spy_thread.stack_limit == NULL) {
        /* looked up once per thread (for the main thread glibc reads
           /proc/self/maps); unknown is a limit no frame is below */
        char *limit = stack_limit();
        spy_thread.stack_limit = limit != NULL ? limit : (char *)1;
    }
    char *limit = spy_thread.stack_limit;
    char *sp = (char *)__builtin_frame_address(0);
    if (sp < limit) spy_recursion_error(file, line);
    size_t room = (size_t)(sp - limit) / SPY_FRAME_BOUND;
    if (room < (size_t)budget) budget = (int32_t)room;
#endif
    spy_thread.budget = budget;
    spy_mode_poll(file, line);
}
