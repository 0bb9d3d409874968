/* Checkpoints of a lens_summary (internal; lens analyze resumes with them).
 *
 * The state of a summary is its first-level picks, which never change once
 * made, the running sum, which changes only when picks are made, and the
 * sentences still waiting for the next first-level pick. So a save writes
 * only what changed since the previous save, and a checkpoint journal that
 * appends one save after another stays about as large as the picks plus the
 * text of the waiting sentences. Waiting sentences are saved as text, not
 * embeddings: the encoder gives the same bits for a text whatever batch it
 * is in, so the caller re-embeds them after loading. */
#ifndef LENS_ANALYSIS_SUMMARY_CHECKPOINT_H
#define LENS_ANALYSIS_SUMMARY_CHECKPOINT_H

#include "base/buf.h"
#include "lens/summary.h"

/* Whether anything was added since the last save or load. */
int lens__summary_dirty(const lens_summary *s);
/* Appends the changes since the last save to b (check b->oom). */
void lens__summary_save(lens_summary *s, lens__wbuf *b);
/* Applies one save, in the order they were written. */
int lens__summary_load(lens_summary *s, lens__rbuf *r, lens_error *err);
/* The waiting sentences after loading: texts[i] for i < returned count, to
 * be embedded and handed back, all at once, to lens__summary_set_waiting. */
size_t lens__summary_waiting(const lens_summary *s, const char *const **texts);
void lens__summary_set_waiting(lens_summary *s, const float *emb);

#endif
