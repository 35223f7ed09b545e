/* The key an entry is grouped under: the rule's class when one matched, otherwise "fp:" and the
 * fingerprint of the masked template (of the message, or of the request line when an entry has
 * no message). The same computation as the aggregator's, so `classify` shows what `analyze`
 * groups on. */
#include "fl_patterns_int.h"

#include <stdio.h>
#include <string.h>

static void url_path(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : url;
    if (!p)
        p = "/";
    size_t n = strcspn(p, "?#");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

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
        char path[512], pt[512];
        url_path(e->http_url, path, sizeof(path));
        fl_template(path, strlen(path), pt, sizeof(pt));
        snprintf(tmpl, cap, "HTTP %d %s %s", e->http_status,
                 e->http_method[0] ? e->http_method : "-", pt);
    }
    char fp[17];
    fl_fingerprint(tmpl, strlen(tmpl), fp);
    snprintf(key, FL_GROUP_KEY_MAX, "fp:%s", fp);
}
