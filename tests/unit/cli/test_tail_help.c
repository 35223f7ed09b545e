/* `tail --help` is generated from the live sources' own option rows (fl_live_option, Fluent
 * Bit's config_map habit): every row of every source in fl_live_sources appears in the help with
 * its argument name and help line, and the rows are well formed. Usage: test_tail_help FAULTLINE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fl_live.h"
#include "fl_test.h"

static char *run_help(const char *faultline)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' tail --help", faultline);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t n;
    while (out && (n = fread(out + len, 1, cap - len - 1, p)) > 0)
        len += n;
    pclose(p);
    if (out)
        out[len] = '\0';
    return out;
}

/* The help wraps long lines: compare with runs of whitespace folded to one space. */
static void fold_spaces(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        bool sp = *p == ' ' || *p == '\n';
        if (sp && o > s && o[-1] == ' ')
            continue;
        *o++ = sp ? ' ' : *p;
    }
    *o = '\0';
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_tail_help FAULTLINE\n");
        return 2;
    }
    char *help = run_help(argv[1]);
    CHECK(help != NULL);
    if (!help)
        return fl_test_done();
    fold_spaces(help);
    size_t sources = 0, rows = 0;
    for (const fl_live_ops *const *sp = fl_live_sources; *sp; sp++, sources++) {
        bool opens = (*sp)->options == NULL; /* stdin opens with "-" */
        for (const fl_live_option *o = (*sp)->options; o && o->name; o++, rows++) {
            char want[256];
            snprintf(want, sizeof(want), "--%s %s", o->name, o->arg_name);
            if (!strstr(help, want))
                fprintf(stderr, "tail --help lacks \"%s\"\n", want);
            CHECK(strstr(help, want) != NULL);
            CHECK(o->help && strstr(help, o->help) != NULL);
            CHECK(o->type != FL_LIVE_OPT_STRING || o->offset < sizeof(fl_live_config));
            opens |= (o->flags & FL_LIVE_OPT_OPENS) != 0;
        }
        CHECK(opens); /* every source can be opened from the command line */
    }
    CHECK(sources == 5);
    CHECK(rows >= 8);
    free(help);
    return fl_test_done();
}
