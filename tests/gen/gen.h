/* flgen internals: a seeded model of a Google Cloud project running Cloud Run services, and the
 * code that turns it into LogEntry JSON the way Cloud Logging exports it. Everything random
 * comes from one splitmix64 stream so the same arguments and seed give the same bytes. */
#ifndef FLGEN_GEN_H
#define FLGEN_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "fl_common.h"

/* ---- randomness ---------------------------------------------------------------------------- */

typedef struct gen_rng {
    uint64_t s;
} gen_rng;

static inline uint64_t gen_next(gen_rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n == 0 gives 0. */
static inline uint32_t gen_below(gen_rng *r, uint32_t n)
{
    return n ? (uint32_t)(((gen_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

/* Uniform in [lo, hi] (inclusive). */
static inline int64_t gen_range(gen_rng *r, int64_t lo, int64_t hi)
{
    return hi <= lo ? lo : lo + (int64_t)(gen_next(r) % (uint64_t)(hi - lo + 1));
}

/* Uniform in [0, 1) with 53 bits. */
static inline double gen_unit(gen_rng *r)
{
    return (double)(gen_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline bool gen_chance(gen_rng *r, double p)
{
    return gen_unit(r) < p;
}

#define GEN_PICK(r, arr) ((arr)[gen_below((r), (uint32_t)FL_ARRAY_LEN(arr))])

void gen_hex(gen_rng *r, char *out, size_t n);   /* n lowercase hex digits + NUL */
void gen_alnum(gen_rng *r, char *out, size_t n); /* n chars of [a-z0-9] + NUL */

/* ---- time ---------------------------------------------------------------------------------- */

#define GEN_NS_PER_SEC INT64_C(1000000000)
#define GEN_NS_PER_MIN (INT64_C(60) * GEN_NS_PER_SEC)

/* RFC 3339 UTC with `digits` fractional digits (6 or 9): "2026-03-02T10:42:07.123456Z".
 * buf needs 40 bytes. */
char *gen_ts(int64_t ns, int digits, char *buf);

/* ---- error classes -------------------------------------------------------------------------- */

enum gen_class {
    GEN_CLS_NONE = 0,
    GEN_CLS_SCHEMA,    /* schema_validation: zod, pydantic settings, missing env var */
    GEN_CLS_OOM,       /* oom: memory limit exceeded, heap out of memory */
    GEN_CLS_MONGO,     /* mongo_server_selection */
    GEN_CLS_POOL,      /* pool_exhausted: HikariCP, node-postgres, SQLAlchemy QueuePool */
    GEN_CLS_REDIS,     /* redis_timeout */
    GEN_CLS_UNMATCHED, /* a new exception no rule knows: truth class is null */
    GEN_CLS_UPSTREAM,  /* upstream_timeout: background noise */
    GEN_CLS__COUNT
};

/* Class id as the rules name it; NULL for GEN_CLS_NONE and GEN_CLS_UNMATCHED. */
const char *gen_class_id(int cls);

enum gen_lang { GEN_NODE, GEN_PYTHON, GEN_JAVA, GEN_GO };

/* How a service writes its application logs. */
enum gen_style {
    GEN_STYLE_TEXT,  /* console.log / print / logback text lines, no severity */
    GEN_STYLE_JSON,  /* pino / zap / structlog JSON with level, no severity */
    GEN_STYLE_CLOUD, /* JSON with "severity", lifted into the entry by Cloud Run */
};

/* The logger a service writes with (scenario files name them, tests/data/scenarios/README.md).
 * GEN_LOG_STYLE keeps the built-in scenarios' per-style behaviour (enum gen_style). */
enum gen_logger {
    GEN_LOG_STYLE = 0,
    GEN_LOG_TEXT,      /* plain lines: console.error, print/traceback, logback pattern, Go log */
    GEN_LOG_PINO,      /* Node pino: numeric level, msg, err {type, message, stack} */
    GEN_LOG_ZAP,       /* Go zap production: level, ts, caller, msg, error, stacktrace */
    GEN_LOG_ZAPDRIVER, /* Go zapdriver: severity (lifted), message, error */
    GEN_LOG_SLOG,      /* Go log/slog JSONHandler: time, level, msg, err */
    GEN_LOG_LOGBACK,   /* Java logback + logstash-logback-encoder: message, level, stack_trace */
    GEN_LOG_PYJSON,    /* Python python-json-logger: levelname, name, message, exc_info */
    GEN_LOG_STRUCTLOG, /* Python structlog JSONRenderer: event, level, exception */
    GEN_LOG_CLOUD,     /* the Cloud Logging JSON format: severity (lifted), message */
};

/* ---- the model ----------------------------------------------------------------------------- */

#define GEN_MAX_SVCS 6
#define GEN_MAX_REVS 8
#define GEN_MAX_INST 6
#define GEN_MAX_TRAFFIC 8
#define GEN_MAX_FAULTS 16

typedef struct gen_rev {
    char name[80];
    int number;
    char image[200];
    char commit[48];
    char build_id[40];
    uint64_t inst[GEN_MAX_INST]; /* instance keys; rendered by gen_instance_id */
    int n_inst;
    int memory_mib;
    int64_t created;
    int64_t slot_from[GEN_MAX_INST]; /* an instance slot serves from this time */
    char dropped_env[40];            /* env var this revision's spec no longer sets */
    /* Instance replacements (crash, scale-out) in time order: slot `slot` is `key` from t. */
    struct {
        int64_t t;
        uint64_t key;
        int slot;
    } gens[64];
    int n_gens;
} gen_rev;

typedef struct gen_traffic {
    int64_t t; /* effective from */
    int rev[2];
    int pct[2]; /* pct[0] + pct[1] == 100 */
    int n;
} gen_traffic;

typedef struct gen_svc {
    char name[48];
    int lang;
    int style;
    char host[128];     /* run.app host */
    char repo[160];     /* image repository without tag */
    char sa[128];       /* service account email */
    char pool_name[32]; /* pool wording flavour (also used for look-alike chatter) */
    gen_rev revs[GEN_MAX_REVS];
    int n_revs;
    gen_traffic traffic[GEN_MAX_TRAFFIC];
    int n_traffic;
    double rate;     /* baseline requests per minute */
    int64_t surge_t; /* 0: none */
    double surge_mult;
    bool cloud_build; /* container labels carry commit-sha / gcb-build-id */
    int64_t born;     /* created inside the window (CreateService); 0: before it */
    int logger;       /* enum gen_logger */
    /* The services this one calls (the call graph): each request makes one call to each with
     * probability call_p, sharing the trace id; a callee 5xx or a reply slower than
     * timeout_ms fails the request with one of caller_errors ({callee_host} etc. filled in). */
    int callees[4];
    int n_callees;
    double call_p;
    int timeout_ms;
    const json_t *caller_errors; /* array of strings (borrowed from the scenario file) */
    const json_t *caller_msgs;
} gen_svc;

/* A reason for requests to fail: which service and revision, when, how often, and how. */
typedef struct gen_fault {
    int svc;
    int rev; /* -1: any revision */
    int64_t t0, t1;
    double p;        /* probability per request once fully on */
    int64_t ramp_ns; /* linear ramp from 0 to p after t0 */
    int cls;
    int status;
    bool counts;     /* true: this is the incident (onset tracking) */
    int variant;     /* wording choice, fixed per fault */
    char detail[64]; /* e.g. the env var that is missing */
    /* From a scenario file (borrowed; NULL for the built-in scenarios): the error texts in the
     * service's language, one picked per fault (now and then another), the log messages, the
     * statuses and the latency range of a failed request. */
    const json_t *texts;
    const json_t *msgs;
    int statuses[4];
    int n_statuses;
    int64_t lat_lo_ns, lat_hi_ns;
    char secret[64]; /* {secret} in the texts */
} gen_fault;

/* A change in the timeline the correlator should not blame. */
typedef struct gen_change {
    int svc;
    int rev;
    int64_t t;
} gen_change;

/* A window in which one instance is down: requests routed to it get 503. */
typedef struct gen_crash {
    int svc, rev, slot;
    int64_t t, dur;
    bool counts;
} gen_crash;

typedef struct gen_entry {
    int64_t ns;
    uint64_t seq;
    char *json; /* compact, owned */
} gen_entry;

typedef struct gen_world {
    gen_rng rng;
    uint64_t seed;
    char project[64];
    char project_number[16];
    char region[32];
    int64_t t0, t1; /* window [t0, t1) */
    gen_svc svcs[GEN_MAX_SVCS];
    int n_svcs;
    gen_fault faults[GEN_MAX_FAULTS];
    int n_faults;
    gen_change innocent[8];
    int n_innocent;
    gen_crash crashes[256];
    int n_crashes;
    char inst_prefix[16];
    int inst_len;
    int64_t onset;    /* first entry produced by a counting fault, 0 if none */
    bool quiet_noise; /* no background 5xx (bench pool) */
    /* Changes of a scenario file by id, for its faults and its truth. */
    struct {
        char id[32];
        int svc, rev, prev;
        int64_t t;
    } marks[16];
    int n_marks;
    int next_api;           /* the next deploy's audit API: 0 either, 1 v1 Replace, 2 v2 Update */
    int64_t ready_delay_ns; /* the next deploy's time to Ready (0: 7-21 s as usual) */
    double chatter_p; /* app log lines per successful request (default 0.55) */

    gen_entry *entries;
    size_t n_entries, cap_entries;
    uint64_t seq;
    size_t max_entries;
    size_t bytes, max_bytes; /* rendered JSON so far and its cap */
    bool capped;             /* entries were dropped at a cap: the output is incomplete */
    char next_commit[48]; /* when set: the commit of the next new revision (then cleared) */
} gen_world;

/* ---- world building (gen_world.c) ---------------------------------------------------------- */

/* salt (the scenario name) makes equal seeds of different scenarios differ. */
void gen_world_init(gen_world *w, uint64_t seed, const char *salt, int minutes);
void gen_world_free(gen_world *w);

/* Adds a service (name NULL: pick one not yet used). Returns its index. */
int gen_add_service(gen_world *w, const char *name, int lang, double rate);
/* Creates the next revision of a service (not yet serving). same_image: config-only change. */
int gen_new_revision(gen_world *w, int svc, bool same_image);
/* Sets traffic from time t. n == 1: all to rev_a. */
void gen_set_traffic(gen_world *w, int svc, int64_t t, int rev_a, int pct_a, int rev_b);
int gen_add_fault(gen_world *w, const gen_fault *f);

/* A successful deploy of svc at time t: ReplaceService/UpdateService audit entry, the
 * system_event Ready line, DEPLOYMENT_ROLLOUT instance starts; traffic moves to the new
 * revision (pct_new percent; 100 for a full rollout). Returns the new revision index. */
int gen_deploy(gen_world *w, int svc, int64_t t, bool config_only, int pct_new);
/* Same, with the new revision's spec missing env var drop_env (a config mistake). */
int gen_deploy_drop_env(gen_world *w, int svc, int64_t t, int pct_new, const char *drop_env);
/* Autoscaling adds n instances to the serving revision of svc from time t. */
void gen_scale_out(gen_world *w, int svc, int64_t t, int n);
/* A new service created at t (CreateService audit, first revision -00001-); serves from
 * when it is ready. Returns its index or -1. */
int gen_create_service(gen_world *w, const char *name, int lang, double rate, int64_t t);
/* A traffic-split update (canary): audit entry only. */
void gen_traffic_update(gen_world *w, int svc, int64_t t, int rev_a, int pct_a, int rev_b);
/* A rejected ReplaceService (severity ERROR, status code 3 or 10). */
void gen_failed_deploy(gen_world *w, int svc, int64_t t);
/* Secret Manager AddSecretVersion. */
void gen_add_secret_version(gen_world *w, const char *secret, int64_t t);
/* A rollout whose new revision never becomes Ready: the audit entry, instances that crash at
 * startup with f's error (exit(1), startup probe failures) for `crash_ns`, then the system
 * event "Ready condition status changed to False"; traffic stays where it was. When image_pull,
 * the image cannot be pulled instead (no container starts). Returns the new revision. */
int gen_failed_rollout(gen_world *w, int svc, int64_t t, const gen_fault *f, int64_t crash_ns,
                       bool image_pull);
/* OOM kills on a revision: every `every_ns` (jittered) from t_first to the window end. */
void gen_oom_series(gen_world *w, int svc, int rev, int64_t t_first, int64_t every_ns);
/* An instance of `rev` crashes at startup with the fault's error (exit(1) and restart). */
void gen_startup_crash(gen_world *w, int svc, int rev, int64_t t, const gen_fault *f);

/* Generates requests, app logs and noise for the whole window. Call after setting up. */
void gen_simulate(gen_world *w);

/* Sorts entries by time (stable). */
void gen_sort(gen_world *w);

/* ---- rendering helpers (gen_world.c) ------------------------------------------------------- */

/* Takes ownership of obj; records it at time ns. */
void gen_push(gen_world *w, int64_t ns, json_t *obj);
const char *gen_rev_name(const gen_world *w, int svc, int rev);
/* The long hex instanceId for an instance key. buf needs 168 bytes. */
char *gen_instance_id(const gen_world *w, uint64_t key, char *buf);

/* ---- message catalog (gen_text.c) ---------------------------------------------------------- */

/* Fills b with the error text (possibly multi-line, '\n' separated) a service in `lang`
 * writes for class cls; `variant` picks one wording family; detail is e.g. an env var name. */
void gen_error_text(gen_rng *r, fl_buf *b, int lang, int cls, int variant, const char *detail);
/* The one-line summary (exception line) used as a structured log message. */
void gen_error_summary(gen_rng *r, fl_buf *b, int lang, int cls, int variant, const char *detail);
/* Routine INFO chatter for a request. */
void gen_chatter(gen_rng *r, fl_buf *b, const gen_svc *s, const char *method, const char *path,
                 int status, int ms);
/* Healthy startup lines ("connection pool initialized (max=20)"): i-th of n; returns false
 * when there are no more. */
bool gen_startup_line(gen_rng *r, fl_buf *b, const gen_svc *s, int i);
/* Number of wording variants for a class in a language (>= 1). */
int gen_error_variants(int lang, int cls);

/* ---- scenarios (gen_scenarios.c) ----------------------------------------------------------- */

typedef struct gen_truth {
    const char *kind;       /* deploy | dependency | load | resource | platform | none */
    int svc, rev, prev_rev; /* -1 when not applicable */
    int cls;
} gen_truth;

typedef struct gen_scenario {
    const char *name;
    const char *summary;
    void (*setup)(gen_world *w, gen_truth *t, double rate);
    int default_minutes;
} gen_scenario;

const gen_scenario *gen_scenario_find(const char *name);
const gen_scenario *gen_scenario_list(size_t *n);

/* Writes the truth JSON (pretty, sorted keys). */
json_t *gen_truth_json(const gen_world *w, const gen_truth *t, const char *scenario);

/* ---- scenario files (gen_scenfile.c) ------------------------------------------------------- */

/* Builds the world a scenario file describes (tests/data/scenarios/README.md); the file's JSON
 * must outlive the world (faults borrow its strings). Returns 0 or -1 with a message in err. */
int gen_scenfile_setup(gen_world *w, json_t *doc, double rate, char *err, size_t errlen);
/* The truth JSON for a world built from a scenario file. */
json_t *gen_scenfile_truth(const gen_world *w, json_t *doc, const char *name);
/* Renders an error of a scenario-file fault: the log message and the full text (placeholders
 * filled in). */
void gen_fault_text(gen_world *w, const gen_fault *f, int svc, fl_buf *msg, fl_buf *text);
/* A line in one of the loggers of enum gen_logger (level "info", "warn" or "error"; err is the
 * error's full text or NULL). */
void gen_emit_logger(gen_world *w, int svc, int rev, uint64_t inst, int64_t ns, const char *level,
                     const char *msg, const char *err, const char *trace, const char *span);

/* ---- bench (gen_bench.c) ------------------------------------------------------------------- */

/* Streams NDJSON or gcloud-array entries to fd: never more than `bytes` bytes and, when
 * max_entries is not 0, never more than max_entries entries. Entry k is the same entry in
 * both formats, so an array and an NDJSON stream of N entries hold the same logs. */
int gen_bench(uint64_t seed, uint64_t bytes, uint64_t max_entries, bool array, int fd);

#endif
