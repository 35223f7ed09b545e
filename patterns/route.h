/* Route templates for request logs (patterns/: grouping and classify share them): "/api/v1/cart/48245?x=1" -> "/api/v1/cart/<id>", so HTTP
 * errors group by the endpoint that fails rather than into one "<path>" bucket. */
#ifndef FL_ROUTE_H
#define FL_ROUTE_H

#include <stddef.h>

#define FL_ROUTE_MAX_SEGMENTS 8 /* deeper paths end in "/..." */

/* Writes the template of the path of url (scheme and host dropped, query and fragment
 * dropped) into out (always NUL-terminated). A segment that looks like an identifier (all
 * digits, or three or more digits, or 16+ characters with a digit: numbers, UUIDs, hashes,
 * order-12345) becomes <id>; other segments are kept as they are. */
void fl_route_template(const char *url, char *out, size_t cap);

#endif
