/* Live sources for `faultline tail`: Kafka, Pub/Sub, the Cloud Logging API, followed files and
 * stdin. One libuv loop drives every source.
 *
 * A source delivers raw LogEntry JSON records to a sink, one at a time. The sink parses,
 * de-duplicates and counts each record synchronously inside the callback. A source never
 * acknowledges a record by itself: it remembers what it delivered, and only when the consumer
 * calls ops->commit (after its counts are durable, see docs/tail.md) does it store Kafka
 * offsets, send Pub/Sub acknowledgements or write its file checkpoint. That ordering is what
 * makes delivery at-least-once; de-duplication by insertId turns it into counted-once.
 *
 * Each source is one folder exporting one descriptor: fl_ingest_kafka, fl_ingest_pubsub,
 * fl_ingest_cloudlogging, fl_ingest_follow, fl_ingest_stdin. Sources never print; they report
 * what a user should know through sink->event, already rate limited.
 */
#ifndef FL_LIVE_H
#define FL_LIVE_H

#include <stddef.h>

#include <uv.h>

#include "fl_common.h"
#include "fl_http.h"
#include "fl_json_str.h"

/* Largest single live record; Cloud Logging caps an entry at 256 KiB. */
#define FL_RECORD_MAX_LIVE (1024 * 1024)

typedef struct fl_live_source fl_live_source;

typedef enum { FL_LIVE_INFO = 0, FL_LIVE_WARN, FL_LIVE_ERROR } fl_live_level;

typedef struct fl_live_sink {
    /* One raw record (not NUL-terminated). The sink consumes it whatever it contains
     * (malformed records are counted as such); it returns 0, or a negative code only on a fatal
     * error such as out of memory. */
    int (*record)(void *ctx, fl_live_source *src, const char *data, size_t len);
    /* A message for the user (broker down, retrying, resumed). */
    void (*event)(void *ctx, fl_live_source *src, fl_live_level level, const char *msg);
    /* The source wants what it delivered acknowledged now: a batch ended, or it is about to
     * lose records it delivered but has not committed (a Kafka partition being revoked). The
     * sink makes its counts durable and calls ops->commit on src before returning. */
    void (*flush)(void *ctx, fl_live_source *src);
    void *ctx;
    /* A record over FL_RECORD_MAX_LIVE was skipped (its first bytes were never held); the
     * consumer counts it as input.oversize. NULL: only an event is sent. */
    void (*oversize)(void *ctx, fl_live_source *src);
} fl_live_sink;

/* Stage one of the two-stage Kafka pipeline (`tail --summaries-to`, docs/scale.md): the Kafka
 * source hands each record with its raw partition here instead of to fl_live_sink.record, and
 * the consumer keeps one delta (what was counted since the last take) per partition. */
typedef struct fl_live_delta_sink {
    /* Counts one raw record of raw partition `partition` into that partition's delta. Returns 0,
     * or a negative code on a fatal error. */
    int (*record)(void *ctx, int32_t partition, const char *data, size_t len);
    /* Appends the partition's delta as summary bytes (docs/summary-format.md) to out, sets
     * *newest to its newest entry's time (0: none), and starts the partition's delta empty. */
    int (*take)(void *ctx, int32_t partition, fl_buf *out, fl_time *newest);
    /* Forgets what the partition counted since the last take (it is going to be read again,
     * by this member or by the next owner). */
    void (*drop)(void *ctx, int32_t partition);
    void *ctx;
} fl_live_delta_sink;

/* Settings for one source; strings are borrowed for the source's lifetime. */
typedef struct fl_live_config {
    const char *target;       /* kafka: brokers; pubsub: projects/P/subscriptions/S;
                               * cloudlogging: the filter; follow: the file path */
    const char *topic;        /* kafka */
    const char *group;        /* kafka consumer group; NULL: "faultline" */
    const char *project;      /* cloudlogging */
    const char *state_dir;    /* checkpoints go here; NULL: none */
    const char *const *props; /* kafka: extra "key=value" client properties */
    size_t n_props;
    int poll_ms; /* follow/cloudlogging poll period; 0: source default */
    /* Set by the CLI from the environment (sources never read it): */
    const fl_auth_env *auth;    /* pubsub, cloudlogging: where credentials come from */
    const char *endpoint;       /* cloudlogging: API base (FAULTLINE_LOGGING_ENDPOINT);
                                 * pubsub: emulator host:port (PUBSUB_EMULATOR_HOST) */
    bool debug;                 /* kafka: commit traces on stderr (FL_KAFKA_DEBUG) */
    /* kafka, two stages (docs/scale.md): */
    const char *summaries_to;   /* stage one: produce delta summaries to this topic */
    const char *summaries_from; /* stage two: consume delta summaries from this topic */
    const fl_live_delta_sink *deltas; /* stage one: set by the consumer (the engine) */
} fl_live_config;

/* What the live screen shows per source. */
typedef struct fl_live_health {
    uint64_t records; /* records delivered */
    double per_sec;   /* delivery rate over the last few seconds */
    int64_t lag;      /* kafka: messages behind the high watermark; file: bytes unread;
                       * -1 unknown */
    bool paused;
    bool connected;
    char last_error[160]; /* "" when none */
} fl_live_health;

/* One command-line option of a source (Fluent Bit's config_map): `tail` builds its option table
 * and its --help from the rows of every source in fl_live_sources, and fills the source's
 * fl_live_config from what was given. */
typedef enum {
    FL_LIVE_OPT_STRING,  /* the const char * field of fl_live_config at offset */
    FL_LIVE_OPT_STRINGS, /* repeatable; with FL_LIVE_OPT_EACH one source per value (its
                          * target), else the props/n_props list */
} fl_live_opt_type;

#define FL_LIVE_OPT_OPENS 1u /* giving this option opens the source */
#define FL_LIVE_OPT_EACH 2u  /* one source per value */

typedef struct fl_live_option {
    const char *name; /* "topic" for --topic; NULL ends the list */
    char short_name;  /* 'F' for -F, or 0 */
    fl_live_opt_type type;
    const char *arg_name; /* "TOPIC" in the help */
    const char *help;     /* one line */
    size_t offset;        /* FL_LIVE_OPT_STRING: offsetof(fl_live_config, field) */
    unsigned flags;       /* FL_LIVE_OPT_OPENS, FL_LIVE_OPT_EACH */
} fl_live_option;

typedef struct fl_live_ops {
    const char *name; /* "kafka", "pubsub", "cloudlogging", "follow", "stdin" */
    const fl_live_option *options; /* the source's command-line options; NULL: none (stdin) */
    const char *endpoint_env;      /* the variable the CLI reads into cfg->endpoint, or NULL */
    int (*open)(uv_loop_t *loop, const fl_live_config *cfg, const fl_live_sink *sink,
                fl_live_source **out, char *errbuf, size_t errlen);
    /* Stop and restart delivery (the memory budget). Nothing is dropped while paused. */
    void (*pause)(fl_live_source *s);
    void (*resume)(fl_live_source *s);
    /* Acknowledges every record delivered so far: store offsets, send acks, write the
     * checkpoint. Returns 0 or a negative code (the records stay unacknowledged). */
    int (*commit)(fl_live_source *s);
    void (*health)(fl_live_source *s, fl_live_health *out);
    /* Stops the source and closes its handles; done(arg) runs once everything is closed and
     * the source freed. Uncommitted records are not acknowledged. */
    void (*close)(fl_live_source *s, void (*done)(void *arg), void *arg);
} fl_live_ops;

/* The common head of every source (each source's struct starts with it). */
struct fl_live_source {
    const fl_live_ops *ops;
    char label[96]; /* "kafka:logs", "follow:/var/log/app.json" */
    fl_live_sink sink;
    bool eof; /* a finite source (stdin) has ended */
};

/* Every live source, in the order `tail --help` lists them; NULL-terminated. Adding a source is
 * a folder exporting its descriptor and one line in this list (ingest/live/live_sources.c). */
extern const fl_live_ops *const fl_live_sources[];

extern const fl_live_ops fl_ingest_kafka;
extern const fl_live_ops fl_ingest_pubsub;
extern const fl_live_ops fl_ingest_cloudlogging;
extern const fl_live_ops fl_ingest_follow;
extern const fl_live_ops fl_ingest_stdin;

/* --- helpers shared by the sources and the consumer (ingest/follow/live_util.c) --- */

/* A bounded set of 64-bit record keys that forgets the oldest first (FIFO eviction): the
 * de-duplication memory. */
typedef struct fl_dedup fl_dedup;
/* Returns 0 with *out set, or FL_ENOMEM. */
int fl_dedup_new(fl_dedup **out, size_t capacity);
void fl_dedup_free(fl_dedup *d);
/* Returns true if key was already present; otherwise adds it and returns false. */
bool fl_dedup_check_add(fl_dedup *d, uint64_t key);
/* The same, remembering a small tag (0..FL_DEDUP_TAG_MAX) with a new key: returns the tag the
 * key was first added with, or -1 when it is new (and is now added with tag). The low bits of
 * the key hold the tag: keys that differ only there are the same key. */
#define FL_DEDUP_TAG_MAX 31
int fl_dedup_check_add_tag(fl_dedup *d, uint64_t key, unsigned tag);
size_t fl_dedup_count(const fl_dedup *d);

/* Copies src into dst[size], truncating, always NUL-terminated. */
void fl_copy_str(char *dst, size_t size, const char *src);

/* Writes data to path atomically: path.tmp, fsync, rename, fsync of the directory. */
int fl_write_atomic(const char *path, const void *data, size_t len);
/* Reads a whole small file (max bytes) into a NUL-terminated buffer the caller frees. */
int fl_read_small_file(const char *path, size_t max, char **out, size_t *len);

/* Log rate limiting: returns true when a message may be shown now (at most one per period);
 * *suppressed counts the ones held back since. */
typedef struct fl_ratelimit {
    uint64_t last_ms;
    uint64_t period_ms;
    uint64_t suppressed;
} fl_ratelimit;
bool fl_ratelimit_allow(fl_ratelimit *r, uint64_t now_ms);

/* Moving delivery rate for health: call fl_rate_tick for every record. */
typedef struct fl_rate {
    uint64_t window_start_ms;
    uint64_t count;
    double per_sec;
} fl_rate;
void fl_rate_tick(fl_rate *r, uint64_t now_ms, uint64_t n);
double fl_rate_get(fl_rate *r, uint64_t now_ms);

/* Splits a byte stream into lines (the follow and stdin sources). Bytes go in with
 * fl_lines_feed; complete lines come out through cb. A line longer than max is skipped
 * (cb gets it with oversize=true and len 0). */
typedef struct fl_lines {
    fl_buf partial;
    bool skipping;
    size_t pending; /* bytes of the unfinished last line (buffered or being skipped) */
    size_t max;
} fl_lines;
void fl_lines_init(fl_lines *l, size_t max);
void fl_lines_free(fl_lines *l);
/* Returns 0 or a negative code from cb. The stream position just after the last complete
 * line is the bytes fed so far minus l->pending. */
int fl_lines_feed(fl_lines *l, const char *p, size_t n,
                  int (*cb)(void *arg, const char *line, size_t len, bool oversize), void *arg);

/* Splits a byte stream into JSON objects whatever the layout: NDJSON, a JSON array (as
 * `gcloud logging read --format=json` prints it, pretty or not) or concatenated objects (the
 * stdin source). Text outside any object up to the end of its line is handed over as one record
 * so the consumer reports it as malformed. An object larger than max is skipped (cb gets
 * oversize=true). Returns 0 or a negative code from cb. */
typedef struct fl_objects {
    fl_buf cur;
    int depth;
    fl_json_str str;
    bool junk, skipping;
    size_t max;
} fl_objects;
void fl_objects_init(fl_objects *o, size_t max);
void fl_objects_free(fl_objects *o);
int fl_objects_feed(fl_objects *o, const char *p, size_t n,
                    int (*cb)(void *arg, const char *rec, size_t len, bool oversize), void *arg);
/* Hands over a record left unfinished at the end of input (a last line without newline). */
int fl_objects_finish(fl_objects *o,
                      int (*cb)(void *arg, const char *rec, size_t len, bool oversize), void *arg);

/* The consumer's journal (ingest/live/live_journal.c): every record counted since the last
 * compaction, appended before the sources are acknowledged and fsynced at each checkpoint. A
 * restart replays it to rebuild the counts and the de-duplication memory, so records that were
 * counted but not yet acknowledged (and are therefore delivered again) count once. Each record
 * carries a CRC-32; opening the journal also locks its directory (DIR/lock, flock) so one tail
 * at a time uses it. */
typedef struct fl_journal fl_journal;
/* What a replay could not read. */
typedef struct fl_journal_damage {
    uint64_t file_bytes;
    uint64_t records;   /* records that verified and were replayed */
    uint64_t good_end;  /* offset just after the last one */
    uint64_t bad_bytes; /* bytes that did not verify (damage), in regions parts */
    uint64_t regions;
    uint64_t first_bad;  /* offset of the first damaged byte */
    fl_time ts_before;   /* timestamp of the last record before the first damage (0: none) */
    fl_time ts_after;    /* of the first record after it (0: none) */
    uint64_t torn_bytes; /* a torn last record (crash mid-write), cut off */
    bool emptied;        /* the file is empty though a journal always starts with a header */
    char kept_as[512];   /* where the damaged file was moved aside ("" when not damaged) */
} fl_journal_damage;
/* Opens (creating) DIR/journal.dat after locking DIR; FL_EIO with a message in errbuf when
 * another process holds the lock. */
int fl_journal_open(const char *dir, fl_journal **out, char *errbuf, size_t errlen);
void fl_journal_free(fl_journal *j);
/* Calls cb for every record that verifies, oldest first, skipping damage to the next one that
 * verifies, and fills *d. A torn last record is cut off; a damaged journal is hard-linked aside
 * whole (d->kept_as) and replaced by its verified records: nothing unread is ever truncated.
 * Returns 0, a negative code, or cb's negative code. */
int fl_journal_replay(fl_journal *j, int (*cb)(void *arg, fl_time ts, const char *data, size_t len),
                      void *arg, fl_journal_damage *d);
int fl_journal_append(fl_journal *j, fl_time ts, const char *data, size_t len);
/* Makes every append so far durable (flush + fsync). */
int fl_journal_sync(fl_journal *j);
/* Rewrites the journal keeping records with ts >= cutoff (tmp file, fsync, rename). */
int fl_journal_compact(fl_journal *j, fl_time cutoff);
uint64_t fl_journal_bytes(const fl_journal *j);

#endif
