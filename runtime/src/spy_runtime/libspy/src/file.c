/* Files for the standard library's open(): a table of FILE*, indexed by the
 * handle the SPy code holds. On wasm, WASI gives the same calls; what a
 * program may open is what the host pre-opened (hatch-spy run maps `/`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__wasm__)
#include <unistd.h>
#endif

#include "spy.h"
#include "unicode.h"

static int posix_errno(int err);

/* A handle is a slot and the slot's generation (handle = gen << 8 | slot):
 * closing bumps the generation, so a closed file's handle never reaches a
 * file opened later in the same slot. Threads claim slots with atomics (an
 * extension's calls run in several threads at once). */
#define RESERVED ((FILE *)1) /* a slot being opened or closed */
#define files ((FILE **)spy_process->files)
#define generations (spy_process->generations)

static FILE *file_of(int32_t h, const char *file, int32_t line) {
    int32_t slot = h & 0xFF;
    FILE *f = h < 0 ? NULL : __atomic_load_n(&files[slot], __ATOMIC_ACQUIRE);
    if (f == NULL || f == RESERVED ||
        __atomic_load_n(&generations[slot], __ATOMIC_ACQUIRE) != (uint32_t)h >> 8)
        spy_panic("ValueError", "I/O operation on closed file.", file, line);
    return f;
}

static char *c_string(const spy_Str *s) {
    char *out = malloc(s->length + 1);
    if (out == NULL) return NULL;
    memcpy(out, s->utf8, s->length);
    out[s->length] = '\0';
    return out;
}

int32_t spy_file_open(const spy_Str *path, const spy_Str *mode, const char *file, int32_t line) {
    /* text modes only: binary files read bytes, which SPy code gets once
     * bytes exist */
    static const char *modes[] = {"r", "w", "a", "x", "r+", "w+", "a+", "x+", NULL};
    char *p = c_string(path), *m = c_string(mode);
    if (p == NULL || m == NULL || memchr(path->utf8, '\0', path->length) != NULL) {
        free(p);
        free(m);
        spy_panic("ValueError", "embedded null byte", file, line);
    }
    int ok = 0;
    for (int i = 0; modes[i] != NULL; i++) ok |= strcmp(m, modes[i]) == 0;
    if (!ok) {
        /* messages go in the thread's buffer: a panic's must outlive this frame */
        snprintf(spy_thread.message_buf, sizeof spy_thread.message_buf, "invalid mode: '%.40s'",
                 m);
        free(p);
        free(m);
        spy_panic("ValueError", spy_thread.message_buf, file, line);
    }
    int32_t h = 0;
    for (; h < SPY_MAX_FILES; h++) {
        FILE *expected = NULL;
        if (__atomic_compare_exchange_n(&files[h], &expected, RESERVED, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            break;
    }
    if (h == SPY_MAX_FILES) {
        free(p);
        free(m);
        spy_panic("OSError", "[Errno 24] Too many open files", file, line);
    }
    FILE *f = fopen(p, m);
    if (f == NULL) {
        int err = errno;
        /* Python's message: [Errno 2] No such file or directory: 'path' */
        const char *kind = err == ENOENT ? "FileNotFoundError"
                           : err == EACCES ? "PermissionError"
                           : err == EISDIR ? "IsADirectoryError"
                                           : "OSError";
        snprintf(spy_thread.message_buf, sizeof spy_thread.message_buf, "[Errno %d] %s: '%s'",
                 posix_errno(err), strerror(err), p);
        free(p);
        free(m);
        __atomic_store_n(&files[h], NULL, __ATOMIC_RELEASE);
        spy_panic(kind, spy_thread.message_buf, file, line);
    }
    free(p);
    free(m);
    uint32_t gen = __atomic_load_n(&generations[h], __ATOMIC_ACQUIRE) & 0x7FFFFF;
    __atomic_store_n(&files[h], f, __ATOMIC_RELEASE);
    return (int32_t)(gen << 8) | h;
}

int32_t spy_file_write(int32_t h, const spy_Str *s, const char *file, int32_t line) {
    FILE *f = file_of(h, file, line);
    if (s->length > 0 && fwrite(s->utf8, 1, s->length, f) != s->length)
        spy_panic("OSError", strerror(errno), file, line);
    return (int32_t)s->ncp;
}

/* Python's universal newlines: "\r\n" and "\r" read as "\n" */
static int next_char(FILE *f) {
    int c = fgetc(f);
    if (c == '\r') {
        int d = fgetc(f);
        if (d != '\n' && d != EOF) ungetc(d, f);
        return '\n';
    }
    return c;
}

/* Text read must be UTF-8, as Python's default encoding here is */
static const spy_Str *text_of(char *buf, size_t len, const char *file, int32_t line) {
    int64_t bad = spy_utf8_invalid_at((const unsigned char *)buf, len);
    if (bad >= 0) {
        snprintf(spy_thread.message_buf, sizeof spy_thread.message_buf,
                 "'utf-8' codec can't decode byte 0x%02x in position %lld",
                 (unsigned char)buf[bad], (long long)bad);
        free(buf);
        spy_panic("ValueError", spy_thread.message_buf, file, line);
    }
    const spy_Str *out = spy_str_new(buf, len);
    free(buf);
    return out;
}

/* the file's text up to its end, or (`line`) up to and with the next "\n" */
static const spy_Str *read_text(int32_t h, bool line_only, const char *file, int32_t line) {
    FILE *f = file_of(h, file, line);
    size_t cap = line_only ? 256 : 4096, len = 0;
    char *buf = malloc(cap);
    int c;
    while (buf != NULL && (c = next_char(f)) != EOF) {
        if (len == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        buf[len++] = (char)c;
        if (line_only && c == '\n') break;
    }
    if (buf == NULL) spy_panic("MemoryError", "out of memory", file, line);
    return text_of(buf, len, file, line);
}

const spy_Str *spy_file_read(int32_t h, const char *file, int32_t line) {
    return read_text(h, false, file, line);
}

const spy_Str *spy_file_readline(int32_t h, const char *file, int32_t line) {
    return read_text(h, true, file, line);
}

void spy_file_close(int32_t h) {
    /* closing a closed file does nothing, as in Python */
    int32_t slot = h & 0xFF;
    if (h < 0 || __atomic_load_n(&generations[slot], __ATOMIC_ACQUIRE) != (uint32_t)h >> 8) return;
    FILE *f = __atomic_exchange_n(&files[slot], RESERVED, __ATOMIC_ACQ_REL);
    if (f == NULL || f == RESERVED) { /* not open, or another thread is at it */
        if (f == NULL) __atomic_store_n(&files[slot], NULL, __ATOMIC_RELEASE);
        return;
    }
    __atomic_store_n(&generations[slot], (((uint32_t)h >> 8) + 1) & 0x7FFFFF, __ATOMIC_RELEASE);
    fclose(f);
    __atomic_store_n(&files[slot], NULL, __ATOMIC_RELEASE);
}

void spy_wasi_enter_cwd(void) {
#if defined(__wasm__)
    /* WASI has no working folder: hatch-spy's runner names the host's (SPY_CWD
     * in spy_runtime.engine), and wasi-libc resolves relative paths from it */
    const char *cwd = getenv("SPY_CWD");
    if (cwd != NULL) (void)chdir(cwd);
#endif
}

/* WASI numbers errors its own way (ENOENT is 44): report POSIX's numbers, so
 * that messages read as on every native target */
static int posix_errno(int err) {
#if defined(__wasm__)
    switch (err) {
    case ENOENT: return 2;
    case EACCES: return 13;
    case EEXIST: return 17;
    case ENOTDIR: return 20;
    case EISDIR: return 21;
    case EINVAL: return 22;
    case EMFILE: return 24;
    case ENOSPC: return 28;
    case EROFS: return 30;
    case ENOTCAPABLE: return 76;
    default: return err;
    }
#else
    return err;
#endif
}
