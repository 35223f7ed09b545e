/* Pieces of the batch reader that the files of ingest/ share: byte streams (plain, gzip, zstd,
 * chosen by magic bytes), the record splitter (NDJSON, gcloud arrays, concatenated objects),
 * the directory walk and multi-line reassembly. Not part of the public API. */
#ifndef FL_INGEST_INTERNAL_H
#define FL_INGEST_INTERNAL_H

#include "fl_ingest.h"

#include <sys/types.h>

/* Size of one read from a file and of the compressed-input buffer: small enough that what
 * was just read is still in the core's cache when it is split and parsed. */
#define FL_READ_CHUNK (256 * 1024)

/* ---- streams (stream.c, stream_gzip.c, stream_zstd.c) ---- */

typedef struct fl_stream fl_stream;

/* Opens path ("-" is stdin) and picks the decoder from the first bytes; a plain regular file
 * is mapped unless no_mmap. On failure the cause is reported to diag as FL_WARN_UNREADABLE
 * and FL_EIO or FL_ENOTFOUND is returned. */
int fl_stream_open(fl_stream **out, const char *path, bool no_mmap, fl_diag *diag);
/* Where a stream's bytes come from when it is not a file: read returns > 0 bytes, 0 at the
 * end, or < 0 with a message in err (the stream reports it as truncated); close frees ctx. */
typedef struct fl_stream_source {
    ssize_t (*read)(void *ctx, char *buf, size_t n, char *err, size_t errlen);
    void (*close)(void *ctx);
    void *ctx;
} fl_stream_source;

/* As fl_stream_open, over src (owned by the stream from now on, also on failure). */
int fl_stream_open_source(fl_stream **out, const char *name, fl_stream_source src,
                          fl_diag *diag);
/* Reads up to n decoded bytes into buf. Returns the count (> 0), 0 at the end of the data
 * (clean, or at the damage of a truncated/corrupt stream: see fl_stream_damaged). */
ssize_t fl_stream_read(fl_stream *s, char *buf, size_t n);
/* True once the stream has ended early; the damage was reported to diag as TRUNCATED. A
 * mapped file is damaged when it shrank while it was read (looked up on each call). */
bool fl_stream_damaged(fl_stream *s);
const char *fl_stream_name(const fl_stream *s);
/* Where the stream reports from now on (the parallel reader stages warnings per batch). */
void fl_stream_set_diag(fl_stream *s, fl_diag *diag);
void fl_stream_close(fl_stream *s);

/* ---- mapped files (filemap.c) ----
 * A regular uncompressed file (1 MiB or more) is mapped read-only and read in place,
 * without the copy of read(2). Whoever points into the mapping holds a reference. A file
 * truncated while it is read does not crash the run: pages past its new end read as zeros
 * and the mapping is flagged (a SIGBUS handler, filemap.c); the stream then reports itself
 * truncated. fl_reader_opts no_mmap (FL_NO_MMAP=1 in the CLI) turns mapping off. */
typedef struct fl_filemap fl_filemap;

/* Maps fd when it is a regular file of 1 MiB or more; NULL when it cannot or should not be. */
fl_filemap *fl_filemap_open(int fd);
const char *fl_filemap_data(const fl_filemap *m);
size_t fl_filemap_len(const fl_filemap *m);
void fl_filemap_ref(fl_filemap *m);
void fl_filemap_unref(fl_filemap *m);
/* Drops the pages of [from, to) from the process (they are read again if touched): what was
 * read does not stay in the resident set. */
void fl_filemap_release(fl_filemap *m, size_t from, size_t to);
/* How many times fl_filemap_release gave pages back, in this process: each call is one
 * madvise, and with several threads one TLB-flush interrupt to every other core. */
size_t fl_filemap_release_calls(void);
/* True when the file was found shorter than mapped (fd >= 0: also checks its size now). */
bool fl_filemap_shrunk(fl_filemap *m, int fd);
/* True once: the caller reports the shrinking. */
bool fl_filemap_claim_report(fl_filemap *m);
/* The warning for a file that shrank while it was read (TRUNCATED, naming the file). */
void fl_filemap_warn_shrunk(fl_diag *d, const char *name);

/* The mapping of a plain file stream, or NULL (stdin, pipes, compressed, FL_NO_MMAP). */
fl_filemap *fl_stream_map(const fl_stream *s);
/* Bytes of the mapping handed out so far. */
size_t fl_stream_map_pos(const fl_stream *s);
/* n more bytes of the mapping were handed out in place: counted as read. */
void fl_stream_take(fl_stream *s, size_t n);
/* Reports (once per file) that the mapped file shrank while it was read. */
void fl_stream_map_damage(fl_stream *s);

/* Decoder back ends. They pull compressed bytes through fl_stream_raw_fill. */
typedef struct fl_codec {
    const char *name;
    int (*init)(fl_stream *s, void **state);
    ssize_t (*read)(fl_stream *s, void *state, char *buf, size_t n);
    void (*free)(void *state);
} fl_codec;

extern const fl_codec fl_codec_gzip;
extern const fl_codec fl_codec_zstd;

/* The compressed-input window of a stream, for codecs: [*data, *data + *len) is unread. */
typedef struct fl_raw {
    unsigned char *buf;
    size_t pos; /* first unread byte */
    size_t len; /* end of valid bytes */
    size_t cap;
    bool eof;
    uint64_t total; /* compressed bytes read so far */
} fl_raw;

fl_raw *fl_stream_raw(fl_stream *s);
/* Reads more compressed bytes, keeping the unread ones. Returns 0, or FL_EIO (reported). */
int fl_stream_raw_fill(fl_stream *s);
/* A codec calls this when the data ends early or is corrupt; it is reported once. */
void fl_stream_damage(fl_stream *s, const char *what);
/* Reports something odd but harmless about the stream (FL_WARN_OTHER). */
void fl_stream_notice(fl_stream *s, const char *what);
/* Decoded bytes handed out so far (for the damage message). */
uint64_t fl_stream_decoded(const fl_stream *s);

/* ---- record splitter (format.c) ---- */

typedef enum {
    FL_FMT_UNKNOWN = 0,
    FL_FMT_NDJSON,
    FL_FMT_ARRAY,
    FL_FMT_CONCAT,
    FL_FMT_YAML,    /* `gcloud logging read` without --format=json: "---"-separated YAML */
    FL_FMT_FOREIGN, /* recognised but not LogEntry JSON (gcloud text lines): one warning */
} fl_format;

typedef struct fl_splitter fl_splitter;

int fl_splitter_new(fl_splitter **out, size_t record_max, fl_diag *diag);
void fl_splitter_free(fl_splitter *sp);
/* Where the splitter reports from now on. */
void fl_splitter_set_diag(fl_splitter *sp, fl_diag *diag);
/* Starts on a new stream (not owned). */
void fl_splitter_begin(fl_splitter *sp, fl_stream *s);
/* Next record of the current stream: 1 with rec/len/line set (valid until the next call), 0 at
 * the end of the stream. Oversize and unbalanced records are reported to diag and skipped. */
int fl_splitter_next(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line);
/* Like fl_splitter_next, but an NDJSON line or an element of a gcloud array or of concatenated
 * objects may come back already parsed into e (*parsed true, as fl_entry_parse would have parsed
 * it): its bytes are then read once. *parsed false: parse rec as usual. e NULL: never parsed. */
int fl_splitter_next_entry(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line,
                           fl_entry *e, bool *parsed);
/* The format detected for the current stream (after the first call to next). */
fl_format fl_splitter_format(const fl_splitter *sp);
/* Detects the current stream's format now (reading what that needs) and returns it. */
fl_format fl_splitter_detect(fl_splitter *sp);
/* For a reader that cuts the stream itself (NDJSON chunks, reader.c): the bytes the splitter
 * holds and has not handed out, [*p, *p + *n) (after a BOM). For a mapped file that is the
 * rest of the file. They are the caller's now; valid until the splitter is used again. */
void fl_splitter_take_rest(fl_splitter *sp, const char **p, size_t *n);

/* ---- directory walk (walk.c) ---- */

typedef struct fl_file_seen fl_file_seen; /* walk.c: (device, inode) of what was read */

typedef struct fl_pathlist {
    char **paths;
    size_t n;
    size_t cap;
    fl_file_seen *seen; /* open-addressing set, so a file or directory is read only once */
    size_t n_seen, cap_seen;
} fl_pathlist;

/* Appends path to list: a directory is walked recursively in strcmp order (hidden entries
 * skipped), other paths are appended as given. Symbolic links are followed, but every file and
 * directory is taken once by (device, inode): a link loop or a second name of the same file is
 * a warning, never a second read. Unreadable paths go to diag.
 * Returns 0, FL_ENOMEM, or FL_ENOTFOUND when path itself could not be used. */
int fl_walk_add(fl_pathlist *list, const char *path, fl_diag *diag);
void fl_pathlist_free(fl_pathlist *list);
/* Keeps, of list->paths[from..], the files of shard index of count (found through input
 * argument arg); frees the others (shard.c). */
void fl_shard_filter(fl_pathlist *list, size_t from, const char *arg, unsigned index,
                     unsigned count);

/* ---- multi-line reassembly (multiline.c; the rest of its interface is in fl_ingest.h) ---- */

/* fl_multiline_passes, then fl_multiline_push when e does not pass, in one call: 1 when e
 * passes (the caller keeps it, nothing was pushed), 0 when it was pushed, or < 0. Whether e
 * is a line reassembly joins is found once (that test was run twice for every container
 * line, issue 15). Unlike push, a taken e is not cleared: it keeps storage to reuse, but
 * its fields are stale and must not be read before it is filled again (parsed, popped
 * into) or cleared; fl_entry_free is fine. The readers refill it at once. */
int fl_multiline_offer(fl_multiline *ml, fl_entry *e);

/* Copies of an entry's struct reassembly made so far: one when a line is taken in, one when
 * it is popped (tests count them, issue 15). */
uint64_t fl_multiline_moved(const fl_multiline *ml);

/* ---- batches of raw records (batch.c; filled and reassembled by reader.c) ---- */

typedef struct fl_batch_rec {
    size_t off, len;      /* bytes in data (or in chunk) */
    uint64_t line;        /* first line of the record in its file (in a chunk: from its start) */
    const char *file;     /* the reader's name of the input */
    size_t warn_before;   /* warnings staged before this record was cut */
    int rc;               /* parse result; FL_BATCH_OVERSIZE: a line over record_max */
    size_t err;           /* parse message: offset in errs, when rc < 0 */
} fl_batch_rec;

/* rc of a chunk's line that is longer than record_max (reported, not parsed). */
#define FL_BATCH_OVERSIZE 1
/* rc of a record the reader already parsed into its entry (fl_batch_parse leaves it). */
#define FL_BATCH_PARSED 2

struct fl_batch {
    char *data; /* record bytes back to back, or the bytes of a chunk read from a stream */
    size_t len, cap;
    fl_batch_rec *rec;
    fl_entry *ent; /* parsed records */
    size_t n, rec_cap;
    bool slow_json;
    fl_buf errs;   /* parse messages, each NUL-terminated */
    fl_diag stage; /* what reading reported while the batch was cut, replayed in order */
    /* Finished entries, after reassembly, in order: an entry that passed reassembly untouched
     * is its parsed slot in ent (not moved: no copy, and it stays in the cache of the core
     * that parsed it); one that reassembly held or joined is a slot of out. */
    size_t *outx; /* i: ent[i]; FL_BATCH_SLOT | i: out[i] */
    size_t n_out, outx_cap;
    fl_entry *out;
    size_t n_slots, out_cap;

    /* Chunk mode (NDJSON): the reader hands over whole lines of one file and the worker cuts
     * them into records (fl_batch_parse); reassembly adds the line where the chunk starts. */
    bool chunked;
    const char *chunk;    /* the lines: into data, or into a mapped file */
    size_t chunk_len;
    fl_filemap *map;      /* held while chunk points into it */
    size_t map_off;       /* where chunk starts in the mapping */
    const char *file;     /* the reader's name of the input */
    bool chunk_first;     /* the file's first chunk: it starts at line 1 */
    bool drop_tail;       /* a last line without '\n' is the partial tail of damage: dropped */
    size_t record_max;
    size_t warn_before;   /* staged warnings that come before the chunk's records */
    uint64_t chunk_lines; /* '\n' in the chunk (set when it is cut) */
    size_t *long_at;      /* stream chunks: offsets of lines the reader found over record_max */
    size_t n_long, long_cap;
};

/* Empties b, keeping its storage (but not storage grown far past the usual size). */
void fl_batch_reset(fl_batch *b);
/* Appends a record; returns 0 or FL_ENOMEM. */
int fl_batch_add(fl_batch *b, const char *rec, size_t len, uint64_t line, const char *file);
/* The entry the next record of b is parsed into, for a reader that parses where the record
 * lies (gcloud arrays); fl_batch_add_parsed then appends it without its bytes. */
fl_entry *fl_batch_next_entry(fl_batch *b);
int fl_batch_add_parsed(fl_batch *b, uint64_t line, const char *file);
#define FL_BATCH_SLOT ((size_t)1 << (sizeof(size_t) * 8 - 1))
/* Next free output slot (grown as needed), or NULL when out of memory. */
fl_entry *fl_batch_out_slot(fl_batch *b);
/* Appends to b's output parsed record i (FL_BATCH_SLOT: the slot fl_batch_out_slot gave).
 * Returns 0 or FL_ENOMEM. */
int fl_batch_put(fl_batch *b, size_t i);

/* One YAML document of gcloud's default output to LogEntry JSON (ingest/yaml.c), into out
 * (reset first). Returns 0, FL_EPARSE with a message naming the line, FL_ETOOBIG or
 * FL_ENOMEM. */
int fl_yaml_to_json(const char *doc, size_t n, fl_buf *out, char *errbuf, size_t errlen);

/* JSON whitespace: the blanks an NDJSON line may carry around its record. */
static inline bool fl_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Narrows [*p, *p + *n) to the NDJSON record it holds: no leading or trailing whitespace. Both
 * ways of cutting lines (the splitter's, and a worker's on a chunk) trim with this. */
static inline void fl_trim_line(const char **p, size_t *n)
{
    const char *s = *p;
    size_t k = *n;
    while (k > 0 && fl_json_ws(s[k - 1]))
        k--;
    while (k > 0 && fl_json_ws(*s)) {
        s++;
        k--;
    }
    *p = s;
    *n = k;
}

#endif
