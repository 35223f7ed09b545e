/* Human units for durations (see span.h). */
#include "span.h"

#include <stdio.h>

char *fl_span_text(fl_time usec, char *buf, size_t size)
{
    long long s = usec > 0 ? (long long)(usec / FL_USEC_PER_SEC) : 0;
    const long long min = 60, hour = 3600, day = 86400, week = 7 * 86400;
    const double year = 365.2425 * 86400;
    if (s < min)
        snprintf(buf, size, "%lld s", s);
    else if (s < hour)
        snprintf(buf, size, "%lld min", s / min);
    else if (s < 2 * day) {
        if (s % hour / min)
            snprintf(buf, size, "%lld h %lld min", s / hour, s % hour / min);
        else
            snprintf(buf, size, "%lld h", s / hour);
    } else if (s < 2 * week) {
        if (s % day / hour)
            snprintf(buf, size, "%lld d %lld h", s / day, s % day / hour);
        else
            snprintf(buf, size, "%lld d", s / day);
    } else if (s < 26 * week)
        snprintf(buf, size, "%lld weeks", s / week);
    else if (s < 2 * year)
        snprintf(buf, size, "%lld months", (long long)(s / (year / 12)));
    else
        snprintf(buf, size, "%.1f years", (double)s / year);
    return buf;
}
