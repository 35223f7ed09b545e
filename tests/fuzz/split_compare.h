/* The array splitter both ways on one file: elements parsed in place
 * (fl_splitter_next_entry with an entry) and cut by the bracket scanner then parsed by
 * fl_entry_parse. Both must give the same records (line, bytes), the same entries or error
 * texts and the same warnings. Used by test_ingest_inplace and the fuzz_reader target. */
#ifndef FL_SPLIT_COMPARE_H
#define FL_SPLIT_COMPARE_H

#include "ingest_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fl_split_run {
    char *log; /* one line per record and per warning */
    size_t len, cap;
    size_t records, parsed_in_place;
} fl_split_run;

static void fl_split_put(fl_split_run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fl_split_put(fl_split_run *r, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t k = (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 1;
    if (r->len + k + 1 > r->cap) {
        r->cap = (r->len + k + 1) * 2;
        char *p = realloc(r->log, r->cap);
        if (!p)
            abort();
        r->log = p;
    }
    memcpy(r->log + r->len, line, k);
    r->len += k;
    r->log[r->len] = '\0';
}

/* Splits and parses path one way into r; -1 when it cannot be opened. */
static int fl_split_read(const char *path, size_t record_max, bool in_place, fl_split_run *r)
{
    fl_diag d;
    fl_diag_init(&d);
    fl_stream *s;
    fl_splitter *sp;
    /* read(2), so that records cut across reads are compared too */
    if (fl_stream_open(&s, path, true, &d) != 0) {
        fl_diag_free(&d);
        return -1;
    }
    if (fl_splitter_new(&sp, record_max, &d) != 0)
        abort();
    fl_splitter_begin(sp, s);
    fl_entry e;
    fl_entry_init(&e);
    const char *rec;
    size_t len;
    uint64_t line;
    bool parsed;
    while (fl_splitter_next_entry(sp, &rec, &len, &line, in_place ? &e : NULL, &parsed) == 1) {
        char err[256] = "";
        int rc = parsed ? 0 : fl_entry_parse(rec, len, &e, err, sizeof err);
        r->records++;
        r->parsed_in_place += parsed;
        fl_split_put(r, "record line %llu, %zu bytes: rc %d %s", (unsigned long long)line, len, rc,
                     err);
        if (rc == 0)
            fl_split_put(r,
                         " ts=%lld sev=%d kind=%d status=%d lat=%g err=%d svc=%s rev=%s id=%s"
                         " trace=%s msg=%.200s url=%s lvl=%s fixes=%u\n",
                         (long long)e.ts, (int)e.severity, (int)e.log_kind, (int)e.http_status,
                         e.latency_s, (int)e.error_event, e.service, e.revision, e.insert_id,
                         e.trace, e.message, e.http_url, e.json_level, e.fixes);
        else
            fl_split_put(r, "\n");
    }
    for (size_t i = 0; i < d.n_warnings; i++)
        fl_split_put(r, "warning %llu: %s\n", (unsigned long long)d.warnings[i].line,
                     d.warnings[i].message);
    fl_split_put(r, "malformed %llu oversize %llu\n", (unsigned long long)d.malformed,
                 (unsigned long long)d.oversize);
    fl_entry_free(&e);
    fl_splitter_free(sp);
    fl_stream_close(s);
    fl_diag_free(&d);
    return 0;
}

/* 0 when both ways agree on path (*in_place: the records parsed in place); otherwise 1 with
 * both logs printed to stderr under the name what. */
static int fl_split_compare(const char *what, const char *path, size_t record_max, size_t *in_place)
{
    fl_split_run a = {0}, b = {0};
    int bad = fl_split_read(path, record_max, false, &a) != 0 ||
              fl_split_read(path, record_max, true, &b) != 0 || a.parsed_in_place != 0 ||
              a.len != b.len || (a.len && memcmp(a.log, b.log, a.len) != 0);
    if (bad)
        fprintf(stderr,
                "%s: in-place parse differs from the scanner\n--- scanner:\n%.3000s\n"
                "--- in place:\n%.3000s\n",
                what, a.log ? a.log : "", b.log ? b.log : "");
    *in_place = b.parsed_in_place;
    free(a.log);
    free(b.log);
    return bad;
}

#endif
