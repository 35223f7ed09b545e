/* What --version says about the regex engine: the PCRE2 library linked in and whether its JIT
 * compiler is available (without it every rule runs interpreted, several times slower). */
#include "fl_patterns.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>

void fl_patterns_engine_info(char *buf, size_t size)
{
    char version[64] = "?";
    uint32_t jit = 0;
    pcre2_config(PCRE2_CONFIG_VERSION, version);
    pcre2_config(PCRE2_CONFIG_JIT, &jit);
    snprintf(buf, size, "PCRE2 %s, JIT %s", version, jit ? "on" : "off");
}
