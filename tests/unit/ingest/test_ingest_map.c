/* The LogEntry mapping (src/fl_entry.h) on every line of the real samples, through the reader
 * and through both JSON readers, plus hand-made entries for the rules the samples lack. */
#include "fl_test.h"

#include <stddef.h>
#include "ingest_test_util.h"

typedef struct expect {
    int line;
    int severity;
    fl_log_kind kind;
    const char *service;
    const char *revision;
    int http_status;
    const char *message_has; /* substring; "" means the message must be empty */
} expect;

static const expect samples[] = {
    {1, FL_SEV_ERROR, FL_LOG_REQUESTS, "palios-taey", "palios-taey-00007-2gd", 500, ""},
    {2, FL_SEV_ERROR, FL_LOG_STDERR, "palios-taey", "palios-taey-00007-2gd", 0,
     "TypeError: FastAPI.__call__() missing 1 required positional argument"},
    {3, FL_SEV_ERROR, FL_LOG_REQUESTS, "palios-taey", "palios-taey-00007-2gd", 500, ""},
    {4, FL_SEV_ERROR, FL_LOG_STDERR, "palios-taey", "palios-taey-00007-2gd", 0, "Traceback"},
    {5, FL_SEV_ERROR, FL_LOG_REQUESTS, "palios-taey", "palios-taey-00007-2gd", 500, ""},
    {6, FL_SEV_ERROR, FL_LOG_STDERR, "palios-taey", "palios-taey-00007-2gd", 0, "Traceback"},
    /* No severity, but a Node error with its stack: the error-looking rule makes it ERROR. */
    {7, FL_SEV_ERROR, FL_LOG_STDERR, "onwrite-food-listings", "onwrite-food-listings-00002-xej",
     0, "Error: 5 NOT_FOUND: Queue does not exist"},
    {8, FL_SEV_INFO, FL_LOG_REQUESTS, "updateholidays", "updateholidays-00006-taj", 200, ""},
    {9, FL_SEV_INFO, FL_LOG_STDOUT, "updateholidays", "updateholidays-00006-taj", 0,
     "Verifying API Key"},
    {10, FL_SEV_ERROR, FL_LOG_STDERR, "updateholidays", "updateholidays-00006-taj", 0,
     "Error fetching holidays"},
    /* No severity, but jsonPayload.level "info" (a structured logger): raised to INFO. */
    {11, FL_SEV_INFO, FL_LOG_STDOUT, "sling-scheduling", "sling-scheduling-00058-pnr", 0,
     "sling_request_ok"},
    {12, FL_SEV_INFO, FL_LOG_STDOUT, "sling-scheduling", "sling-scheduling-00058-pnr", 0,
     "sling_request_ok"},
    {13, FL_SEV_INFO, FL_LOG_STDOUT, "sling-scheduling", "sling-scheduling-00058-pnr", 0,
     "sling_request_ok"},
    {14, FL_SEV_INFO, FL_LOG_STDOUT, "sling-scheduling", "sling-scheduling-00058-pnr", 0,
     "sling_request_ok"},
    {15, FL_SEV_DEFAULT, FL_LOG_STDOUT, "image-analysis-jvm", NULL, 0, "selfLink : "},
    {16, FL_SEV_DEFAULT, FL_LOG_STDOUT, "image-analysis-jvm", NULL, 0, "id : "},
    {17, FL_SEV_ERROR, FL_LOG_STDERR, "netra-backend-staging", NULL, 0,
     "Middleware setup failure details: ModuleNotFoundError"},
    {18, FL_SEV_WARNING, FL_LOG_VARLOG_SYSTEM, "netra-backend-staging", NULL, 0,
     "Container called exit(3)."},
    {19, FL_SEV_WARNING, FL_LOG_STDERR, "netra-backend-staging", NULL, 0, "Sentry SDK"},
    {20, FL_SEV_WARNING, FL_LOG_STDOUT, "netra-backend-staging", NULL, 0, "SERVICE_ID"},
    {21, FL_SEV_ERROR, FL_LOG_STDERR, "nisra-case-mover-processor",
     "nisra-case-mover-processor-00012-sew", 0, "ValueError: I/O operation on closed file."},
    {22, FL_SEV_ERROR, FL_LOG_STDOUT, "publishMsg", "", 500, "no available instance"},
    {23, FL_SEV_DEFAULT, FL_LOG_STDERR, "power-choosers-crm", NULL, 0, "[Server]"},
    {24, FL_SEV_DEFAULT, FL_LOG_STDERR, "power-choosers-crm", NULL, 0, "File not found"},
    {25, FL_SEV_ERROR, FL_LOG_REQUESTS, "power-choosers-crm", NULL, 504, ""},
    {26, FL_SEV_INFO, FL_LOG_AUDIT_SYSTEM_EVENT, "hello2", "", 0,
     "Ready condition status changed to True for Service hello2."},
    {27, FL_SEV_NOTICE, FL_LOG_AUDIT_ACTIVITY, "cloud-run-slack-bot", "", 0, ""},
    {28, FL_SEV_ERROR, FL_LOG_AUDIT_ACTIVITY, "cloud-run-slack-bot", "", 0,
     "Conflict for resource 'cloud-run-slack-bot'"},
    {29, FL_SEV_ERROR, FL_LOG_AUDIT_ACTIVITY, "power-choosers-crm", "", 0,
     "resources.limits.memory"},
    {30, FL_SEV_NOTICE, FL_LOG_AUDIT_ACTIVITY, NULL, "", 0, NULL},
    {31, FL_SEV_NOTICE, FL_LOG_AUDIT_ACTIVITY, NULL, "", 0, NULL},
    {32, FL_SEV_NOTICE, FL_LOG_AUDIT_ACTIVITY, "", "", 0, NULL},
    {33, FL_SEV_ERROR, FL_LOG_AUDIT_DATA_ACCESS, "", "", 0,
     "generic::not_found: Requested entity was not found."},
};

static void check_expect(const expect *x, const fl_entry *e)
{
    char where[32];
    snprintf(where, sizeof(where), "line %d", x->line);
    if (e->severity != x->severity || e->log_kind != x->kind)
        fprintf(stderr, "%s: severity %d kind %s\n", where, e->severity,
                fl_log_kind_name(e->log_kind));
    CHECK_INT(e->severity, x->severity);
    CHECK_INT(e->log_kind, x->kind);
    if (x->service)
        CHECK_STR(e->service, x->service);
    if (x->revision)
        CHECK_STR(e->revision, x->revision);
    CHECK_INT(e->http_status, x->http_status);
    if (x->message_has && !x->message_has[0])
        CHECK_STR(e->message, "");
    else if (x->message_has && !strstr(e->message, x->message_has)) {
        fprintf(stderr, "%s: message \"%.120s\" lacks \"%s\"\n", where, e->message, x->message_has);
        CHECK(0);
    }
    CHECK(e->ts > 0);
    CHECK((e->insert_id[0] != '\0') == (x->line != 32)); /* line 32 has no insertId */
}

/* Both readers note the length of every FL_KNOWN_* field (issue 15: the aggregate, the gate
 * and reassembly compare these by length instead of strcmp/strlen): each note is there (the
 * fast path, not strlen, answers) and is right, whatever the field went through (escapes, a
 * joined error message, the audit status fallback, a Pub/Sub envelope, reassembly). */
static void check_noted(const fl_entry *e)
{
    const char *f[FL_KNOWN_COUNT] = {e->message,  e->service, e->revision, e->instance_id,
                                     e->location, e->project, e->trace};
    for (int k = 0; k < FL_KNOWN_COUNT; k++) {
        if (e->known_at[k] != f[k])
            fprintf(stderr, "field %d (\"%.40s\") has no noted length\n", k, f[k]);
        CHECK(e->known_at[k] == f[k]);
        CHECK_INT(fl_entry_len(e, (fl_known_field)k, f[k]), strlen(f[k]));
    }
}

static void test_samples_through_reader(void)
{
    const char *path = FL_INGEST_DATA "/logentries.ndjson";
    fl_diag d;
    fl_diag_init(&d);
    fl_reader *r;
    fl_reader_opts o = {0};
    o.no_multiline = true;
    const char *paths[] = {path};
    CHECK_INT(fl_reader_open(&r, paths, 1, &o, &d), 0);
    fl_entry e;
    fl_entry_init(&e);
    size_t n = 0;
    while (fl_reader_next(r, &e) == 1) {
        CHECK(n < FL_ARRAY_LEN(samples));
        if (n >= FL_ARRAY_LEN(samples))
            break;
        const expect *x = &samples[n++];
        CHECK_INT(e.src_line, x->line);
        CHECK_STR(e.src_file, path);
        check_expect(x, &e);
        check_noted(&e);

        switch (x->line) {
        case 1: {
            char ts[40];
            CHECK_STR(fl_time_format(e.ts, true, ts, sizeof(ts)), "2025-03-19T01:09:09.120515Z");
            CHECK(e.latency_s > 0.7831 && e.latency_s < 0.7832);
            CHECK_STR(e.http_method, "GET");
            CHECK_STR(e.location, "us-central1");
            CHECK_STR(e.project, "palios-taey-dev");
            CHECK(strncmp(e.instance_id, "00fd7d7337", 10) == 0);
            CHECK(strncmp(e.trace, "projects/palios-taey-dev/traces/", 32) == 0);
            break;
        }
        case 11:
            CHECK_STR(e.commit_sha, "0ebad2ae1e9bc818bcf38cc41fcffe1540bb4494");
            break;
        case 17:
            /* jsonPayload.message wins over error.value */
            CHECK(strstr(e.message, "ModuleNotFoundError") != NULL);
            break;
        case 22:
            CHECK_STR(e.location, "europe-west2"); /* from labels.region */
            CHECK_INT(e.latency_s == 0.0, 1);
            CHECK_STR(e.http_method, "POST");
            break;
        case 25:
            CHECK(e.latency_s > 299.99 && e.latency_s < 300.0);
            break;
        case 26:
            CHECK(e.has_audit_status);
            CHECK_INT(e.audit_status_code, 0);
            CHECK_STR(e.audit_resource, "namespaces/arri-primary/services/hello2");
            break;
        case 27:
            CHECK_STR(e.audit_method, "google.cloud.run.v1.Services.ReplaceService");
            CHECK_STR(e.audit_principal, "masatonaka1989@gmail.com");
            CHECK_STR(e.audit_service, "run.googleapis.com");
            break;
        case 28:
            CHECK_INT(e.audit_status_code, 10);
            break;
        case 29:
            CHECK_STR(e.audit_method, "google.cloud.run.v1.Services.ReplaceService");
            CHECK_INT(e.audit_status_code, 3);
            CHECK(e.has_audit_status);
            CHECK_STR(e.audit_principal, "792458658491-compute@developer.gserviceaccount.com");
            break;
        case 30:
            CHECK_STR(e.audit_method, "google.cloud.run.v1.Services.CreateService");
            break;
        case 33:
            CHECK_STR(e.audit_method, "Docker-GetManifest");
            CHECK_INT(e.audit_status_code, 5);
            break;
        default:
            break;
        }
    }
    CHECK_INT(n, FL_ARRAY_LEN(samples));
    CHECK_INT(d.entries, FL_ARRAY_LEN(samples));
    CHECK_INT(d.malformed, 0);
    CHECK_INT(d.files, 1);
    fl_entry_free(&e);
    fl_reader_free(r);
    fl_diag_free(&d);
}

static void test_pubsub_envelope(void)
{
    size_t n;
    char *buf = tu_read_file(FL_INGEST_DATA "/pubsub_push.ndjson", &n);
    while (n && buf[n - 1] == '\n')
        n--;
    for (int slow = 0; slow < 2; slow++) {
        fl_entry e;
        fl_entry_init(&e);
        char err[256];
        int rc = slow ? fl_entry_parse_jansson(buf, n, &e, err, sizeof(err))
                      : fl_entry_parse(buf, n, &e, err, sizeof(err));
        CHECK_INT(rc, 0);
        check_noted(&e);
        CHECK_INT(e.severity, FL_SEV_DEBUG);
        CHECK_STR(e.message, "Function execution took 1198 ms. Finished with status code: 200");
        CHECK(strncmp(e.trace, "projects/wired-height/traces/", 29) == 0);
        /* The LogEntry has no timestamp: the sink's logging.googleapis.com/timestamp
         * attribute is its time (not publishTime, 6 s later). */
        fl_time want = 0;
        const char *attr = "2022-07-25T22:19:09.903683708Z";
        CHECK_INT(fl_time_parse(attr, strlen(attr), &want), 0);
        CHECK(e.ts == want);
        fl_entry_free(&e);
    }
    free(buf);
    /* Without the attribute, publishTime; a LogEntry's own timestamp always wins. */
    static const char *const cases[][2] = {
        {"{\"message\":{\"data\":\"eyJ0ZXh0UGF5bG9hZCI6ImEifQ==\","
         "\"publishTime\":\"2022-07-25T22:19:15.56Z\"}}",
         "2022-07-25T22:19:15.56Z"},
        {"{\"message\":{\"data\":\"eyJ0ZXh0UGF5bG9hZCI6ImEiLCJ0aW1lc3RhbXAiOiIyMDIwLTAxLTAxVDAw"
         "OjAwOjAwWiJ9\",\"publishTime\":\"2022-07-25T22:19:15.56Z\"}}",
         "2020-01-01T00:00:00Z"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++)
        for (int slow = 0; slow < 2; slow++) {
            fl_entry e;
            fl_entry_init(&e);
            char err[256];
            const char *j = cases[i][0];
            int rc = slow ? fl_entry_parse_jansson(j, strlen(j), &e, err, sizeof(err))
                          : fl_entry_parse(j, strlen(j), &e, err, sizeof(err));
            CHECK_INT(rc, 0);
            fl_time want = 0;
            CHECK_INT(fl_time_parse(cases[i][1], strlen(cases[i][1]), &want), 0);
            CHECK(e.ts == want);
            fl_entry_free(&e);
        }
}

typedef struct mapping_case {
    const char *json;
    const char *field; /* name of the string field to check, or an int field */
    const char *want;
} mapping_case;

static const char *field_of(const fl_entry *e, const char *name, char *num, size_t size)
{
    static const struct {
        const char *name;
        size_t off;
    } strs[] = {
        {"service", offsetof(fl_entry, service)},
        {"revision", offsetof(fl_entry, revision)},
        {"location", offsetof(fl_entry, location)},
        {"message", offsetof(fl_entry, message)},
        {"log_name", offsetof(fl_entry, log_name)},
        {"instance_id", offsetof(fl_entry, instance_id)},
        {"http_url", offsetof(fl_entry, http_url)},
        {"audit_status_message", offsetof(fl_entry, audit_status_message)},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(strs); i++)
        if (strcmp(name, strs[i].name) == 0)
            return *(const char *const *)((const char *)e + strs[i].off);
    long long v;
    if (strcmp(name, "severity") == 0)
        v = e->severity;
    else if (strcmp(name, "log_kind") == 0)
        v = e->log_kind;
    else if (strcmp(name, "http_status") == 0)
        v = e->http_status;
    else if (strcmp(name, "audit_status_code") == 0)
        v = e->audit_status_code;
    else if (strcmp(name, "has_audit_status") == 0)
        v = e->has_audit_status;
    else if (strcmp(name, "error_event") == 0)
        v = e->error_event;
    else if (strcmp(name, "ts") == 0)
        v = e->ts;
    else if (strcmp(name, "latency_ms") == 0)
        v = (long long)(e->latency_s * 1000 + (e->latency_s < 0 ? -0.5 : 0.5));
    else
        return "?";
    snprintf(num, size, "%lld", v);
    return num;
}

static const mapping_case cases[] = {
    {"{\"severity\":\"warning\"}", "severity", "400"},
    {"{\"severity\":\"CRITICAL\"}", "severity", "600"},
    {"{\"severity\":500}", "severity", "500"},
    {"{\"severity\":\"300\"}", "severity", "300"},
    {"{\"severity\":\"bogus\"}", "severity", "0"},
    {"{}", "severity", "0"},
    {"{\"jsonPayload\":{\"level\":\"error\",\"message\":\"x\"}}", "severity", "500"},
    {"{\"jsonPayload\":{\"severity\":\"WARN\",\"message\":\"x\"}}", "severity", "400"},
    {"{\"severity\":\"INFO\",\"jsonPayload\":{\"level\":\"error\"}}", "severity", "200"},
    {"{\"timestamp\":\"bad\",\"receiveTimestamp\":\"1970-01-01T00:00:01Z\"}", "ts", "1000000"},
    {"{\"receiveTimestamp\":\"1970-01-01T00:00:02.5Z\"}", "ts", "2500000"},
    {"{\"logName\":\"projects/p/logs/run.googleapis.com/stderr\"}", "log_kind", "3"},
    {"{\"httpRequest\":{\"status\":502}}", "log_kind", "1"},
    {"{\"protoPayload\":{\"methodName\":\"x\"}}", "log_kind", "5"},
    {"{\"logName\":\"projects/p/logs/my-app\"}", "log_kind", "0"},
    {"{\"resource\":{\"type\":\"cloud_function\",\"labels\":{\"function_name\":\"fn\",\"region\":"
     "\"us-east1\"}}}",
     "service", "fn"},
    {"{\"resource\":{\"type\":\"cloud_function\",\"labels\":{\"function_name\":\"fn\",\"region\":"
     "\"us-east1\"}}}",
     "location", "us-east1"},
    {"{\"resource\":{\"type\":\"k8s_container\",\"labels\":{\"container_name\":\"api\"}},"
     "\"labels\":"
     "{\"k8s-pod/pod-template-hash\":\"7d9f\"}}",
     "service", "api"},
    {"{\"resource\":{\"type\":\"k8s_container\",\"labels\":{\"container_name\":\"api\"}},"
     "\"labels\":"
     "{\"k8s-pod/pod-template-hash\":\"7d9f\"}}",
     "revision", "7d9f"},
    {"{\"resource\":{\"type\":\"gce_instance\",\"labels\":{\"instance_id\":\"123\",\"zone\":\"z\"}}"
     "}",
     "service", "123"},
    {"{\"resource\":{\"type\":\"cloud_run_job\",\"labels\":{\"job_name\":\"nightly\"}}}", "service",
     "nightly"},
    {"{\"textPayload\":\"t\",\"jsonPayload\":{\"message\":\"m\"}}", "message", "t"},
    {"{\"jsonPayload\":{\"msg\":\"m2\",\"error\":\"e\"}}", "message", "m2\ne"},
    {"{\"jsonPayload\":{\"error\":\"boom\"}}", "message", "boom"},
    {"{\"jsonPayload\":{\"error\":{\"message\":\"em\",\"value\":\"ev\"}}}", "message", "em"},
    {"{\"jsonPayload\":{\"error\":{\"type\":\"X\",\"value\":\"ev\"}}}", "message", "ev"},
    {"{\"jsonPayload\":{\"exception\":\"Exc\"}}", "message", "Exc"},
    {"{\"jsonPayload\":{\"message\":\"failed\",\"stack_trace\":\"at a\\nat b\"}}", "message",
     "failed\nat a\nat b"},
    {"{\"jsonPayload\":{\"message\":\"Error: x\\n at a\",\"stack\":\" at a\"}}", "message",
     "Error: x\n at a"},
    {"{\"jsonPayload\":{\"stackTrace\":\"trace only\"}}", "message", "trace only"},
    {"{\"jsonPayload\":{\"@type\":\"type.googleapis.com/"
     "google.devtools.clouderrorreporting.v1beta1."
     "ReportedErrorEvent\",\"message\":\"x\"}}",
     "error_event", "1"},
    {"{\"protoPayload\":{\"status\":{\"code\":7,\"message\":\"denied\"}}}", "message", "denied"},
    {"{\"protoPayload\":{\"status\":{\"code\":7,\"message\":\"denied\"}}}", "audit_status_code",
     "7"},
    {"{\"protoPayload\":{\"methodName\":\"m\"}}", "has_audit_status", "0"},
    {"{\"httpRequest\":{\"latency\":\"1.5s\"}}", "latency_ms", "1500"},
    {"{\"httpRequest\":{\"latency\":\"abc\"}}", "latency_ms", "-1000"},
    /* the latency forms (issue 15 rewrote the scan): whole seconds, a bare point, more digits
     * than a double holds, and what is not a duration */
    {"{\"httpRequest\":{\"latency\":\"0.025804613s\"}}", "latency_ms", "26"},
    {"{\"httpRequest\":{\"latency\":\"12s\"}}", "latency_ms", "12000"},
    {"{\"httpRequest\":{\"latency\":\"2.s\"}}", "latency_ms", "2000"},
    {"{\"httpRequest\":{\"latency\":\"0.0000000000000000000000001s\"}}", "latency_ms", "0"},
    {"{\"httpRequest\":{\"latency\":\"1.2345678901234567890123s\"}}", "latency_ms", "1235"},
    {"{\"httpRequest\":{\"latency\":\"123456789012.5s\"}}", "latency_ms", "123456789012500"},
    {"{\"httpRequest\":{\"latency\":\"0.12345678901234567s\"}}", "latency_ms", "123"},
    {"{\"httpRequest\":{\"latency\":\"1234567890123456789s\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\".5s\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"1.2.3s\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"1,5s\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"5\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"s\"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"1s \"}}", "latency_ms", "-1000"},
    {"{\"httpRequest\":{\"latency\":\"\\u0031.5s\"}}", "latency_ms", "1500"},
    {"{\"httpRequest\":{\"status\":\"500\"}}", "http_status", "0"},
    {"{\"textPayload\":\"a\\u00e9\\ud83d\\ude00\"}", "message", "a\xC3\xA9\xF0\x9F\x98\x80"},
    {"{\"textPayload\":\"first\",\"textPayload\":\"second\"}", "message", "second"},
    {"{\"resource\":{\"labels\":{\"service_name\":\"a\"}},\"resource\":{\"type\":\"t\"}}",
     "service", ""},
    {"{\"labels\":{\"instanceId\":\"i1\"}}", "instance_id", "i1"},
    /* Structured loggers (docs/loggers.md): error text in fields of its own, level lifted only
     * when Cloud Logging set no severity. */
    /* pino: numeric level, msg, err {type, message, stack}; the stack holds msg, so it replaces it */
    {"{\"jsonPayload\":{\"level\":50,\"msg\":\"connect ECONNREFUSED 10.0.0.3:6379\",\"err\":{"
     "\"type\":\"Error\",\"message\":\"connect ECONNREFUSED 10.0.0.3:6379\",\"stack\":\"Error: "
     "connect ECONNREFUSED 10.0.0.3:6379\\n    at TCPConnectWrap.afterConnect\"}}}",
     "message", "Error: connect ECONNREFUSED 10.0.0.3:6379\n    at TCPConnectWrap.afterConnect"},
    {"{\"jsonPayload\":{\"level\":50,\"msg\":\"x\"}}", "severity", "500"},
    {"{\"jsonPayload\":{\"level\":60,\"msg\":\"x\"}}", "severity", "600"},
    {"{\"jsonPayload\":{\"level\":40,\"msg\":\"x\"}}", "severity", "400"},
    {"{\"jsonPayload\":{\"level\":30,\"msg\":\"Error: not an error at info\"}}", "severity",
     "200"},
    {"{\"jsonPayload\":{\"level\":50,\"msg\":\"x\"}}", "severity", "500"},
    {"{\"severity\":\"INFO\",\"jsonPayload\":{\"level\":50,\"msg\":\"x\"}}", "severity", "200"},
    {"{\"severity\":\"DEFAULT\",\"jsonPayload\":{\"level\":50,\"msg\":\"x\"}}", "severity",
     "500"},
    /* pino with a custom message: msg first, then the error's stack */
    {"{\"jsonPayload\":{\"level\":50,\"msg\":\"send failed\",\"err\":{\"type\":\"Error\","
     "\"message\":\"Invalid login: 535 5.7.8 Authentication failed\",\"stack\":\"Error: Invalid "
     "login: 535 5.7.8 Authentication failed\"}}}",
     "message", "send failed\nError: Invalid login: 535 5.7.8 Authentication failed"},
    /* an err object without a stack: "type: message" when the type names an exception */
    {"{\"jsonPayload\":{\"msg\":\"q\",\"err\":{\"type\":\"TimeoutError\",\"message\":\"t/o\"}}}",
     "message", "q\nTimeoutError: t/o"},
    {"{\"jsonPayload\":{\"msg\":\"q\",\"err\":{\"type\":\"str\",\"message\":\"t/o\"}}}",
     "message", "q\nt/o"},
    /* zap: level string, msg, error, stacktrace; errorVerbose only without error */
    {"{\"jsonPayload\":{\"level\":\"error\",\"msg\":\"query failed\",\"error\":\"dial tcp "
     "10.1.2.3:5432: connect: connection refused\",\"stacktrace\":\"main.handler\\n\\t/app/"
     "main.go:42\"}}",
     "message",
     "query failed\ndial tcp 10.1.2.3:5432: connect: connection refused\nmain.handler\n\t/app/"
     "main.go:42"},
    {"{\"jsonPayload\":{\"level\":\"error\",\"msg\":\"m\",\"errorVerbose\":\"boom\\nmain.f\"}}",
     "message", "m\nboom\nmain.f"},
    {"{\"jsonPayload\":{\"level\":\"dpanic\",\"msg\":\"m\"}}", "severity", "600"},
    /* zapdriver: severity and message keys */
    {"{\"severity\":\"ERROR\",\"jsonPayload\":{\"message\":\"m\",\"error\":\"EOF\"}}", "message",
     "m\nEOF"},
    /* slog: msg, level with offsets, err */
    {"{\"jsonPayload\":{\"level\":\"ERROR+2\",\"msg\":\"m\",\"err\":\"x509: certificate has "
     "expired\"}}",
     "severity", "500"},
    {"{\"jsonPayload\":{\"level\":\"ERROR\",\"msg\":\"m\",\"err\":\"x509: certificate has "
     "expired\"}}",
     "message", "m\nx509: certificate has expired"},
    /* logback + logstash-logback-encoder */
    {"{\"jsonPayload\":{\"level\":\"ERROR\",\"message\":\"HikariPool-1 - timeout\",\"stack_trace\":"
     "\"java.sql.SQLTransientConnectionException: x\\n\\tat com.zaxxer\",\"logger_name\":\"a\"}}",
     "message", "HikariPool-1 - timeout\njava.sql.SQLTransientConnectionException: x\n\tat com.zaxxer"},
    {"{\"jsonPayload\":{\"level\":\"WARN\",\"message\":\"x\"}}", "severity", "400"},
    /* python-json-logger: levelname, exc_info */
    {"{\"jsonPayload\":{\"levelname\":\"ERROR\",\"message\":\"boom\",\"exc_info\":\"Traceback "
     "(most recent call last):\\nValueError: v\"}}",
     "message", "boom\nTraceback (most recent call last):\nValueError: v"},
    {"{\"jsonPayload\":{\"levelname\":\"CRITICAL\",\"message\":\"boom\"}}", "severity", "600"},
    /* structlog: event, level, exception */
    {"{\"jsonPayload\":{\"event\":\"smtp send failed\",\"level\":\"error\",\"exception\":"
     "\"Traceback (most recent call last):\\nsmtplib.SMTPAuthenticationError: (535, b'x')\"}}",
     "message",
     "smtp send failed\nTraceback (most recent call last):\nsmtplib.SMTPAuthenticationError: (535, "
     "b'x')"},
    {"{\"jsonPayload\":{\"event\":\"e\",\"level\":\"error\"}}", "severity", "500"},
    /* JUL's SEVERE */
    {"{\"jsonPayload\":{\"level\":\"SEVERE\",\"message\":\"x\"}}", "severity", "500"},
    /* Cloud Run's request log is matched inline, any other name the long way: the kinds of
     * fl_entry.h either way (FL_LOG_REQUESTS is 1, FL_LOG_STDOUT 2, FL_LOG_OTHER 0) */
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Frequests\"}", "log_kind", "1"},
    {"{\"logName\":\"/logs/run.googleapis.com%2Frequests\"}", "log_kind", "1"},
    {"{\"logName\":\"logs/run.googleapis.com%2Frequests\"}", "log_kind", "1"},
    {"{\"logName\":\"projects/p/logs/run.googleapis.com/requests\"}", "log_kind", "1"},
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Frequest\"}", "log_kind", "0"},
    {"{\"logName\":\"projects/p/logs/xrun.googleapis.com%2Frequests\"}", "log_kind", "1"},
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Fstdout\"}", "log_kind", "2"},
    /* the top-level names Cloud Logging writes most are matched inline; near misses and other
     * spellings still go through fl_severity_parse */
    {"{\"severity\":\"INFO\"}", "severity", "200"},
    {"{\"severity\":\"ERROR\"}", "severity", "500"},
    {"{\"severity\":\"WARNING\"}", "severity", "400"},
    {"{\"severity\":\"warning\"}", "severity", "400"},
    {"{\"severity\":\"Error\"}", "severity", "500"},
    {"{\"severity\":\"INFOS\"}", "severity", "0"},
    {"{\"severity\":\"ERROX\"}", "severity", "0"},
    {"{\"severity\":\"WARNINGS\"}", "severity", "0"},
    {"{\"severity\":\"WARNIN\"}", "severity", "0"},
    {"{\"severity\":\"INF\"}", "severity", "0"},
    /* a level name parses before any offset is looked for; one with an offset, or a number in
     * a string, still takes the long way */
    {"{\"jsonPayload\":{\"level\":\"WARN-4\",\"message\":\"x\"}}", "severity", "400"},
    {"{\"jsonPayload\":{\"level\":\"Notice\",\"message\":\"x\"}}", "severity", "300"},
    {"{\"jsonPayload\":{\"level\":\"30\",\"message\":\"x\"}}", "severity", "30"},
    /* the level is read where it lies, an escaped one decoded first */
    {"{\"jsonPayload\":{\"level\":\"\\u0065rror\",\"message\":\"x\"}}", "severity", "500"},
    {"{\"jsonPayload\":{\"severity\":\"\\u0033\\u0030\",\"message\":\"x\"}}", "severity", "30"},
    /* the error-looking rule: plain lines without a severity */
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Fstderr\",\"textPayload\":\"panic: "
     "runtime error: index out of range\"}",
     "severity", "500"},
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Fstderr\",\"textPayload\":\"error_count=0"
     "\"}",
     "severity", "0"},
    /* request logs are never raised by their text */
    {"{\"logName\":\"projects/p/logs/run.googleapis.com%2Frequests\",\"textPayload\":\"panic: x\","
     "\"httpRequest\":{\"status\":200}}",
     "severity", "0"},
};

static void test_mapping_cases(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        for (int slow = 0; slow < 2; slow++) {
            fl_entry e;
            fl_entry_init(&e);
            char err[256], num[64];
            const char *j = cases[i].json;
            int rc = slow ? fl_entry_parse_jansson(j, strlen(j), &e, err, sizeof(err))
                          : fl_entry_parse(j, strlen(j), &e, err, sizeof(err));
            CHECK_INT(rc, 0);
            check_noted(&e);
            const char *got = field_of(&e, cases[i].field, num, sizeof(num));
            if (strcmp(got, cases[i].want) != 0)
                fprintf(stderr, "case %zu (%s): %s\n", i, slow ? "jansson" : "fast", j);
            CHECK_STR(got, cases[i].want);
            fl_entry_free(&e);
        }
    }
}

/* Defects jansson refuses but an entry survives (issue 10): both readers keep it, replace
 * what cannot be represented and say what they replaced; the same text either way. */
static void test_repairs(void)
{
    static const struct {
        const char *in;
        unsigned fixes;
        const char *message;
    } repairs[] = {
        {"{\"textPayload\":\"a\\u0000b\"}", FL_FIX_NUL, "a\xEF\xBF\xBD" "b"},
        {"{\"textPayload\":\"x\\ud800y\"}", FL_FIX_SURROGATE, "x\xEF\xBF\xBDy"},
        {"{\"textPayload\":\"x\\udc00\"}", FL_FIX_SURROGATE, "x\xEF\xBF\xBD"},
        {"{\"textPayload\":\"ok \\ud83d\\ude00\"}", 0, "ok \xF0\x9F\x98\x80"},
        {"{\"textPayload\":\"bad \xff\xc0\xaf end\"}", FL_FIX_UTF8,
         "bad \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD end"},
        {"{\"textPayload\":\"t\",\"labels\":{\"n\":1e999}}", FL_FIX_NUMBER, "t"},
        {"{\"textPayload\":\"t\",\"x\":-99999999999999999999}", FL_FIX_NUMBER, "t"},
        {"{\"textPayload\":\"t\",\"timestamp\":\"2026-02-30T00:00:00Z\"}", FL_FIX_TIMESTAMP,
         "t"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(repairs); i++) {
        for (int slow = 0; slow < 2; slow++) {
            fl_entry e;
            fl_entry_init(&e);
            char err[256] = "";
            int rc = slow ? fl_entry_parse_jansson(repairs[i].in, strlen(repairs[i].in), &e, err,
                                                   sizeof(err))
                          : fl_entry_parse(repairs[i].in, strlen(repairs[i].in), &e, err, sizeof(err));
            CHECK_INT(rc, 0);
            CHECK_INT(e.fixes, repairs[i].fixes);
            CHECK_STR(e.message, repairs[i].message);
            fl_entry_free(&e);
        }
    }
    char buf[256];
    fl_entry_fixes_text(FL_FIX_UTF8 | FL_FIX_NUMBER, buf, sizeof(buf));
    CHECK_STR(buf, "invalid UTF-8 replaced by U+FFFD; out-of-range number replaced by null");
}

static void test_rejects(void)
{
    static const char *bad[] = {"",
                                "[]",
                                "[{}]",
                                "\"x\"",
                                "{",
                                "{\"a\":}",
                                "{\"a\":1}x",
                                "{\"message\":{\"data\":\"!!!\"}}"};
    for (size_t i = 0; i < FL_ARRAY_LEN(bad); i++) {
        fl_entry e;
        fl_entry_init(&e);
        char err[256] = "";
        CHECK_INT(fl_entry_parse(bad[i], strlen(bad[i]), &e, err, sizeof(err)), FL_EPARSE);
        CHECK(err[0] != '\0');
        CHECK_INT(fl_entry_parse_jansson(bad[i], strlen(bad[i]), &e, err, sizeof(err)), FL_EPARSE);
        fl_entry_free(&e);
    }
}

/* The latency as the mapping defines it, one byte at a time (the reference for the reader's
 * scan, which takes eight fraction digits at once since round four): digits[.digits]s, at most
 * 18 significant digits used, -1 for anything else. */
static double latency_reference(const char *p, size_t n)
{
    if (n < 2 || n >= 40 || p[n - 1] != 's' || p[0] < '0' || p[0] > '9')
        return -1;
    const char *end = p + n - 1;
    uint64_t mant = 0;
    int digits = 0, frac = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (digits == 18)
            return -1;
        mant = mant * 10 + (uint64_t)(*p - '0');
    }
    if (p < end && *p == '.')
        for (p++; p < end && *p >= '0' && *p <= '9'; p++)
            if (digits < 18) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                digits++;
                frac++;
            }
    if (p != end)
        return -1;
    double scale = 1;
    for (int i = 0; i < frac; i++)
        scale *= 10;
    return (double)mant / scale;
}

/* Every split of whole and fraction digits up to 20 each, with a stray byte put at each place
 * of the fraction: the fast reader's latency equals the byte-wise reference exactly. */
/* httpRequest.latency of a one-field entry holding the Duration text lat. */
static double parsed_latency(const char *lat)
{
    char json[128];
    snprintf(json, sizeof json, "{\"httpRequest\":{\"latency\":\"%s\"}}", lat);
    fl_entry e;
    fl_entry_init(&e);
    char err[256];
    CHECK_INT(fl_entry_parse(json, strlen(json), &e, err, sizeof(err)), 0);
    double v = e.latency_s;
    fl_entry_free(&e);
    return v;
}

static void test_latency_digits(void)
{
    static const char digit_run[] = "98765432109876543210";
    int wrong = 0, checked = 0;
    for (int whole = 1; whole <= 20; whole++)
        for (int fr = -1; fr <= 20; fr++)
            for (int stray = -1; stray <= fr; stray++) {
                char lat[64];
                size_t n = 0;
                memcpy(lat, digit_run + 20 - whole, (size_t)whole);
                n = (size_t)whole;
                if (fr >= 0) {
                    lat[n++] = '.';
                    memcpy(lat + n, digit_run, (size_t)fr);
                    if (stray >= 0 && stray < fr)
                        lat[n + (size_t)stray] = stray % 2 ? ':' : '/'; /* next to '0'..'9' */
                    n += (size_t)fr;
                }
                lat[n++] = 's';
                lat[n] = '\0';
                double got = parsed_latency(lat), want = latency_reference(lat, n);
                if (got != want) {
                    fprintf(stderr, "latency %s: %.17g, want %.17g\n", lat, got, want);
                    wrong++;
                }
                checked++;
            }
    /* A stray byte in the whole seconds before nine fraction digits (the Duration form the
     * mapping reads without its loops, issue 15): refused as the loops refuse it. */
    for (int whole = 1; whole <= 12; whole++)
        for (int stray = 1; stray < whole; stray++) {
            char lat[64];
            memcpy(lat, digit_run, (size_t)whole);
            lat[stray] = stray % 2 ? ':' : '/';
            snprintf(lat + whole, sizeof lat - (size_t)whole, ".123456789s");
            double got = parsed_latency(lat);
            if (got != -1) {
                fprintf(stderr, "latency %s: %.17g, want -1\n", lat, got);
                wrong++;
            }
            checked++;
        }
    CHECK_INT(wrong, 0);
    CHECK(checked > 4000);
}

/* Every string member of fl_entry, to check the store against the fields (issue 15). */
static const size_t entry_strings[] = {
    offsetof(fl_entry, log_name),        offsetof(fl_entry, service),
    offsetof(fl_entry, revision),        offsetof(fl_entry, location),
    offsetof(fl_entry, project),         offsetof(fl_entry, message),
    offsetof(fl_entry, insert_id),       offsetof(fl_entry, trace),
    offsetof(fl_entry, instance_id),     offsetof(fl_entry, commit_sha),
    offsetof(fl_entry, http_method),     offsetof(fl_entry, http_url),
    offsetof(fl_entry, audit_method),    offsetof(fl_entry, audit_service),
    offsetof(fl_entry, audit_resource),  offsetof(fl_entry, audit_principal),
    offsetof(fl_entry, audit_status_message),
};

/* A string of n copies of c, for JSON (no escapes needed). */
static char *filler(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* The mapping copies the fields' strings one after another with the store's length kept in a
 * local (issue 15): the store ends where the last field does, whatever mix of plain strings,
 * escaped ones (decoded through the slow path) and store growth half-way through. And the
 * three resource and label names no consumer reads (resource.type, configuration_name,
 * labels."gcb-build-id") are not copied at all: 2,000 bytes each here, the store stays small. */
static void test_store_layout(void)
{
    char *big_type = filler('t', 2000), *big_conf = filler('c', 2000);
    char *big_build = filler('b', 2000);
    char *long_service = filler('s', 900), *long_url = filler('u', 3000);
    char unused[8000], grows[8000];
    snprintf(unused, sizeof unused,
             "{\"logName\":\"projects/p/logs/run.googleapis.com%%2Frequests\",\"resource\":"
             "{\"type\":\"%s\",\"labels\":{\"service_name\":\"api\",\"configuration_name\":"
             "\"%s\",\"location\":\"us-east1\"}},\"labels\":{\"gcb-build-id\":\"%s\","
             "\"commit-sha\":\"abc123\"},\"httpRequest\":{\"status\":503,\"requestMethod\":"
             "\"GET\",\"requestUrl\":\"/x\"},\"insertId\":\"i1\",\"timestamp\":"
             "\"2026-01-02T03:04:05Z\"}",
             big_type, big_conf, big_build);
    /* Plain and escaped strings mixed; the service alone nearly fills a new entry's store,
     * so the store grows (and moves) in the middle of the fields, again at the URL. */
    snprintf(grows, sizeof grows,
             "{\"logName\":\"projects/p/logs/run.googleapis.com%%2Fstdout\",\"resource\":"
             "{\"type\":\"cloud_run_revision\",\"labels\":{\"service_name\":\"%s\","
             "\"revision_name\":\"r\\u00e9v-1\",\"location\":\"eu\",\"project_id\":\"pr\"}},"
             "\"textPayload\":\"line\\tone\",\"insertId\":\"id-7\",\"trace\":\"t/9\","
             "\"labels\":{\"instanceId\":\"00ff\"},\"httpRequest\":{\"requestMethod\":\"PUT\","
             "\"requestUrl\":\"%s\"},\"timestamp\":\"2026-01-02T03:04:05Z\"}",
             long_service, long_url);
    const char *docs[] = {unused, grows};
    for (size_t d = 0; d < FL_ARRAY_LEN(docs); d++)
        for (int slow = 0; slow < 2; slow++) {
            fl_entry e;
            fl_entry_init(&e);
            char err[256];
            int rc = slow ? fl_entry_parse_jansson(docs[d], strlen(docs[d]), &e, err, sizeof err)
                          : fl_entry_parse(docs[d], strlen(docs[d]), &e, err, sizeof err);
            CHECK_INT(rc, 0);
            check_noted(&e);
            size_t used = 0;
            for (size_t i = 0; i < FL_ARRAY_LEN(entry_strings); i++) {
                const char *f = *(const char *const *)((const char *)&e + entry_strings[i]);
                if (f[0]) {
                    CHECK(f >= e.store && f + strlen(f) < e.store + e.store_len);
                    used += strlen(f) + 1;
                }
            }
            CHECK_INT(e.store_len, used); /* each field once, nothing else, nothing lost */
            if (d == 0) {
                CHECK(e.store_len < 200);
                CHECK_STR(e.service, "api");
                CHECK_STR(e.location, "us-east1");
                CHECK_STR(e.commit_sha, "abc123");
                CHECK_STR(e.http_url, "/x");
                CHECK_INT(e.http_status, 503);
            } else {
                CHECK_STR(e.service, long_service);
                CHECK_STR(e.revision, "r\xC3\xA9v-1");
                CHECK_STR(e.location, "eu");
                CHECK_STR(e.project, "pr");
                CHECK_STR(e.message, "line\tone");
                CHECK_STR(e.insert_id, "id-7");
                CHECK_STR(e.trace, "t/9");
                CHECK_STR(e.instance_id, "00ff");
                CHECK_STR(e.http_method, "PUT");
                CHECK_STR(e.http_url, long_url);
                CHECK(e.store_cap > 4000);
            }
            fl_entry_free(&e);
        }
    free(big_type);
    free(big_conf);
    free(big_build);
    free(long_service);
    free(long_url);
}

/* The mapping copies short strings inline, in overlapping pieces from both ends (issue 15):
 * every length from 0 to 300, each byte distinct from its neighbours, lands whole, in both
 * readers (both go through the same copy, so the differential tests cannot see it). */
static void test_copy_lengths(void)
{
    for (size_t n = 0; n <= 300; n++) {
        char text[320], doc[1024];
        for (size_t i = 0; i < n; i++)
            text[i] = (char)('a' + i % 26);
        text[n] = '\0';
        snprintf(doc, sizeof doc,
                 "{\"logName\":\"projects/p/logs/run.googleapis.com%%2Fstdout\",\"textPayload\":"
                 "\"%s\",\"trace\":\"%s\",\"timestamp\":\"2026-01-02T03:04:05Z\"}",
                 text, text);
        for (int slow = 0; slow < 2; slow++) {
            fl_entry e;
            fl_entry_init(&e);
            char err[256];
            int rc = slow ? fl_entry_parse_jansson(doc, strlen(doc), &e, err, sizeof err)
                          : fl_entry_parse(doc, strlen(doc), &e, err, sizeof err);
            CHECK_INT(rc, 0);
            CHECK_STR(e.message, text);
            CHECK_STR(e.trace, text);
            CHECK_INT(fl_entry_len(&e, FL_KNOWN_TRACE, e.trace), n);
            fl_entry_free(&e);
        }
    }
}

int main(void)
{
    test_samples_through_reader();
    test_pubsub_envelope();
    test_mapping_cases();
    test_latency_digits();
    test_rejects();
    test_repairs();
    test_store_layout();
    test_copy_lengths();
    return fl_test_done();
}
