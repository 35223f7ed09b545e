/* Placeholder until 'faultline postmortem' lands; see docs and the issue tracker. */
#include <stdio.h>
#include "fl_cli.h"
int fl_cmd_postmortem(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "faultline postmortem: not built yet\n");
    return FL_EXIT_USAGE;
}
