/* lens — BERT WordPiece tokenizer with Hugging Face semantics.
 *
 * Loads tokenizer.json (BertNormalizer + BertPreTokenizer + WordPiece +
 * TemplateProcessing) or a plain vocab.txt. Encoding is: split out added
 * special tokens from the raw text ("[SEP]" typed by a user is the special
 * token, as in HF), clean text, space around CJK ideographs, lowercase, NFD
 * and drop nonspacing marks, split on whitespace and punctuation, WordPiece
 * greedy longest-match-first, then [CLS] ... [SEP].
 *
 * A lens_tokenizer is immutable after open and may be shared by threads;
 * each thread encodes with its own lens_tok_work (reused scratch, so the hot
 * loop does not allocate once buffers have grown to the longest text). */
#ifndef LENS_TOKENIZER_H
#define LENS_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_tokenizer lens_tokenizer;
typedef struct lens_tok_work lens_tok_work;

/* path: a model directory (tokenizer.json preferred, else vocab.txt), a
 * tokenizer.json, or a vocab.txt. */
LENS_API int lens_tokenizer_open(lens_tokenizer **out, const char *path, lens_error *err);
LENS_API void lens_tokenizer_close(lens_tokenizer *tok);

LENS_API int lens_tokenizer_vocab_size(const lens_tokenizer *tok);
/* Returns -1 when the token is not in the vocabulary. */
LENS_API int32_t lens_tokenizer_token_id(const lens_tokenizer *tok, const char *token);
/* The token text for id, or NULL when out of range. */
LENS_API const char *lens_tokenizer_token(const lens_tokenizer *tok, int32_t id);
LENS_API int32_t lens_tokenizer_cls_id(const lens_tokenizer *tok);
LENS_API int32_t lens_tokenizer_sep_id(const lens_tokenizer *tok);
LENS_API int32_t lens_tokenizer_pad_id(const lens_tokenizer *tok);

LENS_API lens_tok_work *lens_tok_work_new(void);
LENS_API void lens_tok_work_free(lens_tok_work *work);

/* Encodes UTF-8 text of len bytes (invalid bytes count as U+FFFD, which the
 * cleaner drops). max_len > 0 truncates the way sentence-transformers does:
 * at most max_len ids, always [CLS] first and [SEP] last; max_len == 0 keeps
 * everything. *ids points into work and stays valid until the next call. */
LENS_API int lens_tokenizer_encode(const lens_tokenizer *tok, lens_tok_work *work, const char *text,
                                   size_t len, size_t max_len, const int32_t **ids, size_t *n_ids,
                                   lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
