/* Helpers of the HTTP sources: which URLs may be plain http, the backoff schedule, base64url
 * for JWTs, and an fl_http round trip on a libuv loop that ends with every handle closed. */
#include <stdlib.h>
#include <string.h>

#include "fl_base64.h"
#include "fl_http.h"
#include "fl_test.h"

static void test_url_allowed(void)
{
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        {"https://logging.googleapis.com", true},
        {"http://127.0.0.1:8085/v1/", true},
        {"http://127.1.2.3/x", true},
        {"http://localhost:9000", true},
        {"http://[::1]:80/", true},
        {"http://logging.googleapis.com", false},
        {"http://10.0.0.1/", false},
        {"http://127.0.0.1.evil.example/", false},
        {"http://localhost.evil.example/", false},
        {"ftp://127.0.0.1/", false},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        if (fl_http_url_allowed(cases[i].url) != cases[i].ok)
            fprintf(stderr, "url %s\n", cases[i].url);
        CHECK(fl_http_url_allowed(cases[i].url) == cases[i].ok);
    }
}

static void test_backoff(void)
{
    srandom(7);
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        uint64_t ceiling = 250;
        for (unsigned i = 0; i < attempt && ceiling < 30000; i++)
            ceiling *= 2;
        if (ceiling > 30000)
            ceiling = 30000;
        for (int k = 0; k < 200; k++) {
            uint64_t d = fl_backoff_ms(attempt, 250, 30000);
            CHECK(d >= ceiling / 10 && d <= ceiling);
        }
    }
}

static void test_base64url(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"f", "Zg"},
        {"fo", "Zm8"},
        {"foo", "Zm9v"},
        {"{\"alg\":\"RS256\"}", "eyJhbGciOiJSUzI1NiJ9"},
        {"\xfb\xff", "-_8"},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char *s = fl_base64url_encode((const unsigned char *)cases[i].in, strlen(cases[i].in));
        CHECK_STR(s, cases[i].out);
        fl_free(s);
    }
}

static int got_cb;
static void on_response(void *arg, const fl_http_response *r)
{
    (void)arg;
    got_cb++;
    CHECK_INT(r->status, 0); /* nothing listens on port 1 */
    CHECK(r->error[0] != '\0');
}

static int closed;
static void on_closed(void *arg)
{
    (void)arg;
    closed++;
}

static void test_http_loop(void)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    fl_http *h = NULL;
    CHECK_INT(fl_http_new(&h, &loop), 0);
    CHECK(h != NULL);
    CHECK_INT(fl_http_post_json(h, "http://example.com/", NULL, "{}", 5, on_response, NULL),
              FL_EINVAL);
    CHECK_INT(fl_http_post_json(h, "http://127.0.0.1:1/x", "tok", "{}", 5, on_response, NULL), 0);
    uv_run(&loop, UV_RUN_DEFAULT); /* runs until the refused connection is reported */
    CHECK_INT(got_cb, 1);
    /* A request still in flight when the client closes is cancelled without a callback. */
    CHECK_INT(fl_http_post_json(h, "http://127.0.0.1:1/y", NULL, "{}", 5, on_response, NULL), 0);
    fl_http_close(h, on_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_INT(closed, 1);
    CHECK_INT(got_cb, 1);
    CHECK_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    test_url_allowed();
    test_backoff();
    test_base64url();
    test_http_loop();
    return fl_test_done();
}
