/* Redaction: one row per secret kind (what goes, what stays), near-misses that must stay
 * untouched, command mode for faultline's own gcloud advice, and the deep copy of a result.
 * Every secret below is synthetic. */
#include <string.h>

#include "fl_reports.h"
#include "fl_test.h"
#include "redact/redact.h"

typedef struct {
    const char *in;
    const char *out;
} row;

static const row cases[] = {
    /* bearer tokens and Authorization headers */
    {"GET /v1/cart Authorization: Bearer abcDEF123456ghiJKL789",
     "GET /v1/cart Authorization: [REDACTED:authorization]"},
    {"upstream said bearer Zm9vYmFyYmF6cXV4MTIz ok", "upstream said bearer [REDACTED:bearer] ok"},
    {"\"authorization\":\"Basic dXNlcjpwYXNzd29yZA==\"",
     "\"authorization\":\"[REDACTED:authorization]\""},
    {"headers: {authorization=Token 9f8e7d6c5b4a}",
     "headers: {authorization=[REDACTED:authorization]}"},
    /* JWT */
    {"token "
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk "
     "rejected",
     "token [REDACTED:jwt] rejected"},
    /* cloud keys */
    {"using key AKIAIOSFODNN7EXAMPLE for s3", "using key [REDACTED:aws_access_key] for s3"},
    {"sts ASIAY34FZKBOKMUTVV7A expired", "sts [REDACTED:aws_access_key] expired"},
    {"maps key=AIzaSyFAKEfakeFAKEfakeFAKEfakeFAKEfak12&x=1",
     "maps key=[REDACTED:google_api_key]&x=1"},
    {"oauth ya29.a0AfH6SMBfakefakefakefakefake123 used",
     "oauth [REDACTED:google_oauth_token] used"},
    /* PEM, raw and JSON-escaped */
    {"key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE "
     "KEY-----\n done",
     "key: [REDACTED:private_key]\n done"},
    {"{\"private_key\": \"-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA0Z3\\n-----END RSA "
     "PRIVATE "
     "KEY-----\\n\", \"x\": 1}",
     "{\"private_key\": \"[REDACTED:secret]\", \"x\": 1}"},
    {"cut -----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBfake", "cut [REDACTED:private_key]"},
    /* passwords in URLs */
    {"dial postgres://app:s3cretPass@10.0.0.5:5432/orders failed",
     "dial postgres://app:[REDACTED:password]@10.0.0.5:5432/orders failed"},
    {"redis://:hunter2@cache:6379", "redis://:[REDACTED:password]@cache:6379"},
    /* key/value secrets */
    {"db_password=hunter2 user=app", "db_password=[REDACTED:secret] user=app"},
    {"client_secret: 'abc123xyz'", "client_secret: '[REDACTED:secret]'"},
    {"{\"api_key\":\"k-live-99887766\",\"n\":2}", "{\"api_key\":\"[REDACTED:secret]\",\"n\":2}"},
    {"X-Api-Key: 5f4dcc3b5aa765d61d8327deb882cf99", "X-Api-Key: [REDACTED:secret]"},
    {"config {\\\"apiKey\\\":\\\"zzTop42\\\"}",
     "config {\\\"apiKey\\\":\\\"[REDACTED:secret]\\\"}"},
    {"ACCESS_KEY=Q2hhbmdlTWU0", "ACCESS_KEY=[REDACTED:secret]"},
    /* Slack */
    {"notify https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX now",
     "notify https://hooks.slack.com/services/[REDACTED:slack_webhook] now"},
    {"slack xoxb-123456789012-abcdefABCDEF", "slack [REDACTED:slack_token]"},
    /* emails */
    {"deployed by jane.doe+ci@example.com.", "deployed by [REDACTED:email]."},
    /* service accounts are machine identities, not personal data (issue 10 item 13) */
    {"principal deployer@my-project.iam.gserviceaccount.com", NULL},
    {"build by 123456789@cloudbuild.gserviceaccount.com for jane@example.com",
     "build by 123456789@cloudbuild.gserviceaccount.com for [REDACTED:email]"},
    {"fake@notgserviceaccount.com", "[REDACTED:email]"},
    /* cards */
    {"charge card 4111 1111 1111 1111 declined", "charge card [REDACTED:card_number] declined"},
    {"pan=5555-5555-5555-4444", "pan=[REDACTED:card_number]"},
    {"amex 378282246310005.", "amex [REDACTED:card_number]."},
    {"cards 4111 1111 1111 1111 5555 5555 5555 4444 end",
     "cards [REDACTED:card_number] [REDACTED:card_number] end"},
    {"pans 4111111111111111 378282246310005", "pans [REDACTED:card_number] [REDACTED:card_number]"},
    /* GitHub, Stripe */
    {"GITHUB ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123 push", "GITHUB [REDACTED:github_token] push"},
    {"stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe [REDACTED:stripe_key]"},

    /* near-misses: all must come back unchanged */
    {"card 4111 1111 1111 1112 is not Luhn-valid", NULL},
    {"token expired at 10:42:07", NULL},
    {"invalid token: signature mismatch", NULL},
    {"refresh token=expired", NULL},
    {"missing Bearer token", NULL},
    {"Bearer authentication failed", NULL},
    {"password authentication failed for user \"app\"", NULL},
    {"trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7", NULL},
    {"ts=1763635327123456 status 500 502 503 504 200 id 4111111111111111111111", NULL},
    {"revision checkout-00042-abc serving 100% traffic", NULL},
    {"secret_name=projects/p/secrets/db-password/versions/3 token_type=Bearer", NULL},
    {"https://run.googleapis.com/v2/projects/p/locations/us-central1/services/checkout", NULL},
    {"image us-docker.pkg.dev/p/r/app@sha256:2c26b46b68ffc68ff99b453c1d30413413422d70", NULL},
    {"uuid 123e4567-e89b-12d3-a456-426614174000 at 2026-11-20T10:42:07Z", NULL},
    {"-----BEGIN CERTIFICATE without an end marker line", NULL},
    {"GET /api/v1/users?page=2 HTTP/1.1 200 1532 bytes in 12ms", NULL},
    {"", NULL},
};

static void test_table(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        char *got = fl_redact(cases[i].in);
        const char *want = cases[i].out ? cases[i].out : cases[i].in;
        CHECK_STR(got, want);
        fl_free(got);
    }
}

static void test_command_mode(void)
{
    const char *cmd = "gcloud run services update checkout --region=us-central1 "
                      "--update-secrets=DB_PASS=db-password:latest "
                      "--service-account=runner@p.iam.gserviceaccount.com";
    char *got = fl_redact_ex(cmd, FL_REDACT_COMMAND, NULL, NULL);
    CHECK_STR(got, cmd);
    fl_free(got);
    /* A real secret inside a command is still redacted. */
    size_t n = 0;
    got = fl_redact_ex("curl -H 'Authorization: Bearer abc123def456ghi' x", FL_REDACT_COMMAND, NULL,
                       &n);
    CHECK_STR(got, "curl -H 'Authorization: [REDACTED:authorization]' x");
    CHECK_INT(n, 1);
    fl_free(got);
    CHECK(fl_redact(NULL) == NULL);
}

static void test_linear(void)
{
    /* A long line of near-matches must not blow up (and must stay intact). */
    size_t n = 1 << 20;
    char *big = fl_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = "a@b:-//4 1=x"[i % 12];
    big[n] = 0;
    char *got = fl_redact(big);
    CHECK(got != NULL);
    fl_free(got);
    fl_free(big);
}

static void test_result_copy(void)
{
    fl_result *r = fl_result_new();
    r->n_changes = 1;
    r->changes = fl_calloc(1, sizeof(fl_change_out));
    r->changes[0].service = fl_strdup("checkout");
    r->changes[0].revision = fl_strdup("checkout-00042-abc");
    r->changes[0].actor = fl_strdup("jane@example.com");
    r->changes[0].description = fl_strdup("set DB_PASSWORD=hunter2 by jane@example.com");
    r->changes[0].source = fl_strdup("audit");
    r->changes[0].commit_sha = fl_strdup("");
    r->n_buckets = 2;
    r->n_groups = 1;
    r->groups = fl_calloc(1, sizeof(fl_group));
    fl_group *g = &r->groups[0];
    g->key = fl_strdup("dependency.db");
    g->class_id = fl_strdup("dependency.db");
    g->title = fl_strdup("Database unreachable");
    g->fingerprint = fl_strdup("0123456789abcdef");
    g->template_text = fl_strdup("dial postgres://app:<*>@<*>");
    g->implies = fl_strdup("dependency");
    g->n_samples = 1;
    g->samples = fl_calloc(1, sizeof(fl_sample));
    g->samples[0].service = fl_strdup("checkout");
    g->samples[0].revision = fl_strdup("checkout-00042-abc");
    g->samples[0].instance_id = fl_strdup("00abc");
    g->samples[0].insert_id = fl_strdup("xyz");
    g->samples[0].message = fl_strdup("dial postgres://app:pw123@db failed for jane@example.com");
    g->series = fl_calloc(2, sizeof(uint32_t));
    g->series[1] = 7;
    r->n_causes = 1;
    r->causes = fl_calloc(1, sizeof(fl_cause));
    fl_cause *c = &r->causes[0];
    c->service = fl_strdup("checkout");
    c->revision = fl_strdup("");
    c->previous_revision = fl_strdup("");
    c->error_class = fl_strdup("dependency.db");
    c->summary = fl_strdup("DB rejects password for key AKIAIOSFODNN7EXAMPLE");
    c->n_actions = 1;
    c->actions = fl_calloc(1, sizeof(char *));
    c->actions[0] = fl_strdup("gcloud secrets versions list --secret=db-password");

    fl_result *d = fl_result_redacted(r);
    CHECK(d != NULL);
    if (d) {
        /* People who made a change are shown by default; secrets around them are not, and
         * the same address in log text stays redacted. */
        CHECK_STR(d->changes[0].actor, "jane@example.com");
        CHECK_STR(d->changes[0].description,
                  "set DB_PASSWORD=[REDACTED:secret] by jane@example.com");
        CHECK_STR(d->changes[0].revision, "checkout-00042-abc");
        CHECK_STR(d->groups[0].samples[0].message,
                  "dial postgres://app:[REDACTED:password]@db failed for [REDACTED:email]");
        CHECK_INT(d->groups[0].series[1], 7);
        CHECK(d->groups[0].series != r->groups[0].series);
        CHECK_STR(d->causes[0].summary, "DB rejects password for key [REDACTED:aws_access_key]");
        CHECK_STR(d->causes[0].actions[0], "gcloud secrets versions list --secret=db-password");
        CHECK_STR(r->groups[0].samples[0].message,
                  "dial postgres://app:pw123@db failed for jane@example.com");
    }
    fl_result_free(d);
    fl_redact_policy hide = {.redact_actors = true};
    d = fl_result_redacted_with(r, &hide);
    CHECK(d != NULL);
    if (d) {
        CHECK_STR(d->changes[0].actor, "[REDACTED:actor]");
        CHECK_STR(d->changes[0].description,
                  "set DB_PASSWORD=[REDACTED:secret] by [REDACTED:actor]");
    }
    fl_result_free(d);
    /* Allocation failure anywhere must return NULL without leaking (ASan checks the leak). */
    for (long k = 0; k < 40; k++) {
        fl_alloc_fail_after(k);
        fl_result *x = fl_result_redacted(r);
        fl_alloc_fail_after(-1);
        fl_result_free(x);
    }
    fl_result_free(r);
}

int main(void)
{
    test_table();
    test_command_mode();
    test_linear();
    test_result_copy();
    return fl_test_done();
}
