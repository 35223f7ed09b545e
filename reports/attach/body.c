/* Request bodies for the attachment targets, built with jansson (which escapes for JSON).
 * Slack mrkdwn additionally needs &, < and > escaped, or "<!channel>" and "<url|text>" in a
 * log line would become a mention or a link. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "fl_config.h"

#define GITHUB_MAX_BODY 65000 /* GitHub rejects comments over 65536 characters */

static char *dump(json_t *j)
{
    if (!j)
        return NULL;
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s)
        return NULL;
    char *d = fl_strdup(s);
    free(s);
    return d;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if it is not one. The rules
 * are jansson's: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len = c < 0x80                 ? 1
                 : c >= 0xC2 && c <= 0xDF ? 2
                 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4
                                          : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0) || (c == 0xF0 && p[1] < 0x90) ||
        (c == 0xF4 && p[1] > 0x8F))
        return 0;
    return len;
}

/* A JSON string from at most cap bytes of s: a character cut by the cap is dropped and bytes
 * that are not UTF-8 (log text can hold anything) become '?', so building never fails on
 * content. */
static json_t *jstr(const char *s, size_t cap)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    if (n > cap)
        n = cap;
    char *d = fl_malloc(n + 1);
    if (!d)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t len = utf8_seq((const unsigned char *)s + i, n - i);
        if (!len) {
            /* At the cap a truncated character is dropped; elsewhere it is replaced. */
            if (n < strlen(s) && n - i < 4 && ((unsigned char)s[i] & 0xC0) == 0xC0)
                break;
            d[o++] = '?';
            i++;
            continue;
        }
        memcpy(d + o, s + i, len);
        o += len;
        i += len;
    }
    d[o] = 0;
    json_t *j = json_string(d);
    fl_free(d);
    return j;
}

static json_t *str(const char *s)
{
    return jstr(s, SIZE_MAX);
}

static json_t *time_str(fl_time t)
{
    char b[32];
    if (!t)
        return json_null();
    return json_string(fl_time_format(t, false, b, sizeof(b)));
}

char *fl_attach_github_body(const char *markdown)
{
    size_t n = strlen(markdown);
    if (n <= GITHUB_MAX_BODY)
        return dump(json_pack("{s:o}", "body", str(markdown)));
    /* Cut at a line boundary and say so. */
    static const char note[] = "\n\n_(truncated: the full draft is in the file faultline "
                               "wrote)_\n";
    size_t cut = GITHUB_MAX_BODY - sizeof(note);
    while (cut > 0 && markdown[cut] != '\n')
        cut--;
    fl_buf b;
    fl_buf_init(&b, GITHUB_MAX_BODY + 16);
    int rc = fl_buf_add(&b, markdown, cut);
    if (!rc)
        rc = fl_buf_addstr(&b, note);
    json_t *j = !rc && b.data ? json_pack("{s:o}", "body", str(b.data)) : NULL;
    fl_buf_free(&b);
    return dump(j);
}

/* Slack mrkdwn text: escaped, and capped (section text max 3000 characters). */
static json_t *mrkdwn(const char *prefix, const char *text, size_t cap)
{
    fl_buf b;
    fl_buf_init(&b, cap + 8);
    int rc = fl_buf_addstr(&b, prefix);
    for (const char *p = text ? text : ""; *p && !rc && b.len + 8 < cap; p++) {
        switch (*p) {
        case '&':
            rc = fl_buf_addstr(&b, "&amp;");
            break;
        case '<':
            rc = fl_buf_addstr(&b, "&lt;");
            break;
        case '>':
            rc = fl_buf_addstr(&b, "&gt;");
            break;
        default:
            rc = fl_buf_addc(&b, *p);
        }
    }
    json_t *j = json_pack("{s:s,s:o}", "type", "mrkdwn", "text", jstr(b.data, cap));
    fl_buf_free(&b);
    return j;
}

static void totals(const fl_result *r, uint64_t *req, uint64_t *e5)
{
    *req = *e5 = 0;
    for (size_t i = 0; i < r->n_revisions; i++) {
        *req += r->revisions[i].requests;
        *e5 += r->revisions[i].requests_5xx;
    }
}

char *fl_attach_slack_body(const fl_result *r, const char *title)
{
    const fl_cause *top = r->n_causes ? &r->causes[0] : NULL;
    char head[151];
    if (title && *title)
        snprintf(head, sizeof(head), "%s", title);
    else if (top)
        snprintf(head, sizeof(head), "Postmortem draft: %s %s incident", top->service,
                 top->kind == FL_CAUSE_UNKNOWN ? "error" : fl_cause_kind_name(top->kind));
    else
        snprintf(head, sizeof(head), "faultline postmortem draft");
    json_t *blocks = json_array();
    json_array_append_new(blocks, json_pack("{s:s,s:{s:s,s:o}}", "type", "header", "text", "type",
                                            "plain_text", "text", jstr(head, 150)));
    json_array_append_new(
        blocks,
        json_pack("{s:s,s:o}", "type", "section", "text",
                  mrkdwn("*Summary*\n", top ? top->summary : "No errors to explain.", 2900)));
    char w0[32], w1[32], num[96];
    fl_time_format(r->window_start, false, w0, sizeof(w0));
    fl_time_format(r->window_end, false, w1, sizeof(w1));
    uint64_t req, e5;
    totals(r, &req, &e5);
    json_t *fields = json_array();
    char win[80];
    snprintf(win, sizeof(win), "%s to %s", w0, w1);
    json_array_append_new(fields, mrkdwn("*Window (UTC)*\n", win, 2000));
    if (req)
        snprintf(num, sizeof(num), "%llu of %llu (%.1f%%)", (unsigned long long)e5,
                 (unsigned long long)req, 100.0 * (double)e5 / (double)req);
    else
        snprintf(num, sizeof(num), "no request logs");
    json_array_append_new(fields, mrkdwn("*5xx responses*\n", num, 2000));
    if (top) {
        json_array_append_new(fields, mrkdwn("*Service*\n", top->service, 2000));
        json_array_append_new(fields,
                              mrkdwn("*Revision*\n", top->revision[0] ? top->revision : "-", 2000));
    }
    json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "fields", fields));
    json_array_append_new(blocks, json_pack("{s:s}", "type", "divider"));
    for (size_t i = 0; i < r->n_causes && i < 3; i++) {
        const fl_cause *c = &r->causes[i];
        char pre[96];
        snprintf(pre, sizeof(pre), "*#%d %s* (score %.2f)\n", c->rank, fl_cause_kind_name(c->kind),
                 c->score);
        /* mrkdwn cuts the text to Slack's limit; the buffer only has to hold it first. */
        fl_buf t;
        fl_buf_init(&t, 1 << 20);
        int rc = fl_buf_addstr(&t, c->summary);
        for (size_t k = 0; !rc && k < c->n_evidence && k < 3; k++)
            rc = fl_buf_printf(&t, "\n• %s", c->evidence[k]);
        if (!rc && c->n_actions)
            rc = fl_buf_printf(&t, "\nNext: %s", c->actions[0]);
        json_array_append_new(blocks, json_pack("{s:s,s:o}", "type", "section", "text",
                                                mrkdwn(pre, t.data ? t.data : "", 2900)));
        fl_buf_free(&t);
    }
    char ctx[200];
    snprintf(ctx, sizeof(ctx),
             "faultline " FL_VERSION " · %llu log entries · %zu error groups · %zu changes",
             (unsigned long long)r->input.entries, r->n_groups, r->n_changes);
    json_array_append_new(
        blocks, json_pack("{s:s,s:[o]}", "type", "context", "elements", mrkdwn("", ctx, 2000)));
    /* "text" is the notification fallback; Slack parses it as mrkdwn too. */
    char pre[160];
    snprintf(pre, sizeof(pre), "%s: ", head);
    json_t *fb = mrkdwn("", top ? top->summary : "no errors to explain", 2900);
    fl_buf t;
    fl_buf_init(&t, 1 << 20);
    if (fl_buf_addstr(&t, pre) == 0 &&
        fl_buf_addstr(&t, json_string_value(json_object_get(fb, "text"))) != 0)
        fl_buf_free(&t); /* out of memory: the head alone */
    json_decref(fb);
    json_t *j =
        json_pack("{s:o,s:o}", "text", jstr(t.data ? t.data : head, 3000), "blocks", blocks);
    fl_buf_free(&t);
    return dump(j);
}

static json_t *strv(char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, str(v[i]));
    return a;
}

char *fl_attach_webhook_body(const fl_result *r, const char *markdown, int64_t unix_ts)
{
    json_t *causes = json_array();
    for (size_t i = 0; i < r->n_causes; i++) {
        const fl_cause *c = &r->causes[i];
        json_array_append_new(
            causes,
            json_pack("{s:i,s:f,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "rank", c->rank, "score",
                      c->score, "kind", fl_cause_kind_name(c->kind), "service", str(c->service),
                      "revision", str(c->revision), "previous_revision", str(c->previous_revision),
                      "error_class", str(c->error_class), "summary", str(c->summary), "onset",
                      time_str(c->onset), "evidence", strv(c->evidence, c->n_evidence), "actions",
                      strv(c->actions, c->n_actions)));
    }
    uint64_t req, e5;
    totals(r, &req, &e5);
    const fl_cause *top = r->n_causes ? &r->causes[0] : NULL;
    json_t *data =
        json_pack("{s:o,s:b,s:{s:o,s:o},s:I,s:I,s:I,s:o,s:o}", "summary",
                  str(top ? top->summary : "no errors to explain"), "confident", r->confident,
                  "window", "start", time_str(r->window_start), "end", time_str(r->window_end),
                  "entries", (json_int_t)r->input.entries, "requests", (json_int_t)req,
                  "requests_5xx", (json_int_t)e5, "causes", causes, "markdown", str(markdown));
    json_t *j = json_pack("{s:s,s:o,s:o}", "type", "faultline.postmortem", "timestamp",
                          time_str((fl_time)unix_ts * FL_USEC_PER_SEC), "data", data);
    return dump(j);
}
