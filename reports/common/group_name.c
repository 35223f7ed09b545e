/* Display names of error groups (see group_name.h). */
#include "group_name.h"

#include <string.h>

const char *fl_group_name(const fl_group *g)
{
    if (g->class_id && g->class_id[0])
        return g->class_id;
    if (g->title && g->title[0])
        return g->title;
    return g->key;
}

const char *fl_group_name_of(const fl_result *r, const char *key)
{
    for (size_t i = 0; key && i < r->n_groups; i++)
        if (strcmp(r->groups[i].key, key) == 0)
            return fl_group_name(&r->groups[i]);
    return key ? key : "";
}
