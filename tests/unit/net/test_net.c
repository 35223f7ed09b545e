/* src/net: the URL policy (one rule, LOCALHOST and localhost alike), what messages show of a
 * URL, and fl_net_post's refusals and retries against 127.0.0.1 without a server. */
#include <string.h>

#include "fl_net.h"
#include "fl_test.h"

static void test_policy(void)
{
    static const struct {
        const char *url;
        bool ok;
    } cases[] = {
        {"https://hooks.example.com/x", true},
        {"HTTPS://hooks.example.com/x", true},
        {"http://127.0.0.1:8080/hook", true},
        {"http://127.9.9.9/", true},
        {"http://localhost/", true},
        {"http://LOCALHOST:9/", true},
        {"http://LocalHost/", true},
        {"http://[::1]:80/", true},
        {"http://user:pw@127.0.0.1/", true},
        {"http://example.com/", false},
        {"http://10.0.0.1/", false},
        {"http://127.0.0.1.evil.example/", false},
        {"http://localhost.evil.example/", false},
        {"ftp://127.0.0.1/", false},
        {"not a url", false},
    };
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char why[256] = "";
        int rc = fl_net_url_check(cases[i].url, why, sizeof(why));
        if ((rc == 0) != cases[i].ok)
            fprintf(stderr, "url %s: %s\n", cases[i].url, why);
        CHECK((rc == 0) == cases[i].ok);
    }
    char why[256];
    CHECK_INT(fl_net_url_check("http://u:SECRETPW@example.com/?k=QS", why, sizeof(why)),
              FL_EINVAL);
    CHECK(strstr(why, "SECRETPW") == NULL && strstr(why, "QS") == NULL);
}

static void test_display(void)
{
    char out[256];
    fl_net_url_display("https://user:PASS@hooks.example.com:8443/a/b?token=T#frag", true, out,
                       sizeof(out));
    CHECK_STR(out, "https://hooks.example.com:8443/a/b");
    fl_net_url_display("https://user:PASS@hooks.example.com/a/b?token=T", false, out,
                       sizeof(out));
    CHECK_STR(out, "https://hooks.example.com");
    fl_net_url_display("::garbage user:PASS@", false, out, sizeof(out));
    CHECK(strstr(out, "PASS") == NULL);
}

static void test_post(void)
{
    /* Refused URL: no request, a message without userinfo. */
    fl_net_post_result res;
    CHECK_INT(fl_net_post("http://u:PASS@example.com/h", "{}", NULL, &res), FL_EINVAL);
    CHECK_INT(res.attempts, 0);
    CHECK(strstr(res.message, "PASS") == NULL && strstr(res.target, "PASS") == NULL);
    /* Nothing listens on 127.0.0.1:1: refused connections are retried, the id stays. */
    fl_net_post_opts o = {.webhook = true,
                          .webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                          .max_attempts = 3,
                          .base_delay_ms = 5,
                          .max_delay_ms = 20};
    CHECK_INT(fl_net_post("http://u:PASS@127.0.0.1:1/h?secret=QS", "{}", &o, &res), FL_EAGAIN);
    CHECK_INT(res.attempts, 3);
    CHECK(res.signed_body);
    CHECK(strncmp(res.webhook_id, "msg_", 4) == 0);
    CHECK(strstr(res.message, "PASS") == NULL && strstr(res.message, "QS") == NULL);
    /* A bad whsec_ secret is refused before any request. */
    o.webhook_secret = "whsec_!!!";
    CHECK_INT(fl_net_post("http://127.0.0.1:1/h", "{}", &o, &res), FL_EINVAL);
    CHECK_INT(res.attempts, 0);
}

static void test_backoff(void)
{
    for (unsigned attempt = 0; attempt < 10; attempt++) {
        uint64_t ceiling = FL_MIN(500u << attempt, 8000u);
        for (int k = 0; k < 100; k++) {
            uint64_t d = fl_backoff_ms(attempt, 500, 8000);
            CHECK(d >= ceiling / 2 && d <= ceiling);
        }
    }
}

int main(void)
{
    test_policy();
    test_display();
    test_post();
    test_backoff();
    return fl_test_done();
}
