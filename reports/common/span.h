/* Durations in the units a person reads: "45 s", "59 min", "3 h 20 min", "4 d 6 h",
 * "11 weeks", "2.3 years". Shared by the text, Markdown, HTML and postmortem writers. */
#ifndef FL_SPAN_H
#define FL_SPAN_H

#include "fl_common.h"

/* Writes the span (microseconds; negative is taken as 0) into buf. Returns buf. */
char *fl_span_text(fl_time usec, char *buf, size_t size);

#endif
