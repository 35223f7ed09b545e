/* Attachments: URL routing and the transport rule, Standard Webhooks signatures against the
 * spec's published vector, body shapes, and the retry loop on a refused connection. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "attach/attach.h"
#include "fl_net.h"
#include "fixture.h"
#include "fl_test.h"

static void test_resolve(void)
{
    static const struct {
        const char *url;
        int rc;
        fl_attach_kind kind;
        const char *out;
    } rows[] = {
        {"https://github.com/acme/shop/issues/42", 0, FL_ATTACH_GITHUB,
         "https://api.github.com/repos/acme/shop/issues/42/comments"},
        {"https://github.com/acme/shop.js/pull/7", 0, FL_ATTACH_GITHUB,
         "https://api.github.com/repos/acme/shop.js/issues/7/comments"},
        {"https://api.github.com/repos/acme/shop/issues/42/comments", 0, FL_ATTACH_GITHUB,
         "https://api.github.com/repos/acme/shop/issues/42/comments"},
        {"https://github.com/acme/shop", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"https://github.com/acme/shop/issues/abc", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"https://hooks.slack.com/services/T0/B0/XYZ", 0, FL_ATTACH_SLACK,
         "https://hooks.slack.com/services/T0/B0/XYZ"},
        {"https://example.com/hooks/pm", 0, FL_ATTACH_WEBHOOK, "https://example.com/hooks/pm"},
        {"http://127.0.0.1:8080/x", 0, FL_ATTACH_WEBHOOK, "http://127.0.0.1:8080/x"},
        {"http://127.9.8.7/x", 0, FL_ATTACH_WEBHOOK, "http://127.9.8.7/x"},
        {"http://localhost:9/x", 0, FL_ATTACH_WEBHOOK, "http://localhost:9/x"},
        {"http://[::1]:9/x", 0, FL_ATTACH_WEBHOOK, "http://[::1]:9/x"},
        {"http://example.com/x", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"http://10.0.0.1/x", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"http://127.0.0.1.evil.test/x", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"http://hooks.slack.com/services/T0/B0/XYZ", FL_EINVAL, FL_ATTACH_SLACK, NULL},
        {"ftp://127.0.0.1/x", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
        {"not a url", FL_EINVAL, FL_ATTACH_WEBHOOK, NULL},
    };
    fl_attach_opts o = {.github_api_base = "https://api.github.com",
                        .slack_base = "https://hooks.slack.com"};
    for (size_t i = 0; i < FL_ARRAY_LEN(rows); i++) {
        fl_attach_kind k;
        char *out = NULL, err[256] = "";
        /* http://hooks.slack.com has no base override here, so the rule applies to it. */
        fl_attach_opts *use = strncmp(rows[i].url, "http://hooks", 12) == 0 ? NULL : &o;
        if (!use)
            unsetenv("FAULTLINE_SLACK_HOOKS_URL");
        int rc = fl_attach_resolve(rows[i].url, use, &k, &out, err, sizeof(err));
        CHECK_INT(rc, rows[i].rc);
        if (rc != rows[i].rc)
            fprintf(stderr, "  url %s: %s\n", rows[i].url, err);
        if (rows[i].out) {
            CHECK_STR(out, rows[i].out);
            CHECK_INT(k, rows[i].kind);
        } else {
            CHECK(out == NULL);
            CHECK(err[0] != 0);
        }
        fl_free(out);
    }
    /* The API base override (tests, GitHub Enterprise) keeps the path. */
    fl_attach_opts ov = {.github_api_base = "http://127.0.0.1:5555/api/",
                         .slack_base = "http://127.0.0.1:5556"};
    fl_attach_kind k;
    char *out = NULL, err[256];
    CHECK_INT(fl_attach_resolve("https://github.com/a/b/issues/1", &ov, &k, &out, err, sizeof(err)),
              0);
    CHECK_STR(out, "http://127.0.0.1:5555/api/repos/a/b/issues/1/comments");
    fl_free(out);
    CHECK_INT(fl_attach_resolve("https://hooks.slack.com/services/T/B/C", &ov, &k, &out, err,
                                sizeof(err)),
              0);
    CHECK_STR(out, "http://127.0.0.1:5556/services/T/B/C");
    fl_free(out);
    /* An override may not smuggle a token over plain http to another host. */
    fl_attach_opts bad = {.github_api_base = "http://api.example.com"};
    CHECK_INT(
        fl_attach_resolve("https://github.com/a/b/issues/1", &bad, &k, &out, err, sizeof(err)),
        FL_EINVAL);
}

static void test_signature(void)
{
    /* Published Standard Webhooks / Svix example, recomputed with python3 hmac. */
    char sig[128];
    const char *body = "{\"test\": 2432232314}";
    CHECK_INT(fl_webhook_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                              "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), sig,
                              sizeof(sig)),
              0);
    CHECK_STR(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    /* A secret without the whsec_ prefix is used as raw bytes. */
    CHECK_INT(fl_webhook_sign("plain-secret", "msg_x", 1700000000, "body", 4, sig, sizeof(sig)), 0);
    CHECK_STR(sig, "v1,Zeoi9yuYPVhZEzQUEEaJZ+5+Cmonh/XFKI0yZcJra3k=");
    /* One byte of the body changed: another signature. */
    CHECK_INT(fl_webhook_sign("plain-secret", "msg_x", 1700000000, "bodY", 4, sig, sizeof(sig)), 0);
    CHECK(strcmp(sig, "v1,Zeoi9yuYPVhZEzQUEEaJZ+5+Cmonh/XFKI0yZcJra3k=") != 0);
    CHECK_INT(fl_webhook_sign("whsec_!!!", "msg_x", 1, "b", 1, sig, sizeof(sig)), FL_EINVAL);

    char a[32], b[32];
    CHECK_INT(fl_webhook_new_id(a, sizeof(a)), 0);
    CHECK_INT(fl_webhook_new_id(b, sizeof(b)), 0);
    CHECK(strncmp(a, "msg_", 4) == 0 && strlen(a) == 30);
    CHECK(strcmp(a, b) != 0);
}

static void test_bodies(void)
{
    fl_result *r = fix_result();
    json_error_t e;

    char *s = fl_attach_slack_body(r, "checkout <!channel> incident");
    json_t *j = json_loads(s, 0, &e);
    CHECK(j != NULL);
    json_t *blocks = json_object_get(j, "blocks");
    CHECK(json_is_array(blocks) && json_array_size(blocks) >= 4 && json_array_size(blocks) <= 50);
    CHECK_STR(json_string_value(json_object_get(json_array_get(blocks, 0), "type")), "header");
    CHECK_STR(json_string_value(
                  json_object_get(json_object_get(json_array_get(blocks, 0), "text"), "type")),
              "plain_text");
    CHECK(json_is_string(json_object_get(j, "text")));
    size_t n = json_array_size(blocks);
    CHECK_STR(json_string_value(json_object_get(json_array_get(blocks, n - 1), "type")), "context");
    /* The cause section carries summary and evidence. */
    bool cause_seen = false;
    for (size_t i = 0; i < n; i++) {
        const char *t = json_string_value(
            json_object_get(json_object_get(json_array_get(blocks, i), "text"), "text"));
        if (t && strstr(t, "*#1 deploy* (score 0.91)") && strstr(t, "5xx rate 0.0% before"))
            cause_seen = true;
    }
    CHECK(cause_seen);
    json_decref(j);
    fl_free(s);

    /* mrkdwn control sequences from logs are neutralised. */
    fl_free(r->causes[0].summary);
    r->causes[0].summary = fl_strdup("boom <!channel> <https://evil.test|click> & more");
    s = fl_attach_slack_body(r, NULL);
    CHECK(strstr(s, "<!channel>") == NULL);
    CHECK(strstr(s, "&lt;!channel&gt; &lt;https://evil.test|click&gt; &amp; more") != NULL);
    fl_free(s);

    /* Log text that is not UTF-8 must not make the body disappear. */
    fl_free(r->causes[0].evidence[0]);
    r->causes[0].evidence[0] = fl_strdup("bad bytes \xff\xfe and a cut \xe2\x82 end");
    s = fl_attach_slack_body(r, "t\xc3");
    CHECK(s != NULL && strstr(s, "bad bytes ?? and a cut ?? end") != NULL);
    fl_free(s);
    s = fl_attach_github_body("caf\xc3\xa9 \xc3");
    CHECK_STR(s, "{\"body\":\"caf\xc3\xa9 ?\"}");
    fl_free(s);

    s = fl_attach_webhook_body(r, "# md", 1700000000);
    CHECK(s != NULL && strstr(s, "bad bytes ??") != NULL);
    j = json_loads(s, 0, &e);
    CHECK_STR(json_string_value(json_object_get(j, "type")), "faultline.postmortem");
    CHECK_STR(json_string_value(json_object_get(j, "timestamp")), "2023-11-14T22:13:20Z");
    json_t *data = json_object_get(j, "data");
    CHECK_STR(json_string_value(json_object_get(data, "markdown")), "# md");
    CHECK_STR(json_string_value(
                  json_object_get(json_array_get(json_object_get(data, "causes"), 0), "kind")),
              "deploy");
    CHECK_INT(json_integer_value(json_object_get(data, "requests_5xx")), 495);
    json_decref(j);
    fl_free(s);

    s = fl_attach_github_body("hello *md*");
    CHECK_STR(s, "{\"body\":\"hello *md*\"}");
    fl_free(s);
    fl_result_free(r);
}

static void test_retry_refused(void)
{
    /* Nothing listens on 127.0.0.1:1: connection refused is retried, then given up. */
    fl_result *r = fix_result();
    fl_attach_opts o = {.max_attempts = 3,
                        .base_delay_ms = 5,
                        .max_delay_ms = 20,
                        .webhook_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    fl_attach_report rep;
    int rc = fl_attach_post("http://127.0.0.1:1/hook", r, "# md", NULL, &o, &rep);
    CHECK_INT(rc, FL_EAGAIN);
    CHECK_INT(rep.attempts, 3);
    CHECK(rep.signed_body);
    CHECK(strncmp(rep.webhook_id, "msg_", 4) == 0);
    /* A refused transport rule makes no request at all. */
    rc = fl_attach_post("http://example.com/hook", r, "# md", NULL, &o, &rep);
    CHECK_INT(rc, FL_EINVAL);
    CHECK_INT(rep.attempts, 0);
    /* GitHub without a token is refused before any request, and the message names the
     * variable, not a value. */
    unsetenv("GITHUB_TOKEN");
    rc = fl_attach_post("https://github.com/a/b/issues/1", r, "# md", NULL, &o, &rep);
    CHECK_INT(rc, FL_EAUTH);
    CHECK(strstr(rep.message, "GITHUB_TOKEN") != NULL);
    /* A token with a line break cannot inject headers. */
    fl_attach_opts to = {.max_attempts = 1,
                         .github_token = "ghp_x\r\nX-Evil: 1",
                         .github_api_base = "http://127.0.0.1:1"};
    rc = fl_attach_post("https://github.com/a/b/issues/1", r, "# md", NULL, &to, &rep);
    CHECK_INT(rc, FL_EINVAL);
    CHECK_INT(rep.attempts, 0);
    CHECK(strstr(rep.message, "ghp_x") == NULL);
    /* Slack URLs in messages are redacted (the path is the credential). */
    fl_attach_opts so = {.max_attempts = 1, .slack_base = "http://127.0.0.1:1"};
    rc = fl_attach_post("https://hooks.slack.com/services/T0AAA/B0BBB/SECRETPATH123", r, "# md",
                        NULL, &so, &rep);
    CHECK_INT(rc, FL_EAGAIN);
    CHECK(strstr(rep.message, "SECRETPATH123") == NULL);
    CHECK(strstr(rep.target, "SECRETPATH123") == NULL);
    fl_result_free(r);
}

int main(void)
{
    test_resolve();
    test_signature();
    test_bodies();
    test_retry_refused();
    return fl_test_done();
}
