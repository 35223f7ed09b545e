/* Classification throughput on a realistic mix: mostly healthy application lines (some of them
 * containing words the rules care about: connection, timeout, pool, memory, redis), ~5% real
 * error lines. Prints messages/s and MB/s with the prefilter on and off, single thread.
 * Run: build/tests/unit/patterns/bench_classify [seconds_per_run] */
#include "fl_config.h"
#include "fl_patterns_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const healthy[] = {
    "request completed method=GET path=/api/v1/orders/%d status=200 duration_ms=%d user=%d",
    "connection pool initialized (size=%d, overflow=5) for postgres://db:5432/orders",
    "Processing batch %d of %d for tenant acme-corp, items=%d",
    "heap used %dMB of 512MB, rss=%dMB, gc pauses=%dms",
    "Redis connection established to 10.0.0.%d:6379 in %dms",
    "cache hit ratio %d%% over the last %d requests",
    "timeout set to %ds for upstream payments-api",
    "Scheduled job sync-inventory started run_id=%d attempt=%d",
    "User %d signed in via Google OAuth (session %d)",
    "Sent email notification to customer %d, template=order-confirmed, took %dms",
    "{\"msg\":\"sling_request_ok\",\"level\":\"info\",\"durationMs\":%d,\"status\":%d}",
    "Verifying API Key. First 5 chars: fwybN (request %d, %d)",
    "INFO:     169.254.1.1:%d - \"GET /health HTTP/1.1\" 200 OK (%d)",
    "Firestore write committed in %dms to collection orders/%d",
    "{\"level\":\"info\",\"time\":\"2026-11-20T10:42:07.123Z\",\"pid\":1,\"hostname\":"
    "\"localhost\","
    "\"req\":{\"id\":%d,\"method\":\"POST\",\"url\":\"/api/v1/"
    "checkout\",\"remoteAddress\":\"169.254."
    "1.1\"},\"res\":{\"statusCode\":200},\"responseTime\":%d,\"msg\":\"request completed\"}",
    "2026-11-20 10:42:07,123 INFO [orders-worker-%d] c.e.orders.OrderService - Order %d placed for "
    "customer 8812 with 3 items, total 129.90 EUR, payment provider stripe, connection reused",
    "[Server] Unspecified or unknown Content-Type:  for URL: /api/process-sequence-activations - "
    "attempting form-urlencoded parse (%d, %d)",
};

static const char *const errors[] = {
    "Error: connect ECONNREFUSED 10.0.0.%d:5432\n    at TCPConnectWrap.afterConnect [as "
    "oncomplete] (node:net:1555:16) %d",
    "sqlalchemy.exc.TimeoutError: QueuePool limit of size %d overflow 10 reached, connection timed "
    "out, timeout 30.00 (%d)",
    "pymongo.errors.ServerSelectionTimeoutError: cluster0-shard-00-0%d.mongodb.net:27017: timed "
    "out, Timeout: %ds",
    "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler "
    "(/app/src/routes/orders.js:%d:%d)",
    "Traceback (most recent call last):\n  File \"/app/main.py\", line %d, in handle\n    "
    "return process(x)\nValueError: invalid literal for int() with base 10: 'abc%d'",
    "java.sql.SQLTransientConnectionException: HikariPool-1 - Connection is not available, request "
    "timed out after %dms. (%d)",
    "Error: 8 RESOURCE_EXHAUSTED: Quota exceeded. (%d %d)",
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    char err[512];
    const char *dirs[] = {FL_SOURCE_PATTERNS_DIR};
    fl_rules *rules;
    if (fl_rules_load(&rules, dirs, 1, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    enum { N = 20000 };
    char **msgs = calloc(N, sizeof(*msgs));
    size_t *lens = calloc(N, sizeof(*lens));
    size_t total_bytes = 0;
    srand(42);
    for (int i = 0; i < N; i++) {
        char buf[1024];
        const char *fmt = rand() % 100 < 5 ? errors[rand() % (int)FL_ARRAY_LEN(errors)]
                                           : healthy[rand() % (int)FL_ARRAY_LEN(healthy)];
        int n = snprintf(buf, sizeof(buf), fmt, rand() % 100000, rand() % 1000, rand() % 500);
        msgs[i] = strdup(buf);
        lens[i] = (size_t)n;
        total_bytes += (size_t)n;
    }
    printf("rules=%zu regexes=%zu prefilter_literals=%zu corpus=%d msgs avg=%.0f bytes\n",
           fl_rules_count(rules), rules->n_regex, fl_prefilter_literals(rules->pf), N,
           (double)total_bytes / N);

    for (int pf = 1; pf >= 0; pf--) {
        fl_matcher *m = fl_matcher_new(rules);
        fl_matcher_set_prefilter(m, pf);
        size_t done = 0, matched = 0, bytes = 0;
        double t0 = now(), t;
        do {
            for (int i = 0; i < N; i++) {
                fl_match out;
                matched += fl_classify_text(rules, m, msgs[i], lens[i], &out) == 1;
            }
            done += N;
            bytes += total_bytes;
            t = now() - t0;
        } while (t < secs);
        printf("prefilter=%-3s  %10.0f msgs/s  %8.1f MB/s  %.2f us/msg  matched=%.1f%%\n",
               pf ? "on" : "off", (double)done / t, (double)bytes / t / 1e6, t / (double)done * 1e6,
               100.0 * (double)matched / (double)done);
        fl_matcher_free(m);
    }

    /* Templates of the error lines (what unmatched errors cost). */
    char out[512];
    size_t done = 0;
    double t0 = now(), t;
    do {
        for (int i = 0; i < N; i++)
            fl_template(msgs[i], lens[i], out, sizeof(out));
        done += N;
        t = now() - t0;
    } while (t < secs);
    printf("fl_template    %10.0f msgs/s  %8.1f MB/s\n", (double)done / t,
           (double)done / N * (double)total_bytes / t / 1e6);

    for (int i = 0; i < N; i++)
        free(msgs[i]);
    free(msgs);
    free(lens);
    fl_rules_free(rules);
    return 0;
}
