/* flgen's contract: deterministic bytes per seed, every entry a valid LogEntry with the fields
 * faultline reads, gcloud-array output newest first, and ground truth that names revisions
 * which really appear in the logs. Runs the real flgen binary (path in argv[1]). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fl_common.h"
#include "fl_test.h"

static const char *flgen;
static char tmpdir[] = "/tmp/flgen-test-XXXXXX";

static const char *const scenarios[] = {
    "bad_config_deploy",      "oom_after_deploy",   "dependency_outage", "traffic_surge",
    "two_deploys_second_bad", "steady_preexisting", "canary_bad",        "healthy",
    "sample_incident",
};

static int run(const char *args, const char *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' %s > '%s/%s'", flgen, args, tmpdir, out);
    return system(cmd);
}

static char *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[got] = '\0';
    *len = got;
    return buf;
}

static const char *str_at(json_t *o, const char *k1, const char *k2)
{
    json_t *v = json_object_get(o, k1);
    if (k2)
        v = json_object_get(v, k2);
    return json_string_value(v);
}

/* Every entry: insertId, RFC 3339 timestamp and receiveTimestamp, logName, a known severity
 * when present, resource with type and labels; request logs with a complete httpRequest. */
static int check_entry(json_t *e, fl_time *ts)
{
    int bad = 0;
    const char *iid = str_at(e, "insertId", NULL);
    const char *t = str_at(e, "timestamp", NULL);
    const char *rt = str_at(e, "receiveTimestamp", NULL);
    const char *log = str_at(e, "logName", NULL);
    const char *rtype = str_at(e, "resource", "type");
    bad += !iid || !*iid;
    bad += !t || fl_time_parse(t, strlen(t), ts) != 0;
    fl_time rtv;
    bad += !rt || fl_time_parse(rt, strlen(rt), &rtv) != 0;
    bad += !log || strncmp(log, "projects/", 9) != 0;
    bad += !rtype || !json_is_object(json_object_get(json_object_get(e, "resource"), "labels"));
    json_t *sev = json_object_get(e, "severity");
    if (sev) {
        static const char *const ok[] = {"DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL"};
        const char *s = json_string_value(sev);
        int found = 0;
        for (size_t i = 0; s && i < FL_ARRAY_LEN(ok); i++)
            found |= strcmp(s, ok[i]) == 0;
        bad += !found;
    }
    int payloads = !!json_object_get(e, "textPayload") + !!json_object_get(e, "jsonPayload") +
                   !!json_object_get(e, "protoPayload");
    json_t *hr = json_object_get(e, "httpRequest");
    if (log && strstr(log, "run.googleapis.com%2Frequests")) {
        bad += !hr;
        bad += !json_is_integer(json_object_get(hr, "status"));
        bad += !json_is_string(json_object_get(hr, "requestSize"));
        bad += !json_is_string(json_object_get(hr, "responseSize"));
        const char *lat = str_at(hr, "latency", NULL);
        bad += !lat || lat[strlen(lat) - 1] != 's';
        bad += !str_at(e, "trace", NULL) || !str_at(e, "spanId", NULL);
        bad += !str_at(e, "labels", "instanceId");
        json_int_t st = json_integer_value(json_object_get(hr, "status"));
        const char *want = st >= 500 ? "ERROR" : st >= 400 ? "WARNING" : "INFO";
        bad += !sev || strcmp(json_string_value(sev), want) != 0;
    } else {
        bad += payloads != 1;
    }
    if (rtype && strcmp(rtype, "cloud_run_revision") == 0) {
        json_t *l = json_object_get(json_object_get(e, "resource"), "labels");
        static const char *const keys[] = {"project_id", "service_name", "revision_name",
                                           "configuration_name", "location"};
        for (size_t i = 0; i < FL_ARRAY_LEN(keys); i++)
            bad += !json_is_string(json_object_get(l, keys[i]));
        if (log && strstr(log, "run.googleapis.com%2F"))
            bad += !str_at(e, "labels", "instanceId");
    }
    if (bad) {
        char *s = json_dumps(e, JSON_COMPACT);
        fprintf(stderr, "bad entry: %.400s\n", s);
        free(s);
    }
    return bad;
}

static void collect_revision(json_t *e, json_t *seen)
{
    const char *rev = str_at(json_object_get(e, "resource"), "labels", "revision_name");
    if (rev && *rev)
        json_object_set_new(seen, rev, json_true());
}

static void check_scenario(const char *name, int seed)
{
    char args[256], out[128], truth[128];
    snprintf(out, sizeof(out), "%s-%d.ndjson", name, seed);
    snprintf(truth, sizeof(truth), "%s-%d.truth", name, seed);
    snprintf(args, sizeof(args), "--scenario %s --seed %d --rate 10 --truth '%s/%s'", name, seed,
             tmpdir, truth);
    CHECK_INT(run(args, out), 0);
    size_t len;
    char *data = slurp(out, &len);
    CHECK(data != NULL && len > 50000);
    if (!data)
        return;
    json_t *seen = json_object();
    int lines = 0, bad = 0, unordered = 0, errors = 0;
    fl_time prev = 0;
    for (char *p = data, *nl; *p; p = nl + 1) {
        nl = strchr(p, '\n');
        if (!nl)
            break;
        json_error_t jerr;
        json_t *e = json_loadb(p, (size_t)(nl - p), 0, &jerr);
        lines++;
        if (!e) {
            bad++;
            fprintf(stderr, "%s seed %d line %d: %s\n", name, seed, lines, jerr.text);
            continue;
        }
        fl_time ts = 0;
        bad += check_entry(e, &ts) != 0;
        unordered += ts < prev;
        prev = ts;
        const char *sev = str_at(e, "severity", NULL);
        errors += sev && strcmp(sev, "ERROR") == 0;
        collect_revision(e, seen);
        json_decref(e);
    }
    CHECK(lines > 500);
    CHECK_INT(bad, 0);
    CHECK_INT(unordered, 0);
    CHECK(errors > 0);

    /* the truth names revisions and services that exist in the logs */
    size_t tlen;
    char *tdata = slurp(truth, &tlen);
    json_t *t = tdata ? json_loads(tdata, 0, NULL) : NULL;
    CHECK(t != NULL);
    json_t *exp = json_object_get(t, "expected");
    const char *kind = str_at(exp, "kind", NULL);
    CHECK(kind != NULL);
    CHECK_STR(str_at(t, "scenario", NULL), name);
    static const char *const kinds[] = {"deploy",   "dependency", "load",
                                        "resource", "platform",   "none"};
    int known = 0;
    for (size_t i = 0; kind && i < FL_ARRAY_LEN(kinds); i++)
        known |= strcmp(kind, kinds[i]) == 0;
    CHECK(known);
    const char *rev = str_at(exp, "revision", NULL);
    const char *prev_rev = str_at(exp, "previous_revision", NULL);
    if (kind && strcmp(kind, "deploy") == 0) {
        CHECK(rev && json_object_get(seen, rev));
        CHECK(prev_rev && json_object_get(seen, prev_rev));
        CHECK(str_at(t, "onset", NULL) != NULL);
    }
    if (kind && strcmp(kind, "none") != 0)
        CHECK(str_at(exp, "service", NULL) != NULL);
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(t, "innocent_changes"), i, c)
    {
        const char *r = str_at(c, "revision", NULL);
        CHECK(r && json_object_get(seen, r));
        CHECK(!rev || !r || strcmp(r, rev) != 0);
    }
    if (strcmp(name, "dependency_outage") == 0 || strcmp(name, "steady_preexisting") == 0)
        CHECK(json_array_size(json_object_get(t, "innocent_changes")) >= 1);
    json_decref(t);
    free(tdata);
    json_decref(seen);
    free(data);
}

static void check_determinism(void)
{
    CHECK_INT(run("--scenario canary_bad --seed 11", "d1"), 0);
    CHECK_INT(run("--scenario canary_bad --seed 11", "d2"), 0);
    CHECK_INT(run("--scenario canary_bad --seed 12", "d3"), 0);
    CHECK_INT(run("--scenario healthy --seed 11", "d4"), 0);
    size_t n1, n2, n3, n4;
    char *a = slurp("d1", &n1), *b = slurp("d2", &n2), *c = slurp("d3", &n3), *d = slurp("d4", &n4);
    CHECK(a && b && c && d);
    if (a && b && c && d) {
        CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
        CHECK(n1 != n3 || memcmp(a, c, n1) != 0);
        CHECK(n1 != n4 || memcmp(a, d, n1) != 0);
    }
    free(a), free(b), free(c), free(d);
}

/* --no-audit: the same logs without any Cloud Audit Logs entry. */
static void check_no_audit(void)
{
    CHECK_INT(run("--scenario bad_config_deploy --seed 8 --rate 10", "audit"), 0);
    CHECK_INT(run("--scenario bad_config_deploy --seed 8 --rate 10 --no-audit", "noaudit"), 0);
    size_t n, m;
    char *a = slurp("audit", &n), *b = slurp("noaudit", &m);
    CHECK(a && b && strstr(a, "cloudaudit.googleapis.com%2Factivity") != NULL);
    CHECK(b && strstr(b, "cloudaudit.googleapis.com") == NULL);
    CHECK(b && strstr(b, "run.googleapis.com%2Frequests") != NULL);
    CHECK(m < n && m > n / 2);
    free(a);
    free(b);
}

/* --format array: one JSON array, 2-space indent, newest first, same entries as NDJSON. */
static void check_array(void)
{
    CHECK_INT(run("--scenario two_deploys_second_bad --seed 5 --format array", "arr"), 0);
    CHECK_INT(run("--scenario two_deploys_second_bad --seed 5", "arr.ndjson"), 0);
    size_t n, m;
    char *data = slurp("arr", &n);
    char *nd = slurp("arr.ndjson", &m);
    CHECK(data && strncmp(data, "[\n  {\n    \"", 11) == 0);
    json_t *a = data ? json_loads(data, 0, NULL) : NULL;
    CHECK(json_is_array(a));
    size_t lines = 0;
    for (size_t k = 0; nd && k < m; k++)
        lines += nd[k] == '\n';
    CHECK_INT(json_array_size(a), lines);
    size_t i;
    json_t *e;
    int older_first = 0;
    fl_time prev = INT64_MAX;
    json_array_foreach(a, i, e)
    {
        fl_time ts = 0;
        CHECK_INT(check_entry(e, &ts), 0);
        older_first += ts > prev;
        prev = ts;
    }
    CHECK_INT(older_first, 0);
    json_decref(a);
    free(data);
    free(nd);
}

/* Bench mode: never more than --bytes, nearly all of it used, valid NDJSON, deterministic,
 * timestamps moving forward across pool rounds. */
static void check_bench(void)
{
    CHECK_INT(run("--bench --bytes 48M --seed 3", "bench1"), 0);
    CHECK_INT(run("--bench --bytes 48M --seed 3", "bench2"), 0);
    size_t n1, n2;
    char *a = slurp("bench1", &n1), *b = slurp("bench2", &n2);
    CHECK(a && b);
    if (!a || !b)
        return;
    CHECK(n1 <= (size_t)48 << 20 && n1 > ((size_t)48 << 20) - 8192);
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    int bad = 0, lines = 0, requests = 0, errors = 0, backwards = 0;
    fl_time first = 0, last = 0;
    for (char *p = a, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        json_t *e = json_loadb(p, (size_t)(nl - p), 0, NULL);
        lines++;
        if (!e) {
            bad++;
            continue;
        }
        fl_time ts = 0;
        bad += check_entry(e, &ts) != 0;
        if (!first)
            first = ts;
        backwards += ts + 60 * FL_USEC_PER_SEC < last; /* deploy audits may lag a little */
        last = ts > last ? ts : last;
        const char *log = str_at(e, "logName", NULL);
        requests += log && strstr(log, "%2Frequests") != NULL;
        const char *sev = str_at(e, "severity", NULL);
        errors += sev && strcmp(sev, "ERROR") == 0;
        json_decref(e);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(backwards, 0);
    CHECK(lines > 30000);
    CHECK(requests * 100 > lines * 50 && requests * 100 < lines * 70);
    CHECK(errors * 100 > lines * 2 && errors * 100 < lines * 10);
    CHECK(last - first > 300 * FL_USEC_PER_SEC); /* more than one round of the pool */
    free(a);
    free(b);
}

/* --entries N gives the same N entries in both formats, the array newest first. */
static void check_bench_array(void)
{
    CHECK_INT(run("--bench --entries 3000 --seed 4", "ba.ndjson"), 0);
    CHECK_INT(run("--bench --entries 3000 --seed 4 --format array", "ba.json"), 0);
    size_t n, m;
    char *nd = slurp("ba.ndjson", &n), *ar = slurp("ba.json", &m);
    json_t *a = ar ? json_loads(ar, 0, NULL) : NULL;
    CHECK_INT(json_array_size(a), 3000);
    int i = 0, diff = 0;
    for (char *p = nd, *nl; nd && (nl = strchr(p, '\n')); p = nl + 1, i++) {
        json_t *e = json_loadb(p, (size_t)(nl - p), 0, NULL);
        diff += !json_equal(e, json_array_get(a, (size_t)(2999 - i)));
        json_decref(e);
    }
    CHECK_INT(i, 3000);
    CHECK_INT(diff, 0);
    json_decref(a);
    free(nd);
    free(ar);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_flgen PATH-TO-FLGEN\n");
        return 2;
    }
    flgen = argv[1];
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    for (size_t i = 0; i < FL_ARRAY_LEN(scenarios); i++)
        for (int seed = 1; seed <= 2; seed++)
            check_scenario(scenarios[i], seed);
    check_determinism();
    check_no_audit();
    check_array();
    check_bench();
    check_bench_array();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return fl_test_done();
}
