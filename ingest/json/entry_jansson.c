/* The reference reader: jansson builds the whole tree, the slots are looked up in it, and the
 * shared mapping (map.c) does the rest. Slow (a tree per entry) but obviously right; it is the
 * --slow-json path and the oracle the fast reader is tested against. */
#include "json_internal.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void fill_slots(json_t *root, fl_slots *s)
{
    json_t *node[FL_S_COUNT];
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < FL_S_COUNT; i++) {
        const fl_slot_def *d = &fl_slot_defs[i];
        json_t *parent = d->parent == FL_S_ROOT ? root : node[d->parent];
        node[i] = NULL;
        if (!parent || !json_is_object(parent))
            continue;
        json_t *v = json_object_get(parent, d->key);
        node[i] = v;
        fl_slot *slot = &s->v[i];
        if (!v)
            slot->t = FL_V_NONE;
        else if (json_is_string(v)) {
            slot->t = FL_V_STR;
            slot->p = json_string_value(v);
            slot->n = json_string_length(v);
        } else if (json_is_integer(v)) {
            slot->t = FL_V_INT;
            slot->i = json_integer_value(v);
        } else if (json_is_object(v)) {
            slot->t = FL_V_OBJ;
        } else {
            slot->t = FL_V_OTHER;
        }
    }
}

int fl_entry_parse_jansson_depth(const char *buf, size_t len, fl_entry *e, char *errbuf,
                                 size_t errlen, int depth)
{
    fl_entry_clear(e);
    json_error_t err;
    json_t *root = json_loadb(buf, len, 0, &err);
    if (!root) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "line %d column %d: %s", err.line, err.column, err.text);
        return FL_EPARSE;
    }
    if (!json_is_object(root)) {
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "line 1 column 1: a LogEntry must be a JSON object");
        json_decref(root);
        return FL_EPARSE;
    }
    fl_slots s;
    fill_slots(root, &s);
    int rc;
    if (depth == 0 && fl_slots_envelope(&s))
        rc = fl_unwrap_envelope(&s, fl_entry_parse_jansson_depth, e, errbuf, errlen,
                                depth);
    else
        rc = fl_slots_to_entry(&s, e);
    json_decref(root);
    return rc;
}

int fl_entry_parse_jansson(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen)
{
    int rc = fl_entry_parse_jansson_depth(buf, len, e, errbuf, errlen, 0);
    return fl_json_parse_repaired(buf, len, e, errbuf, errlen, rc, fl_entry_parse_jansson_depth);
}
