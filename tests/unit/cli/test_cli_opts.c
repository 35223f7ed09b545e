/* The option table parser: every spelling of an option, bounds, repeatables, help. */
#include "cli_analysis.h"
#include "cli_opts.h"
#include "fl_test.h"

#include <stddef.h>
#include <stdlib.h>

struct args {
    fl_analysis_args a;
    const char *format;
    const char *output;
    bool all;
};

static const char *const formats[] = {"text", "md", "json", NULL};

static const fl_opt opts[] = {
    {"format", 'f', FL_OPT_CHOICE, "FORMAT", "report format", offsetof(struct args, format), 0, 0,
     formats},
    {"output", 'o', FL_OPT_STRING, "FILE", "write to FILE", offsetof(struct args, output), 0, 0,
     NULL},
    {"all", 'a', FL_OPT_FLAG, NULL,
     "everything, with a help text long enough that it has to be wrapped onto a second line to "
     "stay within one hundred columns",
     offsetof(struct args, all), 0, 0, NULL},
    FL_ANALYSIS_OPTS(struct args, a),
    FL_OPT_END,
};

static const fl_cmd_spec spec = {"test", "[INPUT...]", "A test command.", opts, "Epilog.\n"};

typedef struct {
    const char *argv[8];
    int rc;
    const char *format, *output;
    bool all, quiet;
    size_t n_patterns, n_positional;
    double threshold;
    int threads;
    const char *err_has; /* substring of the error message */
} parse_case;

static const parse_case cases[] = {
    {{"in.json"}, 0, "text", NULL, false, false, 0, 1, 0, 0, NULL},
    {{"--format", "json", "-o", "out.json"}, 0, "json", "out.json", false, false, 0, 0, 0, 0, NULL},
    {{"--format=md", "-oreport.md", "-"}, 0, "md", "report.md", false, false, 0, 1, 0, 0, NULL},
    {{"-aq", "a", "b"}, 0, "text", NULL, true, true, 0, 2, 0, 0, NULL},
    {{"-p", "d1", "--patterns", "d2", "--patterns=d3"},
     0,
     "text",
     NULL,
     false,
     false,
     3,
     0,
     0,
     0,
     NULL},
    {{"--threshold", "0.25", "--threads=4"}, 0, "text", NULL, false, false, 0, 0, 0.25, 4, NULL},
    {{"--", "-q", "--format"}, 0, "text", NULL, false, false, 0, 2, 0, 0, NULL},
    {{"--format", "xml"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "not one of"},
    {{"--threshold", "2"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "[0, 1]"},
    {{"--threshold", "abc"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "not a number"},
    {{"--threads", "0"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "not an integer"},
    {{"--threads", "4x"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "not an integer"},
    {{"--bogus"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "unknown option '--bogus'"},
    {{"-z"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "unknown option '-z'"},
    {{"-o"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "needs a value"},
    {{"--quiet=yes"}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "takes no value"},
    {{"--output="}, FL_EINVAL, NULL, NULL, false, false, 0, 0, 0, 0, "empty value"},
    {{"x", "--help", "--bogus"}, FL_OPTS_HELP, NULL, NULL, false, false, 0, 0, 0, 0, NULL},
    {{"-h"}, FL_OPTS_HELP, NULL, NULL, false, false, 0, 0, 0, 0, NULL},
};

static void test_parse(void)
{
    for (size_t i = 0; i < FL_ARRAY_LEN(cases); i++) {
        const parse_case *c = &cases[i];
        struct args a;
        memset(&a, 0, sizeof a);
        a.format = "text";
        fl_strv pos = {NULL, 0};
        char err[256] = "";
        int argc = 0;
        while (c->argv[argc])
            argc++;
        int rc = fl_opts_parse(&spec, argc, (char **)c->argv, &a, &pos, err, sizeof err);
        CHECK_INT(rc, c->rc);
        if (c->rc == 0) {
            CHECK_STR(a.format, c->format);
            if (c->output)
                CHECK_STR(a.output, c->output);
            else
                CHECK(a.output == NULL);
            CHECK_INT(a.all, c->all);
            CHECK_INT(a.a.quiet, c->quiet);
            CHECK_INT(a.a.patterns.n, c->n_patterns);
            CHECK_INT(pos.n, c->n_positional);
            CHECK(a.a.threshold == c->threshold);
            CHECK_INT(a.a.threads, c->threads);
        }
        if (c->err_has) {
            CHECK(strstr(err, c->err_has) != NULL);
            if (!strstr(err, c->err_has))
                fprintf(stderr, "  case %zu: error was '%s'\n", i, err);
        }
        fl_opts_free(&spec, &a);
        fl_strv_free(&pos);
    }
}

static void test_repeatable_order(void)
{
    struct args a;
    memset(&a, 0, sizeof a);
    const char *argv[] = {"--changes", "c1", "in", "--changes", "c2", "--patterns", "p"};
    fl_strv pos = {NULL, 0};
    char err[128];
    CHECK_INT(fl_opts_parse(&spec, 7, (char **)argv, &a, &pos, err, sizeof err), 0);
    CHECK_INT(a.a.changes.n, 2);
    CHECK_STR(a.a.changes.v[0], "c1");
    CHECK_STR(a.a.changes.v[1], "c2");
    CHECK_STR(pos.v[0], "in");

    fl_pipeline_opts po;
    fl_analysis_args_to_pipeline(&a.a, &po);
    CHECK_INT(po.n_changes_files, 2);
    CHECK_INT(po.n_pattern_dirs, 1);
    CHECK_STR(po.pattern_dirs[0], "p");
    fl_opts_free(&spec, &a);
    fl_strv_free(&pos);
}

static void test_no_positional_allowed(void)
{
    struct args a;
    memset(&a, 0, sizeof a);
    const char *argv[] = {"stray"};
    char err[128];
    CHECK_INT(fl_opts_parse(&spec, 1, (char **)argv, &a, NULL, err, sizeof err), FL_EINVAL);
    CHECK(strstr(err, "stray") != NULL);
}

/* --help comes from the table: every option appears, with its argument name. */
static void test_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    fl_opts_help(&spec, f);
    fclose(f);
    CHECK(strstr(text, "Usage: faultline test [options] [INPUT...]") != NULL);
    for (const fl_opt *o = opts; o->type != FL_OPT_NONE; o++) {
        char want[64];
        snprintf(want, sizeof want, "--%s ", o->long_name);
        if (!o->help) { /* internal option: accepted, never advertised */
            CHECK(strstr(text, want) == NULL);
            continue;
        }
        want[strlen(want) - 1] = '\0';
        CHECK(strstr(text, want) != NULL);
        if (!strstr(text, want))
            fprintf(stderr, "  help lacks %s\n", want);
    }
    CHECK(strstr(text, "--format text|md|json") != NULL);
    CHECK(strstr(text, "-o, --output FILE") != NULL);
    CHECK(strstr(text, "(repeatable)") != NULL);
    CHECK(strstr(text, "-h, --help") != NULL);
    CHECK(strstr(text, "Epilog.") != NULL);
    /* Long help lines are wrapped to 100 columns. */
    for (const char *line = text; *line;) {
        size_t line_len = strcspn(line, "\n");
        CHECK(line_len <= 100);
        line += line_len + (line[line_len] ? 1 : 0);
    }
    free(text);
}

int main(void)
{
    test_parse();
    test_repeatable_order();
    test_no_positional_allowed();
    test_help();
    return fl_test_done();
}
