/* A WordPiece vocabulary: token string <-> id, open-addressing hash map. */
#ifndef LENS_TEXT_VOCAB_H
#define LENS_TEXT_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

typedef struct lens__vocab {
    char **tokens;      /* by id; NULL for ids never assigned */
    uint32_t *lens;     /* byte length by id */
    int32_t n_ids;      /* max id + 1 */
    int32_t *slots;     /* hash slots holding ids, -1 = empty */
    uint32_t mask;      /* n_slots - 1 */
    size_t max_token_len;
} lens__vocab;

int lens__vocab_init(lens__vocab *v, int32_t n_ids, lens_error *err);
void lens__vocab_free(lens__vocab *v);
/* Takes a copy of the token. Duplicate strings keep the first id (as HF). */
int lens__vocab_add(lens__vocab *v, const char *tok, size_t len, int32_t id, lens_error *err);
/* Looks up prefix (may be NULL) followed by s[0..len); -1 when absent.
 * The prefix form avoids building "##piece" strings in the hot loop. */
int32_t lens__vocab_find(const lens__vocab *v, const char *prefix, size_t plen, const char *s,
                        size_t len);

#endif
