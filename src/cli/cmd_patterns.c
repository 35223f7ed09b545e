/* faultline patterns check [DIR...] | patterns list [--patterns DIR]: the rule files. */
#include "cli_analysis.h"
#include "fl_cli.h"

#include <stddef.h>
#include <string.h>

struct check_args {
    bool quiet;
};

static const fl_opt check_opts[] = {
    {"quiet", 'q', FL_OPT_FLAG, NULL, "print only the problems, not the closing summary",
     offsetof(struct check_args, quiet), 0, 0, NULL},
    FL_OPT_END,
};

static const fl_cmd_spec check_spec = {
    "patterns check",
    "[DIR...]",
    "Validate rule files (default: the built-in rules). Each problem is printed on one line\n"
    "naming the file, the line, the rule id and the message (with the PCRE2 offset for a bad\n"
    "regex); the exit status is 1 if there is any.",
    check_opts,
    NULL,
};

struct list_args {
    fl_strv patterns;
    bool no_builtin;
};

static const fl_opt list_opts[] = {
    {"patterns", 'p', FL_OPT_STRINGS, "DIR",
     "load rule files from DIR too; a rule id that exists overrides the built-in",
     offsetof(struct list_args, patterns), 0, 0, NULL},
    {"no-builtin", 0, FL_OPT_FLAG, NULL, "leave the built-in rules out",
     offsetof(struct list_args, no_builtin), 0, 0, NULL},
    FL_OPT_END,
};

static const fl_cmd_spec list_spec = {
    .name = "patterns list",
    .summary = "List the loaded rules: id, class, what it implies, title.",
    .opts = list_opts,
};

static int cmd_check(int argc, char **argv)
{
    struct check_args args = {false};
    fl_strv dirs = {NULL, 0};
    char err[512];
    int status = FL_EXIT_USAGE;

    int rc = fl_opts_parse(&check_spec, argc, argv, &args, &dirs, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&check_spec, stdout);
        fl_strv_free(&dirs);
        return FL_EXIT_OK;
    }
    if (rc) {
        fprintf(stderr, "faultline patterns check: %s\n", err);
        fl_strv_free(&dirs);
        return FL_EXIT_USAGE;
    }
    const char *builtin = fl_builtin_patterns_dir(fl_cli_env("FAULTLINE_PATTERNS_DIR"));
    if (dirs.n == 0 && fl_strv_push(&dirs, builtin)) {
        fl_strv_free(&dirs);
        return FL_EXIT_USAGE;
    }
    fl_diag diag;
    fl_diag_init(&diag);
    rc = fl_rules_check(dirs.v, dirs.n, &diag);
    /* The rules library phrases each problem as "rule <id>: message (offset N)". */
    for (size_t i = 0; i < diag.n_warnings; i++) {
        const fl_warning *w = &diag.warnings[i];
        if (w->line)
            printf("%s:%llu: %s\n", w->file, (unsigned long long)w->line, w->message);
        else
            printf("%s: %s\n", w->file, w->message);
    }
    if (diag.warnings_dropped)
        printf("... and %llu more problems\n", (unsigned long long)diag.warnings_dropped);
    if (rc < 0) {
        fprintf(stderr, "faultline patterns check: %s\n", fl_strerror(rc));
    } else if (rc > 0) {
        if (!args.quiet)
            fprintf(stderr, "faultline patterns check: %d problem%s\n", rc, rc == 1 ? "" : "s");
    } else {
        if (!args.quiet)
            printf("ok: no problems in %zu director%s\n", dirs.n, dirs.n == 1 ? "y" : "ies");
        status = FL_EXIT_OK;
    }
    fl_diag_free(&diag);
    fl_strv_free(&dirs);
    return status;
}

static int cmd_list(int argc, char **argv)
{
    struct list_args args;
    char err[1024];
    fl_rules *rules = NULL;

    memset(&args, 0, sizeof args);
    int rc = fl_opts_parse(&list_spec, argc, argv, &args, NULL, err, sizeof err);
    if (rc == FL_OPTS_HELP) {
        fl_opts_help(&list_spec, stdout);
        fl_opts_free(&list_spec, &args);
        return FL_EXIT_OK;
    }
    if (rc) {
        fprintf(stderr, "faultline patterns list: %s\n", err);
        fl_opts_free(&list_spec, &args);
        return FL_EXIT_USAGE;
    }
    fl_pipeline_opts po;
    memset(&po, 0, sizeof po);
    po.pattern_dirs = args.patterns.v;
    po.n_pattern_dirs = args.patterns.n;
    po.no_builtin_patterns = args.no_builtin;
    fl_cli_env_to_pipeline(&po);
    if (fl_pipeline_load_rules(&po, &rules, err, sizeof err) != 0) {
        fprintf(stderr, "faultline patterns list: %s\n", err);
        fl_opts_free(&list_spec, &args);
        return FL_EXIT_USAGE;
    }
    size_t n = fl_rules_count(rules);
    int w_id = 2, w_class = 5;
    for (size_t i = 0; i < n; i++) {
        const fl_rule_info *ri = fl_rules_get(rules, i);
        w_id = FL_MAX(w_id, (int)strlen(ri->id));
        w_class = FL_MAX(w_class, (int)strlen(ri->class_id));
    }
    printf("%-*s  %-*s  %-10s  %s\n", w_id, "ID", w_class, "CLASS", "IMPLIES", "TITLE");
    for (size_t i = 0; i < n; i++) {
        const fl_rule_info *ri = fl_rules_get(rules, i);
        printf("%-*s  %-*s  %-10s  %s\n", w_id, ri->id, w_class, ri->class_id,
               fl_implies_name(ri->implies), ri->title);
    }
    fl_rules_free(rules);
    fl_opts_free(&list_spec, &args);
    return FL_EXIT_OK;
}

static void patterns_usage(FILE *out)
{
    fprintf(out,
            "Usage: faultline patterns check [DIR...]\n"
            "       faultline patterns list [--patterns DIR]\n\n"
            "  check  validate rule files (default: the built-in rules)\n"
            "  list   print the loaded rules as a table\n");
}

int fl_cmd_patterns(int argc, char **argv)
{
    if (argc < 1) {
        patterns_usage(stderr);
        return FL_EXIT_USAGE;
    }
    if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        patterns_usage(stdout);
        return FL_EXIT_OK;
    }
    if (strcmp(argv[0], "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    if (strcmp(argv[0], "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    fprintf(stderr, "faultline patterns: unknown subcommand '%s' (check or list)\n", argv[0]);
    return FL_EXIT_USAGE;
}
