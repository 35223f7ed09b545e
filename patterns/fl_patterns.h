/* patterns/: what an entry is.
 *
 * Rule files (JSON, one or more per file) are loaded with jansson and compiled once with PCRE2
 * JIT. Classification is a pure function of the rules and the message. Nothing outside
 * patterns/ includes pcre2.h.
 */
#ifndef FL_PATTERNS_H
#define FL_PATTERNS_H

#include "fl_common.h"
#include "fl_diag.h"
#include "fl_entry.h"

/* What a class of error implies about the cause. */
typedef enum {
    FL_IMPLIES_UNKNOWN = 0,
    FL_IMPLIES_DEPENDENCY,
    FL_IMPLIES_RESOURCE,
    FL_IMPLIES_CONFIG,
    FL_IMPLIES_LOAD,
    FL_IMPLIES_PLATFORM,
} fl_implies;

const char *fl_implies_name(fl_implies i);
fl_implies fl_implies_parse(const char *s);

/* A loaded rule, read-only, owned by fl_rules. */
typedef struct fl_rule_info {
    const char *id;          /* "mongo_server_selection.python" - unique */
    const char *class_id;    /* "mongo_server_selection" - what groups are keyed on */
    const char *title;       /* "MongoDB server selection timed out" */
    int severity;            /* FL_SEV_* the rule assigns */
    fl_implies implies;
    bool any_severity;       /* classify even entries fl_entry_maybe_error() rejects */
    const char *const *remediation; /* steps, in order */
    size_t n_remediation;
    const char *file;        /* rule file it came from */
} fl_rule_info;

#define FL_MATCH_MAX_FIELDS 8
#define FL_FIELD_NAME_MAX 32
#define FL_FIELD_VALUE_MAX 128

typedef struct fl_match {
    const fl_rule_info *rule; /* NULL when nothing matched */
    size_t n_fields;
    struct {
        char name[FL_FIELD_NAME_MAX];   /* named capture, e.g. "env_var", "host_port" */
        char value[FL_FIELD_VALUE_MAX]; /* truncated to fit */
    } fields[FL_MATCH_MAX_FIELDS];
} fl_match;

typedef struct fl_rules fl_rules;     /* compiled rule set, shared read-only across threads */
typedef struct fl_matcher fl_matcher; /* per-thread scratch (PCRE2 match data) */

/* Loads every *.json rule file in each directory, in order; a later rule with the same id
 * replaces the earlier one (user directories override built-ins). On error returns FL_EPARSE
 * or FL_EINVAL with errbuf naming file, rule id and the PCRE2 message and offset. */
int fl_rules_load(fl_rules **out, const char *const *dirs, size_t n_dirs, char *errbuf,
                  size_t errlen);
/* Checks rule files without keeping them: every problem is reported to diag (not just the
 * first). Returns the number of problems found, or a negative code. */
int fl_rules_check(const char *const *dirs, size_t n_dirs, fl_diag *diag);
void fl_rules_free(fl_rules *rules);
size_t fl_rules_count(const fl_rules *rules);
const fl_rule_info *fl_rules_get(const fl_rules *rules, size_t i);
/* Looks up a class: returns the first rule of that class, or NULL. */
const fl_rule_info *fl_rules_find_class(const fl_rules *rules, const char *class_id);

fl_matcher *fl_matcher_new(const fl_rules *rules);
void fl_matcher_free(fl_matcher *m);
/* Debug switch: the literal prefilter is on by default; off, every regex runs on every
 * candidate line and the answers must be the same (the golden tests check it). */
void fl_matcher_set_prefilter(fl_matcher *m, bool on);
/* Every regex run has PCRE2 match and depth limits; a run that hits one is taken as no match
 * and counted. Calls fn(ctx, rule id, runs stopped) for each rule that hit a limit. */
void fl_matcher_limit_hits(const fl_matcher *m,
                           void (*fn)(void *ctx, const char *rule_id, uint64_t count), void *ctx);
/* Adds src's limit counts to dst (matchers of the same rule set, e.g. one per thread). */
void fl_matcher_add_limit_hits(fl_matcher *dst, const fl_matcher *src);
/* One warning per rule that hit a limit: rule id, file and count. */
void fl_matcher_warn_limits(const fl_matcher *m, fl_diag *diag);

/* Classifies one entry. Returns 1 with out->rule set when a rule matched, 0 when none did (or
 * the entry is not a candidate), negative on error. */
int fl_classify(const fl_rules *rules, fl_matcher *m, const fl_entry *e, fl_match *out);
/* The same on bare text (tests, `faultline classify` on plain lines). */
int fl_classify_text(const fl_rules *rules, fl_matcher *m, const char *msg, size_t len,
                     fl_match *out);

/* Normalised template of an unmatched error: numbers, hex and UUID ids, IPs, quoted strings,
 * paths, emails and URLs' query values masked ("<num>", "<hex>", "<uuid>", "<ip>", "<str>",
 * "<path>"...), whitespace folded, only the first line of a multi-line message plus its last
 * exception line. Writes at most cap-1 bytes + NUL; returns the length written. */
size_t fl_template(const char *msg, size_t len, char *out, size_t cap);
/* The two spans of msg that fl_template reads, which alone decide its result: the first line
 * and the last exception line after it (n[1] == 0 when there is none). Two messages with equal
 * spans have the same template, which lets a caller reuse one. */
void fl_template_parts(const char *msg, size_t len, size_t off[2], size_t n[2]);
/* Stable fingerprint of a template (16 lowercase hex digits + NUL into out[17]). */
void fl_fingerprint(const char *tmpl, size_t len, char out[17]);

/* "PCRE2 10.42, JIT on": the regex library linked in and whether its JIT is available. */
void fl_patterns_engine_info(char *buf, size_t size);

/* The key analyze groups an entry under: the class of the matched rule (m->rule set), or
 * "fp:<fingerprint>" of the template. Writes the template (the rule title for a match) into
 * tmpl (cap bytes) and the key into key. */
#define FL_GROUP_KEY_MAX 72
void fl_group_key(const fl_entry *e, const fl_match *m, char *tmpl, size_t cap,
                  char key[FL_GROUP_KEY_MAX]);

/* Families (family.c): templates of the same length that differ only at positions holding
 * values are merged into one family. Computed over the whole set of templates, so the result
 * is the same for any order of tmpl. Past an internal budget (millions of token positions) the
 * remaining templates each keep a family of their own and fl_families_truncated() says so. */
typedef struct fl_families fl_families;
int fl_families_build(fl_families **out, const char *const *tmpl, size_t n);
/* "fam:<16 hex>" of template i, the same for every member of its family. */
const char *fl_families_key(const fl_families *f, size_t i);
/* The family template: the members' common tokens, "<*>" where they differ. */
const char *fl_families_template(const fl_families *f, size_t i);
bool fl_families_truncated(const fl_families *f);
void fl_families_free(fl_families *f);

#endif
