/* fl_entry_parse: the hot-path entry point. */
#include "json_internal.h"

int fl_entry_parse(const char *buf, size_t len, fl_entry *e, char *errbuf, size_t errlen)
{
    return fl_entry_parse_jansson(buf, len, e, errbuf, errlen);
}
