/* The redaction policy's parts that are not the scanner: the allow-list match, the up-front
 * check of an allow-list value, and what counts as a service-account actor. */
#include <fnmatch.h>
#include <string.h>

#include "fl_reports.h"
#include "redact.h"

#define MAX_GLOB_SUBJECT 1024 /* longer spans are not matched against globs: kept redacted */

static bool is_glob(const char *v)
{
    return strpbrk(v, "*?[") != NULL;
}

bool fl_redact_allowed(const fl_redact_policy *p, const char *s, size_t n)
{
    if (!p || !p->n_allow || !n)
        return false;
    char subject[MAX_GLOB_SUBJECT + 1];
    bool have_subject = false;
    for (size_t i = 0; i < p->n_allow; i++) {
        const char *v = p->allow[i];
        if (!is_glob(v)) {
            if (strlen(v) == n && memcmp(v, s, n) == 0)
                return true;
            continue;
        }
        if (n > MAX_GLOB_SUBJECT)
            continue;
        if (!have_subject) {
            memcpy(subject, s, n);
            subject[n] = '\0';
            have_subject = true;
        }
        if (fnmatch(v, subject, 0) == 0)
            return true;
    }
    return false;
}

/* Values a careless glob would release: any address, random key material of the shapes
 * the scanner guesses at (not real keys). */
static const struct {
    const char *value, *what;
} probes[] = {
    {"someone@example.org", "any email address"},
    {"jane.doe@mail.example.com", "any email address"},
    {"Zx8K2mQpL7vN3rT9sW1yB4cE6fH0jU5aD2gI8kMxQ2", "random key material"},
    {"q7Vb2Rk9Lm4Xz8Ty1Nw6Pc3Hd5Gf0Js7Ua2Ke9Oi4", "random key material"},
};

/* The kind of the first "[REDACTED:kind]" in s that is not releasable, or NULL. */
static const char *strong_kind(const char *s, char *buf, size_t len)
{
    for (const char *m = strstr(s, "[REDACTED:"); m; m = strstr(m + 1, "[REDACTED:")) {
        const char *k = m + 10, *e = strchr(k, ']');
        if (!e)
            break;
        size_t n = (size_t)(e - k);
        if ((n == 5 && !memcmp(k, "email", 5)) || (n == 12 && !memcmp(k, "high_entropy", 12)) ||
            (n == 12 && !memcmp(k, "key_material", 12)))
            continue;
        snprintf(buf, len, "%.*s", (int)FL_MIN(n, len - 1), k);
        return buf;
    }
    return NULL;
}

int fl_redact_allow_check(const char *value, char *why, size_t why_len)
{
    if (why_len)
        why[0] = '\0';
    if (is_glob(value)) {
        for (size_t i = 0; i < FL_ARRAY_LEN(probes); i++)
            if (fnmatch(value, probes[i].value, 0) == 0) {
                snprintf(why, why_len,
                         "the pattern matches %s: every such value will be shown unredacted",
                         probes[i].what);
                return FL_ALLOW_BROAD;
            }
        return FL_ALLOW_OK;
    }
    char *red = fl_redact_ex(value, 0, NULL, NULL);
    if (!red)
        return FL_ALLOW_OK; /* out of memory: the scanner will not release it either way */
    int rc = FL_ALLOW_OK;
    char kind[48];
    if (strong_kind(red, kind, sizeof kind)) {
        snprintf(why, why_len,
                 "looks like a credential (%s); the allow-list never releases those, line "
                 "ignored",
                 kind);
        rc = FL_ALLOW_REFUSED;
    } else if (strstr(red, "[REDACTED:high_entropy]") || strstr(red, "[REDACTED:key_material]")) {
        snprintf(why, why_len,
                 "looks like random key material: it will be shown unredacted wherever it "
                 "appears");
        rc = FL_ALLOW_BROAD;
    }
    fl_free(red);
    return rc;
}

bool fl_actor_is_service_account(const char *actor)
{
    if (!actor)
        return false;
    if (strncmp(actor, "serviceAccount:", 15) == 0)
        actor += 15;
    const char *at = strrchr(actor, '@');
    if (!at || at == actor || strpbrk(actor, " \t\r\n/:"))
        return false;
    const char *domain = at + 1;
    size_t n = strlen(domain), k = strlen("gserviceaccount.com");
    /* ...@gserviceaccount.com itself, or a subdomain of it: PROJECT.iam., cloudbuild.,
     * developer., appspot., gcp-sa-run.iam. (service agents). */
    return n >= k && strcmp(domain + n - k, "gserviceaccount.com") == 0 &&
           (n == k || domain[n - k - 1] == '.');
}
