/* fl_entry_parse: the hot-path entry point is the single-pass fast reader; the jansson reader
 * stays as the reference (fl_entry_parse_jansson, --slow-json). */
#include "json_internal.h"

int fl_entry_parse(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen)
{
    int rc = fl_entry_parse_fast(buf, len, e, errbuf, errlen);
    return fl_json_parse_repaired(buf, len, e, errbuf, errlen, rc, fl_entry_parse_fast_depth);
}
