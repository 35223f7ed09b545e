/* Splits a decoded byte stream into records, one LogEntry each, without ever holding more than
 * one record (capped) plus one read chunk:
 *   NDJSON          one entry per line (a Cloud Logging sink's files): memchr for '\n'.
 *   gcloud array    `gcloud logging read --format=json`: a pretty-printed array; elements are
 *                   cut by tracking bracket depth and strings.
 *   concatenated    pretty-printed objects one after another (`jq .` output).
 * The format is decided per source from its first non-blank byte, and for '{' from whether
 * the first line holds a complete object. What gcloud prints without --format=json is
 * read or refused with one warning that says what to run instead (foreign_hint):
 *   gcloud logging read            YAML documents separated by "---" ("insertId: abc"):
 *                                  read, each document converted to JSON (ingest/yaml.c)
 *   gcloud run services logs read  text lines "2026-07-25 03:05:02 GET 500 https://...":
 *                                  refused (they lack the resource labels and httpRequest) */
#include "ingest_internal.h"
#include "fl_json_str.h"
#include "json/json_internal.h"

#include <stdio.h>
#include <string.h>

/* SSE2 bracket scanning, unless FL_NO_SIMD asks for the portable loops (a unit test builds
 * this file that way, so that both paths stay tested). */
#if defined(__SSE2__) && !defined(FL_NO_SIMD)
#define FL_SPLIT_SSE2 1
#else
#define FL_SPLIT_SSE2 0
#endif

typedef enum { ST_TOP, ST_ELEM } scan_state;

struct fl_splitter {
    fl_diag *diag;
    size_t record_max;
    char *buf; /* own_buf, or a mapped file (read-only: never written through buf then) */
    char *own_buf;
    size_t cap;
    fl_filemap *map;  /* the stream's mapping, when buf is it */
    size_t released;  /* mapped bytes before this were given back (fl_filemap_release) */
    size_t start; /* first byte still needed */
    size_t end;   /* end of valid data */
    fl_stream *s;
    bool eof;
    bool detected;
    fl_format fmt;
    uint64_t line; /* NDJSON: line of buf[start]; scanner: line of buf[pos] */
    bool skipping; /* inside an oversize record, already counted */

    /* Bracket scanner (array and concatenated formats). */
    scan_state st;
    size_t pos;
    bool in_array;
    long top_col; /* column while between elements; -1 once the line has content */
    bool scalar;  /* the element is not an object/array: it runs to the end of its line */
    int depth;
    fl_json_str str;
    size_t elem_start;
    uint64_t elem_line;
    long elem_indent;   /* column of the element's first byte when it starts a line, else -1 */
    fl_entry *in_place; /* fl_splitter_next_entry: parse elements where they lie, into this */
    bool *parsed;

    fl_buf yaml_json; /* YAML format: the current document converted to JSON */
};

int fl_splitter_new(fl_splitter **out, size_t record_max, fl_diag *diag)
{
    fl_splitter *sp = fl_calloc(1, sizeof(*sp));
    if (!sp)
        return FL_ENOMEM;
    sp->diag = diag;
    sp->record_max = record_max ? record_max : FL_RECORD_MAX;
    sp->cap = sp->record_max + FL_READ_CHUNK + 16;
    sp->buf = sp->own_buf = fl_malloc(sp->cap);
    fl_buf_init(&sp->yaml_json, 2 * sp->record_max + 64);
    if (!sp->buf) {
        fl_free(sp);
        return FL_ENOMEM;
    }
    *out = sp;
    return 0;
}

void fl_splitter_free(fl_splitter *sp)
{
    if (!sp)
        return;
    fl_free(sp->own_buf);
    fl_buf_free(&sp->yaml_json);
    fl_free(sp);
}

void fl_splitter_set_diag(fl_splitter *sp, fl_diag *diag)
{
    sp->diag = diag;
}

void fl_splitter_begin(fl_splitter *sp, fl_stream *s)
{
    sp->s = s;
    sp->start = sp->end = 0;
    sp->eof = false;
    sp->buf = sp->own_buf;
    sp->released = 0;
    sp->map = fl_stream_map(s);
    if (sp->map) { /* the whole file is in view: fill() never runs, nothing is copied */
        sp->buf = (char *)fl_filemap_data(sp->map);
        sp->end = fl_filemap_len(sp->map);
        sp->eof = true;
        fl_stream_take(s, sp->end);
    }
    sp->detected = false;
    sp->fmt = FL_FMT_UNKNOWN;
    sp->line = 1;
    sp->skipping = false;
    sp->st = ST_TOP;
    sp->pos = 0;
    sp->in_array = false;
    sp->top_col = 0;
    sp->depth = 0;
    sp->str = (fl_json_str){0};
}

fl_format fl_splitter_format(const fl_splitter *sp)
{
    return sp->fmt;
}

/* Moves the needed bytes to the front and reads more. Returns the bytes read; 0 at the end. */
static size_t fill(fl_splitter *sp)
{
    if (sp->eof)
        return 0;
    if (sp->start > 0) {
        size_t keep = sp->end - sp->start;
        memmove(sp->buf, sp->buf + sp->start, keep);
        sp->pos -= FL_MIN(sp->pos, sp->start);
        sp->elem_start -= FL_MIN(sp->elem_start, sp->start);
        sp->end = keep;
        sp->start = 0;
    }
    size_t room = sp->cap - sp->end - 1;
    if (room == 0)
        return 0; /* cannot happen: records are capped well below the buffer size */
    /* At most one chunk per read, even when more room is free: the bytes just read are then
     * still in the core's cache when they are split and parsed (issue 15). */
    ssize_t got = fl_stream_read(sp->s, sp->buf + sp->end, FL_MIN(room, FL_READ_CHUNK));
    if (got <= 0) {
        sp->eof = true;
        return 0;
    }
    sp->end += (size_t)got;
    return (size_t)got;
}

static void oversize(fl_splitter *sp, uint64_t line)
{
    const char *name = fl_stream_name(sp->s);
    fl_diag_warn(sp->diag, FL_WARN_OVERSIZE, name, line,
                 "%s:%llu: record larger than %zu bytes skipped", name, (unsigned long long)line,
                 sp->record_max);
}

static void malformed(fl_splitter *sp, uint64_t line, const char *what)
{
    const char *name = fl_stream_name(sp->s);
    fl_diag_warn(sp->diag, FL_WARN_MALFORMED, name, line, "%s:%llu: %s", name,
                 (unsigned long long)line, what);
}

/* The first line of a source that is not JSON: is it something gcloud prints by default? */
static const char YAML_HINT[] = "yaml";

static const char *foreign_hint(const char *p, size_t n)
{
    const char *nl = memchr(p, '\n', n);
    size_t len = nl ? (size_t)(nl - p) : n;
    if (len >= 3 && memcmp(p, "---", 3) == 0 && (len == 3 || p[3] == ' ' || p[3] == '\r'))
        return YAML_HINT;
    /* A YAML mapping key that a LogEntry has, at column 0. */
    static const char *const keys[] = {"insertId:", "logName:", "httpRequest:", "jsonPayload:",
                                       "textPayload:", "protoPayload:", "receiveTimestamp:",
                                       "resource:", "severity:", "timestamp:", "labels:"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t kl = strlen(keys[k]);
        if (len >= kl && memcmp(p, keys[k], kl) == 0)
            return YAML_HINT;
    }
    /* "2026-07-25 03:05:02 ..." */
    if (len >= 19 && p[4] == '-' && p[7] == '-' && (p[10] == ' ' || p[10] == 'T') &&
        p[13] == ':' && p[16] == ':' && p[0] >= '0' && p[0] <= '9')
        return "this is text from 'gcloud run services logs read'; for faultline export the "
               "entries as JSON: gcloud logging read "
               "'resource.type=\"cloud_run_revision\" AND resource.labels.service_name=SERVICE' "
               "--format=json";
    return NULL;
}

/* Decides the format from the first bytes (skipping a UTF-8 BOM). */
static void detect(fl_splitter *sp)
{
    while (sp->end - sp->start < 3 && fill(sp) > 0)
        ;
    if (sp->end - sp->start >= 3 && memcmp(sp->buf + sp->start, "\xEF\xBB\xBF", 3) == 0)
        sp->start += 3;
    sp->pos = sp->start;
    size_t off = 0; /* offset from start: fill() moves the data */
    for (;;) {
        while (sp->start + off < sp->end && fl_json_ws(sp->buf[sp->start + off]))
            off++;
        if (sp->start + off < sp->end)
            break;
        if (off > sp->record_max) { /* an ocean of blanks: let the line reader skip them */
            sp->fmt = FL_FMT_NDJSON;
            sp->detected = true;
            return;
        }
        if (fill(sp) == 0)
            break;
    }
    size_t i = sp->start + off;
    sp->detected = true;
    const char *hint = i < sp->end && sp->buf[i] != '[' && sp->buf[i] != '{'
                           ? foreign_hint(sp->buf + i, sp->end - i)
                           : NULL;
    if (hint == YAML_HINT) {
        sp->fmt = FL_FMT_YAML;
        return;
    }
    if (hint) {
        uint64_t line = sp->line;
        for (size_t k = sp->start; k < i; k++)
            line += sp->buf[k] == '\n';
        malformed(sp, line, hint);
        sp->fmt = FL_FMT_FOREIGN;
        return;
    }
    if (i >= sp->end || sp->buf[i] != '[') {
        sp->fmt = FL_FMT_NDJSON;
        if (i < sp->end && sp->buf[i] == '{') {
            /* Complete object on the first line: NDJSON. Otherwise `jq .`-style objects. */
            size_t j = i;
            int depth = 0;
            fl_json_str str = {0};
            for (;;) {
                if (j >= sp->end) {
                    size_t at = j - sp->start;
                    if (at > sp->record_max || fill(sp) == 0)
                        return; /* long or last line: NDJSON handles both */
                    j = sp->start + at;
                    continue;
                }
                char c = sp->buf[j++];
                if (str.in_str && !str.esc && c == '\n')
                    break;
                if (fl_json_str_step(&str, c))
                    continue;
                if (c == '{' || c == '[')
                    depth++;
                else if ((c == '}' || c == ']') && --depth == 0)
                    break;
                else if (c == '\n')
                    break;
            }
            if (depth != 0) {
                sp->fmt = FL_FMT_CONCAT;
                return;
            }
            while (j < sp->end && (sp->buf[j] == ' ' || sp->buf[j] == '\t' || sp->buf[j] == '\r'))
                j++;
            if (j < sp->end && sp->buf[j] != '\n')
                sp->fmt = FL_FMT_CONCAT; /* "{...} {...}" on one line */
        }
        return;
    }
    sp->fmt = FL_FMT_ARRAY;
}

static int next_ndjson(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    for (;;) {
        char *p = sp->buf + sp->start;
        size_t avail = sp->end - sp->start;
        char *nl = avail ? memchr(p, '\n', avail) : NULL;
        size_t n;
        uint64_t ln = sp->line;
        if (nl) {
            n = (size_t)(nl - p);
            sp->start += n + 1;
            sp->line++;
            if (sp->skipping) {
                sp->skipping = false;
                continue;
            }
        } else {
            /* (A mapped file that shrank while read has zeros past its new end, not a line.) */
            if (!sp->skipping && avail > sp->record_max &&
                !(sp->map && fl_stream_damaged(sp->s))) {
                oversize(sp, ln);
                sp->skipping = true;
            }
            if (sp->skipping)
                sp->start = sp->end;
            if (fill(sp) > 0)
                continue;
            /* End of the stream: a last line without '\n' is a record, unless the stream was
             * cut (then it is the partial tail of the damage and is dropped silently). */
            if (sp->skipping || sp->start == sp->end || fl_stream_damaged(sp->s)) {
                sp->start = sp->end;
                return 0;
            }
            /* (fill moved the bytes to the front of the buffer before it found the end) */
            p = sp->buf + sp->start;
            n = sp->end - sp->start;
            sp->start = sp->end;
            sp->line++;
        }
        const char *q = p;
        fl_trim_line(&q, &n);
        if (n == 0)
            continue;
        if (n > sp->record_max) {
            oversize(sp, ln);
            continue;
        }
        *rec = q;
        *len = n;
        *line = ln;
        return 1;
    }
}

/* The next NDJSON line, parsed into e where it lies when it is one valid LogEntry (the parse
 * finds the line's end: no separate pass for the '\n'). Any other line (blank, invalid,
 * repaired, oversize, unfinished in the buffer, the last one without '\n') is cut by
 * next_ndjson as before and comes out unparsed, for the caller to parse and report. */
static int next_ndjson_entry(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line,
                             fl_entry *e, bool *parsed)
{
    if (sp->skipping)
        return next_ndjson(sp, rec, len, line);
    /* Blank lines first (next_ndjson would skip them too, then cut the line after them). */
    const char *p;
    size_t avail;
    for (;;) {
        p = sp->buf + sp->start;
        avail = sp->end - sp->start;
        if (avail && *p == '{')
            break;
        size_t i = 0;
        while (i < avail && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
            i++;
        if (i >= avail || p[i] != '\n')
            break;
        sp->start += i + 1;
        sp->line++;
    }
    size_t obj, obj_len, line_len;
    if (avail &&
        fl_entry_parse_fast_line(p, avail, sp->record_max, e, &obj, &obj_len, &line_len) == 0) {
        *rec = p + obj;
        *len = obj_len;
        *line = sp->line++;
        *parsed = true;
        sp->start += line_len + 1;
        return 1;
    }
    return next_ndjson(sp, rec, len, line);
}

/* True when the '{' at buf[i] is the first thing on its line at a column no deeper than the
 * current element's: in pretty-printed input that means the element never closed. */
static bool starts_new_element(const fl_splitter *sp, size_t i)
{
    if (sp->elem_indent < 0 || sp->skipping)
        return false;
    size_t j = i;
    while (j > sp->start && (sp->buf[j - 1] == ' ' || sp->buf[j - 1] == '\t'))
        j--;
    if (j == sp->start || sp->buf[j - 1] != '\n')
        return false;
    return (long)(i - j) <= sp->elem_indent;
}

#if FL_SPLIT_SSE2
#include <emmintrin.h>
#endif

/* Index of the next byte at or after i that the bracket scanner must look at: inside a string
 * '"', '\\' and '\n'; outside one '"', brackets and '\n'. 16 bytes at a time with SSE2. */
static inline size_t next_special(const char *b, size_t i, size_t end, bool in_str)
{
#if FL_SPLIT_SSE2
    const __m128i quote = _mm_set1_epi8('"'), nl = _mm_set1_epi8('\n');
    const __m128i bslash = _mm_set1_epi8('\\'), lower = _mm_set1_epi8(0x20);
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    while (i + 16 <= end) {
        __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, nl));
        if (in_str) {
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, bslash));
        } else {
            __m128i f = _mm_or_si128(v, lower); /* '[' -> '{', ']' -> '}' */
            m = _mm_or_si128(m, _mm_or_si128(_mm_cmpeq_epi8(f, open), _mm_cmpeq_epi8(f, close)));
        }
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz((unsigned)bits);
        i += 16;
    }
#endif
    for (; i < end; i++) {
        char c = b[i];
        if (c == '"' || c == '\n' ||
            (in_str ? c == '\\' : ((c | 0x20) == '{' || (c | 0x20) == '}')))
            break;
    }
    return i;
}

static void begin_element(fl_splitter *sp, size_t i, bool scalar)
{
    sp->st = ST_ELEM;
    sp->scalar = scalar;
    sp->depth = 0;
    sp->str = (fl_json_str){0};
    sp->elem_start = i;
    sp->start = i;
    sp->elem_line = sp->line;
    sp->elem_indent = sp->top_col;
    sp->skipping = false;
}

/* The element never closed: a '{' at line start, no deeper than the element's own, begins the
 * next one. Reports the broken element and starts over at i. */
static void cut_at_brace(fl_splitter *sp, size_t i)
{
    char what[96];
    snprintf(what, sizeof(what), "unbalanced JSON: element not closed before line %llu",
             (unsigned long long)sp->line);
    malformed(sp, sp->elem_line, what);
    size_t k = i;
    while (k > sp->start && sp->buf[k - 1] != '\n')
        k--;
    sp->top_col = (long)(i - k);
    begin_element(sp, i, false);
}

/* Scans element bytes [i, lim) one by one (strings with escapes, scalars, odd cases). Returns
 * where it stopped; *done when the element ended just before that. */
static size_t byte_step(fl_splitter *sp, size_t i, size_t lim, bool *done)
{
    const char *b = sp->buf;
    while (i < lim) {
        char c = b[i];
        if (sp->str.in_str) {
            if (!sp->str.esc && c == '\n') {
                /* Raw newlines cannot be inside a JSON string: the quote was unbalanced.
                 * Resynchronise here; the parser reports the element. */
                sp->str.in_str = false;
                sp->line++;
            } else if (fl_json_str_plain(&sp->str, c)) {
                i = next_special(b, i + 1, lim, true);
                continue;
            } else {
                fl_json_str_step(&sp->str, c);
            }
            i++;
            continue;
        }
        if (sp->scalar) {
            if (c == '"') {
                sp->str.in_str = true;
            } else if (c == '\n' || ((c == ',' || c == ']') && sp->in_array)) {
                *done = true;
                return i;
            }
            i++;
            continue;
        }
        switch (c) {
        case '"':
            sp->str.in_str = true;
            break;
        case '\n':
            sp->line++;
            break;
        case '{':
            if (sp->depth > 0 && starts_new_element(sp, i))
                cut_at_brace(sp, i);
            sp->depth++;
            break;
        case '[':
            sp->depth++;
            break;
        case '}':
        case ']':
            if (--sp->depth <= 0) {
                *done = true;
                return i + 1;
            }
            break;
        default:
            /* Keys, numbers, indentation: jump to the next byte that matters. */
            i = next_special(b, i + 1, lim, false);
            continue;
        }
        i++;
    }
    return i;
}

#if FL_SPLIT_SSE2
typedef struct block_masks {
    uint64_t quote, bslash, nl, open, close;
} block_masks;

static inline uint64_t mask16(__m128i eq, int k)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(eq) << (16 * k);
}

static inline void load_masks(const char *p, block_masks *m)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i nl = _mm_set1_epi8('\n'), lower = _mm_set1_epi8(0x20);
    const __m128i open = _mm_set1_epi8('{'), close = _mm_set1_epi8('}');
    memset(m, 0, sizeof(*m));
    for (int k = 0; k < 4; k++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i f = _mm_or_si128(v, lower); /* '[' -> '{', ']' -> '}' */
        m->quote |= mask16(_mm_cmpeq_epi8(v, quote), k);
        m->bslash |= mask16(_mm_cmpeq_epi8(v, bslash), k);
        m->nl |= mask16(_mm_cmpeq_epi8(v, nl), k);
        m->open |= mask16(_mm_cmpeq_epi8(f, open), k);
        m->close |= mask16(_mm_cmpeq_epi8(f, close), k);
    }
}

/* Newlines are sparse (a few per block): this beats the libgcc popcount without -mpopcnt. */
static inline uint64_t count_bits(uint64_t x)
{
    uint64_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

/* Bit i set when an odd number of quotes is at or before byte i: inside a string. */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}
#endif

/* Scans 64 bytes at once when they hold no backslash and no newline inside a string (the
 * common case): string spans come from the quote positions, and only the brackets outside
 * strings are visited. Returns false (nothing done) when the block needs the byte loop. */
static bool block_step(fl_splitter *sp, size_t *pi, bool *done)
{
#if FL_SPLIT_SSE2
    size_t i = *pi;
    const char *b = sp->buf;
    block_masks m;
    load_masks(b + i, &m);
    if (m.bslash)
        return false;
    uint64_t instr = prefix_xor(m.quote) ^ (sp->str.in_str ? ~UINT64_C(0) : 0);
    if (m.nl & instr)
        return false;
    uint64_t structural = (m.open | m.close) & ~instr;
    while (structural) {
        int k = __builtin_ctzll(structural);
        uint64_t below = k ? (~UINT64_C(0) >> (64 - k)) : 0;
        char c = b[i + (size_t)k];
        if (c == '{' || c == '[') {
            if (c == '{' && sp->depth > 0 && starts_new_element(sp, i + (size_t)k)) {
                sp->line += count_bits(m.nl & below);
                sp->str.in_str = false;
                cut_at_brace(sp, i + (size_t)k);
                sp->depth++;
                *pi = i + (size_t)k + 1;
                return true;
            }
            sp->depth++;
        } else if (--sp->depth <= 0) {
            sp->line += count_bits(m.nl & below);
            sp->str.in_str = false;
            *pi = i + (size_t)k + 1;
            *done = true;
            return true;
        }
        structural &= structural - 1;
    }
    sp->line += count_bits(m.nl);
    sp->str.in_str = (instr >> 63) != 0;
    *pi = i + 64;
    return true;
#else
    (void)sp;
    (void)pi;
    (void)done;
    return false;
#endif
}

/* The element that starts at sp->pos (a '{'), parsed where it lies: the bytes are read once,
 * by the parser, instead of once by the bracket scanner and again by the parser (issue 15).
 * Taken only when the scanner would cut the same record: the object is valid JSON (strings and
 * brackets balance, no string holds a newline), it fits in a record, and no '{' inside starts
 * a line at the element's own column or less (the scanner's cut for an unclosed element).
 * Anything else (invalid, repaired, oversize, not all read yet) returns false with nothing
 * changed, and the scanner takes the element as before. */
static bool parse_in_place(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    const char *p = sp->buf + sp->pos;
    fl_json_extent x;
    if (fl_entry_parse_fast_prefix(p, FL_MIN(sp->end - sp->pos, sp->record_max), sp->in_place,
                                   &x) != 0 ||
        (sp->top_col >= 0 && x.brace_col <= sp->top_col))
        return false;
    *rec = p;
    *len = x.len;
    *line = sp->line;
    *sp->parsed = true;
    sp->line += x.lines;
    sp->pos += x.len;
    sp->start = sp->pos;
    sp->top_col = -1;
    return true;
}

/* Between elements: the blanks, newlines and commas there (gcloud's "},\n  {"), read on locals
 * with SSE2 16 bytes at a time, with the effect on line, top_col, pos and start that
 * next_scan's byte-by-byte steps have (which load and store them all once per byte). Used on
 * the in-place path only, so that the scanner (next_scan) stays the reference the tests
 * compare it with. */
static void skip_between(fl_splitter *sp)
{
    const char *b = sp->buf;
    size_t i = sp->pos, end = sp->end;
    long col = sp->top_col;
    uint64_t line = sp->line;
#if FL_SPLIT_SSE2
    while (end - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
        __m128i nl = _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'));
        __m128i comma = _mm_cmpeq_epi8(v, _mm_set1_epi8(','));
        __m128i blank = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\t')),
                                                  _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
        unsigned run = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(nl, comma), blank));
        unsigned k = (unsigned)__builtin_ctz(~run); /* 16 when all of them are in the run */
        unsigned in_run = (1u << k) - 1;
        unsigned nls = (unsigned)_mm_movemask_epi8(nl) & in_run;
        unsigned commas = (unsigned)_mm_movemask_epi8(comma) & in_run;
        if (nls) {
            /* The column restarts after the last newline; a comma after it ends it. */
            unsigned last = 31u - (unsigned)__builtin_clz(nls);
            line += count_bits(nls);
            col = commas >> last ? -1 : (long)(k - last - 1);
        } else if (commas) {
            col = -1;
        } else if (col >= 0) {
            col += (long)k;
        }
        i += k;
        if (k < 16)
            break;
    }
#endif
    for (; i < end; i++) {
        char c = b[i];
        if (c == '\n') {
            line++;
            col = 0;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            col += col >= 0;
        } else if (c == ',') {
            col = -1;
        } else {
            break;
        }
    }
    if (i == sp->pos)
        return;
    sp->pos = sp->start = i;
    sp->line = line;
    sp->top_col = col;
}

/* The usual next element of a gcloud array read in place: after the blanks and comma before
 * it, an object that parse_in_place takes. Anything else returns false, and next_scan goes on
 * from where this stopped (the same state its own steps would have left). */
static bool next_in_place(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    if (sp->st != ST_TOP)
        return false;
    skip_between(sp);
    return sp->pos < sp->end && sp->buf[sp->pos] == '{' && parse_in_place(sp, rec, len, line);
}

static int next_scan(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    for (;;) {
        while (sp->pos < sp->end) {
            char *b = sp->buf;
            if (sp->st == ST_TOP) {
                char c = b[sp->pos];
                if (c == '\n') {
                    sp->line++;
                    sp->top_col = 0;
                } else if (c == ' ' || c == '\t' || c == '\r') {
                    if (sp->top_col >= 0)
                        sp->top_col++;
                } else if (c == ',') {
                    sp->top_col = -1;
                } else if (c == '[' && !sp->in_array) {
                    sp->in_array = true;
                    sp->fmt = FL_FMT_ARRAY;
                    sp->top_col = -1;
                } else if (c == ']' && sp->in_array) {
                    sp->in_array = false;
                    sp->top_col = -1;
                } else {
                    if (c == '{' && sp->in_place && parse_in_place(sp, rec, len, line))
                        return 1;
                    begin_element(sp, sp->pos, c != '{' && c != '[');
                    continue; /* the element loop looks at this byte again */
                }
                sp->pos++;
                sp->start = sp->pos;
                continue;
            }

            /* Inside an element. */
            size_t i = sp->pos, end = sp->end;
            bool done = false;
            while (i < end && !done) {
                if (!sp->scalar && !sp->str.esc && end - i >= 64 && block_step(sp, &i, &done))
                    continue;
                i = byte_step(sp, i, FL_MIN(end, i + 64), &done);
            }
            sp->pos = i;
            if (!sp->skipping && sp->pos - sp->elem_start > sp->record_max) {
                oversize(sp, sp->elem_line);
                sp->skipping = true;
            }
            if (sp->skipping)
                sp->start = sp->pos;
            if (!done)
                continue;
            sp->st = ST_TOP;
            sp->top_col = -1;
            sp->start = sp->pos;
            if (sp->skipping) {
                sp->skipping = false;
                continue;
            }
            size_t n = sp->pos - sp->elem_start;
            const char *p = b + sp->elem_start;
            while (n > 0 && fl_json_ws(p[n - 1]))
                n--;
            *rec = p;
            *len = n;
            *line = sp->elem_line;
            return 1;
        }
        if (fill(sp) > 0)
            continue;
        /* End of the stream. */
        if (sp->st == ST_ELEM) {
            sp->st = ST_TOP;
            bool damaged = fl_stream_damaged(sp->s);
            if (sp->skipping || damaged) {
                sp->skipping = false;
                return 0;
            }
            if (sp->scalar) {
                size_t n = sp->end - sp->elem_start;
                const char *p = sp->buf + sp->elem_start;
                while (n > 0 && fl_json_ws(p[n - 1]))
                    n--;
                sp->start = sp->pos = sp->end;
                *rec = p;
                *len = n;
                *line = sp->elem_line;
                return 1;
            }
            malformed(sp, sp->elem_line, "unbalanced JSON: element not closed at end of input");
            return 0;
        }
        if (sp->in_array && !fl_stream_damaged(sp->s)) {
            sp->in_array = false;
            malformed(sp, sp->line, "JSON array not closed at end of input (missing ']')");
        }
        return 0;
    }
}

static bool is_doc_separator(const char *s, size_t n)
{
    if (n < 3 || (memcmp(s, "---", 3) != 0 && memcmp(s, "...", 3) != 0))
        return false;
    for (size_t k = 3; k < n; k++)
        if (!fl_json_ws(s[k]))
            return false;
    return true;
}

/* gcloud's YAML: one document (up to a "---" line) per record, converted to JSON. A document
 * that cannot be read is a malformed record naming its first line. */
static int next_yaml(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    for (;;) {
        size_t off = 0; /* from sp->start: fill() moves the data */
        uint64_t lines = 0;
        bool content = false, at_end = false;
        for (;;) {
            char *p = sp->buf + sp->start + off;
            size_t avail = sp->end - sp->start - off;
            char *nl = avail ? memchr(p, '\n', avail) : NULL;
            if (!nl) {
                if (!sp->skipping && sp->end - sp->start > sp->record_max) {
                    oversize(sp, sp->line);
                    sp->skipping = true;
                }
                if (sp->skipping) { /* drop what is held, keep looking for the separator */
                    sp->line += lines;
                    lines = 0;
                    sp->start += off;
                    off = 0;
                }
                if (fill(sp) > 0)
                    continue;
                at_end = true;
                for (size_t k = sp->start + off; k < sp->end && !content; k++)
                    content = !fl_json_ws(sp->buf[k]);
                off = sp->end - sp->start;
                break;
            }
            size_t n = (size_t)(nl - p);
            if (is_doc_separator(p, n)) {
                if (content || sp->skipping)
                    break;
                /* A separator before any content: skip it. */
                sp->start += off + n + 1;
                sp->line += lines + 1;
                off = 0;
                lines = 0;
                continue;
            }
            for (size_t k = 0; k < n && !content; k++)
                content = !fl_json_ws(p[k]);
            off += n + 1;
            lines++;
        }
        const char *doc = sp->buf + sp->start;
        uint64_t first = sp->line;
        bool skipped = sp->skipping;
        sp->start += off;
        sp->line += lines;
        sp->skipping = false;
        if (skipped || !content) {
            if (at_end)
                return 0;
            continue;
        }
        char err[160] = "";
        int rc = fl_yaml_to_json(doc, off, &sp->yaml_json, err, sizeof err);
        if (rc == FL_ENOMEM)
            return rc;
        if (rc) {
            malformed(sp, first, rc == FL_ETOOBIG ? "YAML document too large" : err);
            if (at_end)
                return 0;
            continue;
        }
        *rec = sp->yaml_json.data;
        *len = sp->yaml_json.len;
        *line = first;
        return 1;
    }
}

/* Mapped input: gives back the pages behind what was handed out, 4 MiB at a time, so that a
 * file read in place does not stay in the resident set. Aligned ranges matter: giving back
 * unaligned ones left more resident (page cache folios are larger than a page), 22 MiB peak
 * instead of 17 on /tmp/pf/b.ndjson (13.7 with read(2)). 4 MiB and not 1 as the batch workers
 * (batch.c RELEASE_SHIFT): with several threads each release is a TLB-flush interrupt on the
 * other cores, and a gcloud array is cut here while workers run. */
#define RELEASE_STEP ((size_t)4 << 20)

fl_format fl_splitter_detect(fl_splitter *sp)
{
    if (!sp->detected)
        detect(sp);
    return sp->fmt;
}

void fl_splitter_take_rest(fl_splitter *sp, const char **p, size_t *n)
{
    *p = sp->buf + sp->start;
    *n = sp->end - sp->start;
    sp->start = sp->pos = sp->end;
}

/* Mapped input: the record handed out last was used before this call, so every page before
 * start is done and goes back. */
static void release_done(fl_splitter *sp)
{
    size_t upto = sp->start & ~(RELEASE_STEP - 1);
    if (sp->map && upto > sp->released) {
        fl_filemap_release(sp->map, sp->released, upto);
        sp->released = upto;
    }
}

int fl_splitter_next_entry(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line,
                          fl_entry *e, bool *parsed)
{
    *parsed = false;
    if (!sp->detected)
        detect(sp);
    release_done(sp);
    if (e && sp->fmt == FL_FMT_NDJSON)
        return next_ndjson_entry(sp, rec, len, line, e, parsed);
    if (!e || (sp->fmt != FL_FMT_ARRAY && sp->fmt != FL_FMT_CONCAT))
        return fl_splitter_next(sp, rec, len, line);
    sp->in_place = e;
    sp->parsed = parsed;
    int rc = next_in_place(sp, rec, len, line) ? 1 : next_scan(sp, rec, len, line);
    sp->in_place = NULL;
    sp->parsed = NULL;
    return rc;
}

int fl_splitter_next(fl_splitter *sp, const char **rec, size_t *len, uint64_t *line)
{
    if (!sp->detected)
        detect(sp);
    release_done(sp);
    if (sp->fmt == FL_FMT_FOREIGN)
        return 0; /* already said what it is; nothing in it can be read */
    if (sp->fmt == FL_FMT_YAML)
        return next_yaml(sp, rec, len, line);
    if (sp->fmt == FL_FMT_NDJSON)
        return next_ndjson(sp, rec, len, line);
    return next_scan(sp, rec, len, line);
}
