/* The key an entry is grouped under: the rule's class when one matched, otherwise "fp:" and the
 * fingerprint of the masked template (of the message, or of the request line when an entry has
 * no message). The same computation as the aggregator's, so `classify` shows what `analyze`
 * groups on. */
#include "fl_patterns_int.h"
#include "route.h"

#include <stdio.h>
#include <string.h>

void fl_group_key(const fl_entry *e, const fl_match *m, char *tmpl, size_t cap,
                  char key[FL_GROUP_KEY_MAX])
{
    if (m && m->rule) {
        snprintf(tmpl, cap, "%s", m->rule->title);
        snprintf(key, FL_GROUP_KEY_MAX, "%s", m->rule->class_id);
        return;
    }
    if (e->message[0]) {
        fl_template(e->message, strlen(e->message), tmpl, cap);
    } else {
        /* The endpoint that fails: /api/v1/cart/<id> (route.c masks the ids). */
        char path[512];
        fl_route_template(e->http_url, path, sizeof(path));
        snprintf(tmpl, cap, "HTTP %d %s %s", e->http_status,
                 e->http_method[0] ? e->http_method : "-", path);
    }
    char fp[17];
    fl_fingerprint(tmpl, strlen(tmpl), fp);
    snprintf(key, FL_GROUP_KEY_MAX, "fp:%s", fp);
}
