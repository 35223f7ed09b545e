/* Change extraction on real audit entries (tests/data/correlate/audit_samples.ndjson are lines
 * 26-31 of the shared samples) and the --changes line format. */
#include "fl_correlate.h"
#include "fl_ingest.h"
#include "fl_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_line(const char *path, int want, fl_entry *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int i = 0, rc = -1;
    char err[256];
    while ((n = getline(&line, &cap, f)) > 0) {
        if (++i == want) {
            rc = fl_entry_parse(line, (size_t)n, e, err, sizeof(err));
            break;
        }
    }
    free(line);
    fclose(f);
    return rc;
}

static void test_audit_samples(const char *path)
{
    static const struct {
        int line; /* in the data file; +25 for the shared sample's line number */
        int is_change;
        fl_change_kind kind;
        const char *service;
        const char *revision;
    } cases[] = {
        {1, 1, FL_CHANGE_REVISION_READY, "hello2", ""},           /* 26: system_event */
        {2, 1, FL_CHANGE_DEPLOY, "cloud-run-slack-bot", ""},      /* 27: ReplaceService ok */
        {3, 1, FL_CHANGE_FAILED, "cloud-run-slack-bot", ""},      /* 28: ERROR code 10 */
        {4, 1, FL_CHANGE_FAILED, "power-choosers-crm", ""},       /* 29: ERROR code 3 */
        {5, 1, FL_CHANGE_DEPLOY, "cloudrun-exfil", ""},           /* 30: CreateService */
        {6, 0, 0, "", ""},                                        /* 31: SetIamPolicy */
    };
    fl_entry e;
    fl_entry_init(&e);
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        CHECK_INT(parse_line(path, cases[i].line, &e), 0);
        fl_change c;
        int got = fl_change_from_entry(&e, &c);
        CHECK_INT(got, cases[i].is_change);
        if (!got || !cases[i].is_change)
            continue;
        CHECK_INT(c.kind, cases[i].kind);
        CHECK_STR(c.service, cases[i].service);
        CHECK_STR(c.revision, cases[i].revision);
        CHECK(c.ts == e.ts);
    }
    /* The failed attempts carry the reason; the success carries the actor. */
    fl_change c;
    parse_line(path, 4, &e);
    fl_change_from_entry(&e, &c);
    CHECK(strstr(c.description, "code 3") != NULL);
    CHECK(strstr(c.description, "could not match suffix MB") != NULL);
    parse_line(path, 2, &e);
    fl_change_from_entry(&e, &c);
    CHECK_STR(c.actor, "masatonaka1989@gmail.com");
    CHECK_STR(c.source, "audit");
    fl_entry_free(&e);
}

static void set(fl_entry *e, const char **f, const char *s)
{
    fl_entry_set(e, f, s, strlen(s));
}

static void test_synthetic_entries(void)
{
    fl_entry e;
    fl_entry_init(&e);
    fl_change c;

    /* Revision readiness from system_event, true and false. */
    e.log_kind = FL_LOG_AUDIT_SYSTEM_EVENT;
    set(&e, &e.service, "checkout");
    set(&e, &e.revision, "checkout-00042-abc");
    set(&e, &e.audit_status_message, "Ready condition status changed to True for Revision "
                                     "checkout-00042-abc with message: Deploying revision "
                                     "succeeded in 5.73s.");
    CHECK_INT(fl_change_from_entry(&e, &c), 1);
    CHECK_INT(c.kind, FL_CHANGE_REVISION_READY);
    CHECK_STR(c.revision, "checkout-00042-abc");
    set(&e, &e.audit_status_message, "Ready condition status changed to False for Revision "
                                     "checkout-00043-xyz with message: The user-provided "
                                     "container failed to start");
    CHECK_INT(fl_change_from_entry(&e, &c), 1);
    CHECK_INT(c.kind, FL_CHANGE_FAILED);
    CHECK_STR(c.revision, "checkout-00043-xyz");

    /* v2 UpdateService: service from the resource name when labels lack it. */
    fl_entry_clear(&e);
    e.log_kind = FL_LOG_AUDIT_ACTIVITY;
    e.severity = FL_SEV_NOTICE;
    set(&e, &e.audit_service, "run.googleapis.com");
    set(&e, &e.audit_method, "google.cloud.run.v2.Services.UpdateService");
    set(&e, &e.audit_resource, "projects/p/locations/us-central1/services/billing");
    CHECK_INT(fl_change_from_entry(&e, &c), 1);
    CHECK_INT(c.kind, FL_CHANGE_DEPLOY);
    CHECK_STR(c.service, "billing");

    /* Secret Manager AddSecretVersion. */
    fl_entry_clear(&e);
    e.log_kind = FL_LOG_AUDIT_ACTIVITY;
    set(&e, &e.audit_service, "secretmanager.googleapis.com");
    set(&e, &e.audit_method, "google.cloud.secretmanager.v1.SecretManagerService.AddSecretVersion");
    set(&e, &e.audit_resource, "projects/123/secrets/db-password/versions/7");
    CHECK_INT(fl_change_from_entry(&e, &c), 1);
    CHECK_INT(c.kind, FL_CHANGE_SECRET);
    CHECK_STR(c.service, "db-password");

    /* An application error line is not a change. */
    fl_entry_clear(&e);
    e.log_kind = FL_LOG_STDERR;
    set(&e, &e.message, "Ready condition status changed to True for Revision x");
    CHECK_INT(fl_change_from_entry(&e, &c), 0);
    fl_entry_free(&e);
}

static void test_changes_file(void)
{
    fl_change c;
    char err[200];
    const char *ok = "{\"time\":\"2026-03-02T10:42:07Z\",\"service\":\"checkout\","
                     "\"revision\":\"checkout-00042-abc\",\"kind\":\"deploy\","
                     "\"actor\":\"ci@example.com\",\"description\":\"release 1.4.2\"}";
    CHECK_INT(fl_change_parse_json(ok, strlen(ok), &c, err, sizeof(err)), 0);
    CHECK_INT(c.kind, FL_CHANGE_DEPLOY);
    CHECK_STR(c.service, "checkout");
    CHECK_STR(c.revision, "checkout-00042-abc");
    CHECK_STR(c.actor, "ci@example.com");
    CHECK_STR(c.description, "release 1.4.2");
    CHECK_STR(c.source, "changes-file");
    char buf[32];
    CHECK_STR(fl_time_format(c.ts, false, buf, sizeof(buf)), "2026-03-02T10:42:07Z");

    const char *other = "{\"time\":\"2026-03-02T10:42:07Z\",\"service\":\"s\",\"kind\":\"flag\"}";
    CHECK_INT(fl_change_parse_json(other, strlen(other), &c, err, sizeof(err)), 0);
    CHECK_INT(c.kind, FL_CHANGE_EXTERNAL);

    static const char *const bad[] = {
        "{\"service\":\"s\",\"kind\":\"deploy\"}",
        "{\"time\":\"yesterday\",\"service\":\"s\"}",
        "{\"time\":\"2026-03-02T10:42:07Z\"}",
        "[1,2]",
        "{\"time\":",
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(bad); i++) {
        err[0] = '\0';
        CHECK_INT(fl_change_parse_json(bad[i], strlen(bad[i]), &c, err, sizeof(err)), FL_EPARSE);
        CHECK(err[0] != '\0');
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_change AUDIT_SAMPLES\n");
        return 2;
    }
    test_audit_samples(argv[1]);
    test_synthetic_entries();
    test_changes_file();
    return fl_test_done();
}
