/* fl_reader: the batch input pipeline of one run.
 *   paths -> walk (directories in sorted order) -> stream (plain/gzip/zstd by magic bytes;
 *            a plain regular file is mapped and read in place)
 *         -> splitter (NDJSON / gcloud array / concatenated objects) -> JSON reader
 *         -> multi-line reassembly -> entries
 * Memory is one read chunk, one capped record, and one held trace at a time. The parallel
 * stages (fl_reader_fill and after) hand NDJSON to the workers in chunks of whole lines. */
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

    /* Chunk mode of the parallel stages (NDJSON): fl_reader_fill hands out whole lines and
     * the workers cut and parse them (fl_batch_parse). Filling side: */
    bool chunking;       /* the current stream is read in chunks */
    bool chunk_first;    /* its next chunk is its first */
    const char *view;    /* mapped file: [view + view_pos, view + view_len) is still to go */
    size_t view_pos, view_len;
    char *carry;         /* stream: the start of a line the last chunk did not end with */
    size_t carry_len, carry_cap;
    bool skipping;       /* stream: inside a line over record_max, dropped up to its '\n' */
    /* Reassembly side (input order): the line at which the next chunk of a file starts. */
    uint64_t chunk_line;
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

static void end_input(fl_reader *r)
{
    fl_stream_close(r->cur);
    r->cur = NULL;
    r->chunking = false;
}

/* Opens the next input that can be opened. Returns 1, or 0 when none are left. */
static int open_next(fl_reader *r)
{
    while (r->next_input < r->inputs.n) {
        const char *path = r->inputs.paths[r->next_input++];
        int rc = fl_gcs_is_url(path) ? open_object(r, path)
                                     : fl_stream_open(&r->cur, path, r->opts.no_mmap, r->wdiag);
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
            end_input(r);
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
        if ((rc = fl_multiline_offer(r->ml, e)) != 0)
            return rc; /* 1: e passes untouched */
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
/* Bytes of NDJSON lines per chunk (more when one line is longer). */
#define CHUNK_BYTES FL_BATCH_BYTES

static int keep_carry(fl_reader *r, const char *p, size_t n)
{
    if (n > r->carry_cap) {
        char *c = fl_realloc(r->carry, n);
        if (!c)
            return FL_ENOMEM;
        r->carry = c;
        r->carry_cap = n;
    }
    memcpy(r->carry, p, n);
    r->carry_len = n;
    return 0;
}

/* After open_next: NDJSON is read in chunks from here on; other formats record by record. */
static int start_chunks(fl_reader *r)
{
    r->chunking = fl_splitter_detect(r->sp) == FL_FMT_NDJSON;
    if (!r->chunking)
        return 0;
    r->chunk_first = true;
    r->skipping = false;
    const char *p;
    size_t n;
    fl_splitter_take_rest(r->sp, &p, &n);
    if (fl_stream_map(r->cur)) {
        r->view = p;
        r->view_pos = 0;
        r->view_len = n;
        return 0;
    }
    return keep_carry(r, p, n);
}

/* The next chunk of a mapped file: about CHUNK_BYTES, ending after a '\n' (or at the end of
 * the file), pointing into the mapping. */
static void chunk_mapped(fl_reader *r, fl_batch *b)
{
    const char *d = r->view + r->view_pos;
    size_t rest = r->view_len - r->view_pos, n = rest;
    if (rest > CHUNK_BYTES) {
        const char *nl = memrchr(d, '\n', CHUNK_BYTES);
        if (!nl) /* one long line: the worker finds it too long */
            nl = memchr(d + CHUNK_BYTES, '\n', rest - CHUNK_BYTES);
        if (nl)
            n = (size_t)(nl - d) + 1;
    }
    fl_filemap *m = fl_stream_map(r->cur);
    fl_filemap_ref(m);
    b->map = m;
    b->map_off = (size_t)(d - fl_filemap_data(m));
    b->chunk = d;
    b->chunk_len = n;
    r->view_pos += n;
    if (r->view_pos == r->view_len) {
        b->drop_tail = fl_stream_damaged(r->cur);
        end_input(r);
    }
}

static int add_long(fl_batch *b, size_t at)
{
    if (b->n_long == b->long_cap) {
        size_t cap = b->long_cap ? 2 * b->long_cap : 8;
        size_t *p = fl_realloc(b->long_at, cap * sizeof(*p));
        if (!p)
            return FL_ENOMEM;
        b->long_at = p;
        b->long_cap = cap;
    }
    b->long_at[b->n_long++] = at;
    return 0;
}

/* The next chunk of a stream (pipe, stdin, decompressed data), read into b->data: the line
 * left over from the last chunk, then reads until CHUNK_BYTES and a '\n'. The start of the
 * line after the last '\n' waits for the next chunk. A line over record_max is not kept: its
 * place is noted (b->long_at, the worker reports it with its line number) and the rest of it
 * is dropped as it is read, so memory stays bounded. */
static int chunk_stream(fl_reader *r, fl_batch *b)
{
    size_t max = r->opts.record_max;
    size_t len = r->carry_len, line_start = 0;
    if (b->cap < len + FL_READ_CHUNK) {
        size_t cap = FL_MAX(len + FL_READ_CHUNK, (size_t)CHUNK_BYTES + 4096);
        char *p = fl_realloc(b->data, cap);
        if (!p)
            return FL_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    char *d = b->data;
    memcpy(d, r->carry, len);
    r->carry_len = 0;
    const char *nl = len ? memrchr(d, '\n', len) : NULL;
    if (nl)
        line_start = (size_t)(nl - d) + 1;
    bool eof = false;
    for (;;) {
        if (!r->skipping && len - line_start > max) {
            if (add_long(b, line_start) != 0)
                return FL_ENOMEM;
            len = line_start;
            r->skipping = true;
        }
        if (len >= CHUNK_BYTES && line_start > 0 && !r->skipping)
            break;
        /* Up to CHUNK_BYTES, then a read at a time until a line ends (a long one). */
        size_t want = len < CHUNK_BYTES ? FL_MIN((size_t)CHUNK_BYTES - len, (size_t)FL_READ_CHUNK)
                                        : FL_READ_CHUNK;
        if (b->cap - len < want) {
            size_t cap = FL_MAX(len + want, 2 * b->cap);
            char *p = fl_realloc(b->data, cap);
            if (!p)
                return FL_ENOMEM;
            b->data = d = p;
            b->cap = cap;
        }
        ssize_t got = fl_stream_read(r->cur, d + len, want);
        if (got <= 0) {
            eof = true;
            break;
        }
        char *p = d + len;
        size_t n = (size_t)got;
        if (r->skipping) {
            char *end = memchr(p, '\n', n);
            if (!end)
                continue;
            n -= (size_t)(end - p);
            memmove(p, end, n); /* the '\n' that ends the dropped line stays */
            r->skipping = false;
        }
        nl = memrchr(p, '\n', n);
        len += n;
        if (nl)
            line_start = (size_t)(nl - d) + 1;
    }
    b->chunk = d;
    if (eof) {
        b->chunk_len = len;
        b->drop_tail = fl_stream_damaged(r->cur);
        end_input(r);
        return 0;
    }
    b->chunk_len = line_start;
    return keep_carry(r, d + line_start, len - line_start);
}

bool fl_batch_streamed(const fl_batch *b)
{
    return b->chunked && !b->map;
}

static int fill_chunk(fl_reader *r, fl_batch *b)
{
    b->chunked = true;
    b->file = r->cur_name;
    b->record_max = r->opts.record_max;
    b->chunk_first = r->chunk_first;
    b->warn_before = b->stage.n_warnings;
    r->chunk_first = false;
    if (fl_stream_map(r->cur)) {
        chunk_mapped(r, b);
        return 0;
    }
    return chunk_stream(r, b);
}

int fl_reader_fill(fl_reader *r, fl_batch *b)
{
    fl_batch_reset(b);
    b->slow_json = r->opts.slow_json;
    report_to(r, &b->stage);
    int rc = 0;
    while (b->n < FL_BATCH_RECORDS && b->len < FL_BATCH_BYTES &&
           b->stage.n_warnings < STAGE_WARN_MAX) {
        if (!r->cur) {
            if ((rc = open_next(r)) <= 0 || (rc = start_chunks(r)) < 0)
                break;
        }
        if (r->chunking) {
            if (b->n > 0)
                break; /* records of an earlier file go first, in a batch of their own */
            if ((rc = fill_chunk(r, b)) == 0)
                rc = 1;
            break;
        }
        const char *rec;
        size_t len;
        uint64_t line;
        bool parsed;
        /* A gcloud array's elements are parsed here, where they lie, as with one thread: the
         * scan that finds an element's end is the parse, so cutting them first and parsing
         * them again on a worker would read every byte twice on the thread all wait for.
         * An element that fails comes out as bytes and a worker reports it. */
        fl_entry *e = r->opts.slow_json ? NULL : fl_batch_next_entry(b);
        if (fl_splitter_next_entry(r->sp, &rec, &len, &line, e, &parsed) == 0) {
            end_input(r);
            continue;
        }
        rc = parsed ? fl_batch_add_parsed(b, line, r->cur_name)
                    : fl_batch_add(b, rec, len, line, r->cur_name);
        if (rc < 0)
            break;
        rc = 1;
    }
    report_to(r, r->diag);
    if (rc < 0)
        return rc;
    const fl_diag *st = &b->stage;
    return b->n || b->chunked || st->n_warnings || st->warnings_dropped || st->bytes || st->files ||
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

/* Hands parsed record i of b to reassembly (b->n: none, only what is held back, for the end
 * of the input) and appends what is finished to b's output. An entry that passes untouched
 * stays where it was parsed. */
static int pass_on(fl_reader *r, fl_batch *b, size_t i)
{
    fl_entry *e = i < b->n ? &b->ent[i] : NULL;
    if (!r->ml)
        return e ? fl_batch_put(b, i) : 0;
    int rc = e ? fl_multiline_offer(r->ml, e) : fl_multiline_flush(r->ml);
    if (rc == 1) /* e passes untouched */
        return fl_batch_put(b, i);
    if (rc < 0)
        return rc;
    for (;;) {
        fl_entry *slot = fl_batch_out_slot(b);
        if (!slot)
            return FL_ENOMEM;
        if (!fl_multiline_pop(r->ml, slot))
            return 0;
        if ((rc = fl_batch_put(b, FL_BATCH_SLOT)) != 0)
            return rc;
    }
}

int fl_reader_reassemble(fl_reader *r, fl_batch *b, bool last)
{
    size_t w = 0;
    uint64_t counted[3] = {0, 0, 0};
    int rc = 0;
    b->n_out = b->n_slots = 0;
    /* A chunk's lines count from its start: the chunks before it in its file say where. */
    uint64_t base = b->chunked ? (b->chunk_first ? 1 : r->chunk_line) : 0;
    for (size_t i = 0; i < b->n && rc == 0; i++) {
        const fl_batch_rec *rec = &b->rec[i];
        uint64_t line = base + rec->line;
        replay(r, b, &w, rec->warn_before, counted);
        if (rec->rc == 0) {
            b->ent[i].src_line = line;
            r->entries++;
            warn_fixes(r->diag, &b->ent[i]);
            rc = pass_on(r, b, i);
        } else if (rec->rc == FL_ENOMEM) {
            rc = FL_ENOMEM;
        } else if (rec->rc == FL_BATCH_OVERSIZE) { /* the words of format.c oversize() */
            fl_diag_warn(r->diag, FL_WARN_OVERSIZE, rec->file, line,
                         "%s:%llu: record larger than %zu bytes skipped", rec->file,
                         (unsigned long long)line, b->record_max);
        } else if (rec->rc == FL_ETOOBIG) {
            fl_diag_warn(r->diag, FL_WARN_OVERSIZE, rec->file, line,
                         "%s:%llu: entry fields exceed %d bytes", rec->file,
                         (unsigned long long)line, FL_ENTRY_MAX_STORE);
        } else {
            fl_diag_warn(r->diag, FL_WARN_MALFORMED, rec->file, line, "%s:%llu: %s", rec->file,
                         (unsigned long long)line, b->errs.data + rec->err);
        }
    }
    if (b->chunked) {
        r->chunk_line = base + b->chunk_lines;
        /* A worker read zeros where the file had been cut after the reader passed by. */
        if (b->map && fl_filemap_shrunk(b->map, -1) && fl_filemap_claim_report(b->map))
            fl_filemap_warn_shrunk(r->diag, b->file);
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
    if (rc == 0 && last && (rc = pass_on(r, b, b->n)) == 0)
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
    fl_free(r->carry);
    fl_splitter_free(r->sp);
    fl_multiline_free(r->ml);
    fl_pathlist_free(&r->inputs);
    fl_gcs_free(r->gcs);
    fl_free(r);
}
