/* Throughput of the batch reader: generates realistic Cloud Run entries (~800 bytes: request
 * logs ~60%, app logs ~35%, error traces ~5%) into a file, then times
 *   1. fl_entry_parse (fast reader) on every line, in memory;
 *   2. fl_entry_parse_jansson on a sample, for the ratio;
 *   3. fl_reader end to end over the file (read + split + parse + multi-line), NDJSON and
 *      as a gcloud-style JSON array.
 * Usage: bench_ingest [MB] (default 256). Suite 'bench', not in the default run.
 * MB/s are per CPU second of this process (user + system), so one core's rate. */
#include "ingest_test_util.h"

#include <time.h>

/* CPU time of this process (user + system): the per-core figure, not disturbed by other
 * work on a shared machine. Wall time is printed next to it. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t gen_entry(char *out, size_t cap, int i)
{
    static const char *svc[] = {"checkout", "api", "worker", "frontend"};
    const char *s = svc[rnd() % 4];
    int rev = 10 + (int)(rnd() % 3);
    char hex[33];
    for (int k = 0; k < 32; k++)
        hex[k] = "0123456789abcdef"[rnd() % 16];
    hex[32] = '\0';
    char common[600];
    snprintf(common, sizeof(common),
             "\"resource\":{\"type\":\"cloud_run_revision\",\"labels\":{\"service_name\":\"%s\","
             "\"revision_name\":\"%s-%05d-xyz\",\"location\":\"us-central1\","
             "\"configuration_name\":\"%s\",\"project_id\":\"acme-prod-4821\"}},"
             "\"timestamp\":\"2026-11-20T10:%02d:%02d.%06dZ\",\"receiveTimestamp\":"
             "\"2026-11-20T10:%02d:%02d.%09dZ\",\"labels\":{\"instanceId\":"
             "\"00f46b92853c%s%s\"}",
             s, s, rev, s, (i / 60000) % 60, (i / 1000) % 60, (i * 7) % 1000000, (i / 60000) % 60,
             (i / 1000) % 60, (i * 7919) % 1000000000, hex, hex);
    int kind = (int)(rnd() % 100);
    if (kind < 60) {
        int status = rnd() % 50 ? 200 : 503;
        return (size_t)snprintf(
            out, cap,
            "{\"httpRequest\":{\"requestMethod\":\"GET\",\"requestUrl\":\"https://"
            "%s-4xq2.a.run.app/"
            "v1/orders/%d?expand=items\",\"requestSize\":\"412\",\"status\":%d,\"responseSize\":"
            "\"1834\",\"userAgent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"remoteIp\":"
            "\"203.0.113.%d\",\"serverIp\":\"216.239.32.53\",\"latency\":\"0.%06ds\",\"protocol\":"
            "\"HTTP/1.1\"},\"insertId\":\"%s\",%s,\"severity\":\"%s\",\"logName\":"
            "\"projects/acme-prod-4821/logs/run.googleapis.com%%2Frequests\",\"trace\":"
            "\"projects/acme-prod-4821/traces/%s\",\"spanId\":\"%d\",\"traceSampled\":true}\n",
            s, i, status, i % 250, (int)(rnd() % 1000000), hex, common,
            status >= 500 ? "ERROR" : "INFO", hex, i);
    }
    if (kind < 95)
        return (size_t)snprintf(
            out, cap,
            "{\"jsonPayload\":{\"message\":\"order %d processed in %d ms\",\"level\":\"info\","
            "\"orderId\":%d,\"durationMs\":%d,\"component\":\"order-service\",\"user\":"
            "\"u-%d\"},\"insertId\":\"%s\",%s,\"logName\":"
            "\"projects/acme-prod-4821/logs/run.googleapis.com%%2Fstdout\"}\n",
            i, (int)(rnd() % 900), i, (int)(rnd() % 900), i % 9973, hex, common);
    return (size_t)snprintf(
        out, cap,
        "{\"textPayload\":\"Traceback (most recent call last):\\n  File \\\"/app/db.py\\\", line "
        "88, in connect\\n    conn = pool.get(timeout=30)\\nsqlalchemy.exc.TimeoutError: "
        "QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout "
        "30.00\",\"insertId\":\"%s\",%s,\"severity\":\"ERROR\",\"logName\":"
        "\"projects/acme-prod-4821/logs/run.googleapis.com%%2Fstderr\"}\n",
        hex, common);
}

/* gcloud --format=json style: two-space indentation, one key per line. */
static void write_pretty(FILE *f, const char *p, size_t n, int base)
{
    int depth = base;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            fputc(c, f);
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            fputc(c, f);
            break;
        case '{':
        case '[':
            fprintf(f, "%c\n%*s", c, 2 * ++depth, "");
            break;
        case '}':
        case ']':
            fprintf(f, "\n%*s%c", 2 * --depth, "", c);
            break;
        case ',':
            fprintf(f, ",\n%*s", 2 * depth, "");
            break;
        case ':':
            fputs(": ", f);
            break;
        default:
            fputc(c, f);
        }
    }
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 256;
    size_t target = mb << 20;
    char *data = malloc(target + 4096);
    size_t len = 0;
    int n = 0;
    while (len < target)
        len += gen_entry(data + len, target + 4096 - len, n++);
    printf("generated %d entries, %.1f MB, %.0f bytes/entry\n", n, (double)len / 1e6,
           (double)len / n);

    fl_entry e;
    fl_entry_init(&e);
    /* 1. fast reader on every line in memory */
    double t0 = now(), w0 = wall();
    size_t bad = 0;
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (fl_entry_parse(p, (size_t)(nl - p), &e, NULL, 0) != 0)
            bad++;
        p = nl + 1;
    }
    double t1 = now(), w1 = wall();
    printf("fl_entry_parse (fast), in memory:   %7.0f MB/s  %9.0f entries/s  (wall %.0f MB/s; "
           "%zu rejected)\n",
           (double)len / 1e6 / (t1 - t0), n / (t1 - t0), (double)len / 1e6 / (w1 - w0), bad);

    /* 2. jansson on the first 10% */
    size_t part = len / 10, done = 0;
    int pn = 0;
    t0 = now();
    for (char *p = data; p < data + part;) {
        char *nl = memchr(p, '\n', len - (size_t)(p - data));
        fl_entry_parse_jansson(p, (size_t)(nl - p), &e, NULL, 0);
        done += (size_t)(nl - p) + 1;
        pn++;
        p = nl + 1;
    }
    t1 = now();
    printf("fl_entry_parse_jansson, in memory:  %7.0f MB/s  %9.0f entries/s\n",
           (double)done / 1e6 / (t1 - t0), pn / (t1 - t0));

    /* 3. the reader end to end, from a (page-cached) file */
    const char *path = tu_path("bench.ndjson");
    tu_write(path, data, len);
    static const char *kinds[] = {"NDJSON", "array", "pretty"};
    for (int array = 0; array < 3; array++) {
        if (array == 2) {
            FILE *f = fopen(tu_path("bench-pretty.json"), "wb");
            fputs("[\n  ", f);
            for (char *p = data, *end = data + len; p < end;) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                write_pretty(f, p, (size_t)(nl - p), 1);
                fputs(nl + 1 < end ? ",\n  " : "\n", f);
                p = nl + 1;
            }
            fputs("]\n", f);
            fclose(f);
            path = tu_path("bench-pretty.json");
        } else if (array) {
            /* Rewrite as a gcloud-style array: "[\n  {...},\n  {...}\n]\n". */
            FILE *f = fopen(tu_path("bench.json"), "wb");
            fputs("[\n", f);
            for (char *p = data, *end = data + len; p < end;) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                fputs("  ", f);
                fwrite(p, 1, (size_t)(nl - p), f);
                fputs(nl + 1 < end ? ",\n" : "\n", f);
                p = nl + 1;
            }
            fputs("]\n", f);
            fclose(f);
            path = tu_path("bench.json");
        }
        for (int round = 0; round < 2; round++) { /* the first round warms the page cache */
            fl_diag d;
            fl_diag_init(&d);
            fl_reader *r;
            const char *paths[] = {path};
            t0 = now();
            double w0r = wall();
            if (fl_reader_open(&r, paths, 1, NULL, &d) != 0)
                return 1;
            size_t k = 0;
            while (fl_reader_next(r, &e) == 1)
                k++;
            fl_reader_free(r);
            t1 = now();
            double w1r = wall();
            if (round)
                printf("fl_reader %-6s end to end:       %7.0f MB/s  %9.0f entries/s  (wall %.0f "
                       "MB/s; %zu out, %llu parsed, %llu malformed)\n",
                       kinds[array], (double)d.bytes / 1e6 / (t1 - t0),
                       (double)d.entries / (t1 - t0), (double)d.bytes / 1e6 / (w1r - w0r), k,
                       (unsigned long long)d.entries, (unsigned long long)d.malformed);
            fl_diag_free(&d);
        }
    }
    fl_entry_free(&e);
    free(data);
    if (!getenv("KEEP"))
        tu_cleanup();
    return 0;
}
