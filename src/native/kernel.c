/*
 * The forwarder's hot path in WebAssembly (built by scripts/build-wasm.mjs with clang
 * --target=wasm32; the result is embedded in src/native/kernel-wasm.ts).
 *
 * It turns the log groups of a decompressed PullLogs body into framed RFC 5424 or 3164 syslog
 * messages with a kv, JSON, CEF or LEEF body, optional STRUCTURED-DATA and, optionally,
 * severity/facility picked by rules on record fields, or Splunk HEC events: byte for byte what the
 * reference engine (src/format/reference-engine.ts) writes. Every naming decision comes from
 * src/format/kernel-plan.ts; invalid UTF-8 is repaired here as Buffer#toString does. Anything
 * else (an unusual protobuf encoding, a message over the size limit, a name the reference must
 * number) is handed back record by record, so correctness never depends on this file knowing every case.
 *
 * No libc: memory is static arrays plus one input region that grows with memory.grow. LZ4 is in
 * lz4.c, byte copies in bytes.h, value checks and escapes in values.h, digits in digits.h.
 */
#include "bytes.h"
#include "digits.h"
#include "values.h"

/* The JS side renders a key for the body (rename, quoting, CEF/LEEF name) into key_scratch, with
 * STRUCTURED-DATA its PARAM-NAME right after it (length and id in key_answer). Returns -2 if this
 * record must go to JS, else: bits 0-15 the rendered length, bit 16 excluded, bits 17-26 an id of
 * the name in the body (JSON, CEF, LEEF: a repeated name goes to JS), bits 27-30 the key's rule
 * slot + 1 (0: no rule or event header reads it). See kernel.ts answerKey. */
IMPORT(key) i32 js_key(u32 ptr, u32 len);
/* RFC 3164: the JS side writes the 15-byte `Mmm dd hh:mm:ss` of `seconds` (in the configured time
 * zone) into key_scratch. Called once per distinct second. */
IMPORT(stamp3164) void js_stamp3164(double seconds);

enum { ST_GROUP_DONE = 0, ST_OUT_FULL = 1, ST_FALLBACK = 2, ST_GROUP_FALLBACK = 3 };
/* QUOTE_ESCAPE: kv values through the body's escape table, as CEF and LEEF values. */
enum { QUOTE_NONE = 0, QUOTE_AUTO = 1, QUOTE_ALWAYS = 2, QUOTE_ESCAPE = 3 };
enum { FRAME_OCTET = 0, FRAME_NEWLINE = 1, FRAME_NONE = 2 };
/* The message kinds: RFC 5424 and 3164 syslog, and Splunk HEC's event envelope around a JSON body
 * (`{"time":S.mmm` + the group's `,"host":...,"event":` + body + `}`). */
enum { HEADER_5424 = 0, HEADER_3164 = 1, HEADER_HEC = 2 };

#define OUT_SIZE (2u << 20)
#define MAX_MESSAGE (256u << 10) /* longer messages go to JS */
#define KEY_SCRATCH_SIZE (64u << 10)
#define GROUP_AREA_SIZE (64u << 10)
#define MAX_EXTRAS 256
#define MAX_OUT_IDS 1024 /* ids of names in the message (JSON, CEF, LEEF names, SD PARAM-NAMEs) */
#define KEY_ARENA_SIZE (1u << 20)
#define MAX_KEYS 4096
#define KEY_SLOTS 8192
#define HINTS 256
#define STAMP_LEN_5424 27 /* YYYY-MM-DDThh:mm:ss.uuuuuuZ */
#define STAMP_LEN_3164 15 /* Mmm dd hh:mm:ss */
#define HEC_STAMP_ROOM 24 /* up to 20 digits, `.`, 3 digits */

/* Each region has SLACK spare bytes (bytes.h): copies may move 16 bytes at a time past their end. */
static u8 out[OUT_SIZE + SLACK];
static u8 key_scratch[KEY_SCRATCH_SIZE + SLACK];
static u8 group_area[GROUP_AREA_SIZE + SLACK];
static u32 extras_lens[MAX_EXTRAS], extras_ids[MAX_EXTRAS];
static u32 sd_extras_lens[MAX_EXTRAS], sd_extras_ids[MAX_EXTRAS];
static u8 key_arena[KEY_ARENA_SIZE + SLACK];
static u32 key_raw_off[MAX_KEYS], key_raw_len[MAX_KEYS], key_out_off[MAX_KEYS];
static i32 key_out_len[MAX_KEYS]; /* -1: excluded */
static u32 key_out_id[MAX_KEYS], key_rule[MAX_KEYS];
static u8 key_ip[MAX_KEYS];
/* STRUCTURED-DATA: each key's PARAM-NAME (in the arena) and an id of it (repeats go to JS). */
static u32 key_sd_off[MAX_KEYS], key_sd_len[MAX_KEYS], key_sd_id[MAX_KEYS];
/* The key callback's second answer: PARAM-NAME length and id (written by JS). */
/* [0] PARAM-NAME length, [1] its id, [2] bit 0: the key's value must be an IPv4 address, else JS decides. */
static u32 key_answer[3];
static u32 key_table[KEY_SLOTS]; /* key index + 1, 0 = empty */
static u32 hints[HINTS];         /* key index + 1 of the previous record's key at each position */
static u32 key_count, arena_used;

/* Settings (configure) */
enum { BODY_KV = 0, BODY_JSON = 1, BODY_NONE = 2, BODY_CEF = 3, BODY_LEEF = 4 };
static u32 body_format, quote_mode, framing, max_message;
static u32 rfc3164, hec, stamp_len = STAMP_LEN_5424;
/* STRUCTURED-DATA (configure_sd): `[id`, the most a header with its SD may take (the message limit
 * less the room the reference keeps for the body: past it, the reference's case), and the SD
 * being written for the current record. */
static u32 sd_mode, sd_limit, sd_open_len;
static u8 sd_open[40];
static u8 sd_buf[MAX_MESSAGE + SLACK];
static u32 sd_stamp[MAX_OUT_IDS];
/* CEF/LEEF (configure_event): the header's constant parts from JS, and which rule slots hold the
 * event id and name fields (NO_SLOT: none configured). */
#define NO_SLOT 255
#define EVENT_PART 256
static u8 ev_pre[EVENT_PART], ev_fallback[EVENT_PART], ev_mid[EVENT_PART], ev_post[EVENT_PART];
static u32 ev_pre_len, ev_fallback_len, ev_mid_len, ev_post_len;
static u32 ev_id_slot = NO_SLOT, ev_name_slot = NO_SLOT, ev_id_dotted, ev_name_dotted;
static u8 ev_severity[8]; /* the header's severity for each syslog severity (event-formats.ts) */
static u64 cached_second = ~0ull;
static u8 separator[64];
static u32 separator_len;
static u8 head[64]; /* "<PRI>1 " */
static u32 head_len;
static u8 lead[16]; /* " " or " " + BOM: between the header and a non-empty body */
static u32 lead_len;

/* Severity/facility rules (configure_rules), in order; first match wins, as in levels.ts. */
#define MAX_RULES 32
#define MAX_RULE_SLOTS 15
static u32 rule_count, default_severity, default_facility;
static u8 rule_kind[MAX_RULES], rule_slot[MAX_RULES], rule_star[MAX_RULES], rule_dotted[MAX_RULES], rule_level[MAX_RULES], rule_vlen[MAX_RULES];
static u8 rule_value[MAX_RULES][64];
/* Per record: the first value of each rule slot. */
static u32 slot_seen, slot_start[MAX_RULE_SLOTS], slot_len[MAX_RULE_SLOTS];

/* JSON: names already in this record (by id), stamped with the record's number. */
static u32 seen_stamp[MAX_OUT_IDS], record_stamp;

/* The current group (group_begin) */
static const u8 *in;
static u32 g_pos, g_end, g_index;
static u32 tail_len, extras_count, extras_len;
static i32 id_key_len; /* -1: no record id (or excluded) */
static u32 id_key_id;
static u32 id_prefix_len;
static u32 sd_extras_count, id_sd_len, id_sd_id;

static u32 prefix_guess = 4; /* "NNN " */
static u32 frame(u32 at, u32 offset, u32 len);

/* Values with invalid UTF-8, repaired for the current record (see repaired()). */
#define FIX_SIZE (3 * MAX_MESSAGE)
static u8 fix_buf[FIX_SIZE + SLACK];
static u32 fix_used;

/* Results of the last step */
static u32 out_len, records, message_bytes, fallback_index;

/* Day cache for the timestamp */
static i32 cached_day = -1;
static u8 day_prefix[11];

EXPORT(out_ptr) u32 out_ptr(void) { return (u32)(uintptr_t)out; }
EXPORT(key_scratch_ptr) u32 key_scratch_ptr(void) { return (u32)(uintptr_t)key_scratch; }
EXPORT(group_area_ptr) u32 group_area_ptr(void) { return (u32)(uintptr_t)group_area; }
EXPORT(extras_lens_ptr) u32 extras_lens_ptr(void) { return (u32)(uintptr_t)extras_lens; }
EXPORT(extras_ids_ptr) u32 extras_ids_ptr(void) { return (u32)(uintptr_t)extras_ids; }
EXPORT(sd_extras_lens_ptr) u32 sd_extras_lens_ptr(void) { return (u32)(uintptr_t)sd_extras_lens; }
EXPORT(sd_extras_ids_ptr) u32 sd_extras_ids_ptr(void) { return (u32)(uintptr_t)sd_extras_ids; }
EXPORT(key_answer_ptr) u32 key_answer_ptr(void) { return (u32)(uintptr_t)key_answer; }
EXPORT(out_length) u32 out_length(void) { return out_len; }
EXPORT(step_records) u32 step_records(void) { return records; }
EXPORT(step_message_bytes) u32 step_message_bytes(void) { return message_bytes; }
EXPORT(fallback_log) u32 fallback_log(void) { return fallback_index; }

extern u8 __heap_base;

/* The input region (a decompressed body) starts at the heap base and grows as needed. */
EXPORT(input_reserve) u32 input_reserve(u32 size) {
  u32 base = ((u32)(uintptr_t)&__heap_base + 15u) & ~15u;
  u64 need = (u64)base + size + SLACK;
  u64 have = (u64)__builtin_wasm_memory_size(0) << 16;
  if (need > have) {
    u64 pages = (need - have + 65535u) >> 16;
    if (__builtin_wasm_memory_grow(0, (u32)pages) == (uintptr_t)-1) return 0;
  }
  return base;
}

static void reset_keys(void) {
  for (u32 i = 0; i < KEY_SLOTS; i++) key_table[i] = 0;
  for (u32 i = 0; i < HINTS; i++) hints[i] = 0;
  key_count = 0;
  arena_used = 0;
}

EXPORT(configure)
void configure(u32 header_3164, u32 format, u32 quote, u32 frame, u32 max_msg, u32 sep_len, u32 head_length, u32 lead_length) {
  /* The JS side wrote separator, head and lead into key_scratch, one after another. */
  rfc3164 = header_3164 == HEADER_3164;
  hec = header_3164 == HEADER_HEC;
  /* HEC: the time is written with `head` (its length varies), so no fixed stamp. */
  stamp_len = hec ? 0 : rfc3164 ? STAMP_LEN_3164 : STAMP_LEN_5424;
  cached_second = ~0ull;
  body_format = format;
  quote_mode = quote;
  framing = frame;
  max_message = max_msg < MAX_MESSAGE ? max_msg : MAX_MESSAGE;
  separator_len = sep_len;
  head_len = head_length;
  lead_len = lead_length;
  copy_bytes(separator, key_scratch, sep_len);
  copy_bytes(head, key_scratch + sep_len, head_length);
  copy_bytes(lead, key_scratch + sep_len + head_length, lead_length);
  rule_count = 0;
  sd_mode = 0;
  ev_id_slot = ev_name_slot = NO_SLOT;
  reset_keys();
}

/* STRUCTURED-DATA on: `[id` is in key_scratch; `limit` is the configured message limit. */
/* CEF or LEEF body: key_scratch holds, one after another, the header's start (`CEF:0|V|P|Ver|`),
 * the escaped fallback event id (the logstore), and for LEEF the parts around the time
 * (`|x09|devTime=` and `<d>devTimeFormat=epoch_ms<d>sev=`), then the 8 header severities. */
EXPORT(configure_event)
void configure_event(u32 pre, u32 fallback, u32 mid, u32 post, u32 severity, u32 id_slot, u32 id_dotted, u32 name_slot, u32 name_dotted) {
  if (pre > EVENT_PART || fallback > EVENT_PART || mid > EVENT_PART || post > EVENT_PART) return;
  const u8 *p = key_scratch;
  copy_bytes(ev_pre, p, ev_pre_len = pre);
  copy_bytes(ev_fallback, p += pre, ev_fallback_len = fallback);
  copy_bytes(ev_mid, p += fallback, ev_mid_len = mid);
  copy_bytes(ev_post, p += mid, ev_post_len = post);
  copy_bytes(ev_severity, p + post, 8);
  default_severity = severity;
  ev_id_slot = id_slot;
  ev_id_dotted = id_dotted;
  ev_name_slot = name_slot;
  ev_name_dotted = name_dotted;
}

/* The escape tables (body, STRUCTURED-DATA, event header), then kv's quote triggers (`wide` of
 * them beyond ASCII), one after another in key_scratch. */
EXPORT(configure_escapes) void configure_escapes(u32 wide) {
  const u8 *p = key_scratch;
  for (u32 i = 0; i < ESC_TABLES; i++) p = read_escape_table(&escapes[i], p);
  read_quote_triggers(p, wide);
}

EXPORT(configure_sd) void configure_sd(u32 open_len, u32 limit) {
  sd_open_len = open_len < sizeof sd_open ? open_len : sizeof sd_open;
  copy_bytes(sd_open, key_scratch, sd_open_len);
  sd_limit = limit;
  sd_mode = 1;
}

/* Rules written by JS into key_scratch, 6 bytes + value each: kind (0 severity, 1 facility), slot,
 * star, dotted (the field name has a dot: when absent, JS must look inside JSON), level, value length. */
EXPORT(configure_rules) void configure_rules(u32 n, u32 severity, u32 facility) {
  const u8 *p = key_scratch;
  rule_count = n < MAX_RULES ? n : MAX_RULES;
  default_severity = severity;
  default_facility = facility;
  for (u32 i = 0; i < rule_count; i++) {
    rule_kind[i] = p[0];
    rule_slot[i] = p[1];
    rule_star[i] = p[2];
    rule_dotted[i] = p[3];
    rule_level[i] = p[4];
    rule_vlen[i] = p[5] < 64 ? p[5] : 64;
    copy_bytes(rule_value[i], p + 6, rule_vlen[i]);
    p += 6 + p[5];
  }
}

/* A group's parts are in group_area: tail, the extras (pre-rendered `key=value`), the record id's
 * key and prefix; with STRUCTURED-DATA then the group's SD params (` name="value"`, counted in
 * sd_extras_lens/ids) and the record id's PARAM-NAME. `in_base` is the input region; the group is
 * in[start, end). */
EXPORT(group_begin)
void group_begin(u32 in_base, u32 start, u32 end, u32 tail, u32 n_extras, i32 id_key, u32 id_prefix, u32 id_key_name,
                 u32 n_sd_extras, u32 id_sd_name_len, u32 id_sd_name_id) {
  id_key_id = id_key_name;
  sd_extras_count = n_sd_extras;
  id_sd_len = id_sd_name_len;
  id_sd_id = id_sd_name_id;
  in = (const u8 *)(uintptr_t)in_base;
  g_pos = start;
  g_end = end;
  g_index = 0;
  tail_len = tail;
  extras_count = n_extras;
  extras_len = 0;
  for (u32 i = 0; i < n_extras; i++) extras_len += extras_lens[i];
  id_key_len = id_key;
  id_prefix_len = id_prefix;
}

/* Reads a varint at *p (< end) the way the JS decoder does: chunks past bit 32 are dropped.
 * Returns 0 if it runs past `end` or is over 10 bytes. */
static int read_varint(u32 *p, u32 end, u64 *value) {
  u64 result = 0;
  u32 shift = 0;
  for (;;) {
    if (*p >= end) return 0;
    u8 b = in[(*p)++];
    if (shift < 32) result += (u64)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
    shift += 7;
    if (shift > 63) return 0;
  }
  *value = result;
  return 1;
}

/* A length that must fit below 2^31 (lengths in a sane body always do). */
static int read_length(u32 *p, u32 end, u32 *len) {
  u8 b;
  if (*p >= end) return 0;
  b = in[*p];
  if (b < 0x80) {
    (*p)++;
    *len = b;
    return 1;
  }
  u64 v;
  if (!read_varint(p, end, &v) || v >= 0x80000000u) return 0;
  *len = (u32)v;
  return 1;
}

static u32 hash_bytes(const u8 *s, u32 n) {
  u32 h = 0x811c9dc5u;
  for (u32 i = 0; i < n; i++) h = (h ^ s[i]) * 0x01000193u;
  return h;
}

/* The key index (>= 0) for raw key bytes, or -1 if the record must go to JS. */
/* A dotted-quad IPv4 address as node's net.isIPv4 takes it: four 0-255 parts, no leading zero. */
static int is_ipv4(const u8 *v, u32 len) {
  u32 parts = 0, i = 0;
  while (parts < 4) {
    u32 start = i, n = 0;
    while (i < len && v[i] >= '0' && v[i] <= '9' && i - start < 3) n = n * 10 + (v[i++] - '0');
    if (i == start || n > 255 || (v[start] == '0' && i - start > 1)) return 0;
    parts++;
    if (parts < 4) {
      if (i >= len || v[i] != '.') return 0;
      i++;
    }
  }
  return i == len;
}

static i32 key_index(u32 slot, const u8 *raw, u32 len) {
  if (slot < HINTS && hints[slot]) {
    u32 k = hints[slot] - 1;
    if (key_raw_len[k] == len && same_key(key_arena + key_raw_off[k], raw, len)) return (i32)k;
  }
  u32 h = hash_bytes(raw, len);
  u32 i = h & (KEY_SLOTS - 1);
  while (key_table[i]) {
    u32 k = key_table[i] - 1;
    if (key_raw_len[k] == len && same_bytes(key_arena + key_raw_off[k], raw, len)) {
      if (slot < HINTS) hints[slot] = k + 1;
      return (i32)k;
    }
    i = (i + 1) & (KEY_SLOTS - 1);
  }
  if (len > KEY_SCRATCH_SIZE) return -1;
  copy_bytes(key_scratch, raw, len);
  i32 packed = js_key((u32)(uintptr_t)key_scratch, len);
  if (packed < 0) return -1;
  u32 out_bytes = (u32)packed & 0xffff;
  i32 n = (packed >> 16) & 1 ? -1 : (i32)out_bytes;
  /* The PARAM-NAME follows the rendered key in key_scratch. */
  u32 sd_bytes = sd_mode ? key_answer[0] : 0;
  if (out_bytes + sd_bytes > KEY_SCRATCH_SIZE) return -1;
  out_bytes += sd_bytes;
  if (key_count >= MAX_KEYS || arena_used + len + out_bytes > KEY_ARENA_SIZE) {
    /* Hostile data with endless distinct keys must not grow memory: start over. */
    reset_keys();
    if (len + out_bytes > KEY_ARENA_SIZE) return -1;
    i = h & (KEY_SLOTS - 1);
  }
  u32 k = key_count++;
  key_raw_off[k] = arena_used;
  key_raw_len[k] = len;
  copy_bytes(key_arena + arena_used, raw, len);
  arena_used += len;
  key_out_off[k] = arena_used;
  key_out_len[k] = n;
  key_sd_off[k] = key_out_off[k] + (out_bytes - sd_bytes);
  key_sd_len[k] = sd_bytes;
  key_sd_id[k] = sd_mode ? key_answer[1] & 0x3ff : 0;
  key_out_id[k] = ((u32)packed >> 17) & 0x3ff;
  key_rule[k] = ((u32)packed >> 27) & 0xf;
  key_ip[k] = key_answer[2] & 1;
  copy_bytes(key_arena + arena_used, key_scratch, out_bytes);
  arena_used += out_bytes;
  key_table[i] = k + 1;
  if (slot < HINTS) hints[slot] = k + 1;
  return (i32)k;
}

static void write_day(i32 day) {
  /* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
  i32 z = day + 719468;
  i32 era = (z >= 0 ? z : z - 146096) / 146097;
  u32 doe = (u32)(z - era * 146097);
  u32 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  i32 y = (i32)yoe + era * 400;
  u32 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  u32 mp = (5 * doy + 2) / 153;
  u32 d = doy - (153 * mp + 2) / 5 + 1;
  u32 m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  u8 *p = two_digits(two_digits(day_prefix, (u32)y / 100), (u32)y % 100);
  *p++ = '-';
  p = two_digits(p, m);
  *p++ = '-';
  p = two_digits(p, d);
  *p = 'T';
  cached_day = day;
}

static u8 second_prefix[20]; /* YYYY-MM-DDThh:mm:ss. (RFC 3164: the whole 15-byte stamp) */

static void write_stamp(u8 *o, u64 seconds, u32 nanos) {
  if (rfc3164) {
    if (seconds != cached_second) {
      js_stamp3164((double)seconds);
      copy_bytes(second_prefix, key_scratch, STAMP_LEN_3164);
      cached_second = seconds;
    }
    copy_bytes(o, second_prefix, STAMP_LEN_3164);
    return;
  }
  if (seconds != cached_second) {
    i32 day = (i32)(seconds / 86400);
    if (day != cached_day) write_day(day);
    u8 *q = second_prefix;
    copy_bytes(q, day_prefix, 11);
    q += 11;
    u32 t = (u32)(seconds - (u64)day * 86400);
    q = two_digits(q, t / 3600);
    *q++ = ':';
    q = two_digits(q, t % 3600 / 60);
    *q++ = ':';
    q = two_digits(q, t % 60);
    *q = '.';
    cached_second = seconds;
  }
  __builtin_memcpy(o, second_prefix, 20);
  o += 11;
  u32 micros = (nanos > 999999999u ? 999999999u : nanos) / 1000;
  for (int i = 14; i >= 9; i--) {
    o[i] = '0' + (u8)(micros % 10);
    micros /= 10;
  }
  o[15] = 'Z';
}


/* A value with invalid UTF-8, as Buffer#toString reads it (each maximal ill-formed subsequence one
 * U+FFFD), in fix_buf: GBK-encoded logstores stay on the kernel. 0 if fix_buf is full (JS's case). */
static const u8 *repaired(const u8 *v, u32 *n) {
  if (3 * *n > FIX_SIZE - fix_used) return 0;
  u8 *o = fix_buf + fix_used;
  *n = repair_utf8(o, v, *n);
  fix_used += *n;
  return o;
}

/* Whether a value needs the table: 1 yes, 0 a plain copy will do, -1 invalid UTF-8. */
static inline int value_work(const escape_table *t, const u8 *v, u32 vl) {
  if (!needs_work(t, v, vl)) return 0;
  return scan_value(v, vl, 0, 0, 0) < 0 ? -1 : 1;
}

/* The value escaped by the table if `work`, else copied as is; returns the bytes written, -1: the reference's. */
static inline i32 put_value(const escape_table *t, u8 *o, const u8 *v, u32 vl, int work) {
  if (work) return write_escaped(t, o, v, vl);
  copy_wild(o, v, vl);
  return (i32)vl;
}

/* `[sep]key=` of a kv field (room checked by the caller). */
static inline u8 *put_kv_key(u8 *o, int *first, const u8 *key, u32 klen) {
  if (!*first) {
    copy_wild(o, separator, separator_len);
    o += separator_len;
  }
  *first = 0;
  copy_wild(o, key, klen);
  o += klen;
  *o++ = '=';
  return o;
}

/*
 * Appends one field to the body at *op: `[sep]key=value` (kv) or `[,]"key":"value"` (JSON; the
 * key as JS rendered it includes `"key":`). Returns 0 if the record must go to JS.
 */
static int put_field(u8 **op, const u8 *limit, int *first, const u8 *key, u32 klen, const u8 *v, u32 vl) {
  u8 *o = *op;
  if (body_format == BODY_JSON) {
    const escape_table *t = &escapes[ESC_BODY];
    int work = value_work(t, v, vl);
    if (work < 0 && !(work = 1, v = repaired(v, &vl))) return 0;
    if (1 + klen + 2 + (work ? t->widest * vl : vl) > (u32)(limit - o)) return 0;
    if (!*first) *o++ = ',';
    *first = 0;
    copy_wild(o, key, klen);
    o += klen;
    *o++ = '"';
    i32 n = put_value(t, o, v, vl, work);
    if (n < 0) return 0;
    o += n;
    *o++ = '"';
    *op = o;
    return 1;
  }
  if (body_format >= BODY_CEF || quote_mode == QUOTE_ESCAPE) {
    /* ` name=value` (CEF), `<d>name=value` (LEEF) or `[sep]name=value` (kv, escaped). */
    const escape_table *t = &escapes[ESC_BODY];
    int work = value_work(t, v, vl);
    if (work < 0 && !(work = 1, v = repaired(v, &vl))) return 0;
    if (separator_len + klen + 1 + (work ? t->widest * vl : vl) > (u32)(limit - o)) return 0;
    o = put_kv_key(o, first, key, klen);
    i32 n = put_value(t, o, v, vl, work);
    if (n < 0) return 0;
    *op = o + n;
    return 1;
  }
  if (quote_mode == QUOTE_NONE) {
    if (separator_len + klen + 1 + vl > (u32)(limit - o)) return 0;
    o = put_kv_key(o, first, key, klen);
    /* Copied and checked in one pass; only non-ASCII values get the full UTF-8 check. */
    if (copy_wild_high(o, v, vl) && scan_value(v, vl, 0, separator, separator_len) < 0) {
      if (!(v = repaired(v, &vl)) || vl > (u32)(limit - o)) return 0;
      copy_wild(o, v, vl);
    }
    *op = o + vl;
    return 1;
  }
  int verdict = scan_value(v, vl, quote_mode == QUOTE_AUTO, separator, separator_len);
  if (verdict < 0) {
    if (!(v = repaired(v, &vl))) return 0;
    verdict = scan_value(v, vl, quote_mode == QUOTE_AUTO, separator, separator_len);
  }
  int quoted = quote_mode == QUOTE_ALWAYS || verdict == 1;
  const escape_table *t = &escapes[ESC_BODY];
  if (separator_len + klen + 1 + (quoted ? t->widest * vl + 2 : vl) > (u32)(limit - o)) return 0;
  o = put_kv_key(o, first, key, klen);
  if (!quoted) {
    copy_wild(o, v, vl);
    *op = o + vl;
    return 1;
  }
  *o++ = '"';
  i32 n = write_escaped(t, o, v, vl);
  if (n < 0) return 0;
  o += n;
  *o++ = '"';
  *op = o;
  return 1;
}

/* Appends ` name="value"` to the STRUCTURED-DATA at *qp. Returns 0 if the record must go to JS
 * (a PARAM-NAME repeated in the record, which JS numbers; invalid UTF-8; no room). */
static int put_param(u8 **qp, const u8 *limit, const u8 *name, u32 nlen, u32 id, const u8 *v, u32 vl) {
  if (sd_stamp[id] == record_stamp) return 0;
  sd_stamp[id] = record_stamp;
  const escape_table *t = &escapes[ESC_SD];
  int work = value_work(t, v, vl);
  if (work < 0 && !(work = 1, v = repaired(v, &vl))) return 0;
  u8 *q = *qp;
  if (4 + nlen + (work ? t->widest * vl : vl) > (u32)(limit - q)) return 0;
  *q++ = ' ';
  copy_wild(q, name, nlen);
  q += nlen;
  *q++ = '=';
  *q++ = '"';
  i32 n = put_value(t, q, v, vl, work);
  if (n < 0) return 0;
  q += n;
  *q++ = '"';
  *qp = q;
  return 1;
}

/* JSON, CEF, LEEF: a name already used in this record goes to JS (it numbers repeats). */
static inline int name_repeats(u32 id) {
  if (body_format != BODY_JSON && body_format < BODY_CEF) return 0;
  if (seen_stamp[id] == record_stamp) return 1;
  seen_stamp[id] = record_stamp;
  return 0;
}

/* The level picked by the rules of `kind` (levels.ts: first match wins), or -1 if JS must decide. */
static i32 level_for(u32 kind, u32 fallback) {
  for (u32 r = 0; r < rule_count; r++) {
    if (rule_kind[r] != kind) continue;
    u32 slot = rule_slot[r];
    if (!(slot_seen & (1u << slot))) {
      if (rule_dotted[r]) return -1; /* maybe a path into a JSON field */
      continue;
    }
    const u8 *v = in + slot_start[slot];
    u32 n = slot_len[slot];
    if (n == 0) continue;
    if (rule_star[r]) return rule_level[r];
    for (u32 i = 0; i < n; i++)
      if (v[i] >= 0x80) return -1; /* Unicode lower-casing: JS */
    if (n != rule_vlen[r]) continue;
    u32 i = 0;
    for (; i < n; i++) {
      u8 c = v[i];
      if (c >= 'A' && c <= 'Z') c += 32;
      if (c != rule_value[r][i]) break;
    }
    if (i == n) return rule_level[r];
  }
  return (i32)fallback;
}

/* `<PRI>1 ` (RFC 5424) or `<PRI>` (RFC 3164) for a priority 0-191; returns its length. */
static u32 write_pri(u8 *o, u32 pri) {
  u8 *start = o;
  *o++ = '<';
  if (pri >= 100) *o++ = '0' + (u8)(pri / 100);
  if (pri >= 10) *o++ = '0' + (u8)(pri / 10 % 10);
  *o++ = '0' + (u8)(pri % 10);
  *o++ = '>';
  if (!rfc3164) {
    *o++ = '1';
    *o++ = ' ';
  }
  return (u32)(o - start);
}

/* x in decimal (64-bit: event times in ms); returns the number of digits. */
static u32 write_decimal64(u8 *o, u64 x) {
  u8 digits[20];
  u32 n = 0;
  do {
    digits[n++] = '0' + (u8)(x % 10);
    x /= 10;
  } while (x);
  for (u32 i = 0; i < n; i++) o[i] = digits[n - 1 - i];
  return n;
}

/* The event id or name field's value for the header: 1 and its span if usable, 0 for the
 * fallback, -1 if JS must decide (a dotted name that may point into JSON, invalid UTF-8). */
static int event_field(u32 slot, u32 dotted, const u8 **v, u32 *n) {
  if (slot == NO_SLOT) return 0;
  if (!(slot_seen & (1u << slot))) return dotted ? -1 : 0;
  *v = in + slot_start[slot];
  *n = slot_len[slot];
  if (*n == 0) return 0;
  if (scan_value(*v, *n, 0, 0, 0) >= 0) return 1;
  return (*v = repaired(*v, n)) ? 1 : -1;
}

/* The CEF/LEEF header (everything before the first extension) at o; returns its length, or -1. */
static i32 write_event_head(u8 *o, const u8 *o_limit, u32 severity, u64 time_ms) {
  const u8 *id = 0, *name = 0;
  u32 id_len = 0, name_len = 0;
  int has_id = event_field(ev_id_slot, ev_id_dotted, &id, &id_len);
  int has_name = body_format == BODY_CEF ? event_field(ev_name_slot, ev_name_dotted, &name, &name_len) : 0;
  if (has_id < 0 || has_name < 0) return -1;
  const escape_table *t = &escapes[ESC_HEADER];
  u32 most = ev_pre_len + t->widest * (id_len + name_len) + 2 * ev_fallback_len + ev_mid_len + ev_post_len + 48;
  if (most > (u32)(o_limit - o)) return -1;
  u8 *start = o;
  copy_bytes(o, ev_pre, ev_pre_len);
  o += ev_pre_len;
  u8 *id_at = o;
  if (has_id) {
    i32 n = write_escaped(t, o, id, id_len);
    if (n < 0) return -1;
    o += n;
  } else {
    copy_bytes(o, ev_fallback, ev_fallback_len);
    o += ev_fallback_len;
  }
  u32 id_written = (u32)(o - id_at);
  if (body_format == BODY_CEF) {
    *o++ = '|';
    if (has_name) {
      i32 n = write_escaped(t, o, name, name_len);
      if (n < 0) return -1;
      o += n;
    } else {
      __builtin_memmove(o, id_at, id_written); /* the name defaults to the id */
      o += id_written;
    }
    *o++ = '|';
    o += write_decimal(o, ev_severity[severity & 7]);
    *o++ = '|';
    *o++ = 'r';
    *o++ = 't';
    *o++ = '=';
    o += write_decimal64(o, time_ms);
  } else {
    copy_bytes(o, ev_mid, ev_mid_len);
    o += ev_mid_len;
    o += write_decimal64(o, time_ms);
    copy_bytes(o, ev_post, ev_post_len);
    o += ev_post_len;
    o += write_decimal(o, ev_severity[severity & 7]);
  }
  return (i32)(o - start);
}

/*
 * Formats one Log (in[start, end)) as an unframed message at `msg` (room: `room` bytes). Returns
 * its length | (its start - msg) << 24 (with rules a short PRI starts a few bytes in), or -1 if
 * this record must go to JS.
 */
static i32 format_log(u32 start, u32 end, u8 *msg, u32 room) {
  u64 time = 0;
  u32 nanos = 0;
  /* With rules the PRI is known only after the body: room for the longest, `<191>1 ` / `<191>`. */
  u32 max_pri = hec ? head_len + HEC_STAMP_ROOM : rfc3164 ? 5 : 7;
  u32 head_room = rule_count || hec ? max_pri : head_len;
  u32 header = head_room + stamp_len + tail_len;
  if (header + lead_len + 2 > room) return -1;
  u8 *body = msg + header + lead_len;
  u8 *o = body;
  u8 *limit = msg + room;
  int first = 1;
  u32 slot = 0;
  u32 p = start;
  record_stamp++;
  slot_seen = 0;
  if (body_format == BODY_JSON) *o++ = '{';
  limit -= (body_format == BODY_JSON) + hec; /* keep room for the closing braces */
  fix_used = 0;
  if (body_format >= BODY_CEF) first = 0; /* every extension follows the event header */
  /* kv raw, or escaped and this value needs no escape: copied inline (the common case). */
  const int plain_kv = body_format == BODY_KV && quote_mode == QUOTE_NONE;
  const int escaped_kv = body_format == BODY_KV && quote_mode == QUOTE_ESCAPE;
  /* STRUCTURED-DATA goes to sd_buf while the body is written; it is moved in front at the end. */
  u8 *q = sd_buf;
  const u8 *q_limit = sd_buf + room - 1; /* room for `]` */
  if (sd_mode) {
    copy_bytes(q, sd_open, sd_open_len);
    q += sd_open_len;
  }
  while (p < end) {
    u8 tag = in[p++];
    if (tag == 0x12) {
      u32 len, pair_end, kl, vl;
      if (!read_length(&p, end, &len) || len > end - p) return -1;
      pair_end = p + len;
      /* The usual pair: key (1) then value (2), nothing else. */
      if (p >= pair_end || in[p++] != 0x0a || !read_length(&p, pair_end, &kl) || kl > pair_end - p) return -1;
      u32 ks = p;
      p += kl;
      if (p >= pair_end || in[p++] != 0x12 || !read_length(&p, pair_end, &vl) || vl != pair_end - p) return -1;
      u32 vs = p;
      p = pair_end;
      i32 k = key_index(slot++, in + ks, kl);
      if (k < 0) return -1;
      u32 rule = key_rule[k];
      if (rule && !(slot_seen & (1u << (rule - 1)))) {
        /* A rule reads the first value of its field (excluded or not). */
        slot_seen |= 1u << (rule - 1);
        slot_start[rule - 1] = vs;
        slot_len[rule - 1] = vl;
      }
      i32 kout = key_out_len[k];
      if (kout < 0) continue; /* excluded */
      /* A standard key that holds an address (CEF/LEEF src, dst): a value that is none keeps its own name, in JS. */
      if (key_ip[k] && !is_ipv4(in + vs, vl)) return -1;
      if (sd_mode && !put_param(&q, q_limit, key_arena + key_sd_off[k], key_sd_len[k], key_sd_id[k], in + vs, vl)) return -1;
      if (body_format == BODY_NONE) continue;
      if (escaped_kv) {
        /* Escaped kv: copied and tested in one pass; a value that needs the table is written again below. */
        if (separator_len + (u32)kout + 1 + vl > (u32)(limit - o)) return -1;
        u8 *at = o;
        int first_before = first;
        o = put_kv_key(o, &first, key_arena + key_out_off[k], (u32)kout);
        const escape_table *t = &escapes[ESC_BODY];
        if (!copy_special(t, o, in + vs, vl)) {
          o += vl;
          continue;
        }
        /* Needs escapes: ASCII ones here, in one pass; anything else by the general writer below. */
        if (t->widest * vl <= (u32)(limit - o)) {
          i32 n = escape_ascii(t, o, in + vs, vl);
          if (n >= 0) {
            o += n;
            continue;
          }
        }
        o = at;
        first = first_before;
      } else if (plain_kv) {
        /* The common case inline: `[sep]key=value`, copied and ASCII-checked in one pass. */
        if (separator_len + (u32)kout + 1 + vl > (u32)(limit - o)) return -1;
        o = put_kv_key(o, &first, key_arena + key_out_off[k], (u32)kout);
        if (copy_wild_high(o, in + vs, vl) && scan_value(in + vs, vl, 0, 0, 0) < 0) {
          u32 fixed = vl;
          const u8 *r = repaired(in + vs, &fixed);
          if (!r || fixed > (u32)(limit - o)) return -1;
          copy_wild(o, r, fixed);
          o += fixed;
          continue;
        }
        o += vl;
        continue;
      }
      if (name_repeats(key_out_id[k])) return -1;
      if (!put_field(&o, limit, &first, key_arena + key_out_off[k], (u32)kout, in + vs, vl)) return -1;
    } else if (tag == 0x08) {
      if (!read_varint(&p, end, &time)) return -1;
    } else if (tag == 0x25) {
      if (end - p < 4) return -1;
      nanos = (u32)in[p] | ((u32)in[p + 1] << 8) | ((u32)in[p + 2] << 16) | ((u32)in[p + 3] << 24);
      p += 4;
    } else return -1;
  }
  /* Group-level fields (__topic__, __source__, tags), already rendered by JS. */
  const u8 *sd_extra = group_area + tail_len + extras_len + (id_key_len > 0 ? (u32)id_key_len : 0) + id_prefix_len;
  for (u32 i = 0; i < sd_extras_count; i++) {
    u32 n = sd_extras_lens[i];
    if (sd_stamp[sd_extras_ids[i]] == record_stamp) return -1;
    sd_stamp[sd_extras_ids[i]] = record_stamp;
    if (n > (u32)(q_limit - q)) return -1;
    copy_wild(q, sd_extra, n);
    q += n;
    sd_extra += n;
  }
  const u8 *extra = group_area + tail_len;
  for (u32 i = 0; body_format != BODY_NONE && i < extras_count; i++) {
    u32 n = extras_lens[i];
    if (name_repeats(extras_ids[i])) return -1;
    if (separator_len + n > (u32)(limit - o)) return -1;
    if (!first) {
      copy_wild(o, separator, separator_len);
      o += separator_len;
    }
    first = 0;
    copy_wild(o, extra, n);
    o += n;
    extra += n;
  }
  if (id_key_len >= 0) {
    /* __record_id__ = prefix + index, written like any value. */
    u8 value[80];
    u32 vl = id_prefix_len;
    if (vl > 64) return -1;
    copy_wild(value, group_area + tail_len + extras_len + (u32)id_key_len, vl);
    vl += write_decimal(value + vl, g_index);
    if (sd_mode && !put_param(&q, q_limit, sd_extra, id_sd_len, id_sd_id, value, vl)) return -1;
    if (body_format != BODY_NONE) {
      if (name_repeats(id_key_id)) return -1;
      if (!put_field(&o, limit, &first, group_area + tail_len + extras_len, (u32)id_key_len, value, vl)) return -1;
    }
  }
  if (body_format == BODY_JSON) *o++ = '}';
  if (hec) *o++ = '}';
  if (sd_mode) *q++ = ']';
  u32 body_len = (u32)(o - body), sd_len = (u32)(q - sd_buf);
  /* The header goes in front of the body: exact copies here, a wild one would overwrite the body. */
  u32 delta = 0, pri_len = head_len;
  i32 severity = (i32)default_severity;
  if (rule_count) {
    i32 facility = level_for(1, default_facility);
    severity = level_for(0, default_severity);
    if (severity < 0 || facility < 0) return -1;
    u8 pri[8];
    pri_len = write_pri(pri, (u32)facility * 8 + (u32)severity);
    delta = max_pri - pri_len; /* a shorter PRI: the message starts later */
    copy_bytes(msg + delta, pri, pri_len);
  } else if (hec) {
    /* `{"time":<seconds>.<milliseconds>`, as long as its digits: the message starts later. */
    u8 front[64 + HEC_STAMP_ROOM];
    copy_bytes(front, head, head_len);
    u32 n = head_len + write_decimal64(front + head_len, time);
    u32 ms = (nanos > 999999999u ? 999999999u : nanos) / 1000000;
    front[n++] = '.';
    front[n++] = '0' + (u8)(ms / 100);
    front[n++] = '0' + (u8)(ms / 10 % 10);
    front[n++] = '0' + (u8)(ms % 10);
    pri_len = n;
    delta = max_pri - n;
    copy_bytes(msg + delta, front, n);
  } else copy_bytes(msg, head, head_len);
  if (body_format >= BODY_CEF) {
    /* The event header goes in front of the extensions, now that the severity is known. */
    i32 h = write_event_head(sd_buf, sd_buf + room, (u32)severity, time * 1000 + nanos / 1000000);
    if (h < 0 || header + lead_len + (u32)h + body_len > room) return -1;
    __builtin_memmove(body + h, body, body_len);
    copy_bytes(body, sd_buf, (u32)h);
    body_len += (u32)h;
  }
  u8 *m = msg + delta;
  if (!hec) write_stamp(m + pri_len, time, nanos);
  copy_bytes(m + pri_len + stamp_len, group_area, tail_len);
  if (sd_mode) {
    /* SD that leaves too little of the limit is dropped for `-` (syslog-message.ts): the reference's case. */
    if (pri_len + stamp_len + tail_len + sd_len > sd_limit) return -1;
    if (header + sd_len + lead_len + body_len > room) return -1;
    if (body_len) __builtin_memmove(body + sd_len, body, body_len);
    copy_bytes(msg + header, sd_buf, sd_len);
  }
  u32 at = header + sd_len;
  if (body_len == 0) return (i32)((at - delta) | delta << 24); /* empty body: no trailing space or BOM */
  copy_bytes(msg + at, lead, lead_len);
  return (i32)((at + lead_len + body_len - delta) | delta << 24);
}

static u32 last_prefix = 4;

/*
 * Frames the message at out[at + offset] so that the frame starts at out[at]: octet-counting puts
 * `LEN ` before it (no move when `offset` was guessed right), newline framing ends it with LF (and
 * escapes CR/LF/\ in a message that holds a line break). Returns the frame's end.
 */
static u32 frame(u32 at, u32 offset, u32 len) {
  u8 *msg = out + at + offset;
  if (framing == FRAME_NONE) {
    if (offset) __builtin_memmove(out + at, msg, len);
    return at + len;
  }
  if (framing == FRAME_OCTET) {
    u32 nd = decimal_length(len);
    last_prefix = nd + 1;
    u8 *o = out + at + nd + 1;
    if (o != msg) __builtin_memmove(o, msg, len); /* first: a longer prefix overlaps the message */
    write_decimal(out + at, len);
    out[at + nd] = ' ';
    return at + nd + 1 + len;
  }
  if (offset) {
    __builtin_memmove(out + at, msg, len);
    msg = out + at;
  }
  /* Newline framing: in a message that holds a line break, LF, CR and backslash become \n, \r and
     \\; any other message goes as it is (CEF, LEEF, JSON and escaped kv escape their own), then
     one LF ends it. */
  u32 breaks = 0, specials = 0;
  for (u32 i = 0; i < len; i++) {
    if (msg[i] == '\n' || msg[i] == '\r') breaks++;
    else if (msg[i] == '\\') specials++;
  }
  specials = breaks ? specials + breaks : 0;
  if (specials) {
    u8 *src = msg + len, *dst = msg + len + specials;
    while (src > msg) {
      u8 b = *--src;
      if (b == '\n' || b == '\r' || b == '\\') {
        *--dst = b == '\n' ? 'n' : b == '\r' ? 'r' : '\\';
        *--dst = '\\';
      } else *--dst = b;
    }
  }
  u32 e = at + len + specials;
  out[e] = '\n';
  return e + 1;
}

/*
 * Formats the current group's records into `out` until the group ends, `out` holds `target`
 * bytes or cannot hold a largest message more, or a record needs JS (its index in the group: fallback_log()).
 * Every call starts with an empty `out`: the caller sends what the previous step wrote.
 */
/* The offset of the first field of in[start, end) that is not a Log (where topic, source and tags
 * usually start), or `start` if the logs are not in the usual form (JS then reads everything). */
EXPORT(skip_logs) u32 skip_logs(u32 in_base, u32 start, u32 end) {
  in = (const u8 *)(uintptr_t)in_base;
  u32 p = start;
  while (p < end && in[p] == 0x0a) {
    u32 q = p + 1, len;
    if (!read_length(&q, end, &len) || len > end - q) return start;
    p = q + len;
  }
  return p;
}

EXPORT(group_step) u32 group_step(u32 target) {
  /* Newline framing can double a message when escaping; octet-counting needs its prefix (<= 8). */
  u32 worst = framing == FRAME_OCTET ? max_message + 8 : framing == FRAME_NONE ? max_message : 2 * max_message + 1;
  out_len = 0;
  records = 0;
  message_bytes = 0;
  while (g_pos < g_end) {
    u32 p = g_pos;
    u8 tag = in[p++];
    if (tag != 0x0a) {
      /* Not a Log: skip length-delimited fields (Reserved, Topic, Source, MachineUUID, tags). */
      u32 len;
      if ((tag & 7) != 2 || tag > 0x7f || !read_length(&p, g_end, &len) || len > g_end - p) return fallback_index = g_index, ST_GROUP_FALLBACK;
      g_pos = p + len;
      continue;
    }
    u32 len;
    if (!read_length(&p, g_end, &len) || len > g_end - p) return fallback_index = g_index, ST_GROUP_FALLBACK;
    if (out_len >= target || OUT_SIZE - out_len < worst) return ST_OUT_FULL;
    /* Octet-counting: leave room for the prefix the last message needed, less its PRI offset. */
    u32 reserve = framing == FRAME_OCTET ? prefix_guess : 0;
    i32 r = format_log(p, p + len, out + out_len + reserve, max_message);
    if (r < 0) {
      fallback_index = g_index;
      g_pos = p + len;
      g_index++;
      return ST_FALLBACK;
    }
    u32 n = (u32)r & 0xffffff, delta = (u32)r >> 24;
    out_len = frame(out_len, reserve + delta, n);
    prefix_guess = last_prefix > delta ? last_prefix - delta : 0;
    records++;
    message_bytes += n;
    g_pos = p + len;
    g_index++;
  }
  return ST_GROUP_DONE;
}
