/* Character classes and case mapping the BERT tokenizer needs, defined as
 * Hugging Face defines them (on Unicode code points, via utf8proc). */
#ifndef LENS_TEXT_UNICODE_H
#define LENS_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/utf8.h" /* lens__utf8_decode, lens__utf8_encode */

/* Cc, Cf, Co, Cs (and Cn when drop_unassigned) except \t \n \r. */
int lens__uc_is_control(uint32_t cp, int drop_unassigned);
/* \t \n \r, Zs, U+2028, U+2029. */
int lens__uc_is_whitespace(uint32_t cp);
/* ASCII punctuation ranges or any Unicode P* category. */
int lens__uc_is_punct(uint32_t cp);
/* The CJK ideograph blocks exactly as HF tokenizers (Rust) lists them,
 * including its 0x2B920 lower bound where BERT's Python code says 0x2B820. */
int lens__uc_is_cjk(uint32_t cp);
/* Nonspacing mark (Mn): what accent stripping removes after NFD. */
int lens__uc_is_mn(uint32_t cp);
/* Per-character lowercase as HF tokenizers applies it: no Final_Sigma
 * context (Σ is always σ). The one multi-character mapping, U+0130, is the
 * caller's (it becomes i + U+0307). */
uint32_t lens__uc_lower(uint32_t cp);
/* Canonical decomposition of cp into dst (cap >= 32); returns the count. */
int lens__uc_nfd_char(uint32_t cp, uint32_t *dst, int cap);
int lens__uc_combining_class(uint32_t cp);

#endif
