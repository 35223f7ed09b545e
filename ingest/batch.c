/* Batches of raw records for the parallel reader: the filling worker copies records in
 * (fl_reader_fill, reader.c), any thread parses them (fl_batch_parse, here), and reassembly
 * (fl_reader_reassemble, reader.c) turns them into finished entries in the batch's output.
 * Storage is kept from one use to the next; only what grew well past the usual size (a batch
 * that held a near-cap record, an entry with a huge message) is given back. */
#include "ingest_internal.h"
#include "json/json_internal.h"

#include <string.h>

#define ERR_LEN 256
#define RELEASE_SHIFT 22
/* Entries keep storage up to this between batches. Every slot of every batch in flight keeps
 * what it grew to ((2 x threads + 1) batches x 1,024 slots), so this is per-slot memory times
 * 5,120 with two threads: at 64 KiB a long input's rare big entries (stack traces) made peak
 * RSS creep up with the input size (+5 MiB from 100 MB to 3 GB) with no bound short of
 * 320 MiB. Entries over 4 KiB are a few per 100,000 in flgen --bench, so giving them back
 * costs nothing measurable. */
#define KEEP_STORE 1024

/* Grows the record slots to hold at least want (a chunk of short lines needs more than
 * FL_BATCH_RECORDS). Returns 0 or FL_ENOMEM. */
static int grow_records(fl_batch *b, size_t want)
{
    if (want <= b->rec_cap)
        return 0;
    size_t cap = FL_MAX(want, b->rec_cap * 2);
    fl_batch_rec *rec = fl_realloc(b->rec, cap * sizeof(*rec));
    if (!rec)
        return FL_ENOMEM;
    b->rec = rec;
    fl_entry *ent = fl_realloc(b->ent, cap * sizeof(*ent));
    if (!ent)
        return FL_ENOMEM;
    for (size_t i = b->rec_cap; i < cap; i++)
        fl_entry_init(&ent[i]);
    b->ent = ent;
    b->rec_cap = cap;
    return 0;
}

/* Gives back record slots grown far past the usual count. */
static void shrink_records(fl_batch *b)
{
    if (b->rec_cap <= 4 * FL_BATCH_RECORDS)
        return;
    for (size_t i = FL_BATCH_RECORDS; i < b->rec_cap; i++)
        fl_entry_free(&b->ent[i]);
    fl_batch_rec *rec = fl_realloc(b->rec, FL_BATCH_RECORDS * sizeof(*rec));
    fl_entry *ent = fl_realloc(b->ent, FL_BATCH_RECORDS * sizeof(*ent));
    if (rec)
        b->rec = rec;
    if (ent)
        b->ent = ent;
    b->rec_cap = FL_BATCH_RECORDS;
    fl_free(b->outx); /* grown with the records: it grows again as needed */
    b->outx = NULL;
    b->outx_cap = 0;
}

int fl_batch_new(fl_batch **out)
{
    *out = NULL;
    fl_batch *b = fl_calloc(1, sizeof(*b));
    if (!b)
        return FL_ENOMEM;
    if (grow_records(b, FL_BATCH_RECORDS) != 0) {
        fl_free(b->rec);
        fl_free(b);
        return FL_ENOMEM;
    }
    fl_buf_init(&b->errs, (size_t)FL_BATCH_RECORDS * ERR_LEN);
    fl_diag_init(&b->stage);
    *out = b;
    return 0;
}

void fl_batch_free(fl_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->rec_cap; i++)
        fl_entry_free(&b->ent[i]);
    fl_free(b->ent);
    fl_free(b->rec);
    fl_free(b->long_at);
    fl_filemap_unref(b->map);
    for (size_t i = 0; i < b->out_cap; i++)
        fl_entry_free(&b->out[i]);
    fl_free(b->out);
    fl_free(b->outx);
    fl_free(b->data);
    fl_buf_free(&b->errs);
    fl_diag_free(&b->stage);
    fl_free(b);
}

/* Gives back storage that a rare huge entry grew. Done slot by slot as it is reused (no
 * clearing either: the parser clears an entry before filling it, reassembly's pop replaces
 * an output slot's content), so that resetting a batch costs the filling worker, the one
 * every batch waits for, nothing per entry. */
static void trim(fl_entry *e)
{
    if (e->store_cap > KEEP_STORE)
        fl_entry_free(e);
}

void fl_batch_reset(fl_batch *b)
{
    b->n = b->len = b->n_out = b->n_slots = 0;
    b->chunked = false;
    b->chunk = NULL;
    b->chunk_len = 0;
    b->n_long = 0;
    b->drop_tail = false;
    b->chunk_first = false;
    fl_filemap_unref(b->map);
    b->map = NULL;
    shrink_records(b);
    if (b->cap > 2 * FL_BATCH_BYTES) {
        fl_free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
    fl_buf_reset(&b->errs);
    fl_diag_free(&b->stage);
    fl_diag_init(&b->stage);
}

int fl_batch_add(fl_batch *b, const char *rec, size_t len, uint64_t line, const char *file)
{
    if (b->n == b->rec_cap)
        return FL_ENOMEM; /* the reader checks first: cannot happen */
    if (b->len + len > b->cap) {
        size_t cap = FL_MAX(b->len + len, (size_t)FL_BATCH_BYTES + 4096);
        char *p = fl_realloc(b->data, cap);
        if (!p)
            return FL_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, rec, len);
    fl_batch_rec *r = &b->rec[b->n++];
    r->off = b->len;
    r->len = len;
    r->line = line;
    r->file = file;
    r->warn_before = b->stage.n_warnings;
    r->rc = 0;
    r->err = 0;
    b->len += len;
    return 0;
}

fl_entry *fl_batch_next_entry(fl_batch *b)
{
    if (b->n == b->rec_cap)
        return NULL;
    trim(&b->ent[b->n]);
    return &b->ent[b->n];
}

int fl_batch_add_parsed(fl_batch *b, uint64_t line, const char *file)
{
    if (b->n == b->rec_cap)
        return FL_ENOMEM; /* the reader checks first: cannot happen */
    fl_batch_rec *r = &b->rec[b->n];
    b->ent[b->n].src_file = file;
    b->ent[b->n].src_line = line;
    b->n++;
    r->off = r->len = 0;
    r->line = line;
    r->file = file;
    r->warn_before = b->stage.n_warnings;
    r->rc = FL_BATCH_PARSED;
    r->err = 0;
    return 0;
}

/* Parses record i where its bytes lie (base: data, or the chunk). Returns 0 or FL_ENOMEM (a
 * record that fails keeps its message in errs). */
static int parse_rec(fl_batch *b, const char *base, size_t i)
{
    fl_batch_rec *r = &b->rec[i];
    fl_entry *e = &b->ent[i];
    char err[ERR_LEN];
    err[0] = '\0';
    trim(e);
    r->rc = b->slow_json ? fl_entry_parse_jansson(base + r->off, r->len, e, err, sizeof err)
                         : fl_entry_parse(base + r->off, r->len, e, err, sizeof err);
    if (r->rc == 0) {
        e->src_file = r->file;
        e->src_line = r->line;
    } else if (r->rc == FL_ENOMEM) {
        return FL_ENOMEM;
    } else {
        r->err = b->errs.len;
        if (fl_buf_add(&b->errs, err, strlen(err) + 1) < 0)
            return FL_ENOMEM;
    }
    return 0;
}

static int cut_and_parse(fl_batch *b);

int fl_batch_parse(fl_batch *b)
{
    if (b->chunked) {
        if (cut_and_parse(b) != 0)
            return FL_ENOMEM;
    } else {
        for (size_t i = 0; i < b->n; i++) {
            fl_batch_rec *r = &b->rec[i];
            if (r->rc == FL_BATCH_OVERSIZE)
                continue;
            if (r->rc == FL_BATCH_PARSED) {
                r->rc = 0;
                continue;
            }
            if (parse_rec(b, b->data, i) != 0)
                return FL_ENOMEM;
        }
    }
    /* Mapped pages that were read leave the resident set, 4 MiB at a time (each madvise
     * costs every other core running a worker a TLB-flush interrupt; at 1 MiB that was 256
     * interrupts per 256 MB): when this chunk crosses a 4 MiB boundary, the 4 MiB before the
     * one it leaves go. The few batches in flight (1.25 MiB with two threads) are all within
     * it, and a page dropped early is read again, never lost. Done here, by the worker that
     * parsed it. Up to 8 MiB of the file stays resident (docs/PERFORMANCE.md). */
    if (b->map) {
        size_t from = b->map_off >> RELEASE_SHIFT;
        size_t to = (b->map_off + b->chunk_len) >> RELEASE_SHIFT;
        if (to > from && to >= 2)
            fl_filemap_release(b->map, (FL_MAX(from, 1) - 1) << RELEASE_SHIFT,
                               (to - 1) << RELEASE_SHIFT);
    }
    return 0;
}

static int add_line(fl_batch *b, size_t off, size_t len, uint64_t line, int rc)
{
    if (b->n == b->rec_cap && grow_records(b, b->n + 1) != 0)
        return FL_ENOMEM;
    fl_batch_rec *r = &b->rec[b->n++];
    r->off = off;
    r->len = len;
    r->line = line;
    r->file = b->file;
    r->warn_before = b->warn_before;
    r->rc = rc;
    r->err = 0;
    return 0;
}

/* The line at c + pos parsed where it lies into the next record's entry, as the splitter does
 * (format.c next_ndjson_entry): 1 with *line_len set when it was one valid LogEntry, 0 when
 * the line must be cut and parsed the usual way, or FL_ENOMEM. */
static int parse_line(fl_batch *b, size_t pos, uint64_t line, size_t *line_len)
{
    if (b->n == b->rec_cap && grow_records(b, b->n + 1) != 0)
        return FL_ENOMEM;
    fl_entry *e = &b->ent[b->n];
    trim(e);
    size_t obj, obj_len;
    if (fl_entry_parse_fast_line(b->chunk + pos, b->chunk_len - pos, b->record_max, e, &obj,
                                 &obj_len, line_len) != 0)
        return 0;
    e->src_file = b->file;
    return add_line(b, pos + obj, obj_len, line, 0) != 0 ? FL_ENOMEM : 1;
}

/* Cuts the chunk into records with the same cut as the splitter's NDJSON reader (format.c
 * next_ndjson), line by line. A line that is one valid LogEntry is parsed where it lies and the
 * parse finds its end (no separate pass for its '\n'); any other line is cut at its '\n' and
 * parsed at once, while its bytes are still in the core's first-level cache. */
static int cut_and_parse(fl_batch *b)
{
    const char *c = b->chunk;
    size_t len = b->chunk_len, pos = 0, k = 0;
    uint64_t line = 0;
    b->n = 0;
    while (pos < len) {
        size_t line_len;
        int parsed = b->slow_json || (k < b->n_long && b->long_at[k] == pos)
                         ? 0
                         : parse_line(b, pos, line, &line_len);
        if (parsed < 0)
            return parsed;
        if (parsed > 0) {
            line++;
            pos += line_len + 1;
            continue;
        }
        const char *nl = memchr(c + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - c) : len;
        if (k < b->n_long && b->long_at[k] == pos) {
            if (add_line(b, pos, 0, line, FL_BATCH_OVERSIZE) != 0)
                return FL_ENOMEM;
            k++;
        } else if (nl || !b->drop_tail) {
            const char *rec = c + pos;
            size_t n = end - pos;
            fl_trim_line(&rec, &n);
            int rc = n > b->record_max ? FL_BATCH_OVERSIZE : 0;
            if (n && add_line(b, (size_t)(rec - c), n, line, rc) != 0)
                return FL_ENOMEM;
            if (n && rc == 0 && parse_rec(b, c, b->n - 1) != 0)
                return FL_ENOMEM;
        }
        if (!nl)
            break;
        line++;
        pos = end + 1;
    }
    /* An over-long last line the reader dropped whole (no byte of it is in the chunk). */
    if (k < b->n_long && b->long_at[k] == len && add_line(b, len, 0, line, FL_BATCH_OVERSIZE) != 0)
        return FL_ENOMEM;
    b->chunk_lines = line;
    return 0;
}

fl_entry *fl_batch_out_slot(fl_batch *b)
{
    if (b->n_slots == b->out_cap) {
        size_t cap = b->out_cap ? b->out_cap * 2 : 64;
        fl_entry *p = fl_realloc(b->out, cap * sizeof(*p));
        if (!p)
            return NULL;
        for (size_t i = b->out_cap; i < cap; i++)
            fl_entry_init(&p[i]);
        b->out = p;
        b->out_cap = cap;
    }
    trim(&b->out[b->n_slots]);
    return &b->out[b->n_slots];
}

int fl_batch_put(fl_batch *b, size_t i)
{
    if (b->n_out == b->outx_cap) {
        size_t cap = FL_MAX(b->outx_cap * 2, (size_t)FL_BATCH_RECORDS);
        size_t *p = fl_realloc(b->outx, cap * sizeof(*p));
        if (!p)
            return FL_ENOMEM;
        b->outx = p;
        b->outx_cap = cap;
    }
    if (i == FL_BATCH_SLOT)
        i |= b->n_slots++;
    b->outx[b->n_out++] = i;
    return 0;
}

size_t fl_batch_count(const fl_batch *b)
{
    return b->n_out;
}

const fl_entry *fl_batch_entry(const fl_batch *b, size_t i)
{
    if (i >= b->n_out)
        return NULL;
    size_t x = b->outx[i];
    return x & FL_BATCH_SLOT ? &b->out[x & ~FL_BATCH_SLOT] : &b->ent[x];
}
