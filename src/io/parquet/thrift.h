/* Thrift compact protocol, read side, over a bounded buffer (internal).
 *
 * Every read checks the buffer end; lists may not claim more elements than
 * bytes remain (each element takes at least one); structs nest at most
 * LENS__THRIFT_MAX_DEPTH deep, so hostile input can neither overrun nor
 * recurse without bound. The first error sticks in t->err. */
#ifndef LENS_IO_THRIFT_H
#define LENS_IO_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#define LENS__THRIFT_MAX_DEPTH 32

/* wire types of the compact protocol */
enum {
    TH_STOP = 0, TH_TRUE = 1, TH_FALSE = 2, TH_BYTE = 3, TH_I16 = 4, TH_I32 = 5, TH_I64 = 6,
    TH_DOUBLE = 7, TH_BINARY = 8, TH_LIST = 9, TH_SET = 10, TH_MAP = 11, TH_STRUCT = 12
};

typedef struct lens__thrift {
    const uint8_t *start, *p, *end;
    int depth;
    const char *err; /* static text of the first error, NULL while fine */
    size_t err_at;   /* its byte offset from start */
} lens__thrift;

void lens__thrift_init(lens__thrift *t, const void *data, size_t n);
/* All return 0 on success, -1 on error (t->err says why). */
int lens__thrift_fail(lens__thrift *t, const char *why);
int lens__thrift_varint(lens__thrift *t, uint64_t *v);
int lens__thrift_i32(lens__thrift *t, int32_t *v);
int lens__thrift_i64(lens__thrift *t, int64_t *v);
int lens__thrift_binary(lens__thrift *t, const uint8_t **s, uint32_t *n);
/* Enters a struct (depth check); pair with lens__thrift_struct_end. */
int lens__thrift_struct_begin(lens__thrift *t);
void lens__thrift_struct_end(lens__thrift *t);
/* Next field of the current struct: 1 with *type and *id set, 0 at STOP,
 * -1 on error. *last carries the previous id (start at 0). */
int lens__thrift_field(lens__thrift *t, int16_t *last, int *type, int16_t *id);
/* List or set header; *n is checked against the bytes left. */
int lens__thrift_list(lens__thrift *t, int *elem_type, uint32_t *n);
/* Skips a value of the given wire type (nested values included). */
int lens__thrift_skip(lens__thrift *t, int type);
/* Bytes consumed since init. */
static inline size_t lens__thrift_pos(const lens__thrift *t) { return (size_t)(t->p - t->start); }

#endif
