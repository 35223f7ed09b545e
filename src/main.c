/* Placeholder until the CLI lands. */
#include <stdio.h>
#include "fl_config.h"
int main(void)
{
    printf("faultline %s\n", FL_VERSION);
    return 0;
}
