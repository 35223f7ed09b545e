/* The batch pipeline: read -> classify -> aggregate -> analyze.
 *
 * Memory depends on the aggregate (services x revisions x minutes x groups), never on the
 * input size. With one thread, entries are classified and counted as they are read. With
 * more, every thread does every stage, one batch at a time: a thread that finds nothing to
 * parse reads the next batch itself (fl_reader_fill: I/O and decompression, one thread at a
 * time; NDJSON goes out as a chunk of whole lines, a mapped file's chunk points into the
 * mapping, other formats as records the reader cut) and then, most often, parses it while
 * its bytes are still in its core's cache; a stream's (decompression, a pipe) next batch is
 * read before anything else is parsed, so that its reading never waits (work_once). There is
 * no reader thread to wake for every batch. Batches then pass through multi-line reassembly
 * in input order (one batch at a time, by the worker holding the turn, most often the one
 * that parsed it (take_turns), so traces that straddle batches are joined exactly as with
 * one thread, line numbers get the chunk's base and warnings keep their order); then the
 * worker that parsed a batch classifies its entries into an aggregate of its own; at the end
 * the workers' aggregates are merged with fl_agg_merge.
 * The aggregate is order-independent, so the result does not depend on which worker saw
 * which batch. Batches are recycled: at most BATCHES_PER_WORKER x threads + 1 exist. */
#include "fl_pipeline.h"

#include "fl_changes_file.h"

#include "fl_config.h"
#include "fl_gate_prescan.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCHES_PER_WORKER 2
/* A worker hands its aggregate over to the shared one every this many batches (about
 * 128 MiB of input) and starts afresh: the per-minute series of a long input are then held
 * once, not once per worker. */
#define HANDOVER_BATCHES 512
#define MAX_THREADS 64

static bool is_dir(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fl_builtin_patterns_dir(const char *override)
{
    if (override && *override)
        return override;
#ifdef FL_SOURCE_PATTERNS_DIR
    /* Running from a build directory: the rules are read where they are edited. */
    if (is_dir(FL_SOURCE_PATTERNS_DIR))
        return FL_SOURCE_PATTERNS_DIR;
#endif
    return FL_PATTERNS_DIR;
}

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

int fl_pipeline_load_rules(const fl_pipeline_opts *opts, fl_rules **rules, char *errbuf,
                           size_t errlen)
{
    size_t n = 0;
    const char **dirs = fl_calloc(opts->n_pattern_dirs + 1, sizeof(*dirs));
    if (!dirs)
        return FL_ENOMEM;
    if (!opts->no_builtin_patterns)
        dirs[n++] = fl_builtin_patterns_dir(opts->builtin_patterns_dir);
    for (size_t i = 0; i < opts->n_pattern_dirs; i++) {
        if (!is_dir(opts->pattern_dirs[i])) {
            set_err(errbuf, errlen, "%s: not a readable directory of rule files",
                    opts->pattern_dirs[i]);
            fl_free(dirs);
            return FL_EINVAL;
        }
        dirs[n++] = opts->pattern_dirs[i];
    }
    int rc = fl_rules_load(rules, dirs, n, errbuf, errlen);
    fl_free(dirs);
    return rc;
}

/* One classifier + aggregate. */
typedef struct worker {
    fl_matcher *matcher;
    fl_agg *agg;
    size_t batches; /* since the last hand-over */
    size_t made;    /* aggregates it made (fl_pipeline_last_counts) */
    pthread_t thread;
    bool started;
    int index;
    struct pool *pool;
} worker;

static int worker_add(worker *w, const fl_rules *rules, const fl_entry *e)
{
    fl_match m; /* fl_classify sets rule and n_fields, all that is read (no 1.3 KB memset) */
    int rc = fl_classify(rules, w->matcher, e, &m);
    if (rc < 0)
        return rc;
    return fl_agg_add(w->agg, e, rc > 0 ? &m : NULL);
}

/* A batch of raw records, its place in the input, and the gate's verdict on each entry of
 * its output (taken in input order, at reassembly). */
typedef struct job {
    fl_batch *b;
    uint64_t seq;
    int owner; /* the worker that parsed it, and classifies it unless it is busy */
    bool *admit;
    size_t admit_cap;
} job;

/* Jobs move empty -> full (a worker read it) -> parsed (a worker cut and parsed it; it
 * waits in ready[seq % cap] for its turn) -> reassembled (in input order, by whichever
 * worker holds the turn; queued in todo) -> classified -> empty. A worker whose batch is not
 * next in input order does not wait for its turn: it leaves the batch in ready and goes on
 * with other work, and the worker that reassembles the batch before it reassembles it too.
 * So no worker sleeps while there is a batch to read, parse or classify. One lock for all. */
typedef struct pool {
    pthread_mutex_t lock;
    pthread_cond_t has_work; /* workers wait for a job to read, parse or classify, or the end */
    job **empty, **full, **ready, **todo; /* todo: in no order */
    size_t n_empty, full_head, n_full, n_todo, cap;
    size_t parsing;      /* jobs taken from full and not yet in ready */
    bool reassembling;   /* a worker holds the turn */
    bool filling;        /* a worker is reading the next batch */
    uint64_t turn;       /* seq of the next batch to reassemble */
    uint64_t next_seq;   /* seq of the next batch read */
    bool done;           /* the input has no more batches */
    job *last;           /* the empty batch reading ended on: the final flush goes there */
    int error;           /* first error, stops everyone */
    int read_error;      /* ... when it came from reading */
    const fl_rules *rules;
    fl_reader *reader;
    fl_gate *gate; /* used only in the turn-ordered section: input order, one thread */
    pthread_mutex_t shared_lock; /* guards shared */
    fl_agg *shared;
    bool read_first;     /* the last batch was read from a stream: reading goes first */
    size_t sleeps;       /* waits on has_work (fl_pipeline_last_counts) */
    size_t reads_put_off; /* a batch could have been read and a worker did other work */
    size_t handover;     /* batches a worker counts before it hands its aggregate over */
} pool;

static void set_error(pool *p, int rc)
{
    if (!rc)
        return;
    if (!p->error)
        p->error = rc;
    pthread_cond_broadcast(&p->has_work);
}

/* Reassembly of one batch and the gate's verdicts, in input order (the caller holds the turn,
 * not the lock). */
static int reassemble(pool *p, job *j)
{
    int rc = fl_reader_reassemble(p->reader, j->b, false);
    /* A batch's output is its records (a chunk of short lines has many) plus traces held
     * from earlier batches. */
    size_t n = fl_batch_count(j->b);
    if (!rc && n > j->admit_cap) {
        bool *a = fl_realloc(j->admit, n * sizeof(*a));
        if (!a)
            return FL_ENOMEM;
        j->admit = a;
        j->admit_cap = n;
    }
    for (size_t i = 0; i < n && !rc; i++)
        j->admit[i] = fl_gate_admit(p->gate, fl_batch_entry(j->b, i));
    return rc;
}

/* With the lock held: true when worker w has something to do other than reassembling. */
static bool has_other_work(const pool *p, int w)
{
    for (size_t i = 0; i < p->n_todo; i++)
        if (p->todo[i]->owner == w)
            return true;
    return p->n_full || (!p->filling && !p->done && p->n_empty);
}

/* With the lock held: while the batch whose turn it is has been parsed, reassembles it and
 * queues it for classification. The lock is let go around the work itself. A batch another
 * worker parsed is left to that worker (work_once takes it up first thing) unless this one
 * would otherwise be idle: reassembly reads every entry, and reading them where they were
 * parsed keeps them out of the other core's cache (a third of the batches were reassembled by
 * the other worker, and classified after that by their own). */
static void take_turns(pool *p, int me)
{
    p->reassembling = true;
    for (;;) {
        job *j = p->ready[p->turn % p->cap];
        if (!j || p->error)
            break;
        if (j->owner != me && has_other_work(p, me)) {
            pthread_cond_broadcast(&p->has_work); /* its owner may be waiting */
            break;
        }
        p->ready[p->turn % p->cap] = NULL;
        pthread_mutex_unlock(&p->lock);
        int rc = reassemble(p, j);
        pthread_mutex_lock(&p->lock);
        set_error(p, rc);
        p->turn++;
        p->todo[p->n_todo++] = j;
        pthread_cond_signal(&p->has_work);
    }
    p->reassembling = false;
    if (p->done) /* for the end-of-input check of idle workers */
        pthread_cond_broadcast(&p->has_work);
}

/* Classifies and counts a reassembled batch (any worker, in parallel). Every p->handover
 * batches the worker's aggregate goes into the shared one; the next is made when there is
 * another batch to count, so a hand-over at the end of the input (common: the batches split
 * evenly, and b.ndjson is 2 x 512 of them) costs no fresh aggregate (a 0.9 MiB call-graph
 * table, ~300 page faults) that would only be merged empty. The first one, too, is made here,
 * by the worker's own thread: its pages are first touched on the core that fills them. */
static int classify(worker *w, pool *p, job *j)
{
    if (!w->agg) {
        if (!(w->agg = fl_agg_new(NULL)))
            return FL_ENOMEM;
        w->made++;
    }
    int rc = 0;
    size_t n = fl_batch_count(j->b);
    for (size_t i = 0; i < n && !rc; i++)
        if (j->admit[i])
            rc = worker_add(w, p->rules, fl_batch_entry(j->b, i));
    if (!rc && ++w->batches >= p->handover) {
        pthread_mutex_lock(&p->shared_lock);
        rc = fl_agg_merge(p->shared, w->agg);
        pthread_mutex_unlock(&p->shared_lock);
        fl_agg_free(w->agg);
        w->agg = NULL;
        w->batches = 0;
    }
    return rc;
}

/* With the lock held: reads the next batch into an empty job (the lock is let go around the
 * reading; p->filling keeps it to one worker at a time, in input order). */
static void fill(pool *p, worker *w)
{
    job *j = p->empty[--p->n_empty];
    p->filling = true;
    pthread_mutex_unlock(&p->lock);
    int got = fl_reader_fill(p->reader, j->b);
    pthread_mutex_lock(&p->lock);
    p->filling = false;
    if (got <= 0) {
        p->done = true;
        p->last = j;
        if (got < 0 && !p->error)
            p->read_error = got;
        set_error(p, got < 0 ? got : 0);
        pthread_cond_broadcast(&p->has_work); /* for the end-of-input check */
        return;
    }
    j->seq = p->next_seq++;
    j->owner = w->index;
    p->read_first = fl_batch_streamed(j->b);
    p->full[(p->full_head + p->n_full) % p->cap] = j;
    p->n_full++;
    pthread_cond_signal(&p->has_work); /* a worker that waited for the reading to end */
}

/* With the lock held: the worker's next task, in this order: reassemble a batch it parsed
 * whose turn has come, classify a batch it parsed (frees a batch; its entries are still in
 * this core's cache), parse a batch (best the one it read itself), read the next batch,
 * classify another worker's batch, reassemble another worker's batch. Returns false when
 * there is nothing to do now.
 * A stream (decompression, a pipe) is read first whenever there is an empty batch: reading it
 * costs about as much as the rest (zstd: 0.88 s of 2.1 CPU-s per GB) and only one worker can
 * do it, so a worker that parsed instead left the reading idle (a third of the wall with
 * both parsing) and the other worker then slept until a batch was read. Reading first keeps it
 * going while another batch is parsed; when all batches are in use the reader parses too. A
 * mapped file's batch costs nothing to read: its worker parses it while it is hot. */
static bool work_once(pool *p, worker *w)
{
    const job *turn = p->ready[p->turn % p->cap];
    bool can_read = !p->filling && !p->done && p->n_empty;
    if (turn && turn->owner == w->index && !p->reassembling) {
        take_turns(p, w->index); /* left for this worker by the one before */
        return true;
    }
    if (can_read && p->read_first) {
        fill(p, w);
        return true;
    }
    size_t t = 0;
    while (t < p->n_todo && p->todo[t]->owner != w->index)
        t++;
    if (t == p->n_todo && (p->n_full || (!p->filling && !p->done && p->n_empty)))
        t = p->n_todo; /* others' batches wait: their workers classify them soon */
    else if (t == p->n_todo && p->n_todo)
        t = 0;
    int rc = 0;
    if (t < p->n_todo || p->n_full)
        p->reads_put_off += can_read;
    if (t < p->n_todo) {
        job *j = p->todo[t];
        p->todo[t] = p->todo[--p->n_todo];
        pthread_mutex_unlock(&p->lock);
        rc = classify(w, p, j);
        pthread_mutex_lock(&p->lock);
        p->empty[p->n_empty++] = j;
        if (p->n_empty == 1)
            pthread_cond_signal(&p->has_work); /* a worker may wait for a batch to read into */
    } else if (p->n_full) {
        /* The oldest batch, unless this worker read one that waits (its bytes are hot). */
        size_t k = 0;
        for (size_t i = 0; i < p->n_full; i++)
            if (p->full[(p->full_head + i) % p->cap]->owner == w->index) {
                k = i;
                break;
            }
        job *j = p->full[(p->full_head + k) % p->cap];
        for (size_t i = k; i > 0; i--) /* close the gap, keeping the order of the others */
            p->full[(p->full_head + i) % p->cap] = p->full[(p->full_head + i - 1) % p->cap];
        p->full_head = (p->full_head + 1) % p->cap;
        p->n_full--;
        p->parsing++;
        j->owner = w->index;
        pthread_mutex_unlock(&p->lock);
        rc = fl_batch_parse(j->b);
        pthread_mutex_lock(&p->lock);
        p->parsing--;
        p->ready[j->seq % p->cap] = j;
        if (!p->reassembling && !rc)
            take_turns(p, w->index);
        else if (p->done && !p->parsing)
            pthread_cond_broadcast(&p->has_work); /* for the end-of-input check */
    } else if (can_read) {
        fill(p, w);
    } else if (turn && !p->reassembling) {
        take_turns(p, w->index); /* another worker's batch: better than waiting for it */
    } else {
        return false;
    }
    set_error(p, rc);
    return true;
}

/* glibc gives each thread an arena of its own and grows it by exactly what an allocation
 * lacks, one mprotect call each time: the entry stores and aggregate a worker fills in its
 * first batches took ~250 calls per worker (543 in a two-thread run against 45 with one). One
 * step of WARM_STEP (under the 128 KiB above which malloc maps instead) at a time, up to
 * WARM_BYTES, then all given back: the arena keeps its protection (it only advises the pages
 * away), and later growth within it makes no call. Other allocators just do 16 allocations. */
#define WARM_STEP (96 * 1024)
#define WARM_STEPS 16
static void warm_arena(void)
{
    void *blocks[WARM_STEPS];
    for (int i = 0; i < WARM_STEPS; i++)
        blocks[i] = fl_malloc(WARM_STEP);
    for (int i = WARM_STEPS; i > 0; i--)
        fl_free(blocks[i - 1]);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *p = w->pool;
    warm_arena();
    pthread_mutex_lock(&p->lock);
    while (!p->error) {
        if (work_once(p, w))
            continue;
        if (p->done && !p->n_todo && !p->n_full && !p->parsing && !p->reassembling &&
            !p->ready[p->turn % p->cap])
            break;
        p->sleeps++;
        pthread_cond_wait(&p->has_work, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static fl_pipeline_counts last_counts;

void fl_pipeline_last_counts(fl_pipeline_counts *out)
{
    *out = last_counts;
}

static int resolve_threads(int requested)
{
    long n = requested > 0 ? requested : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return (int)FL_MIN(n, MAX_THREADS);
}

static void pool_free(pool *p)
{
    for (size_t i = 0; i < p->n_empty; i++) {
        fl_free(p->empty[i]->admit);
        fl_batch_free(p->empty[i]->b);
        fl_free(p->empty[i]);
    }
    fl_free(p->empty);
    fl_free(p->full);
    fl_free(p->ready);
    fl_free(p->todo);
}

/* n_workers workers read, parse, reassemble (in input order), classify and count the
 * input's batches; this thread waits for them. Returns 0 or the first error. */
static int run_parallel(fl_reader *reader, const fl_rules *rules, fl_gate *gate, worker *workers,
                        int n_workers, size_t handover, fl_agg *shared, char *errbuf,
                        size_t errlen)
{
    pool p;
    memset(&p, 0, sizeof p);
    p.rules = rules;
    p.reader = reader;
    p.gate = gate;
    p.shared = shared;
    p.cap = (size_t)n_workers * BATCHES_PER_WORKER + 1;
    p.handover = handover ? handover : HANDOVER_BATCHES;
    p.empty = fl_calloc(p.cap, sizeof(job *));
    p.full = fl_calloc(p.cap, sizeof(job *));
    p.ready = fl_calloc(p.cap, sizeof(job *));
    p.todo = fl_calloc(p.cap, sizeof(job *));
    if (!p.empty || !p.full || !p.ready || !p.todo) {
        pool_free(&p);
        return FL_ENOMEM;
    }
    int rc = 0;
    for (size_t i = 0; i < p.cap && !rc; i++) {
        job *j = fl_calloc(1, sizeof(*j));
        if (!j || fl_batch_new(&j->b) != 0) {
            fl_free(j);
            rc = FL_ENOMEM;
            break;
        }
        p.empty[p.n_empty++] = j;
    }
    if (rc) {
        pool_free(&p);
        return rc;
    }
    pthread_mutex_init(&p.lock, NULL);
    pthread_mutex_init(&p.shared_lock, NULL);
    pthread_cond_init(&p.has_work, NULL);
    for (int i = 0; i < n_workers && !rc; i++) {
        workers[i].pool = &p;
        workers[i].index = i;
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            rc = FL_ENOMEM;
        else
            workers[i].started = true;
    }

    if (rc) { /* threads that started stop at once */
        pthread_mutex_lock(&p.lock);
        set_error(&p, rc);
        pthread_mutex_unlock(&p.lock);
    }
    for (int i = 0; i < n_workers; i++)
        if (workers[i].started)
            pthread_join(workers[i].thread, NULL);
    if (!rc && p.error) {
        rc = p.error;
        if (p.read_error)
            set_err(errbuf, errlen, "reading input: %s", fl_strerror(rc));
        else
            set_err(errbuf, errlen, "classifying input: %s", fl_strerror(rc));
    }
    job *last = p.last;
    /* Traces still held by reassembly come out last, as with one thread. */
    if (!rc && last) {
        rc = fl_reader_reassemble(reader, last->b, true);
        size_t n = fl_batch_count(last->b);
        if (!rc && n && !workers[0].agg && !(workers[0].agg = fl_agg_new(NULL)))
            rc = FL_ENOMEM;
        for (size_t i = 0; i < n && !rc; i++)
            if (fl_gate_admit(gate, fl_batch_entry(last->b, i)))
                rc = worker_add(&workers[0], rules, fl_batch_entry(last->b, i));
        if (rc)
            set_err(errbuf, errlen, "classifying input: %s", fl_strerror(rc));
    }

    if (last)
        p.empty[p.n_empty++] = last;
    for (size_t i = 0; i < p.n_full; i++)
        p.empty[p.n_empty++] = p.full[(p.full_head + i) % p.cap];
    for (size_t i = 0; i < p.n_todo; i++) /* left by an error */
        p.empty[p.n_empty++] = p.todo[i];
    for (size_t i = 0; i < p.cap; i++)
        if (p.ready[i])
            p.empty[p.n_empty++] = p.ready[i];
    last_counts.batches = p.next_seq;
    last_counts.sleeps = p.sleeps;
    last_counts.reads_put_off = p.reads_put_off;
    last_counts.aggregates = 0;
    for (int i = 0; i < n_workers; i++)
        last_counts.aggregates += workers[i].made;
    pool_free(&p);
    pthread_cond_destroy(&p.has_work);
    pthread_mutex_destroy(&p.shared_lock);
    pthread_mutex_destroy(&p.lock);
    return rc;
}

static int run_serial(fl_reader *reader, const fl_rules *rules, fl_gate *gate, worker *w,
                      char *errbuf, size_t errlen)
{
    fl_entry e;
    int rc;
    fl_entry_init(&e);
    while ((rc = fl_reader_next(reader, &e)) == 1) {
        if (fl_gate_admit(gate, &e) && (rc = worker_add(w, rules, &e)) != 0) {
            set_err(errbuf, errlen, "%s:%llu: %s", e.src_file ? e.src_file : "-",
                    (unsigned long long)e.src_line, fl_strerror(rc));
            break;
        }
    }
    if (rc < 0 && errbuf && !errbuf[0])
        set_err(errbuf, errlen, "reading input: %s", fl_strerror(rc));
    fl_entry_free(&e);
    return rc < 0 ? rc : 0;
}

int fl_pipeline_aggregate(const char *const *inputs, size_t n_inputs,
                          const fl_pipeline_opts *opts, fl_diag *diag, fl_agg **agg_out,
                          fl_rules **rules_out, char *errbuf, size_t errlen)
{
    static const char *const stdin_only[] = {"-"};
    fl_rules *rules = NULL;
    fl_reader *reader = NULL;
    fl_agg *main_agg = NULL;
    int n_workers = resolve_threads(opts->threads);
    worker *workers = NULL;
    fl_gate *gate = NULL;
    fl_prescan prescan = {0};
    int rc;

    *agg_out = NULL;
    *rules_out = NULL;
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (n_inputs == 0) {
        inputs = stdin_only;
        n_inputs = 1;
    }

    fl_filter_spec filter = opts->filter;
    /* One file or stream holds each entry once: look for copies only across sources. */
    if (n_inputs == 1 && !is_dir(inputs[0]))
        filter.no_dedup = true;
    if ((rc = fl_gate_new(&gate, &filter, errbuf, errlen)) != 0)
        goto done;
    if (fl_gate_needs_newest(gate)) {
        rc = fl_gate_prescan(gate, inputs, n_inputs, &opts->reader, &prescan, errbuf, errlen);
        if (rc)
            goto done;
        inputs = prescan.inputs;
    }
    if ((rc = fl_pipeline_load_rules(opts, &rules, errbuf, errlen)) != 0)
        goto done;
    workers = fl_calloc((size_t)n_workers, sizeof(*workers));
    if (!workers || !(main_agg = fl_agg_new(NULL))) {
        rc = FL_ENOMEM;
        goto oom;
    }
    /* With more threads, each worker makes its aggregate when it first counts a batch. */
    for (int i = 0; i < n_workers; i++)
        if (!(workers[i].matcher = fl_matcher_new(rules)) ||
            (n_workers == 1 && !(workers[i].agg = fl_agg_new(NULL)))) {
            rc = FL_ENOMEM;
            goto oom;
        }
    for (int i = 0; i < n_workers; i++)
        fl_matcher_set_prefilter(workers[i].matcher, !opts->no_prefilter);
    /* Changes first: a bad --changes path is a usage error, found before reading gigabytes. */
    for (size_t i = 0; i < opts->n_changes_files; i++)
        if ((rc = fl_changes_file_load(opts->changes_files[i], main_agg, diag, errbuf, errlen)) !=
            0)
            goto done;

    if ((rc = fl_reader_open(&reader, inputs, n_inputs, &opts->reader, diag)) != 0) {
        if (rc == FL_ENOTFOUND)
            set_err(errbuf, errlen, "no readable input");
        else
            set_err(errbuf, errlen, "cannot open input: %s", fl_strerror(rc));
        goto done;
    }
    if (n_workers == 1)
        rc = run_serial(reader, rules, gate, &workers[0], errbuf, errlen);
    else
        rc = run_parallel(reader, rules, gate, workers, n_workers, opts->handover_batches,
                          main_agg, errbuf, errlen);
    if (rc)
        goto done;
    /* Reading is over: give back its buffers, the matchers and each worker's aggregate as
     * soon as it is merged, so that the analysis does not add to their peak. */
    fl_reader_free(reader);
    reader = NULL;
    for (int i = 1; i < n_workers; i++) /* rules that hit the PCRE2 limits, summed */
        fl_matcher_add_limit_hits(workers[0].matcher, workers[i].matcher);
    fl_matcher_warn_limits(workers[0].matcher, diag);
    for (int i = 0; i < n_workers; i++) {
        fl_matcher_free(workers[i].matcher);
        workers[i].matcher = NULL;
    }
    /* The aggregates go into the one that counted the most entries (with one thread the
     * worker's, which already spans the input; main_agg holds the changes and, with more, what
     * workers handed over): the smaller ones are copied, and no call-graph table (0.9 MiB) is
     * made and filled for a destination that was empty. The merge is order-independent. */
    fl_agg *dst = main_agg;
    int from = -1;
    for (int i = 0; i < n_workers; i++)
        if (workers[i].agg && fl_agg_entries(workers[i].agg) > fl_agg_entries(dst)) {
            dst = workers[i].agg;
            from = i;
        }
    if (from >= 0) {
        if ((rc = fl_agg_merge(dst, main_agg)) != 0)
            goto oom;
        fl_agg_free(main_agg);
        main_agg = dst;
        workers[from].agg = NULL;
    }
    for (int i = 0; i < n_workers; i++) {
        if (!workers[i].agg)
            continue;
        if ((rc = fl_agg_merge(main_agg, workers[i].agg)) != 0)
            goto oom;
        fl_agg_free(workers[i].agg);
        workers[i].agg = NULL;
    }

    /* What the gate did, for fl_pipeline_report (and summaries) to put into the result. */
    if (opts->gate_summary)
        fl_gate_annotate(gate, opts->gate_summary);
    *agg_out = main_agg;
    *rules_out = rules;
    main_agg = NULL;
    rules = NULL;
    goto done;
oom:
    set_err(errbuf, errlen, "%s", fl_strerror(rc));
done:
    fl_reader_free(reader);
    for (int i = 0; workers && i < n_workers; i++) {
        fl_agg_free(workers[i].agg);
        fl_matcher_free(workers[i].matcher);
    }
    fl_free(workers);
    fl_agg_free(main_agg);
    fl_rules_free(rules);
    fl_gate_free(gate);
    fl_prescan_free(&prescan);
    return rc;
}

void fl_pipeline_put_gate(const fl_input_summary *gate, fl_input_summary *in)
{
    if (!gate)
        return;
    memcpy(in->filter, gate->filter, sizeof in->filter);
    memcpy(in->project, gate->project, sizeof in->project);
    in->filtered_out = gate->filtered_out;
    in->duplicates = gate->duplicates;
    in->dedup_unchecked = gate->dedup_unchecked;
}

int fl_pipeline_report(const fl_agg *agg, const fl_rules *rules, const fl_pipeline_opts *opts,
                       fl_diag *diag, fl_result **out, char *errbuf, size_t errlen)
{
    /* Caps reached and far-away timestamps, judged on the whole (merged) aggregate: the same
     * warnings, in the same place, for one pass and for merged shards. */
    fl_agg_warn_caps(agg, diag);
    fl_analyze_opts aopts = opts->analyze;
    aopts.rules = rules;
    fl_result *res = NULL;
    *out = NULL;
    int rc = fl_analyze(agg, &aopts, &res);
    if (rc) {
        set_err(errbuf, errlen, "analysis failed: %s", fl_strerror(rc));
        return rc;
    }
    if ((rc = fl_result_set_input(res, diag)) != 0) {
        fl_result_free(res);
        set_err(errbuf, errlen, "%s", fl_strerror(rc));
        return rc;
    }
    fl_pipeline_put_gate(opts->gate_summary, &res->input);
    *out = res;
    return 0;
}

int fl_pipeline_run(const char *const *inputs, size_t n_inputs, const fl_pipeline_opts *opts,
                    fl_diag *diag, fl_result **out, char *errbuf, size_t errlen)
{
    fl_agg *agg = NULL;
    fl_rules *rules = NULL;
    *out = NULL;
    /* The gate's record travels from the reading half to the report half. */
    fl_input_summary gate_summary;
    memset(&gate_summary, 0, sizeof gate_summary);
    fl_pipeline_opts o = *opts;
    if (!o.gate_summary)
        o.gate_summary = &gate_summary;
    int rc = fl_pipeline_aggregate(inputs, n_inputs, &o, diag, &agg, &rules, errbuf, errlen);
    if (rc == 0)
        rc = fl_pipeline_report(agg, rules, &o, diag, out, errbuf, errlen);
    fl_agg_free(agg);
    fl_rules_free(rules);
    return rc;
}
