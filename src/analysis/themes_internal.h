/* Themes: what liblens's own modules share beyond lens/themes.h. */
#ifndef LENS_ANALYSIS_THEMES_INTERNAL_H
#define LENS_ANALYSIS_THEMES_INTERNAL_H

#include "lens/themes.h"

/* lens_themes_load with path opened confined to root (lens__open_beneath:
 * a symlink leading out of root is refused when the file is opened, not
 * only when a job was submitted); root NULL: as lens_themes_load. */
int lens__themes_load_in(lens_themes **out, const char *root, const char *path, lens_error *err);

#endif
