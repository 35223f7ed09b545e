/* Placeholder until 'faultline classify' lands; see docs and the issue tracker. */
#include <stdio.h>
#include "fl_cli.h"
int fl_cmd_classify(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "faultline classify: not built yet\n");
    return FL_EXIT_USAGE;
}
