#include "fl_patterns.h"

#include <string.h>

static const char *const implies_names[] = {
    [FL_IMPLIES_UNKNOWN] = "unknown",   [FL_IMPLIES_DEPENDENCY] = "dependency",
    [FL_IMPLIES_RESOURCE] = "resource", [FL_IMPLIES_CONFIG] = "config",
    [FL_IMPLIES_LOAD] = "load",         [FL_IMPLIES_PLATFORM] = "platform",
};

const char *fl_implies_name(fl_implies i)
{
    if ((size_t)i < FL_ARRAY_LEN(implies_names))
        return implies_names[i];
    return "unknown";
}

fl_implies fl_implies_parse(const char *s)
{
    for (size_t i = 0; s && i < FL_ARRAY_LEN(implies_names); i++)
        if (strcmp(s, implies_names[i]) == 0)
            return (fl_implies)i;
    return FL_IMPLIES_UNKNOWN;
}
