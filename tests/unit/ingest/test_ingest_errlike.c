/* The error-looking line rule (ingest/errlike.c): lines without a severity that clearly report
 * an error, and the healthy look-alikes it must leave alone. Both halves are listed in
 * docs/loggers.md. */
#include "fl_ingest.h"
#include "fl_test.h"

#include <string.h>

static const char *const errors[] = {
    /* Node: gRPC status errors, plain Errors, codes, unhandled rejections */
    "Error: 5 NOT_FOUND: Queue does not exist. If you just created the queue, wait at least a minute.",
    "Error: 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 10.8.0.4:443",
    "TypeError: Cannot read properties of undefined (reading 'customerId')",
    "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'zod' imported from /app/dist/env.js",
    "(node:1) UnhandledPromiseRejectionWarning: Error: Connection terminated unexpectedly",
    "[UnhandledPromiseRejection: This error originated either by throwing inside of an async "
    "function without a catch block, or by rejecting a promise which was not handled with .catch().]",
    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "npm ERR! code ELIFECYCLE",
    /* Python */
    "Traceback (most recent call last):",
    "Traceback (most recent call last):\n  File \"/app/main.py\", line 3, in <module>\nKeyError: 'id'",
    "redis.exceptions.ConnectionError: Error 111 connecting to 10.0.0.3:6379. Connection refused.",
    "MemoryError",
    "ERROR:root:payment webhook failed",
    "ERROR:    Exception in ASGI application",
    "CRITICAL:app.db:could not connect to server",
    "[2026-12-07 04:11:02 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:9)",
    "[2026-12-07 04:11:02 +0000] [9] [ERROR] Exception in worker process",
    /* Go */
    "panic: runtime error: invalid memory address or nil pointer dereference",
    "fatal error: all goroutines are asleep - deadlock!",
    "E1207 04:11:02.123456       1 server.go:88] failed to sync cache",
    "time=2026-12-07T04:11:02Z level=error msg=\"query failed\" err=\"context deadline exceeded\"",
    "level=fatal msg=\"cannot load config\"",
    /* Java */
    "Exception in thread \"main\" java.lang.IllegalStateException: Failed to load ApplicationContext",
    "java.net.ConnectException: Connection refused",
    "2026-12-07T04:11:02.123Z ERROR 1 --- [           main] o.s.boot.SpringApplication : "
    "Application run failed",
    "04:11:02.123 [http-nio-8080-exec-3] ERROR c.a.checkout.PaymentController - charge failed",
    /* Rust, postgres, nginx, JSON printed as text */
    "thread 'main' panicked at src/main.rs:12:5:",
    "FATAL:  password authentication failed for user \"app\"",
    "2026/12/07 04:11:02 [error] 7#7: *1 connect() failed (111: Connection refused)",
    "{\"level\":\"error\",\"msg\":\"upstream failed\"}",
    "error: failed to push some refs",
};

static const char *const healthy[] = {
    "error_count=0",
    "\"errors\": []",
    "retrying after error: connection reset by peer ... succeeded on attempt 2",
    "level=info msg=\"no error\"",
    "level=info msg=\"Error: this is quoted user input\"",
    "INFO Error handler registered for /api",
    "[INFO] ErrorBoundary mounted",
    "2026-12-07T04:11:02.123Z  INFO 1 --- [main] c.a.App : Started App in 3.2 seconds",
    "WARN deprecated option --foo",
    "Processed 120 items, ERROR count 0",
    "0 errors, 2 warnings",
    "errors=0 warnings=3",
    "Redis connection established",
    "connection pool initialized (max=20)",
    "GET /healthz 200 1.2 ms",
    "ErrorReporting client initialised",
    "Listening on port 8080",
    "{\"level\":\"info\",\"msg\":\"request failed over to replica\"}",
    "The error rate is 0.0%",
    "Recovered from error: connection reset",
    "DeprecationWarning: Buffer() is deprecated",
    "",
};

int main(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(errors); i++) {
        bool got = fl_text_looks_error(errors[i], strlen(errors[i]));
        if (!got)
            fprintf(stderr, "not taken: %s\n", errors[i]);
        CHECK(got);
    }
    for (size_t i = 0; i < FL_ARRAY_LEN(healthy); i++) {
        bool got = fl_text_looks_error(healthy[i], strlen(healthy[i]));
        if (got)
            fprintf(stderr, "taken: %s\n", healthy[i]);
        CHECK(!got);
    }
    /* A strong signal below a harmless first line is found; a weak one is not. */
    const char *below = "request 42 failed\nTraceback (most recent call last):\nValueError: v";
    CHECK(fl_text_looks_error(below, strlen(below)));
    const char *weak_below = "request 42 done\nERROR something";
    CHECK(!fl_text_looks_error(weak_below, strlen(weak_below)));
    /* Only the first 8 KiB are looked at. */
    static char big[20000];
    memset(big, 'a', sizeof(big));
    memcpy(big + 10000, "\npanic: x", 9);
    CHECK(!fl_text_looks_error(big, sizeof(big)));
    return fl_test_done();
}
