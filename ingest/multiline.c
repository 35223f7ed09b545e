/* Multi-line reassembly. Cloud Run writes every line a container prints as its own entry, so a
 * Python traceback or a Java/Node stack trace arrives as a burst of entries from one instance
 * within the same second. Those are joined back into one entry before classification.
 *
 * Order: a sink's NDJSON is oldest first; `gcloud logging read --format=json` is newest
 * first, so the same trace arrives bottom line first. A run is collected in arrival order, then
 * sorted by timestamp (arrival order breaks ties) and joined. Which direction a line may join
 * from follows from what it is: frames join either way, a header ("Traceback ...", or an
 * exception line before any frames) only joins a run of frames from the past side.
 *
 * Instances of a busy service print at the same time, so their lines interleave. Several runs
 * are open at once, one per source (instance, service, revision, log); a run closes when its
 * source prints a line that does not continue it (a line more than a second away never does),
 * when its slot is needed (lone plain lines go first, then the oldest), after ML_MAX_AGE
 * further entries, or at the end. Other sources' entries, however far away in time, do not
 * close it, so the result does not depend on how sources interleave.
 *
 * The same assembler serves batch (ingest/reader.c) and `tail` (src/engine/live.c), which also
 * closes runs that waited too long on the wall clock (fl_multiline_flush_age: a quiet stream
 * must not hold a trace forever). Both see the same caps; a trace cut at one is counted
 * (fl_multiline_capped) so the caller can warn. */
#include "ingest_internal.h"

#include <ctype.h>
#include <string.h>

#define ML_MAX_RUN 256                         /* entries in one trace */
#define ML_MAX_RUNS 8                          /* sources with a trace open at once */
#define ML_MAX_AGE 4096                        /* entries a run may stay open for */
#define ML_MAX_MESSAGE (64 * 1024)             /* joined message, then a marker */
#define ML_KEEP_STORE (64 * 1024)              /* pooled entries give back bigger storage */
#define ML_TRUNCATED "\xE2\x80\xA6[truncated]" /* "…[truncated]" */

typedef enum {
    LINE_OTHER,
    LINE_CONT,    /* a frame or other continuation: indented, "at ...", "Caused by:" */
    LINE_EXC,     /* "ValueError: ...", "java.lang.IllegalStateException: ..." */
    LINE_PY_HEAD, /* "Traceback (most recent call last):" */
    LINE_CHAIN,   /* "The above exception was the direct cause ...": a second traceback follows */
} line_class;

typedef struct ml_run {
    fl_entry *e[ML_MAX_RUN]; /* from the pool (take_entry) */
    uint64_t seq[ML_MAX_RUN];
    size_t n;
    size_t bytes;  /* message bytes held: past ML_MAX_MESSAGE the run is closed */
    uint64_t born; /* sequence number of its first entry */
    fl_time min_ts, max_ts;
    line_class last_class;
    line_class oldest_class; /* of the line with the earliest timestamp so far */
    bool has_head;
    uint64_t source; /* source_key of its entries */
} ml_run;

struct fl_multiline {
    ml_run runs[ML_MAX_RUNS];

    /* Entries are held by pointer: a held line moves into a pooled entry once, and out
     * again once when it is popped; closing its run and queueing it move only the pointer
     * (three copies of the struct per held line were 1% of a run, issue 15). */
    fl_entry **out; /* queue of finished entries */
    size_t out_head, out_n, out_cap;
    fl_entry **pool; /* spare entries, their storage kept for reuse */
    size_t pool_n, pool_cap;

    uint64_t next_seq;
    uint64_t capped; /* traces cut at ML_MAX_RUN entries or ML_MAX_MESSAGE bytes */
    /* How many runs are open and the smallest born among them: whether any run is stale is
     * then one comparison, not a scan of every slot for every entry (issue 15). */
    size_t open;
    uint64_t oldest_born;
    size_t taken;   /* entries out of the pool: held in runs or queued */
    uint64_t moved; /* struct copies (fl_multiline_moved) */
    size_t order[ML_MAX_RUN];
    fl_buf joined;
};

/* s starts with the string literal lit. */
#define starts(s, lit) (strncmp((s), (lit), sizeof(lit) - 1) == 0)

/* "...  12 more" / "... 12 more" (Java's elided common frames). */
static bool is_more_line(const char *s)
{
    if (!starts(s, "..."))
        return false;
    s += 3;
    while (*s == ' ')
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    while (isdigit((unsigned char)*s))
        s++;
    return starts(s, " more");
}

/* Bytes of a dotted identifier: 1 where one may start (a letter, '_', '$'), 2 where it may
 * go on (those, digits and '.'), as isalpha/isalnum say in the C locale. One table look-up a
 * byte where the ctype calls made four tests; every line that is not a frame goes through
 * here (issue 15). */
/* clang-format off */
static const unsigned char ident_byte[256] = {
    ['$'] = 3, ['_'] = 3, ['.'] = 2,
    ['0'] = 2, ['1'] = 2, ['2'] = 2, ['3'] = 2, ['4'] = 2,
    ['5'] = 2, ['6'] = 2, ['7'] = 2, ['8'] = 2, ['9'] = 2,
#define AZ(c) [c] = 3, [c + 32] = 3
    AZ('A'), AZ('B'), AZ('C'), AZ('D'), AZ('E'), AZ('F'), AZ('G'), AZ('H'), AZ('I'),
    AZ('J'), AZ('K'), AZ('L'), AZ('M'), AZ('N'), AZ('O'), AZ('P'), AZ('Q'), AZ('R'),
    AZ('S'), AZ('T'), AZ('U'), AZ('V'), AZ('W'), AZ('X'), AZ('Y'), AZ('Z'),
#undef AZ
};
/* clang-format on */

/* A dotted identifier followed by ':' ("ValueError: x", "java.io.IOException: y",
 * "Error: z") or one ending in Error/Exception on its own. */
static bool is_exception_line(const char *s)
{
    const char *p = s;
    if (ident_byte[(unsigned char)*p] != 3)
        return false;
    while (ident_byte[(unsigned char)*p])
        p++;
    if (*p == ':' && (p[1] == ' ' || p[1] == '\0' || p[1] == '\n'))
        return true;
    if (*p == '\0' || *p == '\n') {
        size_t n = (size_t)(p - s);
        return (n > 5 && memcmp(p - 5, "Error", 5) == 0) ||
               (n > 9 && memcmp(p - 9, "Exception", 9) == 0);
    }
    return false;
}

/* The prefixes below all differ in their first byte (but "T"), so that byte picks the one
 * to compare: most lines match none, and comparing each was 1% of a run (issue 15). */
static line_class classify(const char *m)
{
    switch (m[0]) {
    case ' ':
    case '\t':
        return LINE_CONT;
    case 'T':
        if (starts(m, "Traceback (most recent call last):"))
            return LINE_PY_HEAD;
        if (starts(m, "The above exception was the direct cause"))
            return LINE_CHAIN;
        break;
    case 'D':
        if (starts(m, "During handling of the above exception"))
            return LINE_CHAIN;
        break;
    case 'a':
        if (starts(m, "at "))
            return LINE_CONT;
        break;
    case 'C':
        if (starts(m, "Caused by:"))
            return LINE_CONT;
        break;
    case 'S':
        if (starts(m, "Suppressed:"))
            return LINE_CONT;
        break;
    case '.':
        if (is_more_line(m))
            return LINE_CONT;
        break;
    }
    return is_exception_line(m) ? LINE_EXC : LINE_OTHER;
}

/* Only container output can be a split trace; request and audit logs never are. An entry whose
 * message already spans several lines was logged whole (Cloud Run splits output only at line
 * ends), so it is complete: joining it with a neighbour would glue two separate errors. */
static bool eligible(const fl_entry *e)
{
    if (e->log_kind != FL_LOG_STDOUT && e->log_kind != FL_LOG_STDERR &&
        e->log_kind != FL_LOG_OTHER)
        return false;
    if (e->message[0] == '\0')
        return false;
    size_t n = fl_entry_len(e, FL_KNOWN_MESSAGE, e->message);
    const char *nl = memchr(e->message, '\n', n);
    return !nl || nl[strspn(nl, "\r\n")] == '\0';
}

/* One field of two entries is the same string: lengths, then the bytes. */
static inline bool same_field(const fl_entry *a, const fl_entry *b, fl_known_field k, const char *x,
                              const char *y)
{
    size_t n = fl_entry_len(a, k, x);
    return n == fl_entry_len(b, k, y) && fl_bytes_equal(x, y, n);
}

static bool same_source(const fl_entry *a, const fl_entry *b)
{
    return a->log_kind == b->log_kind &&
           same_field(a, b, FL_KNOWN_SERVICE, a->service, b->service) &&
           same_field(a, b, FL_KNOWN_REVISION, a->revision, b->revision) &&
           same_field(a, b, FL_KNOWN_INSTANCE_ID, a->instance_id, b->instance_id);
}

/* The last eight bytes of s[0, n) (fewer, zero-padded, when shorter). */
static inline uint64_t tail8(const char *s, size_t n)
{
    uint64_t x = 0;
    if (n >= 8)
        memcpy(&x, s + n - 8, 8);
    else
        memcpy(&x, s, n);
    return x;
}

/* A digest of an entry's source (log kind, service, revision, instance): the lengths and last
 * bytes of the names, where instance ids and revision names differ. Entries of one source
 * have equal keys, so a run whose key differs is not the entry's, and same_source decides the
 * rest: comparing every open run's names was 1.5% of a run (issue 15). */
static uint64_t source_key(const fl_entry *e)
{
    size_t ns = fl_entry_len(e, FL_KNOWN_SERVICE, e->service);
    size_t nr = fl_entry_len(e, FL_KNOWN_REVISION, e->revision);
    size_t ni = fl_entry_len(e, FL_KNOWN_INSTANCE_ID, e->instance_id);
    uint64_t k =
        (uint64_t)e->log_kind ^ (uint64_t)ns << 8 ^ (uint64_t)nr << 24 ^ (uint64_t)ni << 40;
    k ^= tail8(e->instance_id, ni) * UINT64_C(0x9e3779b97f4a7c15);
    k ^= tail8(e->revision, nr) * UINT64_C(0xc2b2ae3d27d4eb4f);
    k ^= tail8(e->service, ns) * UINT64_C(0x165667b19e3779f9);
    return k;
}

static void drop_entry(fl_entry *e)
{
    fl_entry_free(e);
    fl_free(e);
}

int fl_multiline_new(fl_multiline **out)
{
    fl_multiline *ml = fl_calloc(1, sizeof(*ml));
    if (!ml)
        return FL_ENOMEM;
    fl_buf_init(&ml->joined, ML_MAX_MESSAGE + 64);
    *out = ml;
    return 0;
}

void fl_multiline_free(fl_multiline *ml)
{
    if (!ml)
        return;
    for (size_t r = 0; r < ML_MAX_RUNS; r++)
        for (size_t i = 0; i < ml->runs[r].n; i++)
            drop_entry(ml->runs[r].e[i]);
    for (size_t i = 0; i < ml->out_n; i++)
        drop_entry(ml->out[ml->out_head + i]);
    for (size_t i = 0; i < ml->pool_n; i++)
        drop_entry(ml->pool[i]);
    fl_free(ml->out);
    fl_free(ml->pool);
    fl_buf_free(&ml->joined);
    fl_free(ml);
}

/* Moves *src into *dst, whose content is no longer wanted; src is left owning dst's former
 * storage (freed when that is big), empty but with its other fields as they were: for an
 * entry of the pool, which is only read after the next move into it. One copy of the struct
 * where a swap and a clear made three. */
static void move_entry_raw(fl_entry *dst, fl_entry *src)
{
    char *store = dst->store;
    size_t cap = dst->store_cap;
    *dst = *src;
    src->store = store;
    src->store_cap = cap;
    src->store_len = 0;
    if (cap > ML_KEEP_STORE)
        fl_entry_free(src);
}

/* move_entry_raw for a caller's entry: src is left cleared (fl_entry_clear). */
static void move_entry(fl_entry *dst, fl_entry *src)
{
    move_entry_raw(dst, src);
    fl_entry_clear(src);
}

/* An entry of the pool to move a line into (its content is replaced by the move), or NULL. */
static fl_entry *take_entry(fl_multiline *ml)
{
    if (ml->pool_n)
        return ml->pool[--ml->pool_n];
    fl_entry *e = fl_malloc(sizeof(*e));
    if (e)
        fl_entry_init(e);
    return e;
}

/* Gives an entry taken from the pool back. Pooled entries keep their storage for reuse, but
 * not the storage of a rare huge entry: memory stays bounded by the entries held at once
 * times a modest store. The pool only grows to the most entries held at once, so room for e was
 * made when it was taken (give_room); should that have failed, e is freed instead. */
static void give_entry(fl_multiline *ml, fl_entry *e)
{
    ml->taken--;
    if (ml->pool_n == ml->pool_cap) {
        drop_entry(e);
        return;
    }
    if (e->store_cap > ML_KEEP_STORE)
        fl_entry_free(e);
    ml->pool[ml->pool_n++] = e;
}

/* Makes the pool able to take back every entry out of it (held and queued) plus one. */
static int give_room(fl_multiline *ml, size_t out)
{
    if (out < ml->pool_cap)
        return 0;
    size_t cap = FL_MAX(out + 1, ml->pool_cap * 2);
    fl_entry **p = fl_realloc(ml->pool, cap * sizeof(*p));
    if (!p)
        return FL_ENOMEM;
    ml->pool = p;
    ml->pool_cap = cap;
    return 0;
}

/* Appends e (the assembler's) to the output queue. */
static int queue(fl_multiline *ml, fl_entry *e)
{
    if (ml->out_n == 0)
        ml->out_head = 0;
    if (ml->out_head + ml->out_n == ml->out_cap) {
        if (ml->out_head > 0) { /* slide the queue to the front */
            memmove(ml->out, ml->out + ml->out_head, ml->out_n * sizeof(*ml->out));
            ml->out_head = 0;
        } else {
            size_t cap = ml->out_cap ? ml->out_cap * 2 : 8;
            fl_entry **p = fl_realloc(ml->out, cap * sizeof(*p));
            if (!p)
                return FL_ENOMEM;
            ml->out = p;
            ml->out_cap = cap;
        }
    }
    ml->out[ml->out_head + ml->out_n++] = e;
    return 0;
}

/* Queues an entry of a run that closed; it goes back to the pool should that fail. */
static int queue_own(fl_multiline *ml, fl_entry *p)
{
    int rc = queue(ml, p);
    if (rc < 0)
        give_entry(ml, p);
    return rc;
}

/* Moves the caller's *e into an entry of the pool, which is returned (NULL: out of memory);
 * e receives a cleared entry, or with raw an empty one whose fields are left as they were
 * (fl_multiline_offer: its callers refill the entry before they read it). */
static fl_entry *adopt(fl_multiline *ml, fl_entry *e, bool raw)
{
    if (give_room(ml, ml->taken + 1) < 0)
        return NULL;
    fl_entry *p = take_entry(ml);
    if (!p)
        return NULL;
    ml->taken++;
    ml->moved++;
    if (raw)
        move_entry_raw(p, e);
    else
        move_entry(p, e);
    return p;
}

/* Moves the caller's *e to the end of the output queue; e is left as adopt leaves it. */
static int emit(fl_multiline *ml, fl_entry *e, bool raw)
{
    fl_entry *p = adopt(ml, e, raw);
    if (!p)
        return FL_ENOMEM;
    int rc = queue(ml, p);
    if (rc < 0) { /* e is the caller's again */
        move_entry_raw(e, p);
        give_entry(ml, p);
    }
    return rc;
}

static int cmp_order(const ml_run *run, size_t x, size_t y)
{
    if (run->e[x]->ts != run->e[y]->ts)
        return run->e[x]->ts < run->e[y]->ts ? -1 : 1;
    return run->seq[x] < run->seq[y] ? -1 : run->seq[x] > run->seq[y];
}

/* Timestamp order, arrival order among equals. Insertion sort: runs are short and usually
 * already in order, or exactly reversed (reversed first, then nearly free). */
static void sort_run(fl_multiline *ml, const ml_run *run, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ml->order[i] = i;
    if (n > 1 && cmp_order(run, 0, n - 1) > 0)
        for (size_t i = 0; i < n / 2; i++) {
            size_t t = ml->order[i];
            ml->order[i] = ml->order[n - 1 - i];
            ml->order[n - 1 - i] = t;
        }
    for (size_t i = 1; i < n; i++) {
        size_t v = ml->order[i], j = i;
        while (j > 0 && cmp_order(run, ml->order[j - 1], v) > 0) {
            ml->order[j] = ml->order[j - 1];
            j--;
        }
        ml->order[j] = v;
    }
}

/* A run closed: the oldest open run may be another one now. */
static void run_closed(fl_multiline *ml, const ml_run *run)
{
    ml->open--;
    if (!ml->open || run->born != ml->oldest_born)
        return;
    bool first = true;
    for (size_t r = 0; r < ML_MAX_RUNS; r++)
        if (ml->runs[r].n && (first || ml->runs[r].born < ml->oldest_born)) {
            ml->oldest_born = ml->runs[r].born;
            first = false;
        }
}

static int flush_run(fl_multiline *ml, ml_run *run)
{
    size_t n = run->n;
    run->n = 0;
    if (n == 0)
        return 0;
    run_closed(ml, run);
    if (n == 1)
        return queue_own(ml, run->e[0]);
    sort_run(ml, run, n);
    fl_buf_reset(&ml->joined);
    int brc = 0;
    bool cut = false;
    int severity = FL_SEV_DEFAULT;
    for (size_t k = 0; k < n; k++) {
        const fl_entry *e = run->e[ml->order[k]];
        severity = FL_MAX(severity, e->severity);
        if (cut)
            continue;
        size_t len = fl_entry_len(e, FL_KNOWN_MESSAGE, e->message);
        size_t room = ML_MAX_MESSAGE - ml->joined.len;
        if (k > 0 && room > 0) {
            brc |= fl_buf_addc(&ml->joined, '\n');
            room--;
        }
        if (len > room) {
            brc |= fl_buf_add(&ml->joined, e->message, room);
            brc |= fl_buf_addstr(&ml->joined, ML_TRUNCATED);
            cut = true;
            ml->capped++;
        } else {
            brc |= fl_buf_add(&ml->joined, e->message, len);
        }
    }
    fl_entry *first = run->e[ml->order[0]];
    /* The joined text fits its cap by construction: a failed append is out of memory. */
    int rc = brc ? FL_ENOMEM
                 : fl_entry_set(first, &first->message, ml->joined.data ? ml->joined.data : "",
                                ml->joined.len);
    first->severity = severity;
    for (size_t k = 1; k < n; k++)
        give_entry(ml, run->e[ml->order[k]]);
    if (rc < 0) {
        give_entry(ml, first);
        return rc;
    }
    return queue_own(ml, first);
}

/* Flushes, oldest first, every open run whose first entry came more than age pushes ago
 * (age 0: every run). Returns how many runs were flushed, or < 0. */
static int flush_older(fl_multiline *ml, uint64_t age)
{
    int flushed = 0;
    for (;;) {
        ml_run *oldest = NULL;
        for (size_t r = 0; r < ML_MAX_RUNS; r++)
            if (ml->runs[r].n && ml->next_seq - ml->runs[r].born > age &&
                (!oldest || ml->runs[r].born < oldest->born))
                oldest = &ml->runs[r];
        if (!oldest)
            return flushed;
        int rc = flush_run(ml, oldest);
        if (rc < 0)
            return rc;
        flushed++;
    }
}

/* A run open too long. A run is not closed because another source's entry is far from it in
 * time: sources of a live stream (Kafka partitions) lag each other by minutes, and the answer
 * must not depend on how their entries interleave. The next line of the run's own source
 * decides (joins: within a second of the run), or the slot is needed, or the input ends. */
static bool stale(const fl_multiline *ml, const ml_run *run)
{
    return ml->next_seq - run->born > ML_MAX_AGE;
}

/* Some open run is stale (as stale() says of it). */
static bool any_stale(const fl_multiline *ml)
{
    return ml->open && ml->next_seq - ml->oldest_born > ML_MAX_AGE;
}

/* Closes the runs that are stale. */
static int flush_stale(fl_multiline *ml)
{
    if (!any_stale(ml))
        return 0;
    for (size_t r = 0; r < ML_MAX_RUNS; r++) {
        ml_run *run = &ml->runs[r];
        if (!run->n)
            continue;
        if (stale(ml, run)) {
            int rc = flush_run(ml, run);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

static bool joins(const ml_run *run, const fl_entry *x, line_class c)
{
    fl_time d = x->ts - run->e[0]->ts;
    if (d > FL_USEC_PER_SEC || d < -FL_USEC_PER_SEC)
        return false;
    bool older = x->ts < run->min_ts; /* arriving from the past: newest-first input */
    bool newer = x->ts >= run->max_ts;
    /* A chained Python traceback is one error: the header after a chain line joins from the
     * future, and the exception line before it (the end of the first traceback) from the
     * past, so both input orders join the same lines. */
    switch (c) {
    case LINE_CONT:
    case LINE_CHAIN:
        return true;
    case LINE_PY_HEAD:
        return older || (newer && run->last_class == LINE_CHAIN);
    case LINE_EXC:
        return (newer && run->last_class == LINE_CONT) ||
               (older && (!run->has_head || run->oldest_class == LINE_CHAIN));
    case LINE_OTHER:
        return older && !run->has_head;
    }
    return false;
}

static int start_run(fl_multiline *ml, ml_run *run, fl_entry *e, line_class c, uint64_t source,
                     bool raw)
{
    fl_entry *p = adopt(ml, e, raw);
    if (!p)
        return FL_ENOMEM;
    run->e[0] = p;
    run->seq[0] = run->born = ml->next_seq++;
    if (ml->open++ == 0)
        ml->oldest_born = run->born; /* else an older run is open */
    run->n = 1;
    run->bytes = fl_entry_len(p, FL_KNOWN_MESSAGE, p->message);
    run->min_ts = run->max_ts = p->ts;
    run->last_class = run->oldest_class = c;
    run->has_head = c != LINE_CONT && c != LINE_CHAIN;
    run->source = source;
    return 0;
}

/* When every slot is busy, the run to close: a lone plain line before a trace in progress
 * (it is almost never the start of one), then the oldest. */
static bool evict_before(const ml_run *x, const ml_run *y)
{
    bool x_plain = x->n == 1 && x->last_class == LINE_OTHER;
    bool y_plain = y->n == 1 && y->last_class == LINE_OTHER;
    if (x_plain != y_plain)
        return x_plain;
    return x->born < y->born;
}

/* fl_multiline_push, with eligible(e) already known; raw: see adopt. */
static int push_as(fl_multiline *ml, fl_entry *e, bool joinable_kind, bool raw)
{
    int rc = flush_stale(ml);
    if (rc < 0)
        return rc;
    if (!joinable_kind) /* request and audit entries pass straight through */
        return emit(ml, e, raw);

    line_class c = classify(e->message);
    /* A source has at most one open run: a new one starts only after its old one closed. */
    uint64_t source = source_key(e);
    ml_run *run = NULL, *free_run = NULL;
    for (size_t r = 0; r < ML_MAX_RUNS; r++) {
        ml_run *x = &ml->runs[r];
        if (!x->n) {
            if (!free_run)
                free_run = x;
        } else if (x->source == source && same_source(x->e[0], e)) {
            run = x;
            break;
        }
    }
    bool joinable = run && joins(run, e, c);
    if (joinable && (run->n >= ML_MAX_RUN || run->bytes > ML_MAX_MESSAGE)) {
        /* A full run closes and the rest of the trace starts a new one. Past the byte cap the
         * flush cuts the message and counts it; past the entry cap, count it here. */
        if (run->bytes <= ML_MAX_MESSAGE)
            ml->capped++;
        joinable = false;
    }
    if (joinable) {
        size_t bytes = fl_entry_len(e, FL_KNOWN_MESSAGE, e->message) + 1;
        fl_entry *p = adopt(ml, e, raw);
        if (!p)
            return FL_ENOMEM;
        size_t i = run->n++;
        run->e[i] = p;
        run->bytes += bytes;
        run->seq[i] = ml->next_seq++;
        fl_time ts = p->ts;
        if (ts < run->min_ts) {
            if (c != LINE_CONT && c != LINE_CHAIN)
                run->has_head = true;
            run->min_ts = ts;
            run->oldest_class = c;
        }
        if (ts > run->max_ts)
            run->max_ts = ts;
        run->last_class = c;
        return 0;
    }
    if (!run) {
        run = free_run;
        if (!run) { /* every slot busy: close the one evict_before picks */
            run = &ml->runs[0];
            for (size_t r = 1; r < ML_MAX_RUNS; r++)
                if (evict_before(&ml->runs[r], run))
                    run = &ml->runs[r];
            if ((rc = flush_run(ml, run)) < 0)
                return rc;
        }
    } else if ((rc = flush_run(ml, run)) < 0) {
        return rc;
    }
    return start_run(ml, run, e, c, source, raw);
}

int fl_multiline_push(fl_multiline *ml, fl_entry *e)
{
    return push_as(ml, e, eligible(e), false);
}

bool fl_multiline_passes(const fl_multiline *ml, const fl_entry *e)
{
    return !ml->out_n && !eligible(e) && !any_stale(ml);
}

int fl_multiline_offer(fl_multiline *ml, fl_entry *e)
{
    bool joinable_kind = eligible(e);
    if (!ml->out_n && !joinable_kind && !any_stale(ml))
        return 1;
    int rc = push_as(ml, e, joinable_kind, true);
    return rc < 0 ? rc : 0;
}

int fl_multiline_flush(fl_multiline *ml)
{
    int rc = flush_older(ml, 0);
    return rc < 0 ? rc : 0;
}

int fl_multiline_flush_age(fl_multiline *ml, uint64_t age)
{
    return flush_older(ml, age);
}

uint64_t fl_multiline_pushed(const fl_multiline *ml)
{
    return ml->next_seq;
}

size_t fl_multiline_held(const fl_multiline *ml)
{
    size_t n = 0;
    for (size_t r = 0; r < ML_MAX_RUNS; r++)
        n += ml->runs[r].n;
    return n;
}

uint64_t fl_multiline_moved(const fl_multiline *ml)
{
    return ml->moved;
}

uint64_t fl_multiline_capped(const fl_multiline *ml)
{
    return ml->capped;
}

void fl_multiline_warn_caps(const fl_multiline *ml, fl_diag *d)
{
    if (!ml || !ml->capped)
        return;
    fl_diag_warn(d, FL_WARN_OTHER, "-", 0,
                 "a stack trace longer than %d lines or %d KiB was cut: the text past the cap is "
                 "left out or counted as another entry",
                 ML_MAX_RUN, ML_MAX_MESSAGE / 1024);
}

int fl_multiline_pop(fl_multiline *ml, fl_entry *e)
{
    if (ml->out_n == 0)
        return 0;
    fl_entry *p = ml->out[ml->out_head];
    move_entry_raw(e, p);
    ml->moved++;
    give_entry(ml, p);
    ml->out_head++;
    ml->out_n--;
    return 1;
}
