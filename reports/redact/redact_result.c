/* fl_result_redacted: a deep copy of a result with every free-text string passed through the
 * redaction scanner. Identifiers that faultline derives itself (class ids, rule ids,
 * fingerprints, signal names) are copied as they are; anything that can carry log text,
 * principals or file names is redacted. Recommended actions are redacted in command mode so
 * gcloud flags such as --secret=NAME stay runnable.
 *
 * Actors (who made a change) follow the policy: service accounts are shown, people are shown
 * unless redact_actors. An actor is replaced as a whole wherever it appears in text that
 * faultline wrote about the change (the change's description, the causes' summaries,
 * evidence and score details); everything around it is redacted as usual. Log text (samples,
 * templates, fields) is not touched by this: an address in a log message stays redacted. */
#include <string.h>

#include "fl_reports.h"
#include "redact.h"

typedef struct actor {
    const char *raw;
    char *shown; /* what replaces raw: raw with secrets redacted, or "[REDACTED:actor]" */
} actor;

typedef struct copier {
    const fl_redact_policy *policy;
    actor *actors; /* distinct non-empty actors of the result's changes */
    size_t n_actors;
    int err;
} copier;

static char *dup_plain(copier *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = fl_strdup(s);
    if (!d)
        c->err = FL_ENOMEM;
    return d;
}

static char *dup_red(copier *c, const char *s, unsigned flags)
{
    if (!s)
        return NULL;
    char *d = fl_redact_ex(s, flags, c->policy, NULL);
    if (!d)
        c->err = FL_ENOMEM;
    return d;
}

/* Text about changes: each actor occurrence becomes its shown form, the rest is redacted. */
static char *dup_red_actors(copier *c, const char *s, unsigned flags)
{
    if (!s || !c->n_actors)
        return dup_red(c, s, flags);
    fl_buf out;
    fl_buf_init(&out, 64u * 1024 * 1024);
    const char *p = s;
    int err = 0;
    while (*p && !err) {
        /* The earliest actor occurrence; the longest one when two start there. */
        const char *best = NULL;
        const actor *who = NULL;
        for (size_t i = 0; i < c->n_actors; i++) {
            const char *q = strstr(p, c->actors[i].raw);
            if (q &&
                (!best || q < best || (q == best && strlen(c->actors[i].raw) > strlen(who->raw)))) {
                best = q;
                who = &c->actors[i];
            }
        }
        size_t plain = best ? (size_t)(best - p) : strlen(p);
        if (plain) {
            char *piece = fl_strndup(p, plain);
            char *red = piece ? fl_redact_ex(piece, flags, c->policy, NULL) : NULL;
            err = red ? fl_buf_add(&out, red, strlen(red)) : FL_ENOMEM;
            fl_free(piece);
            fl_free(red);
        }
        if (!best)
            break;
        if (!err)
            err = fl_buf_add(&out, who->shown, strlen(who->shown));
        p = best + strlen(who->raw);
    }
    if (err) {
        fl_buf_free(&out);
        c->err = FL_ENOMEM;
        return NULL;
    }
    char *d = out.data ? fl_buf_detach(&out) : fl_strdup("");
    if (!d)
        c->err = FL_ENOMEM;
    return d;
}

static char *actor_shown(copier *c, const char *raw)
{
    if (fl_actor_is_service_account(raw))
        return dup_red(c, raw, FL_REDACT_KEEP_EMAIL);
    if (c->policy && c->policy->redact_actors)
        return dup_plain(c, "[REDACTED:actor]");
    /* A person, shown: the address stays, a token pasted into a CI actor field does not. */
    return dup_red(c, raw, FL_REDACT_KEEP_EMAIL);
}

static void collect_actors(copier *c, const fl_result *r)
{
    if (!r->n_changes)
        return;
    c->actors = fl_calloc(r->n_changes, sizeof(actor));
    if (!c->actors) {
        c->err = FL_ENOMEM;
        return;
    }
    for (size_t i = 0; i < r->n_changes; i++) {
        const char *a = r->changes[i].actor;
        /* Very short actors ("ci", "me") would match inside ordinary words. */
        if (!a || strlen(a) < 3)
            continue;
        bool seen = false;
        for (size_t j = 0; j < c->n_actors && !seen; j++)
            seen = strcmp(c->actors[j].raw, a) == 0;
        if (seen)
            continue;
        c->actors[c->n_actors].raw = a;
        c->actors[c->n_actors].shown = actor_shown(c, a);
        if (c->actors[c->n_actors].shown)
            c->n_actors++;
    }
}

static void free_actors(copier *c)
{
    for (size_t i = 0; i < c->n_actors; i++)
        fl_free(c->actors[i].shown);
    fl_free(c->actors);
}

static void *dup_mem(copier *c, const void *p, size_t count, size_t size)
{
    if (!p || !count)
        return NULL;
    void *d = fl_malloc(count * size);
    if (!d) {
        c->err = FL_ENOMEM;
        return NULL;
    }
    memcpy(d, p, count * size);
    return d;
}

/* An array of n zeroed structs; on failure *n is set to 0 so the free stays consistent. */
static void *new_array(copier *c, size_t *n, size_t size)
{
    if (!*n)
        return NULL;
    void *d = fl_calloc(*n, size);
    if (!d) {
        c->err = FL_ENOMEM;
        *n = 0;
    }
    return d;
}

static char **dup_strv(copier *c, char *const *v, size_t *n, unsigned flags)
{
    char **d = new_array(c, n, sizeof(char *));
    for (size_t i = 0; d && i < *n; i++)
        d[i] = dup_red(c, v[i], flags);
    return d;
}

static void copy_input(copier *c, fl_input_summary *d, const fl_input_summary *s)
{
    *d = *s;
    d->truncated = dup_strv(c, s->truncated, &d->n_truncated, 0);
    d->warnings = new_array(c, &d->n_warnings, sizeof(fl_warning));
    for (size_t i = 0; d->warnings && i < d->n_warnings; i++) {
        d->warnings[i] = s->warnings[i];
        d->warnings[i].file = dup_red(c, s->warnings[i].file, 0);
        d->warnings[i].message = dup_red(c, s->warnings[i].message, 0);
    }
}

static void copy_changes(copier *c, fl_result *d, const fl_result *s)
{
    d->changes = new_array(c, &d->n_changes, sizeof(fl_change_out));
    for (size_t i = 0; d->changes && i < d->n_changes; i++) {
        const fl_change_out *a = &s->changes[i];
        fl_change_out *b = &d->changes[i];
        *b = *a;
        b->service = dup_plain(c, a->service);
        b->revision = dup_plain(c, a->revision);
        b->actor = dup_red_actors(c, a->actor, 0);
        b->description = dup_red_actors(c, a->description, 0);
        b->source = dup_plain(c, a->source);
        b->commit_sha = dup_plain(c, a->commit_sha);
    }
}

static void copy_group(copier *c, fl_group *b, const fl_group *a, size_t n_buckets)
{
    *b = *a;
    b->key = dup_red(c, a->key, 0);
    b->class_id = dup_plain(c, a->class_id);
    b->rule_id = dup_plain(c, a->rule_id);
    b->title = dup_red(c, a->title, 0);
    b->fingerprint = dup_plain(c, a->fingerprint);
    b->template_text = dup_red(c, a->template_text, 0);
    b->family = dup_red(c, a->family, 0);
    b->family_template = dup_red(c, a->family_template, 0);
    b->implies = dup_plain(c, a->implies);
    b->by_revision = new_array(c, &b->n_by_revision, sizeof(fl_rev_count));
    for (size_t j = 0; b->by_revision && j < b->n_by_revision; j++) {
        b->by_revision[j] = a->by_revision[j];
        b->by_revision[j].service = dup_plain(c, a->by_revision[j].service);
        b->by_revision[j].revision = dup_plain(c, a->by_revision[j].revision);
    }
    b->samples = new_array(c, &b->n_samples, sizeof(fl_sample));
    for (size_t j = 0; b->samples && j < b->n_samples; j++) {
        const fl_sample *x = &a->samples[j];
        fl_sample *y = &b->samples[j];
        *y = *x;
        y->service = dup_plain(c, x->service);
        y->revision = dup_plain(c, x->revision);
        y->instance_id = dup_plain(c, x->instance_id);
        y->insert_id = dup_plain(c, x->insert_id);
        y->message = dup_red(c, x->message, 0);
    }
    b->fields = new_array(c, &b->n_fields, sizeof(fl_field_value));
    for (size_t j = 0; b->fields && j < b->n_fields; j++) {
        b->fields[j] = a->fields[j];
        b->fields[j].name = dup_plain(c, a->fields[j].name);
        b->fields[j].value = dup_red(c, a->fields[j].value, 0);
    }
    b->series = dup_mem(c, a->series, n_buckets, sizeof(uint32_t));
}

static void copy_revision(copier *c, fl_revision *b, const fl_revision *a, size_t n_buckets)
{
    *b = *a;
    b->service = dup_plain(c, a->service);
    b->revision = dup_plain(c, a->revision);
    b->commit_sha = dup_plain(c, a->commit_sha);
    b->requests_series = dup_mem(c, a->requests_series, n_buckets, sizeof(uint32_t));
    b->r5xx_series = dup_mem(c, a->r5xx_series, n_buckets, sizeof(uint32_t));
    b->errors_series = dup_mem(c, a->errors_series, n_buckets, sizeof(uint32_t));
}

/* Commit subjects, author names and reasons are written by people: redacted like log text. */
static void copy_commits(copier *c, fl_commit_range *b, const fl_commit_range *a)
{
    *b = *a;
    b->prev_sha = dup_plain(c, a->prev_sha);
    b->bad_sha = dup_plain(c, a->bad_sha);
    b->compare_url = dup_red(c, a->compare_url, 0);
    b->note = dup_red(c, a->note, 0);
    b->suspects = new_array(c, &b->n_suspects, sizeof(fl_suspect));
    for (size_t j = 0; b->suspects && j < b->n_suspects; j++) {
        const fl_suspect *x = &a->suspects[j];
        fl_suspect *y = &b->suspects[j];
        *y = *x;
        y->sha = dup_plain(c, x->sha);
        y->subject = dup_red(c, x->subject, 0);
        y->author = dup_red(c, x->author, 0);
        y->reasons = dup_strv(c, x->reasons, &y->n_reasons, 0);
    }
}

static void copy_cause(copier *c, fl_cause *b, const fl_cause *a)
{
    *b = *a;
    b->service = dup_plain(c, a->service);
    b->revision = dup_plain(c, a->revision);
    b->previous_revision = dup_plain(c, a->previous_revision);
    b->error_class = dup_red(c, a->error_class, 0);
    b->summary = dup_red_actors(c, a->summary, 0);
    b->parts = new_array(c, &b->n_parts, sizeof(fl_score_part));
    for (size_t j = 0; b->parts && j < b->n_parts; j++) {
        b->parts[j] = a->parts[j];
        b->parts[j].signal = dup_plain(c, a->parts[j].signal);
        b->parts[j].detail = dup_red_actors(c, a->parts[j].detail, 0);
    }
    b->evidence = new_array(c, &b->n_evidence, sizeof(char *));
    for (size_t j = 0; b->evidence && j < b->n_evidence; j++)
        b->evidence[j] = dup_red_actors(c, a->evidence[j], 0);
    b->actions = dup_strv(c, a->actions, &b->n_actions, FL_REDACT_COMMAND);
    copy_commits(c, &b->commits, &a->commits);
}

fl_result *fl_result_redacted(const fl_result *r)
{
    return fl_result_redacted_with(r, NULL);
}

fl_result *fl_result_redacted_with(const fl_result *r, const fl_redact_policy *p)
{
    if (!r)
        return NULL;
    fl_result *d = fl_result_new();
    if (!d)
        return NULL;
    copier c = {.policy = p};
    collect_actors(&c, r);
    /* Scalars first, then every pointer member replaced by an owned copy. */
    *d = *r;
    copy_input(&c, &d->input, &r->input);
    copy_changes(&c, d, r);
    /* Service names are identifiers, as in changes: copied as they are. */
    d->edges = new_array(&c, &d->n_edges, sizeof(fl_call_edge));
    for (size_t i = 0; d->edges && i < d->n_edges; i++) {
        d->edges[i] = r->edges[i];
        d->edges[i].caller = dup_plain(&c, r->edges[i].caller);
        d->edges[i].callee = dup_plain(&c, r->edges[i].callee);
    }
    d->groups = new_array(&c, &d->n_groups, sizeof(fl_group));
    for (size_t i = 0; d->groups && i < d->n_groups; i++)
        copy_group(&c, &d->groups[i], &r->groups[i], r->n_buckets);
    d->revisions = new_array(&c, &d->n_revisions, sizeof(fl_revision));
    for (size_t i = 0; d->revisions && i < d->n_revisions; i++)
        copy_revision(&c, &d->revisions[i], &r->revisions[i], r->n_buckets);
    d->causes = new_array(&c, &d->n_causes, sizeof(fl_cause));
    for (size_t i = 0; d->causes && i < d->n_causes; i++)
        copy_cause(&c, &d->causes[i], &r->causes[i]);
    free_actors(&c);
    if (c.err) {
        fl_result_free(d);
        return NULL;
    }
    return d;
}
