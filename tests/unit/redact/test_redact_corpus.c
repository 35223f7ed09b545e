/* Golden corpus: every planted secret in tests/data/redact/secrets.txt is gone after
 * redaction, and the clean corpus keeps at least 99% of its whitespace-separated tokens.
 * argv[1] is the data directory. */
#include <stdlib.h>
#include <string.h>

#include "fl_reports.h"
#include "fl_test.h"

static size_t count_tokens(const char *s, size_t *changed_vs, const char *other)
{
    /* Counts tokens of s; if other is given, counts tokens of s that are not found at the same
     * index in other (line by line, token by token). */
    size_t n = 0;
    const char *a = s, *b = other;
    while (*a) {
        while (*a == ' ' || *a == '\t')
            a++;
        if (b)
            while (*b == ' ' || *b == '\t')
                b++;
        if (*a == '\n') {
            a++;
            if (b) {
                while (*b && *b != '\n')
                    b++;
                if (*b)
                    b++;
            }
            continue;
        }
        if (!*a)
            break;
        size_t la = strcspn(a, " \t\n");
        size_t lb = b ? strcspn(b, " \t\n") : 0;
        n++;
        if (b && (la != lb || memcmp(a, b, la) != 0))
            (*changed_vs)++;
        a += la;
        if (b)
            b += lb;
    }
    return n;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/data/redact";
    char *secrets = fl_test_read_file(dir, "secrets.txt", NULL);
    char *planted = fl_test_read_file(dir, "planted.txt", NULL);
    char *clean = fl_test_read_file(dir, "clean.txt", NULL);
    CHECK(secrets && planted && clean);
    if (!secrets || !planted || !clean)
        return fl_test_done();

    char *red = fl_redact(secrets);
    CHECK(red != NULL);
    size_t n_planted = 0;
    for (char *line = strtok(planted, "\n"); line; line = strtok(NULL, "\n")) {
        n_planted++;
        CHECK(strstr(secrets, line) != NULL); /* the corpus really contains it */
        if (strstr(red, line)) {
            fl_test_failed++;
            fprintf(stderr, "planted secret survived: %s\n", line);
        }
    }
    CHECK(n_planted >= 60);

    /* Idempotent: redacting redacted text changes nothing (reports may be redacted twice). */
    char *twice = fl_redact(red);
    CHECK_STR(twice, red);
    fl_free(twice);

    /* Robust: random concatenations of the fragments the matchers look at never crash (ASan
     * run) and stay idempotent. */
    static const char *const frag[] = {"Authorization: ",
                                       "Bearer ",
                                       "abc123XYZ",
                                       "eyJhbGciOiJIUzI1NiJ9",
                                       ".",
                                       "AKIA",
                                       "ABCDEFGHIJKL2345",
                                       "ghp_",
                                       "password",
                                       "=",
                                       ":",
                                       " ",
                                       "\"",
                                       "'",
                                       "\\\"",
                                       "@",
                                       "example.com",
                                       "https://",
                                       "u:p@",
                                       "-----BEGIN PRIVATE KEY-----",
                                       "-----END PRIVATE KEY-----",
                                       "4111 1111 1111 1111",
                                       "[REDACTED:x]",
                                       "\n",
                                       "token",
                                       "x",
                                       "{",
                                       "}",
                                       "\\n",
                                       "hooks.slack.com/services/",
                                       "T000/B000/XXXXXXXX",
                                       "sk_live_",
                                       "0123456789ab",
                                       "AIza",
                                       "ya29.",
                                       "xoxb-",
                                       "-",
                                       "_",
                                       "Basic ",
                                       "api_key"};
    unsigned seed = 12345;
    size_t changed_any = 0;
    for (int k = 0; k < 20000; k++) {
        /* Even rounds glue fragments together (crash and allocation checks only); odd rounds
         * separate them with spaces, as words are in logs, and must be idempotent too. */
        bool spaced = k % 2;
        char buf[1024] = "";
        size_t nf = 1 + (size_t)(k % 14);
        for (size_t f = 0; f < nf; f++) {
            seed = seed * 1103515245u + 12345u;
            if (spaced && f)
                strcat(buf, " ");
            strcat(buf, frag[(seed >> 16) % FL_ARRAY_LEN(frag)]);
        }
        char *a = fl_redact(buf);
        char *b = a ? fl_redact(a) : NULL;
        changed_any += a && strcmp(a, buf) != 0;
        if (!a || !b || (spaced && strcmp(a, b) != 0)) {
            fl_test_failed++;
            fprintf(stderr, "%s: \"%s\"\n  once:  %s\n  twice: %s\n",
                    a && b ? "not idempotent" : "failed", buf, a ? a : "(null)", b ? b : "(null)");
            fl_free(a);
            fl_free(b);
            break;
        }
        fl_free(a);
        fl_free(b);
    }
    CHECK(changed_any > 500); /* the generator really produces secrets */

    char *clean_red = fl_redact(clean);
    size_t changed = 0;
    size_t total = count_tokens(clean, &changed, clean_red);
    printf("clean corpus: %zu of %zu tokens changed (%.2f%%)\n", changed, total,
           100.0 * (double)changed / (double)total);
    CHECK(total > 2000);
    CHECK(changed * 100 <= total);
    if (changed) {
        /* Show what changed so a regression is easy to read. */
        const char *a = clean, *b = clean_red;
        while (*a && *b) {
            size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
            if (la != lb || memcmp(a, b, la) != 0)
                fprintf(stderr, "changed: %.*s\n     -> %.*s\n", (int)la, a, (int)lb, b);
            a += la + (a[la] ? 1 : 0);
            b += lb + (b[lb] ? 1 : 0);
        }
    }
    fl_free(red);
    fl_free(clean_red);
    fl_free(secrets);
    fl_free(planted);
    fl_free(clean);
    return fl_test_done();
}
