/* ingest/: where entries come from.
 *
 * Batch input (files, directories, stdin; plain, .gz, .zst; gcloud JSON arrays or NDJSON,
 * auto-detected) is read as a stream by fl_reader. Live sources (Kafka, Pub/Sub, Cloud Logging
 * API, followed files) deliver raw LogEntry JSON records that are parsed with fl_entry_parse.
 * Memory stays bounded whatever the input size: one record at a time, each with a size cap.
 */
#ifndef FL_INGEST_H
#define FL_INGEST_H

#include "fl_common.h"
#include "fl_diag.h"
#include "fl_entry.h"
#include "fl_http.h"

/* Largest single record (one NDJSON line or one array element). Cloud Logging caps an entry at
 * 256 KiB; anything past this is skipped and counted as oversize. */
#define FL_RECORD_MAX (1024 * 1024)

typedef struct fl_reader_opts {
    size_t record_max;   /* 0: FL_RECORD_MAX */
    bool no_multiline;   /* don't reassemble split stack traces */
    bool slow_json;      /* use the jansson reference parser instead of the fast reader */
    unsigned shard_index; /* read only the files of shard shard_index of shard_count */
    unsigned shard_count; /* 0 or 1: every file (see fl_shard_of) */
    const char *storage_emulator_host; /* gs:// inputs go there, without credentials */
    const fl_auth_env *auth; /* gs:// credentials (the CLI fills it from the environment) */
    bool no_mmap; /* read files with read(2), never in place (the CLI: FL_NO_MMAP=1) */
} fl_reader_opts;

/* The shard (0..count-1) a file belongs to: FNV-1a-64 of its path relative to the input
 * argument, modulo count (docs/scale.md). */
unsigned fl_shard_of(const char *relpath, unsigned count);
/* The string fl_shard_of hashes for a file found through input argument arg: the path below
 * a directory argument, or the base name of a file argument. */
const char *fl_shard_relpath(const char *arg, const char *path);

typedef struct fl_reader fl_reader;

/* Opens the inputs: paths of files ("-" for stdin), directories (walked recursively in
 * sorted order, as a log sink lays them out) or gs://BUCKET/PREFIX (every object under the
 * prefix, listed and streamed through the Cloud Storage JSON API, ingest/gcs/). Unreadable paths are reported to diag and
 * skipped; the call fails (FL_ENOTFOUND) only if nothing at all can be opened.
 * diag must outlive the reader. */
int fl_reader_open(fl_reader **out, const char *const *paths, size_t n_paths,
                   const fl_reader_opts *opts, fl_diag *diag);
/* Reads the next entry into e (cleared first). Returns 1 for an entry, 0 at the end of all
 * inputs, or a negative FL_E* code on a fatal error. Malformed, oversize and truncated input is
 * reported to diag and skipped; it never ends the run. Split stack traces (same instance,
 * same second, continuation lines) come out as one entry. */
int fl_reader_next(fl_reader *r, fl_entry *e);
void fl_reader_free(fl_reader *r);

/* Parses one LogEntry JSON object (bytes need not be NUL-terminated) into e (cleared first),
 * following the mapping in fl_entry.h. A Pub/Sub push envelope ({"message":{"data":base64}})
 * is unwrapped first. Returns 0, FL_EPARSE (errbuf gets "line 1 column 17: ...") or
 * FL_ETOOBIG. */
int fl_entry_parse(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen);
/* The jansson reference implementation of the same mapping (slow path and test oracle). */
int fl_entry_parse_jansson(const char *buf, size_t len, fl_entry *e, char *errbuf,
                           size_t errlen);
/* True when a line without a severity clearly reports an error (a traceback, a panic, a level
 * word such as ERROR or FATAL in its prefix, "Error: ..."), and is not one of the healthy
 * look-alikes ("error_count=0", "level=info msg=\"no error\""). The readers raise DEFAULT
 * container entries for which it holds to ERROR; docs/loggers.md lists what it takes. */
bool fl_text_looks_error(const char *s, size_t n);
/* Both keep an entry whose only defects are invalid UTF-8, "\u0000", an unpaired surrogate or
 * an out-of-range number (replaced; e->fixes says which) and ignore a timestamp that is not
 * RFC 3339. This describes e->fixes for a warning ("invalid UTF-8 replaced by U+FFFD; ...").
 * Returns the length written. */
size_t fl_entry_fixes_text(unsigned fixes, char *buf, size_t cap);

/* ---- Multi-line reassembly (ingest/multiline.c) ----
 * Cloud Run writes each line a container prints as its own entry; this joins a split stack
 * trace back into one entry (the first line's metadata, the highest severity). Batch reading
 * runs it inside fl_reader; `tail` (src/engine/live.c) runs the same assembler on what its
 * sources deliver. Memory is bounded: at most 8 traces open at once (one per instance, service,
 * revision and log), 256 entries and 64 KiB of joined text per trace (then the trace is cut,
 * with "…[truncated]", and fl_multiline_capped counts it). */
typedef struct fl_multiline fl_multiline;

int fl_multiline_new(fl_multiline **out);
void fl_multiline_free(fl_multiline *ml);
/* Takes the content of *e (swapping storage; e is left cleared but usable). Entries that are
 * not container output pass straight through to the output queue. */
int fl_multiline_push(fl_multiline *ml, fl_entry *e);
/* Marks the end of input: everything held is released. */
int fl_multiline_flush(fl_multiline *ml);
/* Releases, oldest first, every trace whose first line was pushed more than age pushes ago
 * (age 0: all; a push counts an entry that a trace took or started). Deterministic, so a live
 * caller that journals (age) can replay the same cut. Returns the number of traces released
 * or a negative code. */
int fl_multiline_flush_age(fl_multiline *ml, uint64_t age);
/* Moves the next finished entry into e (1), or returns 0 when none is ready. */
int fl_multiline_pop(fl_multiline *ml, fl_entry *e);
/* True when pushing e would hand it straight back by the next pop: nothing is queued, e is
 * not a line reassembly joins (a request log, say) and no held trace goes stale now. The
 * caller may then keep e and skip push and pop (the common case, issue 15). */
bool fl_multiline_passes(const fl_multiline *ml, const fl_entry *e);
/* Pushes that went into traces so far: the clock fl_multiline_flush_age counts in. */
uint64_t fl_multiline_pushed(const fl_multiline *ml);
/* Entries held in open traces. */
size_t fl_multiline_held(const fl_multiline *ml);
/* Traces cut at a cap so far. */
uint64_t fl_multiline_capped(const fl_multiline *ml);
/* One warning in d when traces were cut at a cap (call once, at the end of the input). */
void fl_multiline_warn_caps(const fl_multiline *ml, fl_diag *d);

/* ---- Parallel reading ----
 * The same pipeline as fl_reader_next, cut into stages so that several threads can share it:
 *   one at a time   fl_reader_fill: I/O and decompression only. NDJSON goes out as a chunk of
 *                   whole lines (about FL_BATCH_BYTES; a mapped file's chunk points into the
 *                   mapping, nothing is copied); other formats as a batch of records it cut;
 *   any thread      fl_batch_parse: cuts a chunk into records, counting lines from the
 *                   chunk's start, and parses the batch's records;
 *   in input order  fl_reader_reassemble: adds the line where the chunk starts, multi-line
 *                   reassembly across batches, warnings and counts; the finished entries
 *                   become the batch's output;
 *   any thread      fl_batch_entry: classify / aggregate the output.
 * Entries, warnings (same order, same file:line) and counts are exactly those of
 * fl_reader_next. A batch of cut records holds at most FL_BATCH_RECORDS records and about
 * FL_BATCH_BYTES of record bytes (plus one record); a chunk holds as many lines as fit in
 * about FL_BATCH_BYTES (one line more when it is longer). */
#define FL_BATCH_RECORDS 512
#define FL_BATCH_BYTES (256 * 1024)

typedef struct fl_batch fl_batch;

int fl_batch_new(fl_batch **out);
void fl_batch_free(fl_batch *b);
/* One thread at a time (any thread, the calls in sequence). Clears b and fills it with the
 * next records. Returns 1 (b holds something, maybe only warnings), 0 at the end of all
 * inputs (b is empty), or < 0. */
int fl_reader_fill(fl_reader *r, fl_batch *b);
/* b is a chunk fl_reader_fill read from a stream (decompressed, or from a pipe): reading it
 * cost about as much as parsing it. A mapped file's chunk, and records, are not. */
bool fl_batch_streamed(const fl_batch *b);
/* Parses b's records (any thread, one batch per thread at a time). Returns 0 or FL_ENOMEM. */
int fl_batch_parse(fl_batch *b);
/* Called once per batch in the order fl_reader_fill produced them, never concurrently:
 * reports b's warnings, counts its entries and runs them through multi-line reassembly. The
 * entries that are finished become b's output (they may include entries of earlier batches).
 * last: the input has ended; everything held back is released into b (b may be empty). */
int fl_reader_reassemble(fl_reader *r, fl_batch *b, bool last);
/* b's output after fl_reader_reassemble (which consumes the records: a second call on the
 * same batch only flushes). */
size_t fl_batch_count(const fl_batch *b);
const fl_entry *fl_batch_entry(const fl_batch *b, size_t i);

#endif
