/* Stack frames and paths: which source files an error's stack trace names, and whether a file a
 * commit changed is one of them. Pure string work. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "suspects.h"

static const char *const source_exts[] = {
    "js", "mjs", "cjs",  "jsx", "ts", "tsx", "mts", "cts",
    "py", "go",  "java", "kt",  "rb", "php", "cs",  "rs",
};

/* Compiled JavaScript keeps the TypeScript file's stem: these extensions are one family. */
static const char *const js_family[] = {"js", "mjs", "cjs", "jsx", "ts", "tsx", "mts", "cts"};

/* Frames in these places are libraries or the runtime, not the service's own code: anywhere in
 * the path, or (runtime frames such as node:internal/... and java.lang...) only at its start. */
static const char *const library_dirs[] = {
    "node_modules/", "site-packages/", "dist-packages/", "/usr/lib/", "/usr/local/lib/",
    "/go/pkg/mod/",  "/usr/local/go/", "/opt/python",    "<frozen",
};
static const char *const library_prefixes[] = {
    "node:",     "internal/", "java/", "javax/", "sun/", "jdk/", "kotlin/", "org/springframework/",
    "io/netty/",
};

static bool in_list(const char *s, size_t len, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(s, list[i], len) == 0)
            return true;
    return false;
}

static bool path_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '/' || c == '-' || c == '@' ||
           c == '\\' || c == '$' || c == '+';
}

static bool is_library(const char *path)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(library_dirs); i++)
        if (strstr(path, library_dirs[i]))
            return true;
    for (size_t i = 0; i < FL_ARRAY_LEN(library_prefixes); i++)
        if (strncmp(path, library_prefixes[i], strlen(library_prefixes[i])) == 0)
            return true;
    return false;
}

static int add_frame(fl_suspect_evidence *ev, const char *p, size_t len)
{
    if (ev->n_frames >= FL_SUSPECT_MAX_FRAMES)
        return 0;
    char *s = fl_strndup(p, len);
    if (!s)
        return FL_ENOMEM;
    for (char *q = s; *q; q++)
        if (*q == '\\')
            *q = '/';
    /* the leading "/" or "./" says nothing about where the file is in the repository */
    size_t skip = 0;
    while (s[skip] == '/' || (s[skip] == '.' && s[skip + 1] == '/'))
        skip += s[skip] == '/' ? 1 : 2;
    if (is_library(s) || !s[skip]) {
        fl_free(s);
        return 0;
    }
    memmove(s, s + skip, strlen(s + skip) + 1);
    for (size_t i = 0; i < ev->n_frames; i++)
        if (strcmp(ev->frames[i], s) == 0) {
            fl_free(s);
            return 0;
        }
    if (!ev->frames) {
        ev->frames = fl_calloc(FL_SUSPECT_MAX_FRAMES, sizeof(char *));
        if (!ev->frames) {
            fl_free(s);
            return FL_ENOMEM;
        }
    }
    ev->frames[ev->n_frames++] = s;
    return 0;
}

/* A Java frame names only the file ("at com.acme.cart.Cart.total(Cart.java:42)"): the package
 * before the class gives its directories. Writes "com/acme/cart/Cart.java" into buf. */
static bool java_path(const char *text, const char *paren, const char *file, size_t flen, char *buf,
                      size_t size)
{
    const char *start = paren;
    while (start > text && !isspace((unsigned char)start[-1]))
        start--;
    size_t out = 0;
    for (const char *p = start; p < paren && out + 1 < size;) {
        const char *dot = memchr(p, '.', (size_t)(paren - p));
        if (!dot || isupper((unsigned char)*p))
            break; /* the class name: the package ends here */
        for (; p < dot && out + 1 < size; p++)
            buf[out++] = *p;
        if (out + 1 < size)
            buf[out++] = '/';
        p = dot + 1;
    }
    if (out + flen + 1 > size)
        return false;
    memcpy(buf + out, file, flen);
    buf[out + flen] = '\0';
    return true;
}

int fl_suspect_frames_from_text(const char *text, fl_suspect_evidence *ev)
{
    /* Every token that looks like a path to a source file and is followed by a line number
     * (":12", "\", line 12") is a frame. */
    for (const char *p = text; *p;) {
        if (!path_char(*p)) {
            p++;
            continue;
        }
        const char *start = p;
        while (*p && path_char(*p))
            p++;
        size_t len = (size_t)(p - start);
        const char *dot = NULL;
        for (const char *q = start; q < p; q++)
            if (*q == '.')
                dot = q;
        if (!dot || dot == p - 1)
            continue;
        size_t elen = (size_t)(p - dot - 1);
        if (!in_list(dot + 1, elen, source_exts, FL_ARRAY_LEN(source_exts)))
            continue;
        bool has_line =
            (p[0] == ':' && isdigit((unsigned char)p[1])) || strncmp(p, "\", line ", 8) == 0;
        if (!has_line)
            continue;
        int rc;
        char jbuf[512];
        if (!memchr(start, '/', len) && start > text && start[-1] == '(' &&
            java_path(text, start - 1, start, len, jbuf, sizeof(jbuf)))
            rc = add_frame(ev, jbuf, strlen(jbuf));
        else
            rc = add_frame(ev, start, len);
        if (rc)
            return rc;
    }
    return 0;
}

/* Splits off the last component of path[0..*len): returns its start, shrinks *len to what is
 * before the separating '/'. */
static const char *last_component(const char *path, size_t *len, size_t *clen)
{
    size_t end = *len;
    size_t i = end;
    while (i > 0 && path[i - 1] != '/')
        i--;
    *clen = end - i;
    *len = i ? i - 1 : 0;
    return path + i;
}

static bool same_file_name(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return true;
    const char *ad = memrchr(a, '.', alen), *bd = memrchr(b, '.', blen);
    if (!ad || !bd || ad - a != bd - b || memcmp(a, b, (size_t)(ad - a)) != 0)
        return false;
    return in_list(ad + 1, alen - (size_t)(ad - a) - 1, js_family, FL_ARRAY_LEN(js_family)) &&
           in_list(bd + 1, blen - (size_t)(bd - b) - 1, js_family, FL_ARRAY_LEN(js_family));
}

static bool build_dir(const char *c, size_t len)
{
    static const char *const dirs[] = {"dist", "build", "out", "lib"};
    return in_list(c, len, dirs, FL_ARRAY_LEN(dirs));
}

int fl_suspect_path_match(const char *frame, const char *repo_path)
{
    size_t flen = strlen(frame), rlen = strlen(repo_path);
    size_t fc, rc;
    const char *f = last_component(frame, &flen, &fc);
    const char *r = last_component(repo_path, &rlen, &rc);
    if (!same_file_name(f, fc, r, rc))
        return 0;
    int matched = 1;
    while (flen && rlen) {
        f = last_component(frame, &flen, &fc);
        r = last_component(repo_path, &rlen, &rc);
        bool same = fc == rc && memcmp(f, r, fc) == 0;
        /* compiled output sits where the source did: /app/dist/x.js came from src/x.ts */
        bool built = build_dir(f, fc) && rc == 3 && memcmp(r, "src", 3) == 0;
        if (!same && !built)
            break;
        if (same)
            matched++;
    }
    return matched;
}

/* Path tokens (split at / . _ -) that mark where an error class typically starts. An entry
 * with a dot is a whole file name. */
typedef struct class_files {
    const char *cls;
    const char *tokens[16];
} class_files;

static const class_files typical[] = {
    {"schema_validation",
     {"env", "dotenv", "config", "configs", "settings", "schema", "cloudbuild", "manifest",
      "service.yaml", "app.yaml", "values.yaml", "Dockerfile"}},
    {"startup_failure", {"env", "config", "settings", "Dockerfile", "entrypoint", "main"}},
    {"pool_exhausted",
     {"pool", "db", "database", "datasource", "knexfile", "prisma", "sequelize", "hikari",
      "pgbouncer", "connection", "connections"}},
    {"oom", {"cache", "memory", "mem", "lru", "buffer", "buffers", "heap", "Dockerfile"}},
    {"redis_timeout", {"redis", "kv", "cache"}},
    {"db_unreachable", {"db", "database", "datasource", "prisma", "knexfile"}},
    {"mongo_server_selection", {"mongo", "mongodb", "mongoose", "db", "database"}},
    {"module_not_found",
     {"package.json", "requirements.txt", "go.mod", "pom.xml", "Dockerfile", "tsconfig.json"}},
    {"tls_cert", {"tls", "ssl", "cert", "certs", "ca"}},
    {"auth_failed", {"auth", "credentials", "iam", "token", "secrets"}},
};

bool fl_suspect_typical_file(const char *error_class, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    for (size_t i = 0; i < FL_ARRAY_LEN(typical); i++) {
        if (!error_class || strcmp(typical[i].cls, error_class) != 0)
            continue;
        for (size_t j = 0; j < FL_ARRAY_LEN(typical[i].tokens) && typical[i].tokens[j]; j++) {
            const char *tok = typical[i].tokens[j];
            size_t tlen = strlen(tok);
            if (strchr(tok, '.') || isupper((unsigned char)tok[0])) {
                if (strcasecmp(base, tok) == 0)
                    return true;
                continue;
            }
            for (const char *p = path; *p;) {
                size_t n = strcspn(p, "/._-");
                if (n == tlen && strncasecmp(p, tok, n) == 0)
                    return true;
                p += n;
                if (*p)
                    p++;
            }
        }
    }
    return false;
}
