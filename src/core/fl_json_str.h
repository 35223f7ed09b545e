/* The one JSON in-string scanner: whether a byte of a JSON text is inside a string (quotes
 * included), tracking backslash escapes. Every byte-level JSON splitter and rewriter uses it
 * (ingest/format.c, ingest/live/live_util.c, the tail snapshot writer) so the string rules are
 * written once. Inline: it runs on every input byte. */
#ifndef FL_JSON_STR_H
#define FL_JSON_STR_H

#include <stdbool.h>

typedef struct fl_json_str {
    bool in_str; /* inside a string (after its opening quote) */
    bool esc;    /* the previous byte was a backslash inside a string */
} fl_json_str;

/* True when c is part of a string (its quotes included): not structural. */
static inline bool fl_json_str_step(fl_json_str *s, char c)
{
    if (s->in_str) {
        if (s->esc)
            s->esc = false;
        else if (c == '\\')
            s->esc = true;
        else if (c == '"')
            s->in_str = false;
        return true;
    }
    if (c == '"') {
        s->in_str = true;
        return true;
    }
    return false;
}

/* True when c inside a string has no effect on the scanner state (a plain byte): callers use
 * it to skip ahead quickly. */
static inline bool fl_json_str_plain(const fl_json_str *s, char c)
{
    return s->in_str && !s->esc && c != '\\' && c != '"';
}

#endif
