/* The message of an input warning as the reports and the CLI print it, next to its own
 * file:line. Shared by the text and Markdown reports and the CLI's stderr summary. */
#ifndef FL_WARNING_TEXT_H
#define FL_WARNING_TEXT_H

#include "fl_diag.h"

/* w's message without a leading "file:line: " that repeats w->file (some readers already
 * prefix it, and the location is printed separately). Never NULL. */
const char *fl_warning_text(const fl_warning *w);

#endif
