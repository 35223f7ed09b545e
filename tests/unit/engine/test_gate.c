/* The gate: durations, bounds, globs, severity, and de-duplication up to and past its cap. */
#include "fl_gate.h"
#include "fl_test.h"

#include <stdio.h>

static void test_durations(void)
{
    fl_time t;
    CHECK_INT(fl_duration_parse("90s", &t), 0);
    CHECK_INT(t, 90 * FL_USEC_PER_SEC);
    CHECK_INT(fl_duration_parse("1h30m", &t), 0);
    CHECK_INT(t, 5400 * FL_USEC_PER_SEC);
    CHECK_INT(fl_duration_parse("7d", &t), 0);
    CHECK_INT(t, 7 * 86400 * FL_USEC_PER_SEC);
    CHECK_INT(fl_duration_parse("2w", &t), 0);
    CHECK_INT(t, 14 * 86400 * FL_USEC_PER_SEC);
    const char *bad[] = {"", "m", "10", "10x", "-5m", "1.5h", "99999999999s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(fl_duration_parse(bad[i], &t) != 0);
}

static void entry(fl_entry *e, const char *svc, const char *rev, int sev, const char *id,
                  const char *ts)
{
    fl_entry_clear(e);
    fl_entry_set(e, &e->service, svc, strlen(svc));
    fl_entry_set(e, &e->revision, rev, strlen(rev));
    fl_entry_set(e, &e->insert_id, id, strlen(id));
    const char *log = "projects/p/logs/run.googleapis.com%2Fstderr";
    fl_entry_set(e, &e->log_name, log, strlen(log));
    e->log_kind = FL_LOG_STDERR;
    e->severity = sev;
    fl_time_parse(ts, strlen(ts), &e->ts);
}

static void test_filter(void)
{
    const char *svcs[] = {"checkout-*"};
    fl_filter_spec spec = {.since = "10m", .services = svcs, .n_services = 1,
                           .min_severity = "warning", .no_dedup = true};
    fl_gate *g;
    char err[256];
    CHECK_INT(fl_gate_new(&g, &spec, err, sizeof err), 0);
    CHECK(fl_gate_needs_newest(g));
    fl_entry e;
    fl_entry_init(&e);
    /* The newest entry of another service does not move the window. */
    entry(&e, "orders-api", "o-1", 500, "a", "2026-01-01T12:00:00Z");
    fl_gate_consider(g, &e);
    entry(&e, "checkout-api", "c-1", 500, "b", "2026-01-01T11:00:00Z");
    fl_gate_consider(g, &e);
    fl_gate_resolve(g);
    entry(&e, "checkout-api", "c-1", 500, "c", "2026-01-01T10:55:00Z");
    CHECK(fl_gate_admit(g, &e));
    entry(&e, "checkout-api", "c-1", 500, "d", "2026-01-01T10:45:00Z");
    CHECK(!fl_gate_admit(g, &e)); /* 15 min before the newest checkout-api entry */
    entry(&e, "checkout-api", "c-1", 200, "e", "2026-01-01T10:59:00Z");
    CHECK(!fl_gate_admit(g, &e)); /* INFO < WARNING */
    entry(&e, "checkout-api", "c-1", 200, "f", "2026-01-01T10:59:00Z");
    e.log_kind = FL_LOG_AUDIT_ACTIVITY;
    CHECK(fl_gate_admit(g, &e)); /* a change event is kept whatever its severity */
    fl_input_summary in;
    memset(&in, 0, sizeof in);
    fl_gate_annotate(g, &in);
    CHECK_INT(in.filtered_out, 2);
    CHECK(strstr(in.filter, "since 2026-01-01T10:50:00Z (10m before the newest entry)") != NULL);
    CHECK(strstr(in.filter, "service checkout-*") != NULL);
    CHECK(strstr(in.filter, "severity >= WARNING") != NULL);
    fl_entry_free(&e);
    fl_gate_free(g);

    fl_filter_spec bad = {.since = "2026-02-01", .until = "2026-01-01"};
    CHECK(fl_gate_new(&g, &bad, err, sizeof err) != 0);
    CHECK(strstr(err, "after --until") != NULL);
    fl_filter_spec sev = {.min_severity = "loud"};
    CHECK(fl_gate_new(&g, &sev, err, sizeof err) != 0);
}

/* Exact below the cap; past it, new keys are admitted and counted as unchecked, never lost. */
static void test_dedup_cap(void)
{
    fl_filter_spec spec = {.dedup_max_slots = 64};
    fl_gate *g;
    char err[256], id[32];
    CHECK_INT(fl_gate_new(&g, &spec, err, sizeof err), 0);
    fl_entry e;
    fl_entry_init(&e);
    size_t admitted = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 40; i++) {
            snprintf(id, sizeof id, "id-%d", i);
            entry(&e, "s", "r", 500, id, "2026-01-01T10:00:00Z");
            admitted += fl_gate_admit(g, &e);
        }
    fl_input_summary in;
    memset(&in, 0, sizeof in);
    fl_gate_annotate(g, &in);
    /* 64 slots at 3/4 load hold 48 keys: all 40 fit, every copy is dropped. */
    CHECK_INT(admitted, 40);
    CHECK_INT(in.duplicates, 40);
    CHECK_INT(in.dedup_unchecked, 0);
    for (int i = 40; i < 100; i++) { /* 60 more distinct keys: 8 fit, 52 go unchecked */
        snprintf(id, sizeof id, "id-%d", i);
        entry(&e, "s", "r", 500, id, "2026-01-01T10:00:00Z");
        CHECK(fl_gate_admit(g, &e));
    }
    fl_gate_annotate(g, &in);
    CHECK_INT(in.dedup_unchecked, 52);
    /* A copy of a remembered key is still dropped past the cap. */
    entry(&e, "s", "r", 500, "id-3", "2026-01-01T10:00:00Z");
    CHECK(!fl_gate_admit(g, &e));
    /* Same insertId at another time, or without an insertId: not a duplicate. */
    entry(&e, "s", "r", 500, "id-3", "2026-01-01T10:00:01Z");
    CHECK(fl_gate_admit(g, &e));
    entry(&e, "s", "r", 500, "", "2026-01-01T10:00:00Z");
    CHECK(fl_gate_admit(g, &e));
    CHECK(fl_gate_admit(g, &e));
    fl_entry_free(&e);
    fl_gate_free(g);
}

/* The project reported is the smallest one admitted, whatever the order: checked by noted
 * length and bytes first (issue 15), so a longer or shorter id sharing a prefix, and one set
 * directly (no noted length), must still compare as strcmp does. */
static void test_project(void)
{
    static const char *orders[][5] = {
        {"prod-b", "prod-a2", "prod-a", "prod-ab", "prod-a"},
        {"prod-a", "prod-ab", "prod-a2", "prod-b", "prod-a"},
        {"prod-ab", "prod-a", "prod-b", "prod-a2", "prod-a"},
    };
    for (size_t o = 0; o < FL_ARRAY_LEN(orders); o++)
        for (int direct = 0; direct < 2; direct++) {
            fl_filter_spec spec = {.no_dedup = true};
            fl_gate *g;
            char err[256];
            CHECK_INT(fl_gate_new(&g, &spec, err, sizeof err), 0);
            fl_entry e;
            fl_entry_init(&e);
            for (size_t i = 0; i < 5; i++) {
                entry(&e, "api", "api-1", 500, "x", "2026-01-01T10:00:00Z");
                if (direct)
                    e.project = orders[o][i];
                else
                    fl_entry_set(&e, &e.project, orders[o][i], strlen(orders[o][i]));
                CHECK(fl_gate_admit(g, &e));
            }
            fl_input_summary in;
            memset(&in, 0, sizeof in);
            fl_gate_annotate(g, &in);
            CHECK_STR(in.project, "prod-a");
            fl_entry_free(&e);
            fl_gate_free(g);
        }
}

int main(void)
{
    test_project();
    test_durations();
    test_filter();
    test_dedup_cap();
    return fl_test_done();
}
