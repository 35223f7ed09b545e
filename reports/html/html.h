/* Internal to reports/html: escaping helpers and the inline-SVG timeline chart. */
#ifndef FL_HTML_INT_H
#define FL_HTML_INT_H

#include <stdio.h>

#include "fl_result.h"

/* Writes s with &, <, >, " and ' escaped, control bytes (other than newline and tab) dropped.
 * Safe in element content and in quoted attribute values. NULL writes nothing. */
void fl_html_escape(FILE *out, const char *s);

/* Like fl_html_escape, but a `backtick span` (faultline's summaries use them for class names)
 * becomes <code>...</code>. */
void fl_html_prose(FILE *out, const char *s);

/* Writes the timeline chart of r as one <svg> element. Every data point carries machine-readable
 * attributes so tests can check the chart against the JSON report:
 *   <circle class="pt" data-service data-revision data-bucket data-time data-requests data-r5xx>
 *   <rect class="bar" data-group data-bucket data-count>
 *   <line class="change" data-kind data-time data-revision>
 *   <g class="onset" data-time data-class>
 * The <svg> itself carries data-bucket-seconds, data-buckets and data-origin. */
void fl_html_chart(const fl_result *r, FILE *out);

/* A bucket size in words: "minute", "5 min", "hour". buf needs 32 bytes. */
const char *fl_html_bucket_label(int seconds, char *buf, size_t size);

#endif
