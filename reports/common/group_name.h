/* The name a person reads for an error group: its class ("schema_validation"), else its
 * template ("HTTP 500 GET /api/v1/cart/<id>"); never the "fp:<hash>" key, which stays a
 * machine identifier (JSON, data- attributes). */
#ifndef FL_GROUP_NAME_H
#define FL_GROUP_NAME_H

#include "fl_result.h"

const char *fl_group_name(const fl_group *g);
/* The name of the group whose key is key; key itself when no group has it. */
const char *fl_group_name_of(const fl_result *r, const char *key);

#endif
