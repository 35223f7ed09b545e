/* Redaction: a hand-rolled, single-pass scanner that replaces secrets with "[REDACTED:kind]".
 *
 * At each position the scanner tries a short list of matchers, cheapest first. Every matcher
 * either consumes a bounded span (fixed-length keys, capped values) or is anchored at the start
 * of a word, so each input byte is looked at a small constant number of times: the scan is
 * linear in the input. No regex engine is involved (nothing outside patterns/ uses PCRE2).
 *
 * A matcher returns how many input bytes it consumed (0: no match) and writes its output
 * itself, keeping the non-secret context ("Authorization: ", "://user:", "password=") so the
 * line stays readable. */
#include "redact.h"

#include <math.h>
#include <string.h>

#include "fl_reports.h"

#define MAX_OUT (64u * 1024 * 1024)
#define MAX_VALUE 4096 /* longest quoted value we look for a closing quote in */
#define MAX_KEY 64

typedef struct scan {
    const char *s;
    size_t n;
    unsigned flags;
    fl_buf out;
    size_t count;
    size_t copied; /* input before this offset is already in out */
    size_t after;  /* where the last replacement ended: the output there ends in "]" */
    const fl_redact_policy *policy;
    bool kept; /* the last match was kept as it is (allow-list) */
    int err;
} scan;

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static bool is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static bool is_alpha(int c)
{
    return is_upper(c) || is_lower(c);
}
static bool is_alnum(int c)
{
    return is_alpha(c) || is_digit(c);
}
static bool is_b64url(int c)
{
    return is_alnum(c) || c == '_' || c == '-';
}
static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
static bool is_ident(int c)
{
    return is_alnum(c) || c == '_' || c == '-' || c == '.';
}
static bool is_email_local(int c)
{
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
static int lower(int c)
{
    return is_upper(c) ? c + 32 : c;
}

/* Case-insensitive: does s[i..n) start with lit? */
static bool ci_at(const scan *sc, size_t i, const char *lit)
{
    size_t k = strlen(lit);
    if (i + k > sc->n)
        return false;
    for (size_t j = 0; j < k; j++)
        if (lower((unsigned char)sc->s[i + j]) != lower((unsigned char)lit[j]))
            return false;
    return true;
}

static bool at(const scan *sc, size_t i, const char *lit)
{
    size_t k = strlen(lit);
    return i + k <= sc->n && memcmp(sc->s + i, lit, k) == 0;
}

static int ch(const scan *sc, size_t i)
{
    return i < sc->n ? (unsigned char)sc->s[i] : 0;
}

static void emit(scan *sc, const char *p, size_t len)
{
    if (!sc->err && len)
        sc->err = fl_buf_add(&sc->out, p, len);
}

/* Flushes the unmatched input before offset i; matchers call it before writing. */
static void flush_to(scan *sc, size_t i)
{
    if (i <= sc->copied)
        return; /* already written */
    emit(sc, sc->s + sc->copied, i - sc->copied);
    sc->copied = i;
}

static void emit_redacted(scan *sc, const char *kind)
{
    sc->count++;
    if (!sc->err)
        sc->err = fl_buf_printf(&sc->out, "[REDACTED:%s]", kind);
}

/* Only what the scanner finds by a guess (an address, random-looking text) can be released
 * by the allow-list; credentials recognised by their shape or their key never are. */
static bool releasable(const char *kind)
{
    return !strcmp(kind, "email") || !strcmp(kind, "high_entropy") || !strcmp(kind, "key_material");
}

/* Keeps s[i..keep_end), redacts s[keep_end..end) unless the allow-list keeps it too.
 * Returns end - i. */
static size_t replace(scan *sc, size_t i, size_t keep_end, size_t end, const char *kind)
{
    if (sc->policy && releasable(kind) &&
        fl_redact_allowed(sc->policy, sc->s + keep_end, end - keep_end)) {
        flush_to(sc, end);
        sc->kept = true;
        return end - i;
    }
    sc->kept = false; /* the output ends in this marker */
    flush_to(sc, keep_end);
    emit_redacted(sc, kind);
    return end - i;
}

/* Length of an "[REDACTED:kind]" marker at j, or 0. A value that is already redacted is kept
 * whole with its key, so nothing inside the key is matched on a second pass either. */
static size_t marker_len(const scan *sc, size_t j)
{
    if (!at(sc, j, "[REDACTED:"))
        return 0;
    size_t k = j + 10;
    while (k < sc->n && k - j < 48 && sc->s[k] != ']')
        k++;
    return k < sc->n && sc->s[k] == ']' ? k + 1 - j : 0;
}

static size_t run(const scan *sc, size_t i, bool (*cls)(int), size_t cap)
{
    size_t j = i;
    while (j < sc->n && j - i < cap && cls((unsigned char)sc->s[j]))
        j++;
    return j - i;
}

/* A credential-looking word: real tokens and passwords carry digits or mixed case; English
 * words ("expired", "signature") do not. */
static bool looks_secret(const char *v, size_t len)
{
    bool digit = false, up = false, low = false, sym = false;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)v[i];
        digit |= is_digit(c);
        up |= is_upper(c);
        low |= is_lower(c);
        sym |= !is_alnum(c) && c != '-' && c != '.' && c != '_';
    }
    if (len < 4)
        return false;
    return digit || sym || (len >= 16 && up && low);
}

/* ---- PEM blocks: "-----BEGIN X-----" ... "-----END X-----", also with literal "\n". ---- */
static size_t m_pem(scan *sc, size_t i)
{
    if (!at(sc, i, "-----BEGIN "))
        return 0;
    const char *s = sc->s;
    size_t j = i + 11, label = j;
    while (j < sc->n && j - label < 64 && s[j] != '-' && s[j] != '\n')
        j++;
    if (!at(sc, j, "-----"))
        return 0;
    bool priv = false;
    for (size_t k = label; k + 11 <= j; k++)
        if (memcmp(s + k, "PRIVATE KEY", 11) == 0)
            priv = true;
    /* Find "-----END ...-----"; a block without an END (truncated message) is redacted to the
     * end of the string rather than leaked. */
    const char *end = NULL;
    for (size_t k = j + 5; k + 9 <= sc->n; k++) {
        if (s[k] == '-' && memcmp(s + k, "-----END ", 9) == 0) {
            end = s + k;
            break;
        }
    }
    size_t stop = sc->n;
    if (end) {
        size_t k = (size_t)(end - s) + 9;
        while (k < sc->n && k - (size_t)(end - s) < 80 && s[k] != '-' && s[k] != '\n')
            k++;
        stop = at(sc, k, "-----") ? k + 5 : k;
    }
    return replace(sc, i, i, stop, priv ? "private_key" : "pem");
}

/* ---- Authorization headers: keep the name, redact scheme and credential. ---- */
static bool is_value_delim(int c)
{
    return is_space(c) || c == '"' || c == '\'' || c == '\\' || c == ',' || c == ';' || c == '}' ||
           c == ']' || c == ')' || c == '&' || c == '<' || c == '>' || c == '[';
}

static size_t value_end(const scan *sc, size_t j)
{
    size_t k = j;
    while (k < sc->n && k - j < MAX_VALUE && !is_value_delim((unsigned char)sc->s[k]))
        k++;
    return k;
}

static bool is_auth_scheme(const scan *sc, size_t i, size_t len)
{
    static const char *const schemes[] = {"bearer", "basic",     "digest",
                                          "token",  "negotiate", "ntlm",
                                          "apikey", "hawk",      "aws4-hmac-sha256"};
    for (size_t k = 0; k < FL_ARRAY_LEN(schemes); k++)
        if (strlen(schemes[k]) == len && ci_at(sc, i, schemes[k]))
            return true;
    return false;
}

/* After a key: optional closing quote, spaces, ':' or '=', spaces, optional opening quote.
 * Returns the value start (0 if no separator) and sets *quote to the quote that opened the
 * value ('"', '\'', 'e' for an escaped \" , or 0). */
static size_t after_key(const scan *sc, size_t j, char *sep, char *quote)
{
    if (ch(sc, j) == '\\' && ch(sc, j + 1) == '"')
        j += 2;
    else if (ch(sc, j) == '"' || ch(sc, j) == '\'')
        j++;
    while (ch(sc, j) == ' ' || ch(sc, j) == '\t')
        j++;
    int c = ch(sc, j);
    if (c != ':' && c != '=')
        return 0;
    if (c == ':' && ch(sc, j + 1) == '/' && ch(sc, j + 2) == '/')
        return 0; /* a URL scheme, not a key */
    *sep = (char)c;
    j++;
    while (ch(sc, j) == ' ' || ch(sc, j) == '\t')
        j++;
    *quote = 0;
    if (ch(sc, j) == '\\' && ch(sc, j + 1) == '"') {
        *quote = 'e';
        j += 2;
    } else if (ch(sc, j) == '"' || ch(sc, j) == '\'') {
        *quote = (char)ch(sc, j);
        j++;
    }
    return j;
}

/* End of a quoted value opened with quote (see after_key); stops at the cap or a newline. */
static size_t quoted_end(const scan *sc, size_t j, char quote)
{
    size_t k = j;
    while (k < sc->n && k - j < MAX_VALUE && sc->s[k] != '\n') {
        int c = (unsigned char)sc->s[k];
        if (quote == 'e' && c == '\\' && ch(sc, k + 1) == '"')
            return k;
        if (quote != 'e' && c == '\\' && k + 1 < sc->n) {
            k += 2; /* an escaped character inside the value */
            continue;
        }
        if (quote != 'e' && c == quote)
            return k;
        k++;
    }
    return k;
}

static size_t m_authorization(scan *sc, size_t i)
{
    size_t klen;
    if (ci_at(sc, i, "authorization"))
        klen = 13;
    else
        return 0;
    if (is_ident(ch(sc, i + klen)))
        return 0; /* "authorization_mode", "authorizationFailed" */
    char sep, quote;
    size_t j = after_key(sc, i + klen, &sep, &quote);
    if (!j)
        return 0;
    size_t mark = marker_len(sc, j);
    if (mark) {
        flush_to(sc, j + mark);
        return j + mark - i;
    }
    size_t w1 = j, w1e = value_end(sc, j);
    if (w1e == w1)
        return 0;
    size_t end = w1e;
    if (is_auth_scheme(sc, w1, w1e - w1)) {
        if (ch(sc, w1e) != ' ')
            return 0;
        size_t w2 = w1e + 1, w2e = value_end(sc, w2);
        if (w2e == w2)
            return 0;
        end = w2e;
    } else if (!looks_secret(sc->s + w1, w1e - w1)) {
        return 0;
    }
    return replace(sc, i, w1, end, "authorization");
}

/* ---- "Bearer <token>" anywhere. ---- */
static bool is_token_char(int c)
{
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' ||
           c == '=';
}

static size_t m_bearer(scan *sc, size_t i)
{
    if (!ci_at(sc, i, "bearer "))
        return 0;
    size_t j = i + 7;
    while (ch(sc, j) == ' ')
        j++;
    size_t len = run(sc, j, is_token_char, MAX_VALUE);
    if (len < 8 || !looks_secret(sc->s + j, len))
        return 0;
    return replace(sc, i, j, j + len, "bearer");
}

/* ---- scheme://user:password@host ---- */
static size_t m_url_password(scan *sc, size_t i)
{
    if (!at(sc, i, "://"))
        return 0;
    size_t j = i + 3, colon = 0;
    for (size_t k = j; k < sc->n && k - j < 256; k++) {
        int c = (unsigned char)sc->s[k];
        if (c == '@') {
            if (!colon || k == colon + 1)
                return 0;
            flush_to(sc, colon + 1);
            emit_redacted(sc, "password");
            return k - i; /* the '@' is copied by the main loop */
        }
        if (c == ':' && !colon)
            colon = k;
        if (c == '[' && colon == k - 1) {
            /* "user:[REDACTED:password]@": already done; keep it whole. */
            size_t mark = marker_len(sc, k);
            if (mark && ch(sc, k + mark) == '@') {
                flush_to(sc, k + mark);
                return k + mark - i;
            }
            return 0;
        }
        if (c == '/' || c == '?' || c == '#' || is_space(c) || c == '"' || c == '\'' || c == '\\' ||
            c == '<' || c == '>' || c == '[' || c == ']')
            return 0;
    }
    return 0;
}

/* ---- Slack incoming webhooks and tokens ---- */
static bool is_slack_path(int c)
{
    return is_alnum(c) || c == '/' || c == '_' || c == '-';
}

static size_t m_slack(scan *sc, size_t i)
{
    static const char *const prefixes[] = {
        "hooks.slack.com/services/", "hooks.slack.com/workflows/", "hooks.slack.com/triggers/"};
    for (size_t p = 0; p < FL_ARRAY_LEN(prefixes); p++) {
        if (!ci_at(sc, i, prefixes[p]))
            continue;
        size_t j = i + strlen(prefixes[p]);
        size_t len = run(sc, j, is_slack_path, 512);
        if (len < 8)
            return 0;
        return replace(sc, i, j, j + len, "slack_webhook");
    }
    if (at(sc, i, "xox") && strchr("baprse", ch(sc, i + 3)) && ch(sc, i + 3) &&
        ch(sc, i + 4) == '-') {
        size_t len = run(sc, i + 5, is_b64url, 512);
        if (len >= 10)
            return replace(sc, i, i, i + 5 + len, "slack_token");
    }
    return 0;
}

/* ---- Fixed-prefix tokens ---- */
static size_t m_jwt(scan *sc, size_t i)
{
    if (!at(sc, i, "eyJ"))
        return 0;
    size_t a = run(sc, i, is_b64url, 8192);
    if (a < 10 || ch(sc, i + a) != '.')
        return 0;
    size_t b0 = i + a + 1, b = run(sc, b0, is_b64url, 8192);
    if (b < 10 || ch(sc, b0 + b) != '.')
        return 0;
    size_t c0 = b0 + b + 1, c = run(sc, c0, is_b64url, 8192);
    return replace(sc, i, i, c0 + c, "jwt");
}

static bool is_upper_digit(int c)
{
    return is_upper(c) || is_digit(c);
}

static size_t m_aws(scan *sc, size_t i)
{
    if (!at(sc, i, "AKIA") && !at(sc, i, "ASIA"))
        return 0;
    if (run(sc, i + 4, is_upper_digit, 17) != 16 || is_alnum(ch(sc, i + 20)))
        return 0;
    return replace(sc, i, i, i + 20, "aws_access_key");
}

static size_t m_prefixed(scan *sc, size_t i, const char *prefix, bool (*cls)(int), size_t min,
                         size_t exact, const char *kind)
{
    if (!at(sc, i, prefix))
        return 0;
    size_t j = i + strlen(prefix);
    size_t len = run(sc, j, cls, exact ? exact + 1 : 4096);
    if (len < min || (exact && len != exact))
        return 0;
    return replace(sc, i, i, j + len, kind);
}

static bool is_oauth_char(int c)
{
    return is_b64url(c) || c == '.';
}
static bool is_b64(int c)
{
    return is_alnum(c) || c == '+' || c == '/' || c == '=';
}
static bool is_gh_pat(int c)
{
    return is_alnum(c) || c == '_';
}

/* True when len bytes at v hold an upper-case letter, a lower-case letter and a digit: what
 * generated keys have and words, ids and hashes (hex, lower-case) do not. */
static bool mixed_classes(const char *v, size_t len)
{
    bool digit = false, up = false, low = false;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)v[i];
        digit |= is_digit(c);
        up |= is_upper(c);
        low |= is_lower(c);
    }
    return digit && up && low;
}

/* Shannon entropy in bits per character (detect-secrets' high-entropy plugins use the same
 * measure: random base64 is near 6, English words and ids of one case well under 4). */
static double entropy(const char *v, size_t len)
{
    unsigned count[256] = {0};
    for (size_t i = 0; i < len; i++)
        count[(unsigned char)v[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++)
        if (count[c]) {
            double p = (double)count[c] / (double)len;
            h -= p * log2(p);
        }
    return h;
}

/* A value under any key that is long, of mixed classes and random-looking (entropy >= 4):
 * session ids, signatures and keys under names no list foresees. Ids faultline must keep
 * (revisions, trace and span ids, UUIDs, SHAs, insertIds) are one-case hex or lower-case. */
static bool value_high_entropy(const char *v, size_t len)
{
    return len >= 24 && len <= MAX_VALUE && mixed_classes(v, len) && entropy(v, len) >= 4.0;
}

/* Like m_prefixed, but the run must not continue into a word and must look generated. */
static size_t m_generated(scan *sc, size_t i, const char *prefix, bool (*cls)(int), size_t min,
                          const char *kind)
{
    if (!at(sc, i, prefix))
        return 0;
    size_t j = i + strlen(prefix);
    size_t len = run(sc, j, cls, 4096);
    if (len < min || !mixed_classes(sc->s + j, len))
        return 0;
    return replace(sc, i, i, j + len, kind);
}

/* OpenAI (sk-proj-, sk-svcacct-, sk-admin-, legacy sk- with 48 characters) and Anthropic
 * (sk-ant-api03-, -admin01-, -oat01-, -ort01-) keys, as gitleaks' openai-api-key and
 * anthropic-* rules describe them; a shorter minimum than theirs, so a key cut by a log line
 * limit is still caught. */
static size_t m_sk(scan *sc, size_t i)
{
    size_t m;
    if ((m = m_generated(sc, i, "sk-ant-", is_b64url, 32, "anthropic_key")))
        return m;
    static const char *const openai[] = {"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-"};
    for (size_t k = 0; k < FL_ARRAY_LEN(openai); k++)
        if ((m = m_generated(sc, i, openai[k], is_b64url, 32, "openai_key")))
            return m;
    if (at(sc, i, "sk-") && !at(sc, i, "sk-ant-"))
        return m_generated(sc, i, "sk-", is_alnum, 32, "openai_key");
    return 0;
}

/* SendGrid: "SG." 22 characters "." 43 characters (gitleaks sendgrid-api-token). */
static size_t m_sendgrid(scan *sc, size_t i)
{
    if (!at(sc, i, "SG."))
        return 0;
    size_t a = run(sc, i + 3, is_b64url, 64);
    if (a < 16 || ch(sc, i + 3 + a) != '.')
        return 0;
    size_t b = run(sc, i + 4 + a, is_b64url, 128);
    if (b < 30)
        return 0;
    return replace(sc, i, i, i + 4 + a + b, "sendgrid_key");
}

/* A Cloud Storage HMAC access id: GOOG + 20 (user account) or 57 (service account, GOOG1E...)
 * upper-case letters and digits. The id alone does not sign, but it names the key: kept out. */
static size_t m_gcs_hmac_id(scan *sc, size_t i)
{
    if (!at(sc, i, "GOOG"))
        return 0;
    size_t len = run(sc, i + 4, is_upper_digit, 64);
    if ((len != 20 && len != 57) || is_alnum(ch(sc, i + 4 + len)))
        return 0;
    return replace(sc, i, i, i + 4 + len, "gcs_hmac_id");
}

static size_t m_tokens(scan *sc, size_t i)
{
    size_t m;
    switch (sc->s[i]) {
    case '1':
        /* Google OAuth refresh token: "1//" then the token (Nosey Parker np.google.3). */
        return m_generated(sc, i, "1//", is_b64url, 30, "google_refresh_token");
    case 'G':
        if ((m = m_gcs_hmac_id(sc, i)))
            return m;
        /* Google OAuth client secret, "GOCSPX-" + 28 (since 2021). */
        return m_prefixed(sc, i, "GOCSPX-", is_b64url, 20, 0, "google_client_secret");
    case 'S':
        return m_sendgrid(sc, i);
    case 'n':
        return m_generated(sc, i, "npm_", is_alnum, 30, "npm_token");
    case 'A':
        if ((m = m_aws(sc, i)))
            return m;
        return m_prefixed(sc, i, "AIza", is_b64url, 35, 35, "google_api_key");
    case 'y':
        return m_prefixed(sc, i, "ya29.", is_oauth_char, 20, 0, "google_oauth_token");
    case 'g':
        if (at(sc, i, "gh") && strchr("pousr", ch(sc, i + 2)) && ch(sc, i + 2) &&
            ch(sc, i + 3) == '_') {
            char p[5] = {'g', 'h', sc->s[i + 2], '_', 0};
            return m_prefixed(sc, i, p, is_alnum, 30, 0, "github_token");
        }
        return m_prefixed(sc, i, "github_pat_", is_gh_pat, 30, 0, "github_token");
    case 's':
        if ((m = m_sk(sc, i)))
            return m;
        if ((m = m_prefixed(sc, i, "sk_live_", is_alnum, 10, 0, "stripe_key")))
            return m;
        return m_prefixed(sc, i, "sk_test_", is_alnum, 10, 0, "stripe_key");
    case 'r':
        if ((m = m_prefixed(sc, i, "rk_live_", is_alnum, 10, 0, "stripe_key")))
            return m;
        return m_prefixed(sc, i, "rk_test_", is_alnum, 10, 0, "stripe_key");
    case 'w':
        return m_prefixed(sc, i, "whsec_", is_b64, 10, 0, "webhook_secret");
    case 'e':
        return m_jwt(sc, i);
    default:
        return 0;
    }
}

/* ---- "token 3f9a..." in prose: a long generated word right after the word token ---- */
static bool is_uuid(const char *v, size_t len)
{
    if (len != 36)
        return false;
    for (size_t i = 0; i < len; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        int c = lower((unsigned char)v[i]);
        if (dash ? c != '-' : !(is_digit(c) || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

static size_t m_token_phrase(scan *sc, size_t i)
{
    if (!ci_at(sc, i, "token") || ch(sc, i + 5) != ' ')
        return 0;
    size_t j = i + 6;
    size_t len = run(sc, j, is_token_char, MAX_VALUE);
    while (len > 0 && strchr(".=", sc->s[j + len - 1]) && sc->s[j + len - 1] != '=')
        len--; /* a full stop after the token */
    if (len < 20 || is_uuid(sc->s + j, len) || marker_len(sc, j))
        return 0;
    size_t m = m_tokens(sc, j); /* a token of a known kind is named by its kind */
    if (m)
        return j - i + m;
    bool digit = false, alpha = false;
    for (size_t k = 0; k < len; k++) {
        digit |= is_digit((unsigned char)sc->s[j + k]);
        alpha |= is_alpha((unsigned char)sc->s[j + k]);
    }
    if (!digit || !alpha)
        return 0;
    return replace(sc, i, j, j + len, "token");
}

/* ---- key=value, key: value, "key":"value" where the key names a secret ---- */
static bool key_is_secret(const char *k, size_t len)
{
    static const char *const words[] = {
        "secret",      "password",   "passwd",      "token",      "api_key",    "apikey",
        "api-key",     "access_key", "accesskey",   "private_key", "privatekey", "credential",
        "signing_key", "auth_key",   "accountkey",  "account_key", "cookie",     "session_key",
        "client_key",  "hmac_key",   "sas_key"};
    /* Whole-word endings (detect-secrets' keyword list): DB_PASS, SMTP_PWD, pass, pwd. */
    static const char *const tails[] = {"pass", "pwd"};
    /* Keys that describe a secret rather than hold one: secret_name, token_type, ... */
    static const char *const not_suffix[] = {
        "type",     "count",    "name",     "names",  "id",      "ids",
        "version",  "versions", "ttl",      "expiry", "expires", "expires_in",
        "expired",  "path",     "file",     "uri",    "url",     "ref",
        "length",   "len",      "size",     "limit",  "manager", "kind",
        "tokens",   "source",   "location", "mode",   "status",  "enabled",
        "required", "rotation", "provider", "_at",    "time",    "age"};
    char low[MAX_KEY + 1];
    if (len > MAX_KEY)
        return false;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)lower((unsigned char)k[i]);
    low[len] = 0;
    bool hit = false;
    for (size_t w = 0; w < FL_ARRAY_LEN(words) && !hit; w++)
        hit = strstr(low, words[w]) != NULL;
    for (size_t w = 0; w < FL_ARRAY_LEN(tails) && !hit; w++) {
        size_t tl = strlen(tails[w]);
        hit = len >= tl && memcmp(low + len - tl, tails[w], tl) == 0 &&
              (len == tl || low[len - tl - 1] == '_' || low[len - tl - 1] == '-' ||
               low[len - tl - 1] == '.');
    }
    if (!hit)
        return false;
    for (size_t w = 0; w < FL_ARRAY_LEN(not_suffix); w++) {
        size_t sl = strlen(not_suffix[w]);
        if (len > sl && memcmp(low + len - sl, not_suffix[w], sl) == 0) {
            int before = low[len - sl - 1];
            /* "secret_name", "tokenType" (already lower: "tokentype") */
            if (before == '_' || before == '-' || before == '.' || sl >= 4 ||
                strcmp(not_suffix[w], "_at") == 0)
                return false;
        }
    }
    return true;
}

static bool value_is_placeholder(const char *v, size_t len)
{
    static const char *const words[] = {"null",     "none",    "true",    "false",    "empty",
                                        "expired",  "invalid", "missing", "required", "undefined",
                                        "redacted", "unset",   "nil",     "n/a",      "***",
                                        "revoked",  "valid",   "set",     "present",  "hidden"};
    if (len >= 10 && memcmp(v, "[REDACTED:", 10) == 0)
        return true;
    for (size_t w = 0; w < FL_ARRAY_LEN(words); w++) {
        size_t wl = strlen(words[w]);
        if (wl != len)
            continue;
        size_t k = 0;
        while (k < len && lower((unsigned char)v[k]) == words[w][k])
            k++;
        if (k == len)
            return true;
    }
    return false;
}

/* "NAME:VERSION" as gcloud's --update-secrets takes it (VERSION: latest or a number). */
static bool is_secret_reference(const char *v, size_t len)
{
    const char *colon = memchr(v, ':', len);
    if (!colon || colon == v)
        return false;
    for (const char *p = v; p < colon; p++)
        if (!is_b64url((unsigned char)*p))
            return false;
    size_t vl = len - (size_t)(colon + 1 - v);
    if (vl == 6 && memcmp(colon + 1, "latest", 6) == 0)
        return true;
    for (size_t k = 0; k < vl; k++)
        if (!is_digit((unsigned char)colon[1 + k]))
            return false;
    return vl > 0;
}

static size_t m_key_value(scan *sc, size_t i)
{
    size_t klen = run(sc, i, is_ident, MAX_KEY + 1);
    if (klen == 0 || klen > MAX_KEY)
        return 0;
    if ((sc->flags & FL_REDACT_COMMAND) && sc->s[i] == '-' && ch(sc, i + 1) == '-')
        return 0; /* a command-line flag in faultline's own advice */
    /* The separator check is cheap and rules out almost every word before the key test. */
    char sep, quote;
    size_t j = after_key(sc, i + klen, &sep, &quote);
    if (!j)
        return 0;
    if (!key_is_secret(sc->s + i, klen)) {
        /* Any other key: only a value that is random-looking by itself. */
        if (sep != '=' && !quote)
            return 0;
        size_t end = quote ? quoted_end(sc, j, quote) : value_end(sc, j);
        if (!value_high_entropy(sc->s + j, end - j) ||
            run(sc, j, is_token_char, end - j) != end - j || sc->s[j] == '/')
            return 0; /* prose, a path, or text that holds a marker already */
        return replace(sc, i, j, end, "high_entropy");
    }
    size_t mark = marker_len(sc, j);
    if (mark) {
        flush_to(sc, j + mark);
        return j + mark - i;
    }
    int first = ch(sc, j);
    if (!quote && (first == '{' || first == '[' || first == 0))
        return 0;
    size_t end = quote ? quoted_end(sc, j, quote) : value_end(sc, j);
    if (end == j || value_is_placeholder(sc->s + j, end - j))
        return 0;
    if ((sc->flags & FL_REDACT_COMMAND) && is_secret_reference(sc->s + j, end - j))
        return 0; /* --update-secrets=DB_PASS=db-password:latest names a secret */
    if (!quote && sep == ':' && !looks_secret(sc->s + j, end - j))
        return 0; /* "invalid token: signature mismatch" is prose, not a key */
    return replace(sc, i, j, end, "secret");
}

/* ---- Cookie: and Set-Cookie: headers: every value after the name is a session secret ---- */
static size_t m_cookie(scan *sc, size_t i)
{
    size_t klen = ci_at(sc, i, "set-cookie") ? 10 : ci_at(sc, i, "cookie") ? 6 : 0;
    if (!klen || is_ident(ch(sc, i + klen)))
        return 0;
    char sep, quote;
    size_t j = after_key(sc, i + klen, &sep, &quote);
    if (!j || sep != ':')
        return 0;
    size_t mark = marker_len(sc, j);
    if (mark) {
        flush_to(sc, j + mark);
        return j + mark - i;
    }
    size_t end = j;
    if (quote) {
        end = quoted_end(sc, j, quote);
    } else {
        while (end < sc->n && end - j < MAX_VALUE && sc->s[end] != '\n' && sc->s[end] != '\r' &&
               sc->s[end] != '"' && !(sc->s[end] == '\\' && ch(sc, end + 1) == 'n'))
            end++;
    }
    while (end > j && is_space((unsigned char)sc->s[end - 1]))
        end--;
    if (end - j < 3 || !memchr(sc->s + j, '=', end - j))
        return 0;
    return replace(sc, i, j, end, "cookie");
}

/* ---- a 40-character base64 secret: AWS secret access keys and GCS HMAC secrets, also in
 * prose ("the secret is wJalr...") where no key names them. Commit SHAs are 40 lower-case hex
 * characters: they have no upper case and stay. ---- */
static bool is_b64_std(int c)
{
    return is_alnum(c) || c == '+' || c == '/';
}

static size_t m_b64_40(scan *sc, size_t i)
{
    size_t len = run(sc, i, is_b64_std, 41);
    if (len != 40 || is_b64url(ch(sc, i + 40)) || !mixed_classes(sc->s + i, 40))
        return 0;
    bool sym = memchr(sc->s + i, '/', 40) || memchr(sc->s + i, '+', 40);
    if (!sym) {
        /* Without '/' or '+', only when a word before it says what it is. */
        static const char *const ctx[] = {"aws", "secret", "hmac", "goog", "key"};
        size_t from = i > 64 ? i - 64 : 0;
        for (size_t k = from; k < i && !sym; k++)
            for (size_t w = 0; w < FL_ARRAY_LEN(ctx) && !sym; w++)
                sym = ci_at(sc, k, ctx[w]);
    }
    if (!sym || entropy(sc->s + i, 40) < 4.0)
        return 0;
    return replace(sc, i, i, i + 40, "secret_key");
}

/* ---- a line that is nothing but base64: the body of a key or certificate logged one line
 * per entry (Cloud Run splits stderr by line), or such a line after templating ("<id>" where
 * digits were masked). The line stands alone, so no BEGIN marker is there to see. ---- */
static bool line_start(const scan *sc, size_t i)
{
    return i == 0 || sc->s[i - 1] == '\n' || (i >= 2 && sc->s[i - 2] == '\\' && sc->s[i - 1] == 'n');
}

static size_t m_b64_line(scan *sc, size_t i)
{
    size_t k = i, lit = 0, holes = 0;
    bool up = false, low = false, digit = false, sym = false;
    while (k < sc->n && k - i < 8192) {
        int c = (unsigned char)sc->s[k];
        if (c == '<') { /* a template placeholder: <id>, <num>, <hex>, <path> */
            size_t p = k + 1;
            while (p < sc->n && p - k <= 8 && is_lower((unsigned char)sc->s[p]))
                p++;
            if (p == k + 1 || ch(sc, p) != '>')
                return 0;
            holes++; /* it stands for a masked run of the line */
            k = p + 1;
            continue;
        }
        if (c == '=') { /* padding: only at the end of the line */
            while (k < sc->n && sc->s[k] == '=' && k - i < 8192)
                k++;
            break;
        }
        if (!is_b64_std(c))
            break;
        up |= is_upper(c);
        low |= is_lower(c);
        digit |= is_digit(c);
        sym |= c == '+' || c == '/';
        lit++;
        k++;
    }
    bool eol = k == sc->n || sc->s[k] == '\n' || sc->s[k] == '\r' ||
               (sc->s[k] == '\\' && ch(sc, k + 1) == 'n');
    bool padded = k > i && sc->s[k - 1] == '=';
    if (!eol || !up || !low || !(padded || digit || sym))
        return 0;
    /* A templated line (digits and paths masked as <id>, <path>): mixed case with a digit or
     * '+' or '/' of its own and a few characters left are enough; the masks hid the rest. */
    if (holes)
        return lit >= 8 ? replace(sc, i, i, k, "key_material") : 0;
    if (lit < (padded ? 8u : 16u))
        return 0;
    /* A full PEM line has 64 characters; a shorter one is key material only when it ends in
     * padding (the last line of a block) or is random-looking, and not a path ("/a/b", no
     * '+'). A last line under 16 characters (8 when padded) can stay: it cannot be told from
     * a word, and a few characters of a key give nothing away. */
    double need = log2((double)lit) - 0.6; /* short strings cannot reach a fixed bar */
    size_t slashes = 0;
    for (size_t p = i; p < k; p++)
        slashes += sc->s[p] == '/';
    bool path = sc->s[i] == '/' && slashes >= 2 && !memchr(sc->s + i, '+', k - i);
    if (lit < 40 && !padded && (path || entropy(sc->s + i, k - i) < FL_MIN(3.8, need)))
        return 0;
    return replace(sc, i, i, k, "key_material");
}

/* ---- email addresses ---- */
static size_t m_email(scan *sc, size_t i)
{
    size_t local = run(sc, i, is_email_local, 65);
    if (local == 0 || local > 64 || ch(sc, i + local) != '@')
        return 0;
    size_t d0 = i + local + 1, k = d0, last_dot = 0;
    while (k < sc->n && k - d0 < 253 &&
           (is_alnum((unsigned char)sc->s[k]) || sc->s[k] == '-' || sc->s[k] == '.')) {
        if (sc->s[k] == '.' && k + 1 < sc->n && is_alnum((unsigned char)sc->s[k + 1]))
            last_dot = k;
        k++;
    }
    while (k > d0 && (sc->s[k - 1] == '.' || sc->s[k - 1] == '-'))
        k--;
    if (!last_dot || last_dot >= k)
        return 0;
    /* The address ends with the letters of its top-level label, whatever is glued on after
     * ("user@example.com-----BEGIN ..."). */
    size_t t = last_dot + 1;
    while (t < k && is_alpha((unsigned char)sc->s[t]))
        t++;
    if (t - last_dot - 1 < 2)
        return 0;
    k = t;
    if (sc->flags & FL_REDACT_KEEP_EMAIL)
        return 0;
    /* Service accounts (…@PROJECT.iam.gserviceaccount.com, …@cloudbuild.gserviceaccount.com,
     * …@developer.gserviceaccount.com, …@appspot.gserviceaccount.com) are machine identities,
     * not personal data: IAM errors and deploy actors need them. */
    if (k - d0 >= 19 && memcmp(sc->s + k - 19, "gserviceaccount.com", 19) == 0 &&
        (k - d0 == 19 || sc->s[k - 20] == '.'))
        return 0;
    return replace(sc, i, i, k, "email");
}

/* ---- payment card numbers: 13-19 digits, plausible issuer prefix, Luhn-valid ---- */
static bool luhn_ok(const char *d, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int v = d[n - 1 - i] - '0';
        if (i % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

static bool issuer_ok(const char *d, size_t n)
{
    int p2 = (d[0] - '0') * 10 + (d[1] - '0');
    int p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    if (d[0] == '4')
        return n == 13 || n == 16 || n == 19; /* Visa */
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return n == 16; /* Mastercard */
    if (p2 == 34 || p2 == 37)
        return n == 15; /* Amex */
    if (p2 == 30 || p2 == 36 || p2 == 38)
        return n >= 14 && n <= 19; /* Diners */
    if (p4 == 6011 || p2 == 65 || (p4 >= 6440 && p4 <= 6499) || p2 == 35)
        return n >= 16 && n <= 19; /* Discover, JCB */
    return false;
}

static size_t m_card(scan *sc, size_t i)
{
    char d[20];
    size_t nd = 0, k = i, groups = 0, glen[8] = {0};
    int sep = 0;
    while (k < sc->n) {
        int c = (unsigned char)sc->s[k];
        if (is_digit(c)) {
            if (nd == 19)
                return 0; /* too long: an id, not a card */
            d[nd++] = (char)c;
            glen[groups]++;
            k++;
            continue;
        }
        if ((c == ' ' || c == '-') && is_digit(ch(sc, k + 1)) && nd > 0) {
            /* A second number after a complete one ("4111 1111 1111 1111 4111 ..."): stop here
             * and let the next word be checked on its own. */
            if (nd >= 13 && (groups == 0 || groups == 2 || groups == 3 || groups == 4))
                break;
            if ((sep && sep != c) || groups == 7)
                return 0;
            sep = c;
            groups++;
            k++;
            continue;
        }
        break;
    }
    if (nd < 13 || is_alnum(ch(sc, k)) || (ch(sc, k) == '.' && is_digit(ch(sc, k + 1))))
        return 0;
    if (groups) {
        /* 4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4: other groupings are lists of numbers. */
        if (glen[0] != 4)
            return 0;
        for (size_t g = 1; g < groups; g++)
            if (glen[g] != 4 && glen[g] != 6)
                return 0;
        if (glen[groups] < 3 || glen[groups] > 6)
            return 0;
    }
    if (!issuer_ok(d, nd) || !luhn_ok(d, nd))
        return 0;
    return replace(sc, i, i, k, "card_number");
}

static size_t try_match(scan *sc, size_t i)
{
    const char *s = sc->s;
    int c = (unsigned char)s[i];
    /* Look at what precedes in the output, not the input: right after a replacement that is
     * the marker's ']', exactly what a second pass would see (redaction is idempotent). */
    int prev = sc->count && i == sc->after ? ']' : i ? (unsigned char)s[i - 1] : 0;
    size_t m;

    if (c == '-' && (m = m_pem(sc, i)))
        return m;
    if (line_start(sc, i) && (m = m_b64_line(sc, i)))
        return m;
    if (c == ':' && (m = m_url_password(sc, i)))
        return m;
    if (is_alnum(prev) || prev == '_')
        return 0; /* everything below starts at a word boundary */
    if ((c == 'a' || c == 'A' || c == 'p' || c == 'P') && (m = m_authorization(sc, i)))
        return m;
    if ((c == 'b' || c == 'B') && (m = m_bearer(sc, i)))
        return m;
    if ((c == 'c' || c == 'C' || c == 's' || c == 'S') && (m = m_cookie(sc, i)))
        return m;
    if ((c == 't' || c == 'T') && (m = m_token_phrase(sc, i)))
        return m;
    if ((c == 'h' || c == 'x') && (m = m_slack(sc, i)))
        return m;
    if ((m = m_tokens(sc, i)))
        return m;
    if (is_alnum(c) && (m = m_b64_40(sc, i)))
        return m;
    if (!is_ident(prev) && (m = m_key_value(sc, i)))
        return m;
    if (!is_email_local(prev) && is_email_local(c) && (m = m_email(sc, i)))
        return m;
    if (c >= '2' && c <= '6' && prev != '.' && (m = m_card(sc, i)))
        return m;
    return 0;
}

char *fl_redact_ex(const char *s, unsigned flags, const fl_redact_policy *policy, size_t *n_out)
{
    if (n_out)
        *n_out = 0;
    if (!s)
        return NULL;
    scan sc = {.s = s, .n = strlen(s), .flags = flags};
    if (policy && policy->n_allow)
        sc.policy = policy;
    fl_buf_init(&sc.out, MAX_OUT);
    size_t i = 0;
    while (i < sc.n) {
        /* Only bytes that can start a match are worth a call. */
        int c = (unsigned char)s[i];
        if (is_alnum(c) || c == '-' || c == ':' ||
            ((c == '+' || c == '/' || c == '<') && line_start(&sc, i))) {
            size_t m = try_match(&sc, i);
            if (m) {
                i += m;
                sc.copied = i;
                if (!sc.kept)
                    sc.after = i;
                sc.kept = false;
                continue;
            }
            /* Nothing starts inside a word (every matcher is anchored at a word boundary,
             * ':' or '-'), so skip the rest of it. */
            if (is_alnum(c) || c == '_')
                while (i + 1 < sc.n && (is_alnum((unsigned char)s[i + 1]) || s[i + 1] == '_'))
                    i++;
        }
        i++;
    }
    flush_to(&sc, sc.n);
    if (sc.err) {
        fl_buf_free(&sc.out);
        return NULL;
    }
    if (n_out)
        *n_out = sc.count;
    if (!sc.out.data)
        return fl_strdup("");
    return fl_buf_detach(&sc.out);
}

char *fl_redact(const char *s)
{
    return fl_redact_ex(s, 0, NULL, NULL);
}

char *fl_redact_with(const char *s, const fl_redact_policy *p)
{
    return fl_redact_ex(s, 0, p, NULL);
}
