/* One option table per command drives both parsing and --help. */
#include "cli_opts.h"

#include "fl_common.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char fl_cli_exit_codes_help[] =
    "Exit status:\n"
    "  0  success\n"
    "  1  usage or configuration error (bad option, bad rule file: file, rule id, offset)\n"
    "  2  input unreadable (nothing could be read)\n"
    "  3  partial input (malformed, oversize, truncated or unreadable parts; the report is\n"
    "     still written)\n"
    "  4  a confident cause was found and --fail-on-cause was given (report written)\n";

int fl_strv_push(fl_strv *sv, const char *s)
{
    const char **v = fl_realloc(sv->v, (sv->n + 1) * sizeof(*v));
    if (!v)
        return FL_ENOMEM;
    sv->v = v;
    sv->v[sv->n++] = s;
    return 0;
}

void fl_strv_free(fl_strv *sv)
{
    if (!sv)
        return;
    fl_free(sv->v);
    sv->v = NULL;
    sv->n = 0;
}

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errbuf && errlen)
        vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
    return FL_EINVAL;
}

static const fl_opt *find_long(const fl_opt *opts, const char *name, size_t len)
{
    for (const fl_opt *o = opts; o && o->type != FL_OPT_NONE; o++)
        if (strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const fl_opt *find_short(const fl_opt *opts, char c)
{
    for (const fl_opt *o = opts; o && o->type != FL_OPT_NONE; o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static bool in_bounds(const fl_opt *o, double v)
{
    if (o->min == 0 && o->max == 0)
        return true;
    return v >= o->min && v <= o->max;
}

static void describe_bounds(const fl_opt *o, char *buf, size_t len)
{
    buf[0] = '\0';
    if (o->min != 0 || o->max != 0)
        snprintf(buf, len, " in [%g, %g]", o->min, o->max);
}

/* Stores value for option o into target. name is how the user spelled it, for messages. */
static int store(const fl_opt *o, const char *name, const char *value, void *target, char *errbuf,
                 size_t errlen)
{
    char *field = (char *)target + o->offset;
    char bounds[64];
    switch (o->type) {
    case FL_OPT_FLAG:
        *(bool *)field = true;
        return 0;
    case FL_OPT_STRING:
        if (!*value)
            return fail(errbuf, errlen, "%s: empty value", name);
        *(const char **)field = value;
        return 0;
    case FL_OPT_STRINGS:
        if (!*value)
            return fail(errbuf, errlen, "%s: empty value", name);
        if (fl_strv_push((fl_strv *)(void *)field, value))
            return fail(errbuf, errlen, "out of memory");
        return 0;
    case FL_OPT_CHOICE:
        for (const char *const *c = o->choices; c && *c; c++) {
            if (strcmp(*c, value) == 0) {
                *(const char **)field = *c;
                return 0;
            }
        }
        {
            char list[256] = "";
            for (const char *const *c = o->choices; c && *c; c++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", *c);
            }
            return fail(errbuf, errlen, "%s: '%s' is not one of: %s", name, value, list);
        }
    case FL_OPT_INT: {
        char *end;
        errno = 0;
        long v = strtol(value, &end, 10);
        describe_bounds(o, bounds, sizeof bounds);
        if (errno || end == value || *end || v < -2147483647L || v > 2147483647L ||
            !in_bounds(o, (double)v))
            return fail(errbuf, errlen, "%s: '%s' is not an integer%s", name, value, bounds);
        *(int *)field = (int)v;
        return 0;
    }
    case FL_OPT_DOUBLE: {
        char *end;
        errno = 0;
        double v = strtod(value, &end);
        describe_bounds(o, bounds, sizeof bounds);
        if (errno || end == value || *end || !isfinite(v) || !in_bounds(o, v))
            return fail(errbuf, errlen, "%s: '%s' is not a number%s", name, value, bounds);
        *(double *)field = v;
        return 0;
    }
    case FL_OPT_NONE:
        break;
    }
    return fail(errbuf, errlen, "%s: bad option table entry", name);
}

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

int fl_opts_parse(const fl_cmd_spec *spec, int argc, char **argv, void *target, fl_strv *positional,
                  char *errbuf, size_t errlen)
{
    const fl_opt *opts = spec->opts;
    bool only_positional = false;
    if (errbuf && errlen)
        errbuf[0] = '\0';

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (!positional)
                return fail(errbuf, errlen, "unexpected argument '%s'", a);
            if (fl_strv_push(positional, a))
                return fail(errbuf, errlen, "out of memory");
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (is_help(a))
            return FL_OPTS_HELP;

        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const fl_opt *o = find_long(opts, name, len);
            if (!o)
                return fail(errbuf, errlen, "unknown option '--%.*s' (see 'faultline %s --help')",
                            (int)len, name, spec->name);
            char shown[80];
            snprintf(shown, sizeof shown, "--%s", o->long_name);
            if (o->type == FL_OPT_FLAG) {
                if (eq)
                    return fail(errbuf, errlen, "%s takes no value", shown);
                store(o, shown, NULL, target, errbuf, errlen);
                continue;
            }
            const char *value = eq ? eq + 1 : NULL;
            if (!value) {
                if (i + 1 >= argc)
                    return fail(errbuf, errlen, "%s needs a value (%s)", shown,
                                o->arg_name ? o->arg_name : "VALUE");
                value = argv[++i];
            }
            int rc = store(o, shown, value, target, errbuf, errlen);
            if (rc)
                return rc;
            continue;
        }

        /* One or more short options: "-q", "-qv", "-oFILE", "-o FILE". */
        for (const char *p = a + 1; *p; p++) {
            const fl_opt *o = find_short(opts, *p);
            if (!o)
                return fail(errbuf, errlen, "unknown option '-%c' (see 'faultline %s --help')", *p,
                            spec->name);
            char shown[8];
            snprintf(shown, sizeof shown, "-%c", *p);
            if (o->type == FL_OPT_FLAG) {
                store(o, shown, NULL, target, errbuf, errlen);
                continue;
            }
            const char *value = p[1] ? p + 1 : NULL;
            if (!value) {
                if (i + 1 >= argc)
                    return fail(errbuf, errlen, "%s needs a value (%s)", shown,
                                o->arg_name ? o->arg_name : "VALUE");
                value = argv[++i];
            }
            int rc = store(o, shown, value, target, errbuf, errlen);
            if (rc)
                return rc;
            break;
        }
    }
    return 0;
}

#define HELP_WIDTH 100
#define HELP_COLUMN 30 /* where the help text starts */

/* Writes text word-wrapped between HELP_COLUMN and HELP_WIDTH; the cursor is at HELP_COLUMN. */
static void help_text(FILE *out, const char *text)
{
    int room = HELP_WIDTH - HELP_COLUMN;
    const char *p = text;
    while (*p) {
        int len = (int)strlen(p);
        int take = len;
        if (take > room) {
            take = room;
            while (take > 0 && p[take] != ' ')
                take--;
            if (take == 0)
                take = room;
        }
        fprintf(out, "%.*s\n", take, p);
        p += take;
        while (*p == ' ')
            p++;
        if (*p)
            fprintf(out, "%*s", HELP_COLUMN, "");
    }
}

static void help_row(FILE *out, char short_name, const char *long_name, const char *arg,
                     const char *help, bool repeatable)
{
    char left[96], text[512];
    if (short_name)
        snprintf(left, sizeof left, "-%c, --%s%s%s", short_name, long_name, arg ? " " : "",
                 arg ? arg : "");
    else
        snprintf(left, sizeof left, "    --%s%s%s", long_name, arg ? " " : "", arg ? arg : "");
    snprintf(text, sizeof text, "%s%s", help, repeatable ? " (repeatable)" : "");
    if ((int)strlen(left) > HELP_COLUMN - 4)
        fprintf(out, "  %s\n%*s", left, HELP_COLUMN, "");
    else
        fprintf(out, "  %-*s", HELP_COLUMN - 2, left);
    help_text(out, text);
}

void fl_opts_help(const fl_cmd_spec *spec, FILE *out)
{
    fprintf(out, "Usage: faultline %s [options]%s%s\n", spec->name, spec->usage ? " " : "",
            spec->usage ? spec->usage : "");
    if (spec->summary)
        fprintf(out, "\n%s\n", spec->summary);
    fprintf(out, "\nOptions:\n");
    for (const fl_opt *o = spec->opts; o && o->type != FL_OPT_NONE; o++) {
        char arg[96];
        if (!o->help)
            continue; /* internal option: accepted, not advertised */
        const char *argp = o->arg_name;
        if (o->type == FL_OPT_CHOICE && o->choices) {
            size_t l = 0;
            arg[0] = '\0';
            for (const char *const *c = o->choices; *c; c++) {
                l = strlen(arg);
                snprintf(arg + l, sizeof(arg) - l, "%s%s", l ? "|" : "", *c);
            }
            argp = arg;
        }
        help_row(out, o->short_name, o->long_name, o->type == FL_OPT_FLAG ? NULL : argp, o->help,
                 o->type == FL_OPT_STRINGS);
    }
    help_row(out, 'h', "help", NULL, "show this help and exit", false);
    if (spec->epilog)
        fprintf(out, "\n%s", spec->epilog);
}

void fl_opts_free(const fl_cmd_spec *spec, void *target)
{
    for (const fl_opt *o = spec->opts; o && o->type != FL_OPT_NONE; o++)
        if (o->type == FL_OPT_STRINGS)
            fl_strv_free((fl_strv *)(void *)((char *)target + o->offset));
}
