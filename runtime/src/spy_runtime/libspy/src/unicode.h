/* Unicode properties for Python's int(), float() and repr() (unicode.c). */
#ifndef SPY_UNICODE_H
#define SPY_UNICODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool spy_unicode_isspace(uint32_t cp);
/* the digit's value for a decimal digit of any script, else -1 */
int spy_unicode_decimal(uint32_t cp);
bool spy_unicode_isprintable(uint32_t cp);
/* Python's full case mappings (unicode.c, tables in unicode_case.h): the 1 to 3 code points that
 * `cp` becomes, into out; returns how many */
int spy_unicode_upper(uint32_t cp, uint32_t out[3]);
int spy_unicode_lower(uint32_t cp, uint32_t out[3]);
/* the Final_Sigma rule's properties: cased (and not case-ignorable), and
 * case-ignorable */
bool spy_unicode_iscased(uint32_t cp);
bool spy_unicode_iscaseignorable(uint32_t cp);
bool spy_unicode_isalpha(uint32_t cp);
bool spy_unicode_isdigit(uint32_t cp);
/* the index of the first byte of s[0:n] that starts no valid UTF-8 sequence, or -1 */
int64_t spy_utf8_invalid_at(const unsigned char *s, size_t n);
/* the code point at *pp (valid UTF-8 assumed; never reads past end), advancing *pp */
uint32_t spy_utf8_next(const unsigned char **pp, const unsigned char *end);
/* repr(s) of UTF-8 text, as Python writes it, into out: at most `cap` bytes
 * and `maxchars` characters (cut there, as "%.200R" cuts; never within a
 * character's UTF-8 bytes). Returns the bytes written; *complete tells
 * whether all of it fit. */
size_t spy_unicode_repr(const char *s, size_t n, char *out, size_t cap, size_t maxchars,
                        bool *complete);

#endif
