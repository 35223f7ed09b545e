/* The splitter both ways on one file: records parsed where they lie (fl_splitter_next_entry
 * with an entry: gcloud-array elements, and NDJSON lines whose parse finds the line's end)
 * and records cut first (bracket scanner or '\n') then parsed by fl_entry_parse. Both must
 * give the same records (line, bytes), the same entries or error texts and the same warnings.
 * NDJSON files are also cut and parsed as a worker does with several threads (fl_batch_parse
 * on one chunk, lines parsed on the way), which must give the same again. Used by
 * test_ingest_inplace and the fuzz_reader target. */
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
    fl_format fmt;
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

static void fl_split_put_record(fl_split_run *r, uint64_t line, size_t len, int rc, const char *err,
                                const fl_entry *e)
{
    fl_split_put(r, "record line %llu, %zu bytes: rc %d %s", (unsigned long long)line, len, rc,
                 err);
    if (rc == 0)
        fl_split_put(r,
                     " ts=%lld sev=%d kind=%d status=%d lat=%g err=%d svc=%s rev=%s id=%s"
                     " trace=%s msg=%.200s url=%s fixes=%u\n",
                     (long long)e->ts, (int)e->severity, (int)e->log_kind, (int)e->http_status,
                     e->latency_s, (int)e->error_event, e->service, e->revision, e->insert_id,
                     e->trace, e->message, e->http_url, e->fixes);
    else
        fl_split_put(r, "\n");
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
        fl_split_put_record(r, line, len, rc, err, &e);
    }
    r->fmt = fl_splitter_format(sp);
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

/* path (NDJSON) as one chunk cut and parsed by fl_batch_parse, logged as fl_split_read logs
 * (a line over record_max is the splitter's oversize warning); -1 when it cannot be read,
 * 1 when it is not compared: a damaged stream, or a line over the cap (the worker's cut
 * trims a line before it compares it with the cap, the splitter, which may hold only part of
 * a line, the untrimmed line). */
static int fl_split_read_batch(const char *path, size_t record_max, fl_split_run *r)
{
    /* The decoded bytes, as the reader hands them to workers (gzip and zstd input too). */
    fl_diag d;
    fl_diag_init(&d);
    fl_stream *st;
    if (fl_stream_open(&st, path, true, &d) != 0) {
        fl_diag_free(&d);
        return -1;
    }
    char *data = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 > cap) {
            cap = (n + 65536) * 2;
            char *p = realloc(data, cap);
            if (!p)
                abort();
            data = p;
        }
        ssize_t got = fl_stream_read(st, data + n, cap - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    /* A damaged stream (cut compressed input) warns from the stream: not compared here. */
    bool damaged = fl_stream_damaged(st) || d.n_warnings > 0;
    fl_stream_close(st);
    fl_diag_free(&d);
    if (damaged) {
        free(data);
        return 1;
    }
    size_t from = n >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* detect() skips it */
    size_t cap_len = record_max ? record_max : FL_RECORD_MAX;
    for (size_t i = from, start = from; i <= n; i++) {
        if (i == n || data[i] == '\n') {
            if (i - start > cap_len) {
                free(data);
                return 1;
            }
            start = i + 1;
        }
    }
    fl_batch *b;
    if (fl_batch_new(&b) != 0)
        abort();
    b->chunked = true;
    b->chunk = data + from;
    b->chunk_len = n - from;
    b->file = path;
    b->record_max = cap_len;
    if (fl_batch_parse(b) != 0)
        abort();
    fl_split_run warn = {0};
    size_t oversize = 0;
    for (size_t i = 0; i < b->n; i++) {
        const fl_batch_rec *rec = &b->rec[i];
        uint64_t line = rec->line + 1;
        if (rec->rc == FL_BATCH_OVERSIZE) {
            oversize++;
            fl_split_put(&warn, "warning %llu: %s:%llu: record larger than %zu bytes skipped\n",
                         (unsigned long long)line, path, (unsigned long long)line, b->record_max);
            continue;
        }
        r->records++;
        fl_split_put_record(r, line, rec->len, rec->rc, rec->rc ? b->errs.data + rec->err : "",
                            &b->ent[i]);
    }
    if (warn.len)
        fl_split_put(r, "%s", warn.log);
    fl_split_put(r, "malformed 0 oversize %zu\n", oversize);
    free(warn.log);
    fl_batch_free(b);
    free(data);
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
    fl_split_run c = {0};
    int batch_rc = !bad && a.fmt == FL_FMT_NDJSON ? fl_split_read_batch(path, record_max, &c) : 1;
    if (batch_rc <= 0) {
        bad = batch_rc < 0 || a.len != c.len || (a.len && memcmp(a.log, c.log, a.len) != 0);
        if (bad)
            fprintf(stderr,
                    "%s: a worker's cut and parse differs from the splitter\n--- splitter:\n"
                    "%.3000s\n--- worker:\n%.3000s\n",
                    what, a.log ? a.log : "", c.log ? c.log : "");
    }
    *in_place = b.parsed_in_place;
    free(a.log);
    free(b.log);
    free(c.log);
    return bad;
}

#endif
