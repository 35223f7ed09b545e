/* patterns/ internals shared by the files of this folder and its unit tests. Not part of the
 * contract with other folders: nothing outside patterns/ and tests/unit/patterns/ includes it. */
#ifndef FL_PATTERNS_INT_H
#define FL_PATTERNS_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <jansson.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>

#include "fl_patterns.h"

/* Messages are matched on at most this many leading bytes, plus their last exception line. */
#define FL_MATCH_HEAD_MAX 8192
#define FL_MATCH_TAIL_LINE_MAX 1024
/* Room for the head, the tail line and the synthesized context line of an entry. */
#define FL_SUBJECT_MAX (FL_MATCH_HEAD_MAX + FL_MATCH_TAIL_LINE_MAX + 1024)

/* Literals shorter than this make poor prefilter keys; a derived literal must be this long. */
#define FL_LITERAL_MIN 3

typedef struct fl_capture_name {
    uint32_t group;
    char name[FL_FIELD_NAME_MAX];
} fl_capture_name;

/* One rule as loaded: owns its strings and compiled regexes. */
typedef struct fl_rule {
    fl_rule_info info;
    char *id, *class_id, *title, *file;
    char **remediation;
    int priority;
    pcre2_code **re; /* positive regexes: any one matching classifies */
    char **re_src;
    size_t n_re;
    pcre2_code **veto; /* "not": any one matching vetoes the rule */
    size_t n_veto;
    char **literals; /* user-given prefilter literals (lowercased), or NULL */
    size_t n_literals;
    /* Its regexes (positive and "not") are JIT-compiled when it first becomes a candidate
     * (classify.c): most rules never do in a run, and compiling all of them was a third of a
     * run's fixed cost (issue 15). Set (release) once compiled, under fl_rules.jit_lock. */
    atomic_bool jit_ready;
} fl_rule;

/* A positive regex in evaluation order (priority, then load order). */
typedef struct fl_regex {
    pcre2_code *code; /* owned by its rule */
    bool jit;         /* JIT code exists; read only once the rule's jit_ready is set */
    uint32_t rule; /* index into fl_rules.rules */
    fl_capture_name *names;
    uint32_t n_names;
} fl_regex;

typedef struct fl_prefilter fl_prefilter;

struct fl_rules {
    fl_rule **rules; /* load order, overrides replace in place */
    size_t n_rules;
    fl_regex *regex; /* evaluation order */
    size_t n_regex;
    uint32_t max_ovec;
    fl_prefilter *pf;
    uint32_t *unfiltered; /* regexes with no usable literal: always candidates */
    size_t n_unfiltered;
    size_t n_any_severity; /* rules that classify entries of any severity */
    fl_prefilter *pf_any;  /* the same, for the regexes of any_severity rules only */
    uint32_t *unfiltered_any;
    size_t n_unfiltered_any;
    pthread_mutex_t jit_lock; /* one thread JIT-compiles a rule (fl_rule.jit_ready) */
};

/* classify.c: JIT-compiles rule ri's regexes unless done (thread-safe; no-op once done). */
void fl_rules_jit(const fl_rules *rs, uint32_t ri);

/* rules_json.c: a rule file's text as json_loadb(text, len, JSON_REJECT_DUPLICATES, err)
 * gives it (the same values, keys in the same order, the same errors), read directly when the
 * text is plain JSON of the kind rule files hold and by jansson otherwise. */
json_t *fl_rules_json_load(const char *text, size_t len, json_error_t *err);
/* The direct reader alone: NULL for any text it leaves to jansson (tests). */
json_t *fl_rules_json_fast(const char *text, size_t len);

/* literals.c: derives, for a PCRE2 pattern, a set of lowercase literals at least one of which
 * must occur in any subject the pattern matches (one per top-level alternative). Returns the
 * number found (0: none can be derived, the pattern must always run), negative on error. */
int fl_literals_derive(const char *pattern, char ***out);
void fl_literals_free(char **lits, size_t n);

/* prefilter.c: finds, in one pass, which of a set of lowercased literals occur in a text
 * (ASCII case ignored). Each literal maps to the regexes it admits. */
typedef struct fl_pf_literal {
    const char *text; /* lowercased, not owned */
    uint32_t regex;   /* regex index admitted when the literal occurs */
} fl_pf_literal;
int fl_prefilter_build(fl_prefilter **out, const fl_pf_literal *lits, size_t n);
void fl_prefilter_free(fl_prefilter *pf);
/* Calls mark(ctx, regex) for every (literal, regex) pair whose literal occurs in s, possibly
 * more than once per regex. */
void fl_prefilter_scan(const fl_prefilter *pf, const char *s, size_t n,
                       void (*mark)(void *ctx, uint32_t regex), void *ctx);
/* Number of distinct literals. */
size_t fl_prefilter_literals(const fl_prefilter *pf);
/* The scan tests eight positions a step with AVX2 where the CPU has it (on by default); off,
 * the portable loop does all. Both report the same; tests compare them. Returns whether on. */
void fl_prefilter_set_simd(fl_prefilter *pf, bool on);
bool fl_prefilter_simd(const fl_prefilter *pf);
/* The scan tests the windows at multiples of this (1: every window); more than 1 when every
 * literal is at least 5 bytes long (prefilter.c, sparse_stride). */
uint32_t fl_prefilter_stride(const fl_prefilter *pf);

/* regex_lint.c: true when the pattern repeats without bound a group that itself holds an unbounded
 * quantifier ((x+x+)+): catastrophic backtracking. *offset is the group's '('. */
bool fl_regex_nested_unbounded(const char *src, size_t *offset);

/* classify.c: PCRE2 limits for every match. A run that hits one counts as no match and is
 * counted per rule (fl_matcher_limit_hits). About 1 ms of JIT work per run at most. */
#define FL_PCRE2_MATCH_LIMIT 200000
#define FL_PCRE2_DEPTH_LIMIT 5000

/* template.c: finds the last line of msg that looks like an exception ("FooError: ...",
 * "Caused by: ...", "panic: ..."), skipping stack frames. Returns false if there is none. */
bool fl_last_exception_line(const char *msg, size_t len, size_t *off, size_t *n);

/* Builds the text fl_classify matches an entry on (head of the message, last exception line,
 * synthesized request/audit context). Returns its length. */
size_t fl_classify_subject(const fl_entry *e, char *buf, size_t cap);

#endif
