/* The scenario suite runner: for every scenario x seed in scenarios.txt, generate a Cloud
 * Logging export with flgen, run the real batch pipeline on it, and compare the ranking with
 * the generator's ground truth. Prints one table row per case and fails below the bars of
 * issue 3:
 *   - the expected cause ranked first in >= 95% of the cases that have one, top 3 in all;
 *   - no innocent deploy ranked first anywhere;
 *   - scenarios without a cause yield no confident cause;
 *   - the same input twice gives byte-identical JSON;
 *   - a deploy cause's "revision X: k/n requests 5xx" evidence equals the counts in the input
 *     (counted here straight from the JSON, not through faultline's reader), and the Markdown
 *     report carries that line.
 *
 * Given a directory instead of scenarios.txt, it runs the data-driven suite of issue 11: every
 * scenario file in it (tests/data/scenarios/README.md), each seed as NDJSON and as a gcloud
 * array (which must give the same report), and prints a table per kind: true cause first %,
 * top 3 %, right class on the true cause %, innocent deploys ranked first, confident causes
 * where there is none. It fails below 95% / 100% / 90% / 0 / 0 unless FL_SCENARIO_NO_FAIL is
 * set (for iterating on the scorer). FL_SCENARIO_DUMP=text prints each report,
 * FL_SCENARIO_KEEP=1 keeps the generated files.
 * usage: run_scenarios FLGEN SCENARIOS_TXT|SCENARIO_DIR WORKDIR [NAME] */
#include "fl_pipeline.h"
#include "fl_reports.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

typedef struct truth {
    char kind[32], service[128], revision[128], prev[128], cls[64];
    char innocent[8][128];
    size_t n_innocent;
    /* scenario files only: every kind that names the cause right, the services it may be
     * attributed to, and for a secret rotation the secret's name */
    char kinds[4][32];
    size_t n_kinds;
    char services[6][128];
    size_t n_services;
    char change[32], secret[128];
} truth;

static void jcopy(json_t *o, const char *k, char *dst, size_t cap)
{
    json_t *v = json_object_get(o, k);
    snprintf(dst, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static int read_truth(const char *path, truth *t)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return -1;
    memset(t, 0, sizeof(*t));
    json_t *exp = json_object_get(root, "expected");
    jcopy(exp, "kind", t->kind, sizeof(t->kind));
    jcopy(exp, "service", t->service, sizeof(t->service));
    jcopy(exp, "revision", t->revision, sizeof(t->revision));
    jcopy(exp, "previous_revision", t->prev, sizeof(t->prev));
    jcopy(exp, "error_class", t->cls, sizeof(t->cls));
    jcopy(exp, "change", t->change, sizeof(t->change));
    jcopy(exp, "secret", t->secret, sizeof(t->secret));
    json_t *inn = json_object_get(root, "innocent_changes"), *v;
    size_t i;
    json_array_foreach(json_object_get(exp, "kinds"), i, v)
    {
        if (t->n_kinds < 4 && json_is_string(v))
            snprintf(t->kinds[t->n_kinds++], 32, "%s", json_string_value(v));
    }
    json_array_foreach(json_object_get(exp, "services"), i, v)
    {
        if (t->n_services < 6 && json_is_string(v))
            snprintf(t->services[t->n_services++], 128, "%s", json_string_value(v));
    }
    json_array_foreach(inn, i, v)
    {
        if (t->n_innocent < 8)
            jcopy(v, "revision", t->innocent[t->n_innocent++], 128);
    }
    json_decref(root);
    return 0;
}

static bool kind_ok(const fl_cause *c, const truth *t)
{
    const char *k = fl_cause_kind_name(c->kind);
    if (!t->n_kinds)
        return strcmp(k, t->kind) == 0;
    for (size_t i = 0; i < t->n_kinds; i++)
        if (strcmp(k, t->kinds[i]) == 0)
            return true;
    return false;
}

static bool service_ok(const fl_cause *c, const truth *t)
{
    if (t->service[0] && strcmp(c->service, t->service) == 0)
        return true;
    for (size_t i = 0; i < t->n_services; i++)
        if (strcmp(c->service, t->services[i]) == 0)
            return true;
    return false;
}

/* A scenario file's cause: an accepted kind; a deploy (or failed rollout) by its revision; a
 * secret rotation by the secret's name in the summary or one of the services it broke; other
 * causes by one of the services or the error class. */
static bool is_expected_file(const fl_cause *c, const truth *t)
{
    if (!kind_ok(c, t))
        return false;
    if (t->revision[0])
        return strcmp(c->revision, t->revision) == 0;
    if (strcmp(t->change, "secret") == 0)
        return (t->secret[0] && c->summary && strstr(c->summary, t->secret)) || service_ok(c, t);
    return service_ok(c, t) || (t->cls[0] && strcmp(c->error_class, t->cls) == 0);
}

/* The class named on the true cause is right: the expected class, or, when the error is one no
 * rule knows (class null), anything but a known class id. */
static bool class_ok(const fl_cause *c, const truth *t)
{
    if (t->cls[0])
        return strcmp(c->error_class, t->cls) == 0;
    const char *k = c->error_class;
    if (!k[0] || strncmp(k, "fp:", 3) == 0)
        return true;
    return strspn(k, "abcdefghijklmnopqrstuvwxyz_") != strlen(k);
}

/* The cause the truth describes: same kind; for deploys the same revision; for other kinds
 * the same service or the same error class (a dependency outage shows in several services). */
static bool is_expected(const fl_cause *c, const truth *t)
{
    if (t->n_kinds)
        return is_expected_file(c, t);
    if (strcmp(fl_cause_kind_name(c->kind), t->kind) != 0)
        return false;
    if (c->kind == FL_CAUSE_DEPLOY)
        return strcmp(c->revision, t->revision) == 0 && strcmp(c->service, t->service) == 0;
    return strcmp(c->service, t->service) == 0 || (t->cls[0] && strcmp(c->error_class, t->cls) == 0);
}

static bool is_innocent(const fl_cause *c, const truth *t)
{
    if (c->kind != FL_CAUSE_DEPLOY)
        return false;
    for (size_t i = 0; i < t->n_innocent; i++)
        if (strcmp(c->revision, t->innocent[i]) == 0)
            return true;
    return false;
}

static char *render(const fl_result *r, const char *fmt)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    fl_report_opts o = {.no_redact = true};
    int rc = fl_report_write(fmt, r, &o, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int run_pipeline(const char *input, fl_result **out)
{
    fl_pipeline_opts o;
    memset(&o, 0, sizeof(o));
    o.threads = 1;
    if (getenv("FL_SCENARIO_MAX_CAUSES"))
        o.analyze.max_causes = (size_t)atoi(getenv("FL_SCENARIO_MAX_CAUSES"));
    fl_diag d;
    fl_diag_init(&d);
    char err[512] = "";
    const char *inputs[] = {input};
    int rc = fl_pipeline_run(inputs, 1, &o, &d, out, err, sizeof(err));
    if (rc)
        fprintf(stderr, "pipeline on %s: %s (%s)\n", input, fl_strerror(rc), err);
    fl_diag_free(&d);
    return rc;
}

/* Requests and 5xx of one revision, counted from the raw NDJSON. */
static int count_requests(const char *path, const char *revision, uint64_t *n, uint64_t *k5)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    *n = *k5 = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (!strstr(line, revision) || !strstr(line, "httpRequest"))
            continue;
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        json_t *labels = json_object_get(json_object_get(o, "resource"), "labels");
        json_t *rev = json_object_get(labels, "revision_name");
        json_t *req = json_object_get(o, "httpRequest");
        if (json_is_string(rev) && strcmp(json_string_value(rev), revision) == 0 && req) {
            (*n)++;
            *k5 += json_integer_value(json_object_get(req, "status")) >= 500;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    return 0;
}

/* Evidence numbers of a deploy cause against the raw input: "revision X: k/n requests 5xx"
 * must equal the counts in the NDJSON, and the Markdown report must carry that line. */
static bool evidence_ok(const fl_result *r, const char *data, const char *name, int seed)
{
    bool ev_ok = true;
    for (size_t i = 0; i < r->n_causes && i < 3; i++) {
        const fl_cause *c = &r->causes[i];
        if (c->kind != FL_CAUSE_DEPLOY || !c->revision[0] || !c->n_evidence ||
            strncmp(c->evidence[0], "revision ", 9) != 0 || !strstr(c->evidence[0], "requests"))
            continue;
        uint64_t n = 0, k5 = 0;
        char want[512];
        count_requests(data, c->revision, &n, &k5);
        snprintf(want, sizeof(want), "revision %s: %llu/%llu requests 5xx", c->revision,
                 (unsigned long long)k5, (unsigned long long)n);
        if (strncmp(c->evidence[0], want, strlen(want)) != 0) {
            fprintf(stderr, "%s-%d: evidence \"%s\", input says \"%s\"\n", name, seed,
                    c->evidence[0], want);
            ev_ok = false;
        }
        char *md = render(r, "md");
        if (!md || !strstr(md, want)) {
            fprintf(stderr, "%s-%d: the Markdown report lacks \"%s\"\n", name, seed, want);
            ev_ok = false;
        }
        free(md);
    }
    return ev_ok;
}

typedef struct totals {
    int cause_cases, first, top3, none_cases, none_ok, innocent_first, nondeterministic,
        evidence_bad, errors;
    double max_innocent;  /* highest score any innocent deploy got, at any rank */
    double max_none_top;  /* highest top score in a case without a cause */
    double min_true_top;  /* lowest score of a true cause ranked first */
} totals;

static void run_case(const char *flgen, const char *dir, const char *name, int seed,
                     const char *expect, const char *flags, totals *tot)
{
    char data[1024], tpath[1024], cmd[4096];
    snprintf(data, sizeof(data), "%s/%s-%d.ndjson", dir, name, seed);
    snprintf(tpath, sizeof(tpath), "%s/%s-%d.truth.json", dir, name, seed);
    snprintf(cmd, sizeof(cmd),
             "'%s' --scenario %s --seed %d --format ndjson --out '%s' --truth '%s' %s", flgen,
             name, seed, data, tpath, flags);
    truth t;
    fl_result *r = NULL, *r2 = NULL;
    if (system(cmd) != 0 || read_truth(tpath, &t) != 0 || run_pipeline(data, &r) != 0) {
        printf("%-24s %4d  ERROR (generation, truth or pipeline failed)\n", name, seed);
        tot->errors++;
        return;
    }
    bool want_none = strcmp(t.kind, "none") == 0;
    if (want_none != (strcmp(expect, "none") == 0)) {
        printf("%-24s %4d  ERROR scenarios.txt says %s, truth says %s\n", name, seed, expect,
               t.kind);
        tot->errors++;
    }
    int rank = 0;
    for (size_t i = 0; i < r->n_causes && !rank; i++)
        if (!want_none && is_expected(&r->causes[i], &t))
            rank = (int)i + 1;
    const fl_cause *top = r->n_causes ? &r->causes[0] : NULL;
    bool innocent = top && is_innocent(top, &t);
    for (size_t i = 0; i < r->n_causes; i++)
        if (is_innocent(&r->causes[i], &t) && r->causes[i].score > tot->max_innocent)
            tot->max_innocent = r->causes[i].score;
    if (want_none && top && top->score > tot->max_none_top)
        tot->max_none_top = top->score;
    if (rank == 1 && top->score < tot->min_true_top)
        tot->min_true_top = top->score;
    tot->innocent_first += innocent;
    const char *verdict;
    if (want_none) {
        tot->none_cases++;
        tot->none_ok += !r->confident;
        verdict = r->confident ? "FAIL confident" : "ok";
    } else {
        tot->cause_cases++;
        tot->first += rank == 1;
        tot->top3 += rank >= 1 && rank <= 3;
        verdict = rank == 1 ? "ok" : rank >= 1 && rank <= 3 ? "top3" : "FAIL";
    }
    if (innocent)
        verdict = "FAIL innocent first";

    /* Determinism: the same input again gives the same bytes. */
    char *j1 = render(r, "json"), *j2 = NULL;
    if (run_pipeline(data, &r2) == 0)
        j2 = render(r2, "json");
    bool same = j1 && j2 && strcmp(j1, j2) == 0;
    tot->nondeterministic += !same;

    bool ev_ok = evidence_ok(r, data, name, seed);
    tot->evidence_bad += !ev_ok;

    char rank_s[16];
    snprintf(rank_s, sizeof(rank_s), "%d", rank);
    char label[160];
    snprintf(label, sizeof(label), "%s%s", name, flags[0] ? "*" : "");
    printf("%-24s %4d  %4s  %5.3f  %-10s %-34s %-10s %s%s%s\n", label, seed,
           want_none ? "-" : rank ? rank_s : "none",
           top ? top->score : 0.0, top ? fl_cause_kind_name(top->kind) : "-",
           top ? (top->revision[0] ? top->revision : top->service) : "-",
           r->confident ? "confident" : "-", verdict, same ? "" : " NONDETERMINISTIC",
           ev_ok ? "" : " EVIDENCE");
    if (getenv("FL_SCENARIO_DUMP")) {
        /* Debugging aid: the full text report of each case. */
        fl_report_opts o = {.no_redact = true};
        fl_report_write(getenv("FL_SCENARIO_DUMP"), r, &o, stdout);
    }
    free(j1);
    free(j2);
    fl_result_free(r);
    fl_result_free(r2);
    remove(data);
    remove(tpath);
}

/* ---- the data-driven suite: one scenario file per kind (tests/data/scenarios) ------------- */

typedef struct kind_stats {
    char name[96];
    int cases, first, top3, cls, innocent_first, false_confident, none_cases, bad;
} kind_stats;

/* The JSON report without the line that differs between NDJSON and array input (byte count). */
static void drop_bytes_line(char *j)
{
    char *p = j ? strstr(j, "\"bytes\":") : NULL;
    if (!p)
        return;
    char *nl = strchr(p, '\n');
    if (nl)
        memmove(p, nl + 1, strlen(nl + 1) + 1);
}

/* One scenario file x seed: the NDJSON and the gcloud-array export of the same incident must
 * give the same report; the ranking is checked on the NDJSON one. */
static void run_file_case(const char *flgen, const char *work, const char *path, const char *name,
                          int seed, kind_stats *ks, totals *tot)
{
    char nd[1024], arr[1024], tpath[1024], cmd[8192];
    snprintf(nd, sizeof(nd), "%s/%s-%d.ndjson", work, name, seed);
    snprintf(arr, sizeof(arr), "%s/%s-%d.json", work, name, seed);
    snprintf(tpath, sizeof(tpath), "%s/%s-%d.truth.json", work, name, seed);
    snprintf(cmd, sizeof(cmd),
             "'%s' --scenario-file '%s' --seed %d --format ndjson --out '%s' --truth '%s' && "
             "'%s' --scenario-file '%s' --seed %d --format array --out '%s'",
             flgen, path, seed, nd, tpath, flgen, path, seed, arr);
    truth t;
    fl_result *r = NULL, *r2 = NULL;
    if (system(cmd) != 0 || read_truth(tpath, &t) != 0 || run_pipeline(nd, &r) != 0) {
        printf("%-30s %4d  ERROR (generation, truth or pipeline failed)\n", name, seed);
        tot->errors++;
        ks->bad++;
        return;
    }
    bool want_none = strcmp(t.kind, "none") == 0;
    int rank = 0;
    for (size_t i = 0; i < r->n_causes && !rank; i++)
        if (!want_none && is_expected(&r->causes[i], &t))
            rank = (int)i + 1;
    const fl_cause *top = r->n_causes ? &r->causes[0] : NULL;
    bool innocent = top && is_innocent(top, &t);
    bool cls = rank > 0 && class_ok(&r->causes[rank - 1], &t);
    ks->cases++;
    ks->innocent_first += innocent;
    tot->innocent_first += innocent;
    const char *verdict;
    if (want_none) {
        ks->none_cases++;
        tot->none_cases++;
        tot->none_ok += !r->confident;
        ks->false_confident += r->confident;
        verdict = r->confident ? "FAIL confident" : "ok";
    } else {
        tot->cause_cases++;
        tot->first += rank == 1;
        tot->top3 += rank >= 1 && rank <= 3;
        ks->first += rank == 1;
        ks->top3 += rank >= 1 && rank <= 3;
        ks->cls += cls;
        verdict = rank == 1 ? (cls ? "ok" : "class") : rank >= 1 && rank <= 3 ? "top3" : "FAIL";
    }
    if (innocent)
        verdict = "FAIL innocent first";
    bool ev_ok = evidence_ok(r, nd, name, seed);
    tot->evidence_bad += !ev_ok;
    ks->bad += !ev_ok;
    char *j1 = render(r, "json"), *j2 = NULL;
    if (run_pipeline(arr, &r2) == 0)
        j2 = render(r2, "json");
    drop_bytes_line(j1);
    drop_bytes_line(j2);
    bool same = j1 && j2 && strcmp(j1, j2) == 0;
    tot->nondeterministic += !same;
    ks->bad += !same;
    char rank_s[16];
    snprintf(rank_s, sizeof(rank_s), "%d", rank);
    printf("%-30s %4d  %4s  %5.3f  %-10s %-34s %-22s %s%s%s\n", name, seed,
           want_none ? "-" : rank ? rank_s : "none", top ? top->score : 0.0,
           top ? fl_cause_kind_name(top->kind) : "-",
           top ? (top->revision[0] ? top->revision : top->service) : "-",
           top ? top->error_class : "-", verdict, same ? "" : " ARRAY!=NDJSON",
           ev_ok ? "" : " EVIDENCE");
    if (getenv("FL_SCENARIO_DUMP")) {
        fl_report_opts o = {.no_redact = true};
        fl_report_write(getenv("FL_SCENARIO_DUMP"), r, &o, stdout);
    }
    free(j1);
    free(j2);
    fl_result_free(r);
    fl_result_free(r2);
    if (!getenv("FL_SCENARIO_KEEP")) {
        remove(nd);
        remove(arr);
        remove(tpath);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static double pct(int a, int b)
{
    return b ? 100.0 * a / b : 100.0;
}

/* Seeds of a scenario file: "seeds": [first, last], default 1-5. */
static void file_seeds(const char *path, int *a, int *b)
{
    *a = 1;
    *b = 5;
    json_t *doc = json_load_file(path, 0, NULL);
    json_t *sd = json_object_get(doc, "seeds");
    if (json_is_array(sd) && json_array_size(sd) == 2) {
        *a = (int)json_integer_value(json_array_get(sd, 0));
        *b = (int)json_integer_value(json_array_get(sd, 1));
    }
    json_decref(doc);
}

static int run_dir(const char *flgen, const char *dir, const char *work, const char *only)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: cannot open\n", dir);
        return 2;
    }
    char *names[256];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < FL_ARRAY_LEN(names)) {
        size_t len = strlen(de->d_name);
        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_str);
    printf("%-30s %4s  %4s  %5s  %-10s %-34s %-22s %s\n", "scenario", "seed", "rank", "score",
           "top kind", "top revision/service", "top class", "verdict");
    totals tot;
    memset(&tot, 0, sizeof(tot));
    kind_stats *ks = calloc(n ? n : 1, sizeof(*ks));
    int cls_total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[2048], name[96];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        snprintf(name, sizeof(name), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
        snprintf(ks[i].name, sizeof(ks[i].name), "%s", name);
        if (only && strcmp(only, name) != 0)
            continue;
        int a, b;
        file_seeds(path, &a, &b);
        for (int seed = a; seed <= b; seed++)
            run_file_case(flgen, work, path, name, seed, &ks[i], &tot);
        cls_total += ks[i].cls;
    }
    printf("\n%-30s %5s %7s %7s %7s %9s %9s\n", "kind", "cases", "first%", "top3%", "class%",
           "innocent1", "falseconf");
    int innocent = 0, false_conf = 0;
    for (size_t i = 0; i < n; i++) {
        if (!ks[i].cases)
            continue;
        int with = ks[i].cases - ks[i].none_cases;
        if (with > 0)
            printf("%-30s %5d %7.1f %7.1f %7.1f %9d %9d%s\n", ks[i].name, ks[i].cases,
                   pct(ks[i].first, with), pct(ks[i].top3, with), pct(ks[i].cls, with),
                   ks[i].innocent_first, ks[i].false_confident, ks[i].bad ? "  (errors)" : "");
        else
            printf("%-30s %5d %7s %7s %7s %9d %9d%s\n", ks[i].name, ks[i].cases, "-", "-", "-",
                   ks[i].innocent_first, ks[i].false_confident, ks[i].bad ? "  (errors)" : "");
        innocent += ks[i].innocent_first;
        false_conf += ks[i].false_confident;
    }
    double first = pct(tot.first, tot.cause_cases), top3 = pct(tot.top3, tot.cause_cases);
    double clsp = pct(cls_total, tot.cause_cases);
    printf("\n%d cases (%d with a cause): true cause first %.1f%% (bar 95), top 3 %.1f%% (bar "
           "100), right class on the true cause %.1f%% (bar 90), innocent deploy first %d (bar "
           "0), false confident cause %d (bar 0); array != NDJSON %d; evidence mismatches %d; "
           "errors %d\n",
           tot.cause_cases + tot.none_cases, tot.cause_cases, first, top3, clsp, innocent,
           false_conf, tot.nondeterministic, tot.evidence_bad, tot.errors);
    bool pass = tot.cause_cases + tot.none_cases > 0 && first >= 95.0 &&
                tot.top3 == tot.cause_cases && clsp >= 90.0 && innocent == 0 && false_conf == 0 &&
                tot.nondeterministic == 0 && tot.evidence_bad == 0 && tot.errors == 0;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(ks);
    if (pass) {
        printf("PASS\n");
        return 0;
    }
    if (getenv("FL_SCENARIO_NO_FAIL")) {
        printf("BELOW THE BARS (not failing: FL_SCENARIO_NO_FAIL is set)\n");
        return 0;
    }
    printf("FAIL: below the bars of issue 11\n");
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: run_scenarios FLGEN SCENARIOS_TXT WORKDIR [NAME]\n");
        return 2;
    }
    const char *only = argc > 4 ? argv[4] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0); /* one row per case as it finishes, also into a file */
    mkdir(argv[3], 0755);
    struct stat st;
    if (stat(argv[2], &st) == 0 && S_ISDIR(st.st_mode))
        return run_dir(argv[1], argv[2], argv[3], only);
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", argv[2]);
        return 2;
    }
    printf("%-24s %4s  %4s  %5s  %-10s %-34s %-10s %s\n", "scenario", "seed", "rank", "score",
           "top kind", "top revision/service", "confident", "verdict");
    totals tot;
    memset(&tot, 0, sizeof(tot));
    tot.min_true_top = 1;
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char name[128], expect[32], flags[128] = "";
        int a, b, used = 0;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%127s %d-%d %31s%n", name, &a, &b, expect, &used) != 4 || a > b ||
            (strcmp(expect, "cause") != 0 && strcmp(expect, "none") != 0)) {
            fprintf(stderr, "%s:%d: expected \"name first-last cause|none [flgen flags]\"\n",
                    argv[2], lineno);
            fclose(f);
            return 2;
        }
        snprintf(flags, sizeof(flags), "%s", line + used + strspn(line + used, " \t"));
        /* Flags go to a shell: allow only option-like words. */
        if (strspn(flags, "abcdefghijklmnopqrstuvwxyz0123456789- ") != strlen(flags)) {
            fprintf(stderr, "%s:%d: flgen flags may only hold [a-z0-9- ]\n", argv[2], lineno);
            fclose(f);
            return 2;
        }
        if (only && strcmp(only, name) != 0)
            continue;
        for (int s = a; s <= b; s++)
            run_case(argv[1], argv[3], name, s, expect, flags, &tot);
    }
    fclose(f);
    int cases = tot.cause_cases + tot.none_cases;
    double first_pct = tot.cause_cases ? 100.0 * tot.first / tot.cause_cases : 100;
    printf("\n%d cases: expected cause first in %d/%d (%.1f%%), top 3 in %d/%d; no confident "
           "cause in %d/%d cause-free cases; innocent deploy first: %d; nondeterministic: %d; "
           "evidence mismatches: %d; errors: %d\n",
           cases, tot.first, tot.cause_cases, first_pct, tot.top3, tot.cause_cases, tot.none_ok,
           tot.none_cases, tot.innocent_first, tot.nondeterministic, tot.evidence_bad,
           tot.errors);
    printf("margins: true causes ranked first score >= %.3f; cause-free cases top score <= %.3f; "
           "innocent deploys score <= %.3f (threshold %.2f)\n",
           tot.min_true_top, tot.max_none_top, tot.max_innocent, FL_DEFAULT_THRESHOLD);
    bool pass = cases > 0 && first_pct >= 95.0 && tot.top3 == tot.cause_cases &&
                tot.none_ok == tot.none_cases && tot.innocent_first == 0 &&
                tot.nondeterministic == 0 && tot.evidence_bad == 0 && tot.errors == 0;
    printf("%s\n", pass ? "PASS" : "FAIL: below the bars of issue 3");
    return pass ? 0 : 1;
}
