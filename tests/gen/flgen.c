/* flgen: seeded generator of Google Cloud Logging exports of Cloud Run services, for
 * faultline's tests and benchmarks. Same arguments and seed give byte-identical output.
 *
 *   flgen --scenario bad_config_deploy --seed 7 [--format ndjson|array] [--minutes 60]
 *         [--rate 40] [--out FILE] [--truth FILE]
 *   flgen --bench --bytes 1G [--entries N] [--seed N] [--format ndjson|array] [--out FILE]
 *   flgen --list */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gen.h"

typedef struct opts {
    const char *scenario;
    uint64_t seed;
    bool array;
    int minutes;
    double rate;
    const char *out;
    const char *truth;
    const char *scenario_file;
    bool list;
    bool bench;
    bool no_audit;
    uint64_t bytes;
    uint64_t entries;
} opts;

enum opt_id {
    O_SCENARIO,
    O_SEED,
    O_FORMAT,
    O_MINUTES,
    O_RATE,
    O_OUT,
    O_TRUTH,
    O_LIST,
    O_BENCH,
    O_BYTES,
    O_ENTRIES,
    O_NO_AUDIT,
    O_SCENARIO_FILE,
    O_HELP
};

/* One table drives parsing and --help. */
static const struct {
    const char *name;
    int id;
    const char *arg;
    const char *help;
} options[] = {
    {"--bench", O_BENCH, NULL, "stream a large realistic export fast (needs --bytes or --entries)"},
    {"--bytes", O_BYTES, "N[K|M|G]", "bench output size (binary units), never exceeded"},
    {"--entries", O_ENTRIES, "N", "bench: stop after N entries (same entries in both formats)"},
    {"--format", O_FORMAT, "ndjson|array",
     "ndjson (default, oldest first) or gcloud --format=json "
     "(2-space indent, newest first)"},
    {"--help", O_HELP, NULL, "this text"},
    {"--list", O_LIST, NULL, "list scenarios"},
    {"--no-audit", O_NO_AUDIT, NULL,
     "leave out Cloud Audit Logs (an export of the run.googleapis.com logs only)"},
    {"--minutes", O_MINUTES, "M", "window length (default 60)"},
    {"--out", O_OUT, "FILE", "write here instead of stdout"},
    {"--rate", O_RATE, "R", "baseline requests per minute per service (default 40)"},
    {"--scenario", O_SCENARIO, "NAME", "scenario to generate (see --list)"},
    {"--scenario-file", O_SCENARIO_FILE, "FILE",
     "scenario described as data (tests/data/scenarios/README.md)"},
    {"--seed", O_SEED, "N", "seed (default 1)"},
    {"--truth", O_TRUTH, "FILE", "write the ground truth JSON here"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: flgen --scenario NAME [options] | flgen --scenario-file FILE [options] | "
               "flgen --bench --bytes N [options] | flgen --list\n\n");
    for (size_t i = 0; i < FL_ARRAY_LEN(options); i++) {
        char left[40];
        snprintf(left, sizeof(left), "%s%s%s", options[i].name, options[i].arg ? " " : "",
                 options[i].arg ? options[i].arg : "");
        fprintf(f, "  %-24s %s\n", left, options[i].help);
    }
}

/* A whole decimal number for an option; complains naming the option. */
static int parse_count(const char *opt, const char *val, uint64_t *out)
{
    char *end = NULL;
    *out = strtoull(val, &end, 10);
    if (!*val || *end) {
        fprintf(stderr, "flgen: bad %s '%s'\n", opt, val);
        return FL_EINVAL;
    }
    return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return FL_EINVAL;
    uint64_t mul = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mul = UINT64_C(1) << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mul = UINT64_C(1) << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mul = UINT64_C(1) << 30;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end)
        return FL_EINVAL;
    *out = (uint64_t)v * mul;
    return 0;
}

static int parse_args(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof(*o));
    o->seed = 1;
    o->minutes = 0;
    o->rate = 40;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        size_t alen = strlen(a);
        const char *eq = strchr(a, '=');
        if (eq)
            alen = (size_t)(eq - a);
        int id = -1;
        bool takes = false;
        for (size_t k = 0; k < FL_ARRAY_LEN(options); k++)
            if (strlen(options[k].name) == alen && strncmp(options[k].name, a, alen) == 0) {
                id = options[k].id;
                takes = options[k].arg != NULL;
            }
        if (id < 0) {
            fprintf(stderr, "flgen: unknown option '%s'\n", a);
            return FL_EINVAL;
        }
        if (takes) {
            if (eq)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else {
                fprintf(stderr, "flgen: %s needs a value\n", a);
                return FL_EINVAL;
            }
        }
        char *end = NULL;
        switch (id) {
        case O_SCENARIO:
            o->scenario = val;
            break;
        case O_SCENARIO_FILE:
            o->scenario_file = val;
            break;
        case O_SEED:
            if (parse_count("--seed", val, &o->seed))
                return FL_EINVAL;
            break;
        case O_FORMAT:
            if (strcmp(val, "array") == 0 || strcmp(val, "json") == 0)
                o->array = true;
            else if (strcmp(val, "ndjson") != 0) {
                fprintf(stderr, "flgen: --format must be ndjson or array\n");
                return FL_EINVAL;
            }
            break;
        case O_MINUTES:
            o->minutes = atoi(val);
            if (o->minutes < 1 || o->minutes > 24 * 60) {
                fprintf(stderr, "flgen: --minutes must be 1..1440\n");
                return FL_EINVAL;
            }
            break;
        case O_RATE:
            o->rate = strtod(val, &end);
            if (*end || o->rate <= 0 || o->rate > 100000) {
                fprintf(stderr, "flgen: --rate must be in (0, 100000]\n");
                return FL_EINVAL;
            }
            break;
        case O_OUT:
            o->out = val;
            break;
        case O_TRUTH:
            o->truth = val;
            break;
        case O_LIST:
            o->list = true;
            break;
        case O_BENCH:
            o->bench = true;
            break;
        case O_BYTES:
            if (parse_size(val, &o->bytes)) {
                fprintf(stderr, "flgen: bad --bytes '%s'\n", val);
                return FL_EINVAL;
            }
            break;
        case O_ENTRIES:
            if (parse_count("--entries", val, &o->entries))
                return FL_EINVAL;
            break;
        case O_NO_AUDIT:
            o->no_audit = true;
            break;
        case O_HELP:
            usage(stdout);
            exit(0);
        }
    }
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return FL_EIO;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* gcloud logging read --format=json: a pretty array (2-space indent, sorted keys), newest
 * first. Each entry is re-indented by two spaces for its place inside the array. */
/* Drops the audit entries, as in an export of a sink that only routes run.googleapis.com logs:
 * changes must then be inferred from revisions first seen in the logs. */
static void drop_audit(gen_world *w)
{
    size_t kept = 0;
    for (size_t k = 0; k < w->n_entries; k++) {
        if (strstr(w->entries[k].json, "/logs/cloudaudit.googleapis.com%2F")) {
            fl_free(w->entries[k].json);
            continue;
        }
        w->entries[kept++] = w->entries[k];
    }
    w->n_entries = kept;
}

/* Writes the buffer out once it holds more than 4 MiB, so output goes in large writes. */
static int flush_full(int fd, fl_buf *b)
{
    if (b->len <= (1u << 22))
        return 0;
    int rc = write_all(fd, b->data, b->len);
    fl_buf_reset(b);
    return rc;
}

static int write_array(const gen_world *w, int fd)
{
    fl_buf b;
    fl_buf_init(&b, (size_t)1 << 30);
    int rc = 0;
    if (w->n_entries == 0)
        return write_all(fd, "[]\n", 3);
    fl_buf_addstr(&b, "[\n");
    for (size_t k = w->n_entries; k-- > 0;) {
        json_t *e = json_loads(w->entries[k].json, 0, NULL);
        char *s =
            e ? json_dumps(e, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(16)) : NULL;
        json_decref(e);
        if (!s) {
            rc = FL_ENOMEM;
            break;
        }
        fl_buf_addstr(&b, "  ");
        for (const char *p = s; *p; p++) {
            fl_buf_addc(&b, *p);
            if (*p == '\n')
                fl_buf_addstr(&b, "  ");
        }
        fl_free(s);
        fl_buf_addstr(&b, k ? ",\n" : "\n]\n");
        if ((rc = flush_full(fd, &b)))
            break;
    }
    if (!rc && b.len)
        rc = write_all(fd, b.data, b.len);
    fl_buf_free(&b);
    return rc;
}

static int write_ndjson(const gen_world *w, int fd)
{
    fl_buf b;
    fl_buf_init(&b, (size_t)1 << 30);
    int rc = 0;
    for (size_t k = 0; k < w->n_entries; k++) {
        fl_buf_addstr(&b, w->entries[k].json);
        fl_buf_addc(&b, '\n');
        if ((rc = flush_full(fd, &b)))
            break;
    }
    if (!rc && b.len)
        rc = write_all(fd, b.data, b.len);
    fl_buf_free(&b);
    return rc;
}

static int open_out(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return STDOUT_FILENO;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        fprintf(stderr, "flgen: %s: %s\n", path, strerror(errno));
    return fd;
}

static int run_scenario(const opts *o)
{
    const gen_scenario *sc = NULL;
    json_t *doc = NULL;
    char name[128] = "";
    if (o->scenario_file) {
        json_error_t jerr;
        if (!(doc = json_load_file(o->scenario_file, 0, &jerr))) {
            fprintf(stderr, "flgen: %s:%d: %s\n", o->scenario_file, jerr.line, jerr.text);
            return 2;
        }
        /* the scenario's name is its file name without the directory and ".json" */
        const char *base = strrchr(o->scenario_file, '/');
        snprintf(name, sizeof(name), "%s", base ? base + 1 : o->scenario_file);
        char *dot = strstr(name, ".json");
        if (dot)
            *dot = '\0';
    } else if (!(sc = gen_scenario_find(o->scenario))) {
        fprintf(stderr, "flgen: unknown scenario '%s' (see --list)\n", o->scenario);
        return 2;
    } else {
        snprintf(name, sizeof(name), "%s", sc->name);
    }
    gen_world *w = fl_calloc(1, sizeof(*w));
    if (!w) {
        json_decref(doc);
        return 1;
    }
    int minutes = o->minutes ? o->minutes
                  : sc       ? sc->default_minutes
                             : (int)json_integer_value(json_object_get(doc, "minutes"));
    gen_world_init(w, o->seed, name, minutes > 0 ? minutes : 60);
    gen_truth t = {"none", -1, -1, -1, GEN_CLS_NONE};
    if (sc) {
        sc->setup(w, &t, o->rate);
    } else {
        char err[256];
        if (gen_scenfile_setup(w, doc, o->rate, err, sizeof(err)) < 0) {
            fprintf(stderr, "flgen: %s: %s\n", o->scenario_file, err);
            gen_world_free(w);
            fl_free(w);
            json_decref(doc);
            return 2;
        }
    }
    gen_simulate(w);
    if (w->capped) {
        fprintf(stderr,
                "flgen: scenario larger than %zu entries or %zu MiB; lower --rate or "
                "--minutes, or use --bench for large inputs\n",
                w->max_entries, w->max_bytes >> 20);
        gen_world_free(w);
        fl_free(w);
        json_decref(doc);
        return 1;
    }
    gen_sort(w);
    if (o->no_audit)
        drop_audit(w);

    int rc = 0;
    int fd = open_out(o->out);
    if (fd < 0)
        rc = 1;
    else {
        if ((o->array ? write_array(w, fd) : write_ndjson(w, fd)) != 0) {
            fprintf(stderr, "flgen: write failed: %s\n", strerror(errno));
            rc = 1;
        }
        if (fd != STDOUT_FILENO)
            close(fd);
    }
    if (!rc && o->truth) {
        json_t *truth = sc ? gen_truth_json(w, &t, sc->name) : gen_scenfile_truth(w, doc, name);
        if (json_dump_file(truth, o->truth, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
            fprintf(stderr, "flgen: cannot write %s\n", o->truth);
            rc = 1;
        }
        json_decref(truth);
    }
    gen_world_free(w);
    fl_free(w);
    json_decref(doc);
    return rc;
}

int main(int argc, char **argv)
{
    opts o;
    json_set_alloc_funcs(fl_malloc, fl_free);
    if (parse_args(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    if (o.list) {
        size_t n;
        const gen_scenario *s = gen_scenario_list(&n);
        for (size_t i = 0; i < n; i++)
            printf("%-24s %s\n", s[i].name, s[i].summary);
        return 0;
    }
    if (o.bench) {
        if (!o.bytes && !o.entries) {
            fprintf(stderr, "flgen: --bench needs --bytes N or --entries N\n");
            return 2;
        }
        if (!o.bytes)
            o.bytes = UINT64_MAX;
        int fd = open_out(o.out);
        if (fd < 0)
            return 1;
        int rc = gen_bench(o.seed, o.bytes, o.entries, o.array, fd);
        if (fd != STDOUT_FILENO)
            close(fd);
        if (rc) {
            fprintf(stderr, "flgen: bench output failed: %s\n", fl_strerror(rc));
            return 1;
        }
        return 0;
    }
    if (!o.scenario && !o.scenario_file) {
        usage(stderr);
        return 2;
    }
    return run_scenario(&o);
}
