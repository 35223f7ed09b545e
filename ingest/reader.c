/* fl_reader: the batch input pipeline of one run.
 *   paths -> walk (directories in sorted order) -> stream (plain/gzip/zstd by magic bytes)
 *         -> splitter (NDJSON / gcloud array / concatenated objects) -> JSON reader
 *         -> multi-line reassembly -> entries
 * Memory is one read chunk, one capped record, and one held trace at a time. */
#include "ingest_internal.h"
#include "gcs/gcs.h"
#include "json/json_internal.h"

#include <stdio.h>
#include <string.h>

struct fl_reader {
    fl_reader_opts opts;
    fl_diag *diag;
    fl_diag *wdiag; /* where reading reports: diag, or a batch's stage while it is filled */
    fl_pathlist inputs;
    fl_gcs *gcs; /* for gs:// inputs, created when the first one is met */
    size_t next_input;
    fl_stream *cur;
    const char *cur_name; /* inputs.paths[i]: lives as long as the reader */
    fl_splitter *sp;
    fl_multiline *ml;
    bool done;
    uint64_t entries; /* parsed, not yet added to diag */
};

static void flush_counts(fl_reader *r)
{
    if (!r->entries)
        return;
    pthread_mutex_lock(&r->diag->lock);
    r->diag->entries += r->entries;
    pthread_mutex_unlock(&r->diag->lock);
    r->entries = 0;
}

int fl_reader_open(fl_reader **out, const char *const *paths, size_t n_paths,
                   const fl_reader_opts *opts, fl_diag *diag)
{
    *out = NULL;
    fl_reader *r = fl_calloc(1, sizeof(*r));
    if (!r)
        return FL_ENOMEM;
    if (opts)
        r->opts = *opts;
    if (!r->opts.record_max)
        r->opts.record_max = FL_RECORD_MAX;
    r->diag = r->wdiag = diag;
    size_t usable = 0;
    int rc = 0;
    for (size_t i = 0; i < n_paths && rc != FL_ENOMEM; i++) {
        size_t before = r->inputs.n;
        if (!fl_gcs_is_url(paths[i]))
            rc = fl_walk_add(&r->inputs, paths[i], diag);
        else if (r->gcs || (rc = fl_gcs_new(&r->gcs, r->opts.storage_emulator_host, r->opts.auth)) == 0)
            rc = fl_gcs_list(r->gcs, paths[i], &r->inputs, diag);
        if (rc == 0)
            usable++;
        fl_shard_filter(&r->inputs, before, paths[i], r->opts.shard_index, r->opts.shard_count);
    }
    if (rc != FL_ENOMEM && (usable > 0 || n_paths == 0))
        rc = 0;
    else if (rc != FL_ENOMEM)
        rc = FL_ENOTFOUND;
    if (rc == 0)
        rc = fl_splitter_new(&r->sp, r->opts.record_max, diag);
    if (rc == 0 && !r->opts.no_multiline)
        rc = fl_multiline_new(&r->ml);
    if (rc < 0) {
        fl_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Opens a gs:// object as a stream; failures are reported as unreadable, as for files. */
static int open_object(fl_reader *r, const char *url)
{
    fl_stream_source src;
    char err[512] = "";
    int rc = fl_gcs_open(r->gcs, url, &src, err, sizeof err);
    if (rc == FL_ENOMEM)
        return rc;
    if (rc) {
        fl_diag_warn(r->wdiag, FL_WARN_UNREADABLE, url, 0, "%s: cannot open: %s", url, err);
        return rc;
    }
    return fl_stream_open_source(&r->cur, url, src, r->wdiag);
}

/* Opens the next input that can be opened. Returns 1, or 0 when none are left. */
static int open_next(fl_reader *r)
{
    while (r->next_input < r->inputs.n) {
        const char *path = r->inputs.paths[r->next_input++];
        int rc = fl_gcs_is_url(path) ? open_object(r, path)
                                     : fl_stream_open(&r->cur, path, r->wdiag);
        if (rc == FL_ENOMEM)
            return rc;
        if (rc < 0)
            continue; /* reported as unreadable */
        r->cur_name = path;
        fl_splitter_begin(r->sp, r->cur);
        return 1;
    }
    return 0;
}

/* An entry kept after a repair (fl_entry.fixes) is still a warning, with file and line. */
static void warn_fixes(fl_diag *d, const fl_entry *e)
{
    if (!e->fixes)
        return;
    char what[256];
    fl_entry_fixes_text(e->fixes, what, sizeof(what));
    fl_diag_warn(d, FL_WARN_OTHER, e->src_file, e->src_line, "%s:%llu: entry kept: %s",
                 e->src_file, (unsigned long long)e->src_line, what);
}

/* The next parsed entry before reassembly: 1, 0 at the end of all inputs, or < 0. */
static int next_raw(fl_reader *r, fl_entry *e)
{
    for (;;) {
        if (!r->cur) {
            int rc = open_next(r);
            if (rc <= 0)
                return rc;
        }
        const char *rec;
        size_t len;
        uint64_t line;
        bool parsed;
        int rc = fl_splitter_next_entry(r->sp, &rec, &len, &line, r->opts.slow_json ? NULL : e,
                                        &parsed);
        if (rc == 0) {
            fl_stream_close(r->cur);
            r->cur = NULL;
            flush_counts(r);
            continue;
        }
        char err[256] = "";
        rc = parsed              ? 0
             : r->opts.slow_json ? fl_entry_parse_jansson(rec, len, e, err, sizeof(err))
                                 : fl_entry_parse(rec, len, e, err, sizeof(err));
        if (rc == 0) {
            e->src_file = r->cur_name;
            e->src_line = line;
            r->entries++;
            warn_fixes(r->diag, e);
            return 1;
        }
        if (rc == FL_ENOMEM)
            return rc;
        if (rc == FL_ETOOBIG)
            fl_diag_warn(r->diag, FL_WARN_OVERSIZE, r->cur_name, line,
                         "%s:%llu: entry fields exceed %d bytes", r->cur_name,
                         (unsigned long long)line, FL_ENTRY_MAX_STORE);
        else
            fl_diag_warn(r->diag, FL_WARN_MALFORMED, r->cur_name, line, "%s:%llu: %s", r->cur_name,
                         (unsigned long long)line, err);
    }
}

int fl_reader_next(fl_reader *r, fl_entry *e)
{
    if (!r->ml) {
        int rc = next_raw(r, e);
        if (rc == 0)
            flush_counts(r);
        return rc;
    }
    for (;;) {
        if (fl_multiline_pop(r->ml, e))
            return 1;
        if (r->done) {
            flush_counts(r);
            return 0;
        }
        /* Parsed straight into e: most entries pass reassembly untouched and are returned
         * as they are, without the copies through its queue. */
        int rc = next_raw(r, e);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            r->done = true;
            if ((rc = fl_multiline_flush(r->ml)) < 0)
                return rc;
            fl_multiline_warn_caps(r->ml, r->diag);
            continue;
        }
        if (fl_multiline_passes(r->ml, e))
            return 1;
        if ((rc = fl_multiline_push(r->ml, e)) < 0)
            return rc;
    }
}

/* ---- the parallel stages (see fl_ingest.h) ---- */

static void report_to(fl_reader *r, fl_diag *d)
{
    r->wdiag = d;
    fl_splitter_set_diag(r->sp, d);
    if (r->cur)
        fl_stream_set_diag(r->cur, d);
}

/* A batch also ends after this many staged warnings, far below what a diag keeps, so that
 * none is dropped before it is replayed. */
#define STAGE_WARN_MAX 32

int fl_reader_fill(fl_reader *r, fl_batch *b)
{
    fl_batch_reset(b);
    b->slow_json = r->opts.slow_json;
    report_to(r, &b->stage);
    int rc = 0;
    while (b->n < FL_BATCH_RECORDS && b->len < FL_BATCH_BYTES &&
           b->stage.n_warnings < STAGE_WARN_MAX) {
        if (!r->cur) {
            if ((rc = open_next(r)) <= 0)
                break;
        }
        const char *rec;
        size_t len;
        uint64_t line;
        if (fl_splitter_next(r->sp, &rec, &len, &line) == 0) {
            fl_stream_close(r->cur);
            r->cur = NULL;
            continue;
        }
        if ((rc = fl_batch_add(b, rec, len, line, r->cur_name)) < 0)
            break;
        rc = 1;
    }
    report_to(r, r->diag);
    if (rc < 0)
        return rc;
    const fl_diag *st = &b->stage;
    return b->n || st->n_warnings || st->warnings_dropped || st->bytes || st->files ||
           st->malformed || st->oversize || st->unreadable;
}

/* Replays staged warnings [*from, to) into the reader's diag. */
static void replay(fl_reader *r, fl_batch *b, size_t *from, size_t to, uint64_t counted[3])
{
    for (; *from < to && *from < b->stage.n_warnings; (*from)++) {
        const fl_warning *w = &b->stage.warnings[*from];
        if (w->kind == FL_WARN_MALFORMED)
            counted[0]++;
        else if (w->kind == FL_WARN_OVERSIZE)
            counted[1]++;
        else if (w->kind == FL_WARN_UNREADABLE)
            counted[2]++;
        fl_diag_warn(r->diag, w->kind, w->file, w->line, "%s", w->message);
    }
}

/* Hands e to reassembly and moves what is finished into b's output. */
static int pass_on(fl_reader *r, fl_batch *b, fl_entry *e)
{
    fl_entry *slot;
    if (!r->ml) {
        if (!e)
            return 0;
        if (!(slot = fl_batch_out_slot(b)))
            return FL_ENOMEM;
        fl_entry t = *slot;
        *slot = *e;
        *e = t;
        fl_entry_clear(e);
        b->n_out++;
        return 0;
    }
    if (e && fl_multiline_passes(r->ml, e)) {
        if (!(slot = fl_batch_out_slot(b)))
            return FL_ENOMEM;
        fl_entry t = *slot; /* as without reassembly: the entry moves, storage is swapped */
        *slot = *e;
        *e = t;
        fl_entry_clear(e);
        b->n_out++;
        return 0;
    }
    int rc = e ? fl_multiline_push(r->ml, e) : fl_multiline_flush(r->ml);
    if (rc < 0)
        return rc;
    for (;;) {
        if (!(slot = fl_batch_out_slot(b)))
            return FL_ENOMEM;
        if (!fl_multiline_pop(r->ml, slot))
            return 0;
        b->n_out++;
    }
}

int fl_reader_reassemble(fl_reader *r, fl_batch *b, bool last)
{
    size_t w = 0;
    uint64_t counted[3] = {0, 0, 0};
    int rc = 0;
    b->n_out = 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const fl_batch_rec *rec = &b->rec[i];
        replay(r, b, &w, rec->warn_before, counted);
        if (rec->rc == 0) {
            r->entries++;
            warn_fixes(r->diag, &b->ent[i]);
            rc = pass_on(r, b, &b->ent[i]);
        } else if (rec->rc == FL_ENOMEM) {
            rc = FL_ENOMEM;
        } else if (rec->rc == FL_ETOOBIG) {
            fl_diag_warn(r->diag, FL_WARN_OVERSIZE, rec->file, rec->line,
                         "%s:%llu: entry fields exceed %d bytes", rec->file,
                         (unsigned long long)rec->line, FL_ENTRY_MAX_STORE);
        } else {
            fl_diag_warn(r->diag, FL_WARN_MALFORMED, rec->file, rec->line, "%s:%llu: %s",
                         rec->file, (unsigned long long)rec->line, b->errs.data + rec->err);
        }
    }
    replay(r, b, &w, b->stage.n_warnings, counted);
    /* Counts that travelled without a warning (bytes, files, anything the stage dropped). */
    const fl_diag *st = &b->stage;
    pthread_mutex_lock(&r->diag->lock);
    r->diag->bytes += st->bytes;
    r->diag->files += st->files;
    r->diag->malformed += st->malformed - FL_MIN(st->malformed, counted[0]);
    r->diag->oversize += st->oversize - FL_MIN(st->oversize, counted[1]);
    r->diag->unreadable += st->unreadable - FL_MIN(st->unreadable, counted[2]);
    r->diag->warnings_dropped += st->warnings_dropped;
    pthread_mutex_unlock(&r->diag->lock);
    if (rc == 0 && last && (rc = pass_on(r, b, NULL)) == 0)
        fl_multiline_warn_caps(r->ml, r->diag);
    b->n = 0; /* consumed: a second call only flushes */
    fl_diag_free(&b->stage);
    fl_diag_init(&b->stage);
    flush_counts(r);
    return rc;
}

void fl_reader_free(fl_reader *r)
{
    if (!r)
        return;
    flush_counts(r);
    fl_stream_close(r->cur);
    fl_splitter_free(r->sp);
    fl_multiline_free(r->ml);
    fl_pathlist_free(&r->inputs);
    fl_gcs_free(r->gcs);
    fl_free(r);
}
