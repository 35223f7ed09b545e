/* Classification: one prefilter pass over the message picks the candidate regexes; only those
 * run (JIT, with this thread's match data), in evaluation order; the first that matches and is
 * not vetoed by its rule's "not" patterns wins. */
#include "fl_patterns_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fl_matcher {
    const fl_rules *rules;
    pcre2_match_data *md;
    pcre2_match_context *mctx; /* match and depth limits */
    uint64_t *limit_hits;      /* per rule: runs stopped by a limit */
    uint32_t *stamp; /* stamp[regex] == gen: already a candidate for this message */
    uint32_t gen;
    uint32_t *cand;
    size_t n_cand;
    bool prefilter;
    char subject[FL_SUBJECT_MAX];
};

fl_matcher *fl_matcher_new(const fl_rules *rules)
{
    if (!rules)
        return NULL;
    fl_matcher *m = fl_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->rules = rules;
    m->md = pcre2_match_data_create(rules->max_ovec, NULL);
    m->stamp = fl_calloc(rules->n_regex + 1, sizeof(*m->stamp));
    m->cand = fl_calloc(rules->n_regex + 1, sizeof(*m->cand));
    m->limit_hits = fl_calloc(rules->n_rules + 1, sizeof(*m->limit_hits));
    m->mctx = pcre2_match_context_create(NULL);
    if (m->mctx) {
        pcre2_set_match_limit(m->mctx, FL_PCRE2_MATCH_LIMIT);
        pcre2_set_depth_limit(m->mctx, FL_PCRE2_DEPTH_LIMIT);
    }
    if (!m->md || !m->stamp || !m->cand || !m->limit_hits || !m->mctx) {
        fl_matcher_free(m);
        return NULL;
    }
    m->prefilter = true; /* off with fl_matcher_set_prefilter (the CLI: FL_NO_PREFILTER=1) */
    return m;
}

void fl_matcher_free(fl_matcher *m)
{
    if (!m)
        return;
    pcre2_match_data_free(m->md);
    pcre2_match_context_free(m->mctx);
    fl_free(m->limit_hits);
    fl_free(m->stamp);
    fl_free(m->cand);
    fl_free(m);
}

void fl_matcher_set_prefilter(fl_matcher *m, bool on)
{
    if (m)
        m->prefilter = on;
}

static void mark(void *ctx, uint32_t regex)
{
    fl_matcher *m = ctx;
    if (m->stamp[regex] != m->gen) {
        m->stamp[regex] = m->gen;
        m->cand[m->n_cand++] = regex;
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void sort_candidates(uint32_t *c, size_t n)
{
    if (n > 16) {
        qsort(c, n, sizeof(*c), cmp_u32);
        return;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && c[j] < c[j - 1]; j--) {
            uint32_t t = c[j];
            c[j] = c[j - 1];
            c[j - 1] = t;
        }
}

void fl_matcher_limit_hits(const fl_matcher *m,
                           void (*fn)(void *ctx, const char *rule_id, uint64_t count), void *ctx)
{
    for (size_t i = 0; m && i < m->rules->n_rules; i++)
        if (m->limit_hits[i])
            fn(ctx, m->rules->rules[i]->id, m->limit_hits[i]);
}

void fl_matcher_add_limit_hits(fl_matcher *dst, const fl_matcher *src)
{
    if (!dst || !src || dst->rules != src->rules)
        return;
    for (size_t i = 0; i < dst->rules->n_rules; i++)
        dst->limit_hits[i] += src->limit_hits[i];
}

void fl_matcher_warn_limits(const fl_matcher *m, fl_diag *diag)
{
    for (size_t i = 0; m && diag && i < m->rules->n_rules; i++)
        if (m->limit_hits[i])
            fl_diag_warn(diag, FL_WARN_OTHER, m->rules->rules[i]->file, 0,
                         "rule '%s': %llu matches stopped at the PCRE2 match/depth limit and "
                         "taken as no match (a costly regex; see 'faultline patterns check')",
                         m->rules->rules[i]->id, (unsigned long long)m->limit_hits[i]);
}

static bool limit_error(int rc)
{
    return rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
           rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT;
}

/* Runs one regex; a run stopped by a limit counts against its rule and as no match. */
static int run(fl_matcher *m, uint32_t rule, pcre2_code *code, bool jit, const char *s, size_t n)
{
    int rc = jit ? pcre2_jit_match(code, (PCRE2_SPTR)s, n, 0, 0, m->md, m->mctx)
                 : pcre2_match(code, (PCRE2_SPTR)s, n, 0, 0, m->md, m->mctx);
    if (rc < 0 && limit_error(rc))
        m->limit_hits[rule]++;
    return rc;
}

void fl_rules_jit(const fl_rules *rs, uint32_t ri)
{
    fl_rule *r = rs->rules[ri];
    if (atomic_load_explicit(&r->jit_ready, memory_order_acquire))
        return;
    pthread_mutex_t *lock = (pthread_mutex_t *)&rs->jit_lock;
    pthread_mutex_lock(lock);
    if (!atomic_load_explicit(&r->jit_ready, memory_order_relaxed)) {
        /* pcre2_match runs a "not" regex's JIT code when it has some */
        for (size_t k = 0; k < r->n_veto; k++)
            pcre2_jit_compile(r->veto[k], PCRE2_JIT_COMPLETE);
        for (size_t i = 0; i < rs->n_regex; i++)
            if (rs->regex[i].rule == ri)
                rs->regex[i].jit = pcre2_jit_compile(rs->regex[i].code, PCRE2_JIT_COMPLETE) == 0;
        atomic_store_explicit(&r->jit_ready, true, memory_order_release);
    }
    pthread_mutex_unlock(lock);
}

static void take_fields(const fl_regex *x, const char *s, pcre2_match_data *md, fl_match *out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    uint32_t pairs = pcre2_get_ovector_count(md);
    for (uint32_t k = 0; k < x->n_names && out->n_fields < FL_MATCH_MAX_FIELDS; k++) {
        uint32_t g = x->names[k].group;
        if (g >= pairs || ov[2 * g] == PCRE2_UNSET)
            continue;
        bool dup = false;
        for (size_t f = 0; f < out->n_fields; f++)
            dup = dup || strcmp(out->fields[f].name, x->names[k].name) == 0;
        if (dup)
            continue;
        size_t len = FL_MIN(ov[2 * g + 1] - ov[2 * g], (size_t)FL_FIELD_VALUE_MAX - 1);
        memcpy(out->fields[out->n_fields].name, x->names[k].name, FL_FIELD_NAME_MAX);
        memcpy(out->fields[out->n_fields].value, s + ov[2 * g], len);
        out->fields[out->n_fields].value[len] = '\0';
        out->n_fields++;
    }
}

/* The candidates for subject s into m->cand[0, m->n_cand), in evaluation order. */
static inline void find_candidates(const fl_rules *rs, fl_matcher *m, const char *s, size_t n,
                                   bool any_severity_only)
{
    if (++m->gen == 0) {
        memset(m->stamp, 0, rs->n_regex * sizeof(*m->stamp));
        m->gen = 1;
    }
    m->n_cand = 0;
    /* Entries the severity gate keeps from most rules scan for the others' literals only:
     * the candidates the loop in run_candidates would keep are the same. */
    const fl_prefilter *pf = any_severity_only ? rs->pf_any : rs->pf;
    const uint32_t *unf = any_severity_only ? rs->unfiltered_any : rs->unfiltered;
    size_t n_unf = any_severity_only ? rs->n_unfiltered_any : rs->n_unfiltered;
    if (pf)
        fl_prefilter_scan(pf, s, n, mark, m);
    for (size_t i = 0; i < n_unf; i++)
        mark(m, unf[i]);
    if (m->n_cand > 1)
        sort_candidates(m->cand, m->n_cand);
}

/* Runs the candidate regexes in order; the first match not vetoed classifies. A call of its
 * own: most subjects have no candidate, and return before the registers this needs are saved
 * (issue 15). */
static __attribute__((noinline)) int run_candidates(const fl_rules *rs, fl_matcher *m,
                                                    size_t n_cand, const char *s, size_t n,
                                                    bool any_severity_only, fl_match *out)
{
    const uint32_t *cand = m->cand;
    for (size_t c = 0; c < n_cand; c++) {
        const fl_regex *x = &rs->regex[cand[c]];
        const fl_rule *r = rs->rules[x->rule];
        if (any_severity_only && !r->info.any_severity)
            continue;
        fl_rules_jit(rs, x->rule);
        if (run(m, x->rule, x->code, x->jit, s, n) < 0)
            continue;
        /* Fields straight into out (an fl_match is 1.3 KB): a veto takes them back. */
        out->n_fields = 0;
        take_fields(x, s, m->md, out);
        bool vetoed = false;
        for (size_t v = 0; v < r->n_veto && !vetoed; v++)
            vetoed = run(m, x->rule, r->veto[v], false, s, n) >= 0;
        if (vetoed) {
            out->n_fields = 0;
            continue;
        }
        out->rule = &r->info;
        return 1;
    }
    return 0;
}

/* Inlined into its two callers: the INFO line's path then sets up one frame, not two. */
static inline __attribute__((always_inline)) int classify_subject(const fl_rules *rs, fl_matcher *m,
                                                                  const char *s, size_t n,
                                                                  bool any_severity_only,
                                                                  fl_match *out)
{
    out->rule = NULL;
    out->n_fields = 0;
    if (any_severity_only && rs->n_any_severity == 0)
        return 0;
    if (!m->prefilter) {
        for (size_t i = 0; i < rs->n_regex; i++)
            m->cand[i] = (uint32_t)i;
        return run_candidates(rs, m, rs->n_regex, s, n, any_severity_only, out);
    }
    find_candidates(rs, m, s, n, any_severity_only);
    return m->n_cand ? run_candidates(rs, m, m->n_cand, s, n, any_severity_only, out) : 0;
}

/* Head of the message, plus its last exception line when that lies past the head. Returns
 * the subject (msg itself when short enough) and its length in *n. */
static const char *message_subject(const char *msg, size_t len, char *buf, size_t cap, size_t *n)
{
    if (len <= FL_MATCH_HEAD_MAX) {
        *n = len;
        return msg;
    }
    size_t used = FL_MIN((size_t)FL_MATCH_HEAD_MAX, cap);
    memcpy(buf, msg, used);
    size_t off, ln;
    if (fl_last_exception_line(msg, len, &off, &ln) && off + ln > FL_MATCH_HEAD_MAX) {
        ln = FL_MIN(ln, (size_t)FL_MATCH_TAIL_LINE_MAX);
        if (used + 1 + ln <= cap) {
            buf[used++] = '\n';
            memcpy(buf + used, msg + off, ln);
            used += ln;
        }
    }
    *n = used;
    return buf;
}

int fl_classify_text(const fl_rules *rules, fl_matcher *m, const char *msg, size_t len,
                     fl_match *out)
{
    if (!rules || !m || !out || (!msg && len))
        return FL_EINVAL;
    size_t n;
    const char *s = message_subject(msg ? msg : "", len, m->subject, sizeof(m->subject), &n);
    return classify_subject(rules, m, s, n, false, out);
}

static bool is_audit(const fl_entry *e)
{
    return e->log_kind == FL_LOG_AUDIT_ACTIVITY || e->log_kind == FL_LOG_AUDIT_SYSTEM_EVENT ||
           e->log_kind == FL_LOG_AUDIT_DATA_ACCESS;
}

/* " latency=%.3fs" without printf's float formatting (most of a 5xx entry's cost; issue 15),
 * or 0 to let snprintf do it: d must be well below 2^53 / 1000 and not near a rounding tie,
 * so that rounding d * 1000 gives the digits printf's exact rounding gives. */
static size_t latency_text(double d, char out[48])
{
    if (!(d >= 0) || signbit(d) || d >= 1e9)
        return 0;
    double m = d * 1000.0; /* error at most 2^-14 below 1e12 */
    uint64_t f = (uint64_t)m;
    double frac = m - (double)f;
    if (frac > 0.499 && frac < 0.501)
        return 0;
    uint64_t r = f + (frac > 0.5);
    char num[24];
    size_t at = fl_u64_digits(r / 1000, num), n = 0;
    memcpy(out, " latency=", 9);
    n = 9;
    memcpy(out + n, num + at, 24 - at);
    n += 24 - at;
    out[n++] = '.';
    out[n++] = (char)('0' + r % 1000 / 100);
    out[n++] = (char)('0' + r % 100 / 10);
    out[n++] = (char)('0' + r % 10);
    out[n++] = 's';
    return n;
}

/* "HTTP %d %s %.512s latency=%.3fs" (latency when known), as snprintf would cut it at cap. */
static size_t http_subject(const fl_entry *e, char *buf, size_t cap)
{
    size_t len;
    size_t full = fl_put_http_line(buf, cap, &len, e->http_status, e->http_method,
                                   strlen(e->http_method), e->http_url,
                                   strnlen(e->http_url, 512));
    if (full < cap && e->latency_s >= 0) {
        char lat[48];
        size_t n = latency_text(e->latency_s, lat);
        if (n)
            fl_put_cut(buf, cap, &len, lat, n);
        else
            len += FL_MIN((size_t)snprintf(buf + len, cap - len, " latency=%.3fs", e->latency_s),
                          cap - 1 - len);
    }
    return len;
}

size_t fl_classify_subject(const fl_entry *e, char *buf, size_t cap)
{
    if (cap < 2)
        return 0;
    size_t n;
    size_t mlen = fl_entry_len(e, FL_KNOWN_MESSAGE, e->message);
    const char *s = message_subject(e->message, mlen, buf, cap - 1, &n);
    if (s != buf) {
        n = FL_MIN(n, cap - 1);
        memcpy(buf, s, n);
    }
    int w = 0;
    size_t room = cap - n;
    if (is_audit(e) && (e->audit_method[0] || e->has_audit_status)) {
        w = snprintf(buf + n, room, "%saudit %s %s code=%d resource=%.512s", n ? "\n" : "",
                     e->audit_service, e->audit_method,
                     e->has_audit_status ? e->audit_status_code : 0, e->audit_resource);
    } else if (n == 0 && e->http_status >= 500) {
        return http_subject(e, buf, cap);
    }
    if (w > 0)
        n += FL_MIN((size_t)w, room - 1);
    buf[n] = '\0';
    return n;
}

/* fl_classify past its first test; out is cleared. */
static __attribute__((noinline)) int classify_entry(const fl_rules *rules, fl_matcher *m,
                                                    const fl_entry *e, fl_match *out)
{
    bool gate = !fl_entry_maybe_error(e);
    if (gate && rules->n_any_severity == 0)
        return 0;
    if (e->message[0] && !is_audit(e)) {
        /* The common case: match the message in place, no copy. */
        size_t n;
        const char *s = message_subject(e->message, fl_entry_len(e, FL_KNOWN_MESSAGE, e->message),
                                        m->subject, sizeof(m->subject), &n);
        return classify_subject(rules, m, s, n, gate, out);
    }
    size_t n = fl_classify_subject(e, m->subject, sizeof(m->subject));
    return classify_subject(rules, m, m->subject, n, gate, out);
}

int fl_classify(const fl_rules *rules, fl_matcher *m, const fl_entry *e, fl_match *out)
{
    if (!rules || !m || !e || !out)
        return FL_EINVAL;
    out->rule = NULL;
    out->n_fields = 0;
    /* Nothing to match first: most entries are 2xx request logs without a message. They
     * return here, before the rest (a call of its own) saves the registers it uses. */
    if (!e->message[0] && e->http_status < 500 && !is_audit(e))
        return 0;
    return classify_entry(rules, m, e, out);
}
