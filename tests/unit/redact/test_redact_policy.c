/* The redaction policy: which actors are service accounts, what the allow-list releases (and
 * what it never does), and the up-front check of allow-list values. */
#include "fl_reports.h"
#include "fl_test.h"

#define GH_TOKEN                                                                                   \
    "ghp_"                                                                                         \
    "aZ9xQ2mN7pL4kR8sT1vW3yB6cE0fH5jU8dGk" /* fake, the shape only */
#define KEY40 "Zx8K2mQpL7vN3rT9sW1yB4cE6fH0jU5aD2gI8kMxQ2"

static void test_service_accounts(void)
{
    CHECK(fl_actor_is_service_account("675795479@cloudbuild.gserviceaccount.com"));
    CHECK(fl_actor_is_service_account("792458658491-compute@developer.gserviceaccount.com"));
    CHECK(fl_actor_is_service_account("deployer@acme-prod.iam.gserviceaccount.com"));
    CHECK(fl_actor_is_service_account("service-628324858917@gcp-sa-run.iam.gserviceaccount.com"));
    CHECK(fl_actor_is_service_account("acme-prod@appspot.gserviceaccount.com"));
    CHECK(fl_actor_is_service_account("serviceAccount:whodoneit@p.iam.gserviceaccount.com"));
    CHECK(!fl_actor_is_service_account("some.user@company.com"));
    CHECK(!fl_actor_is_service_account("masatonaka1989@gmail.com"));
    CHECK(!fl_actor_is_service_account("eve@evilgserviceaccount.com"));
    CHECK(!fl_actor_is_service_account("eve@x.gserviceaccount.com.evil.example"));
    CHECK(!fl_actor_is_service_account("user:some.user@company.com"));
    CHECK(!fl_actor_is_service_account("principal://iam.googleapis.com/locations/global/"
                                       "workforcePools/p/subject/x@y.iam.gserviceaccount.com"));
    CHECK(!fl_actor_is_service_account(""));
    CHECK(!fl_actor_is_service_account(NULL));
}

static void expect(const fl_redact_policy *p, const char *in, const char *want)
{
    char *got = fl_redact_with(in, p);
    CHECK_STR(got, want);
    /* Idempotent with the policy too: a second pass changes nothing. */
    char *again = got ? fl_redact_with(got, p) : NULL;
    CHECK_STR(again, want);
    fl_free(again);
    fl_free(got);
}

static void test_allow_list(void)
{
    static const char *const allow[] = {
        "sre-oncall@example.com", "*@corp.example.com", KEY40, GH_TOKEN, "hunter2x9", "*"};
    fl_redact_policy p = {.allow = allow, .n_allow = 5};
    expect(&p, "paged sre-oncall@example.com and bob@example.com",
           "paged sre-oncall@example.com and [REDACTED:email]");
    expect(&p, "owner alice@corp.example.com", "owner alice@corp.example.com");
    expect(&p, "owner alice@corp.example.com.evil.example", "owner [REDACTED:email]");
    expect(&p, "request " KEY40 " done", "request " KEY40 " done");
    /* Listed, yet never released: credentials by their shape or their key. */
    expect(&p, "token " GH_TOKEN, "token [REDACTED:github_token]");
    expect(&p, "password=hunter2x9", "password=[REDACTED:secret]");
    /* Even "*" releases only the guessed kinds. */
    p.n_allow = 6;
    expect(&p, "x " GH_TOKEN " mail bob@example.com",
           "x [REDACTED:github_token] mail bob@example.com");
    /* No policy: as before. */
    expect(NULL, "paged sre-oncall@example.com", "paged [REDACTED:email]");
}

static void test_allow_check(void)
{
    char why[200];
    CHECK_INT(fl_redact_allow_check("checkout-api-00082-5u4", why, sizeof why), FL_ALLOW_OK);
    CHECK_INT(fl_redact_allow_check("51f6a1d7bc391701fbfa586f75cf898f6816f5df", why, sizeof why),
              FL_ALLOW_OK);
    CHECK_INT(fl_redact_allow_check("sre-oncall@example.com", why, sizeof why), FL_ALLOW_OK);
    CHECK_INT(fl_redact_allow_check("*@corp.example.com", why, sizeof why), FL_ALLOW_OK);
    CHECK_INT(fl_redact_allow_check("checkout-api-*", why, sizeof why), FL_ALLOW_OK);
    CHECK_INT(fl_redact_allow_check(GH_TOKEN, why, sizeof why), FL_ALLOW_REFUSED);
    CHECK(strstr(why, "github_token") != NULL);
    CHECK_INT(fl_redact_allow_check("AKIAIOSFODNN7EXAMPLE", why, sizeof why), FL_ALLOW_REFUSED);
    CHECK_INT(fl_redact_allow_check("*", why, sizeof why), FL_ALLOW_BROAD);
    CHECK(strstr(why, "any email address") != NULL);
    CHECK_INT(fl_redact_allow_check("*@*", why, sizeof why), FL_ALLOW_BROAD);
    CHECK_INT(fl_redact_allow_check("Z*", why, sizeof why), FL_ALLOW_BROAD);
    CHECK_INT(fl_redact_allow_check(KEY40, why, sizeof why), FL_ALLOW_BROAD);
    CHECK(strstr(why, "key material") != NULL);
}

int main(void)
{
    test_service_accounts();
    test_allow_list();
    test_allow_check();
    return fl_test_done();
}
