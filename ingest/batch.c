/* Batches of raw records for the parallel reader: the reader thread copies records in
 * (fl_reader_fill, reader.c), any thread parses them (fl_batch_parse, here), and reassembly
 * (fl_reader_reassemble, reader.c) turns them into finished entries in the batch's output.
 * Storage is kept from one use to the next; only what grew well past the usual size (a batch
 * that held a near-cap record, an entry with a huge message) is given back. */
#include "ingest_internal.h"
#include "json/json_internal.h"

#include <string.h>

#define ERR_LEN 256
/* Entries keep storage up to this between batches. Every slot of every batch in flight keeps
 * what it grew to ((2 x threads + 1) batches x 1,024 slots), so this is per-slot memory times
 * 5,120 with two threads: at 64 KiB a long input's rare big entries (stack traces) made peak
 * RSS creep up with the input size (+5 MiB from 100 MB to 3 GB) with no bound short of
 * 320 MiB. Entries over 4 KiB are a few per 100,000 in flgen --bench, so giving them back
 * costs nothing measurable. */
#define KEEP_STORE 1024

int fl_batch_new(fl_batch **out)
{
    *out = NULL;
    fl_batch *b = fl_calloc(1, sizeof(*b));
    if (!b)
        return FL_ENOMEM;
    for (size_t i = 0; i < FL_BATCH_RECORDS; i++)
        fl_entry_init(&b->ent[i]);
    fl_buf_init(&b->errs, (size_t)FL_BATCH_RECORDS * ERR_LEN);
    fl_diag_init(&b->stage);
    *out = b;
    return 0;
}

void fl_batch_free(fl_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < FL_BATCH_RECORDS; i++)
        fl_entry_free(&b->ent[i]);
    for (size_t i = 0; i < b->out_cap; i++)
        fl_entry_free(&b->out[i]);
    fl_free(b->out);
    fl_free(b->data);
    fl_buf_free(&b->errs);
    fl_diag_free(&b->stage);
    fl_free(b);
}

/* Gives back storage that a rare huge entry grew. Done on the workers, slot by slot as it is
 * reused (no clearing either: the parser clears an entry before filling it, reassembly clears
 * an output slot before moving an entry in), so that resetting a batch costs the reader
 * thread, the one every batch waits for, nothing per entry. */
static void trim(fl_entry *e)
{
    if (e->store_cap > KEEP_STORE)
        fl_entry_free(e);
}

void fl_batch_reset(fl_batch *b)
{
    b->n = b->len = b->n_out = 0;
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
    if (b->n == FL_BATCH_RECORDS)
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

int fl_batch_parse(fl_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        fl_batch_rec *r = &b->rec[i];
        fl_entry *e = &b->ent[i];
        char err[ERR_LEN] = "";
        trim(e);
        r->rc = b->slow_json ? fl_entry_parse_jansson(b->data + r->off, r->len, e, err, sizeof err)
                             : fl_entry_parse(b->data + r->off, r->len, e, err, sizeof err);
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
    }
    return 0;
}

fl_entry *fl_batch_out_slot(fl_batch *b)
{
    if (b->n_out == b->out_cap) {
        size_t cap = b->out_cap ? b->out_cap * 2 : FL_BATCH_RECORDS;
        fl_entry *p = fl_realloc(b->out, cap * sizeof(*p));
        if (!p)
            return NULL;
        for (size_t i = b->out_cap; i < cap; i++)
            fl_entry_init(&p[i]);
        b->out = p;
        b->out_cap = cap;
    }
    trim(&b->out[b->n_out]);
    return &b->out[b->n_out];
}

size_t fl_batch_count(const fl_batch *b)
{
    return b->n_out;
}

const fl_entry *fl_batch_entry(const fl_batch *b, size_t i)
{
    return i < b->n_out ? &b->out[i] : NULL;
}
