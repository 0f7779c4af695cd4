/* The compiled scan of a BLT file's ballot section: tallyroom.formats._blt_c.
 *
 * scan_plain(data, start, end, n) reads the ballot lines data[start:end] in one pass over the
 * bytes and groups identical lines and rankings as it goes, in hash tables (below), each
 * distinct ranking keeping the place of its first line of positive weight and the sum of its
 * lines' weights. It returns (rows, weights, count, width): ``rows`` a bytearray of
 * count x width native int32 candidate codes (0-based, -1 after the last preference),
 * ``weights`` a bytearray of count native int64 totals; or None to hand the section over to
 * the numpy reader (tallyroom.formats.blt_scan), which is the reference.
 *
 * It takes only what it is sure of, a section where every non-blank line is
 *     WEIGHT CANDIDATE... 0
 * made of decimal digits separated by spaces, tabs and carriage returns, each number at most
 * 18 digits (so it fits 63 bits), every candidate 1..n, at least one line of positive weight
 * and a total weight below 2**63. Anything else (another byte, a missing or early closing 0,
 * a candidate out of range, a number too long, a line holding just 0, an empty result, n too
 * large for int32 codes) returns None, and the numpy reader reads the section again: it
 * reports every problem, by file, line, field and value, as it always has.
 *
 * Two levels of tables group the lines:
 *
 * - a line of at most 16 bytes (most lines: "1 4 5 6 7 0") is looked up by its bytes first, in
 *   the *line table*; a line seen before only adds one to its count, without being parsed
 *   again. A new line is parsed (every byte checked) and its ranking looked up below.
 * - the *ranking tables* give each distinct ranking its group: a ranking short enough (base
 *   n + 1, below 2**63) is packed into one integer, c1 + c2 (n+1) + c3 (n+1)^2 + ... with
 *   candidate numbers c_k in 1..n, one-to-one on rankings; a longer one is kept whole in an
 *   arena and found by a hash of its codes. Longer lines are parsed and grouped here directly.
 *
 * ``order`` lists the groups in the order their rankings first appear on a line of positive
 * weight, with their total weights: a line's weight times its count, summed per ranking, the
 * total checked to stay below 2**63. Looked-up slots are prefetched a batch ahead, since the
 * tables of a million-line file are larger than the cache.
 *
 * Memory is PyMem_Raw* (or mmap for large tables), so the scan runs without the GIL. No read
 * passes ``end`` except the 16-byte loads of a short line, which are bounded by the length of
 * the data; every size computation is checked for overflow.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define MAX_DIGITS 18 /* every 18-digit number fits an int64 */
#define WEIGHT_LIMIT ((uint64_t)1 << 63)
#define KEY_LIMIT ((uint64_t)1 << 63)
#define SKIP_CODE (-1)
#define GOLDEN 0x9E3779B97F4A7C15ULL
#define FIRST_BITS 12 /* 4,096 slots at least */

typedef enum { SCAN_OK = 0, SCAN_HAND_OVER = 1, SCAN_NO_MEMORY = 2, SCAN_BLANK = 3 } ScanResult;

/* Tables of 2 MiB and more are mapped on their own and asked for huge pages: a million-line
 * file's table is a few MiB, and each 4 KiB page costs a fault (a few microseconds on a busy
 * virtual machine); 2 MiB pages need a few. Smaller ones come from PyMem_RawCalloc. */
#define HUGE_PAGE ((size_t)2 << 20)

static size_t big_size(size_t size) {
    return size < HUGE_PAGE ? size : (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

static void *big_zeroed(size_t size) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= HUGE_PAGE) {
        size = big_size(size);
        if (size > SIZE_MAX - HUGE_PAGE) {
            return NULL;
        }
        size_t len = size + HUGE_PAGE; /* room to start on a 2 MiB boundary */
        void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED) {
            return NULL;
        }
        uintptr_t start = ((uintptr_t)base + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
        size_t head = (size_t)(start - (uintptr_t)base);
        if (head) {
            munmap(base, head);
        }
        if (len - head - size) {
            munmap((char *)start + size, len - head - size);
        }
        madvise((void *)start, size, MADV_HUGEPAGE); /* advice: a refusal changes nothing */
        return (void *)start;
    }
#endif
    return PyMem_RawCalloc(1, size ? size : 1);
}

static void big_free(void *buf, size_t size) {
    if (buf == NULL) {
        return;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (size >= HUGE_PAGE) {
        munmap(buf, big_size(size));
        return;
    }
#endif
    PyMem_RawFree(buf);
}

#define LINE_BYTES 16 /* lines this short are grouped by their bytes */
#define NO_GROUP SIZE_MAX  /* a line of weight 0: it places no ranking */
#define NO_LINE SIZE_MAX   /* a ranking parsed from a long line, its weight added at once */
#define BATCH 16           /* lookups whose slots are prefetched together */

typedef struct { /* a parsed packed ranking, waiting for its group */
    uint64_t key;
    size_t length;
    size_t line;     /* its short line (index in line_group), or NO_LINE */
    uint64_t weight; /* a long line's weight */
} Placing;

typedef struct { /* a packed ranking's slot; group 0 = empty */
    uint64_t key;
    size_t group; /* its group + 1 */
} Slot;

typedef struct { /* a long ranking */
    uint64_t hash;
    size_t offset; /* of its first code in the arena */
    size_t length;
    size_t group;
} Long;

typedef struct { /* a group, in order of first appearance */
    uint64_t ref;  /* the packed key, or the index in ``longs`` */
    size_t length; /* preferences */
    uint64_t weight;
    int packed;
} Ref;

typedef struct { /* a short line's slot; meta 0 = empty */
    uint64_t w0, w1; /* its bytes, zero-padded */
    uint64_t count;  /* lines with these bytes */
    uint64_t meta;   /* (index in ``line_weight``/``line_group``) << 8 | length */
} LineSlot;

typedef struct {
    int64_t n;
    uint64_t base;      /* n + 1 */
    size_t pack_length; /* longest ranking that packs below KEY_LIMIT */
    Slot *slots;        /* packed rankings */
    unsigned bits;      /* 2 ** bits slots */
    size_t packed;      /* slots in use */
    Long *longs;        /* long rankings */
    size_t long_count, long_cap;
    size_t *long_slots; /* long index + 1, 0 = empty */
    unsigned long_bits;
    int32_t *arena; /* the long rankings' codes */
    size_t arena_len, arena_cap;
    Ref *order;
    size_t count, order_cap;
    size_t width;    /* longest ranking */
    uint64_t total;  /* weight of the lines grouped directly so far */
    LineSlot *lines; /* short lines */
    unsigned line_bits;
    size_t line_count, line_cap;
    uint64_t *line_weight; /* per distinct short line: its weight */
    size_t *line_group;    /* and its ranking's group (NO_GROUP: weight 0) */
    int32_t *codes;        /* the line being parsed */
    size_t codes_cap;
    Placing placing[BATCH]; /* parsed rankings waiting for their group */
    size_t waiting;
} Table;

static void table_free(Table *t) {
    big_free(t->slots, t->slots ? ((size_t)1 << t->bits) * sizeof(Slot) : 0);
    PyMem_RawFree(t->longs);
    PyMem_RawFree(t->long_slots);
    PyMem_RawFree(t->arena);
    big_free(t->order, t->order_cap * sizeof(Ref));
    big_free(t->lines, t->lines ? ((size_t)1 << t->line_bits) * sizeof(LineSlot) : 0);
    PyMem_RawFree(t->line_weight);
    PyMem_RawFree(t->line_group);
    PyMem_RawFree(t->codes);
    memset(t, 0, sizeof(*t));
}

/* Grow ``*buf`` (``*cap`` items of ``item`` bytes) to hold at least ``need`` items. */
static int grow(void **buf, size_t *cap, size_t need, size_t item) {
    if (need <= *cap) {
        return 1;
    }
    size_t next = *cap ? *cap : 64;
    while (next < need) {
        if (next > SIZE_MAX / 2) {
            return 0;
        }
        next *= 2;
    }
    if (next > SIZE_MAX / item) {
        return 0;
    }
    void *grown = PyMem_RawRealloc(*buf, next * item);
    if (grown == NULL) {
        return 0;
    }
    *buf = grown;
    *cap = next;
    return 1;
}

static inline size_t slot_of(uint64_t key, unsigned bits) {
    return (size_t)((key * GOLDEN) >> (64 - bits));
}

/* A new group at the end of ``order``; its index in ``*group``. */
static int add_group(Table *t, uint64_t ref, size_t length, int packed, size_t *group) {
    if (t->count == t->order_cap) { /* doubled, in big_zeroed memory */
        size_t cap = t->order_cap ? t->order_cap * 2 : 1024;
        if (cap > SIZE_MAX / 2 / sizeof(Ref)) {
            return 0;
        }
        Ref *order = big_zeroed(cap * sizeof(Ref));
        if (order == NULL) {
            return 0;
        }
        if (t->count) {
            memcpy(order, t->order, t->count * sizeof(Ref));
        }
        big_free(t->order, t->order_cap * sizeof(Ref));
        t->order = order;
        t->order_cap = cap;
    }
    Ref *r = &t->order[t->count];
    r->ref = ref;
    r->length = length;
    r->weight = 0;
    r->packed = packed;
    *group = t->count++;
    if (length > t->width) {
        t->width = length;
    }
    return 1;
}

/* Double the packed table (or make it), keeping its load at most one half. */
static int grow_slots(Table *t) {
    unsigned bits = t->slots ? t->bits + 1 : t->line_bits; /* as many as the lines' */
    if (bits >= 8 * sizeof(size_t) - 6) {
        return 0;
    }
    Slot *slots = big_zeroed(((size_t)1 << bits) * sizeof(Slot));
    if (slots == NULL) {
        return 0;
    }
    size_t mask = ((size_t)1 << bits) - 1;
    if (t->slots) {
        for (size_t i = 0; i <= (((size_t)1 << t->bits) - 1); i++) {
            if (t->slots[i].group) {
                size_t j = slot_of(t->slots[i].key, bits);
                while (slots[j].group) {
                    j = (j + 1) & mask;
                }
                slots[j] = t->slots[i];
            }
        }
    }
    big_free(t->slots, t->slots ? ((size_t)1 << t->bits) * sizeof(Slot) : 0);
    t->slots = slots;
    t->bits = bits;
    return 1;
}

static ScanResult packed_group(Table *t, uint64_t key, size_t length, size_t *group) {
    if (t->slots == NULL && !grow_slots(t)) {
        return SCAN_NO_MEMORY;
    }
    size_t mask = ((size_t)1 << t->bits) - 1;
    size_t i = slot_of(key, t->bits);
    while (t->slots[i].group) {
        if (t->slots[i].key == key) {
            *group = t->slots[i].group - 1;
            return SCAN_OK;
        }
        i = (i + 1) & mask;
    }
    if (!add_group(t, key, length, 1, group)) {
        return SCAN_NO_MEMORY;
    }
    t->slots[i].key = key;
    t->slots[i].group = *group + 1;
    t->packed++;
    if (t->packed * 2 > mask + 1 && !grow_slots(t)) {
        return SCAN_NO_MEMORY;
    }
    return SCAN_OK;
}

static uint64_t hash_codes(const int32_t *codes, size_t length) {
    uint64_t h = GOLDEN ^ (uint64_t)length;
    for (size_t i = 0; i < length; i++) {
        h = (h ^ (uint64_t)(uint32_t)codes[i]) * 0x100000001B3ULL;
        h ^= h >> 29;
    }
    h ^= h >> 30; /* splitmix64's finaliser: every bit of the ranking reaches the slot */
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBULL;
    h ^= h >> 31;
    return h;
}

static int grow_long_slots(Table *t) {
    unsigned bits = t->long_slots ? t->long_bits + 1 : 6;
    if (bits >= 8 * sizeof(size_t) - 4) {
        return 0;
    }
    size_t *slots = PyMem_RawCalloc((size_t)1 << bits, sizeof(size_t));
    if (slots == NULL) {
        return 0;
    }
    size_t mask = ((size_t)1 << bits) - 1;
    for (size_t g = 0; g < t->long_count; g++) {
        size_t i = (size_t)(t->longs[g].hash >> (64 - bits));
        while (slots[i]) {
            i = (i + 1) & mask;
        }
        slots[i] = g + 1;
    }
    PyMem_RawFree(t->long_slots);
    t->long_slots = slots;
    t->long_bits = bits;
    return 1;
}

static ScanResult long_group(Table *t, const int32_t *codes, size_t length, size_t *group) {
    if (t->long_slots == NULL || (t->long_count + 1) * 2 > ((size_t)1 << t->long_bits)) {
        if (!grow_long_slots(t)) {
            return SCAN_NO_MEMORY;
        }
    }
    size_t mask = ((size_t)1 << t->long_bits) - 1;
    uint64_t h = hash_codes(codes, length);
    size_t i = (size_t)(h >> (64 - t->long_bits));
    while (t->long_slots[i]) {
        const Long *g = &t->longs[t->long_slots[i] - 1];
        if (g->hash == h && g->length == length &&
            memcmp(t->arena + g->offset, codes, length * sizeof(int32_t)) == 0) {
            *group = g->group;
            return SCAN_OK;
        }
        i = (i + 1) & mask;
    }
    if (t->arena_len > SIZE_MAX - length ||
        !grow((void **)&t->arena, &t->arena_cap, t->arena_len + length, sizeof(int32_t)) ||
        !grow((void **)&t->longs, &t->long_cap, t->long_count + 1, sizeof(Long)) ||
        !add_group(t, t->long_count, length, 0, group)) {
        return SCAN_NO_MEMORY;
    }
    memcpy(t->arena + t->arena_len, codes, length * sizeof(int32_t));
    Long *g = &t->longs[t->long_count];
    g->hash = h;
    g->offset = t->arena_len;
    g->length = length;
    g->group = *group;
    t->arena_len += length;
    t->long_slots[i] = ++t->long_count;
    return SCAN_OK;
}

/* A number at ``s`` into ``into``, ``s`` left on the byte after it; anything but a number of
 * at most MAX_DIGITS digits hands the section over. */
#define PARSE_NUMBER(into)                                                                  \
    do {                                                                                    \
        unsigned digit_ = c - '0';                                                          \
        if (digit_ > 9) {                                                                   \
            return SCAN_HAND_OVER; /* a byte of the dialects, or a line ending early */     \
        }                                                                                   \
        const unsigned char *first_ = s;                                                    \
        uint64_t value_ = 0;                                                                \
        do {                                                                                \
            value_ = value_ * 10 + digit_; /* may wrap past 19 digits: refused below */     \
            s++;                                                                            \
        } while ((digit_ = (unsigned)*s - '0') <= 9);                                       \
        if (s - first_ > MAX_DIGITS) {                                                      \
            return SCAN_HAND_OVER; /* "number too large" */                                 \
        }                                                                                   \
        (into) = value_;                                                                    \
    } while (0)

#define SKIP_BLANKS()                                                                       \
    while ((c = *s) == ' ' || c == '\t' || c == '\r') {                                     \
        s++;                                                                                \
    }

/* Parse the line at ``s``, which ends with the '\n' at ``nl`` (each loop stops there at the
 * latest): its weight, its ranking's packed key (when it packs) and length, its codes in
 * ``t->codes``. SCAN_BLANK for a line of blanks. */
static ScanResult parse_line(Table *t, const unsigned char *s, const unsigned char *nl,
                             uint64_t *weight, uint64_t *packed, size_t *ranked) {
    unsigned c;
    SKIP_BLANKS();
    if (s == nl) {
        return SCAN_BLANK;
    }
    PARSE_NUMBER(*weight);
    size_t length = 0;
    uint64_t key = 0, power = 1;
    for (;;) { /* the candidates, up to the closing 0 */
        SKIP_BLANKS();
        uint64_t value;
        PARSE_NUMBER(value); /* the line's end before its 0 (unclosed, or just "0") too */
        if (value == 0) {
            break;
        }
        if (value > (uint64_t)t->n) {
            return SCAN_HAND_OVER; /* no such candidate */
        }
        if (length == t->codes_cap &&
            !grow((void **)&t->codes, &t->codes_cap, length + 1, sizeof(int32_t))) {
            return SCAN_NO_MEMORY;
        }
        t->codes[length++] = (int32_t)(value - 1); /* value <= n < 2**31 - 1 */
        if (length <= t->pack_length) {
            key += value * power; /* below base ** length <= KEY_LIMIT */
            power *= t->base;
        }
    }
    SKIP_BLANKS();
    if (s != nl) {
        return SCAN_HAND_OVER; /* text after the closing 0 (zero padding too) */
    }
    *packed = key;
    *ranked = length;
    return SCAN_OK;
}

/* Give the waiting rankings their groups, in the order they were parsed. */
static ScanResult place_waiting(Table *t) {
    for (size_t k = 0; k < t->waiting; k++) {
        const Placing *p = &t->placing[k];
        size_t group;
        ScanResult result = packed_group(t, p->key, p->length, &group);
        if (result != SCAN_OK) {
            return result;
        }
        if (p->line != NO_LINE) {
            t->line_group[p->line] = group;
        } else {
            t->order[group].weight += p->weight;
        }
    }
    t->waiting = 0;
    return SCAN_OK;
}

/* The ranking just parsed (codes in ``t->codes``) goes to its group: a packed one waits, its
 * slot prefetched, a long one is placed at once after those waiting. A line of weight 0
 * places nothing (nor does it place its ranking first). */
static ScanResult place(Table *t, uint64_t weight, uint64_t key, size_t length, size_t line) {
    if (weight == 0) {
        return SCAN_OK;
    }
    if (length <= t->pack_length) {
        __builtin_prefetch(&t->slots[slot_of(key, t->bits)], 1);
        Placing *p = &t->placing[t->waiting++];
        p->key = key;
        p->length = length;
        p->line = line;
        p->weight = weight;
        return t->waiting == BATCH ? place_waiting(t) : SCAN_OK;
    }
    size_t group;
    ScanResult result = place_waiting(t);
    if (result == SCAN_OK) {
        result = long_group(t, t->codes, length, &group);
    }
    if (result != SCAN_OK) {
        return result;
    }
    if (line != NO_LINE) {
        t->line_group[line] = group;
    } else {
        t->order[group].weight += weight;
    }
    return SCAN_OK;
}

static inline uint64_t line_hash(uint64_t w0, uint64_t w1, size_t length) {
    uint64_t h = w0 * GOLDEN ^ w1 * 0xC2B2AE3D27D4EB4FULL ^ (uint64_t)length;
    return (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ULL; /* the slot: its top bits */
}

/* Double the line table (or make it), keeping its load at most one half. */
static int grow_lines(Table *t) {
    unsigned bits = t->lines ? t->line_bits + 1 : t->line_bits;
    if (bits >= 8 * sizeof(size_t) - 6) {
        return 0;
    }
    LineSlot *lines = big_zeroed(((size_t)1 << bits) * sizeof(LineSlot));
    if (lines == NULL) {
        return 0;
    }
    size_t mask = ((size_t)1 << bits) - 1;
    if (t->lines) {
        for (size_t i = 0; i <= (((size_t)1 << t->line_bits) - 1); i++) {
            const LineSlot *old = &t->lines[i];
            if (old->meta) {
                uint64_t h = line_hash(old->w0, old->w1, (size_t)(old->meta & 0xFF));
                size_t j = (size_t)(h >> (64 - bits));
                while (lines[j].meta) {
                    j = (j + 1) & mask;
                }
                lines[j] = *old;
            }
        }
    }
    big_free(t->lines, t->lines ? ((size_t)1 << t->line_bits) * sizeof(LineSlot) : 0);
    t->lines = lines;
    t->line_bits = bits;
    return 1;
}

typedef struct { /* a short line waiting for its slot */
    const unsigned char *s, *nl;
    uint64_t w0, w1, hash;
} Pending;

/* Count the short line ``p``: one more of a line seen before, else parsed and added. */
static ScanResult count_line(Table *t, const Pending *p) {
    size_t length = (size_t)(p->nl - p->s);
    size_t mask = ((size_t)1 << t->line_bits) - 1;
    size_t i = (size_t)(p->hash >> (64 - t->line_bits));
    while (t->lines[i].meta) {
        LineSlot *slot = &t->lines[i];
        if ((slot->meta & 0xFF) == length && slot->w0 == p->w0 && slot->w1 == p->w1) {
            slot->count++;
            return SCAN_OK;
        }
        i = (i + 1) & mask;
    }
    uint64_t weight = 0, key = 0;
    size_t ranked = 0;
    ScanResult result = parse_line(t, p->s, p->nl, &weight, &key, &ranked);
    if (result == SCAN_BLANK) {
        result = SCAN_OK; /* kept as a line of weight 0: its repeats are found at once */
    }
    if (result != SCAN_OK) {
        return result;
    }
    if (t->line_count == t->line_cap) { /* line_weight and line_group grow together */
        size_t cap = t->line_cap ? t->line_cap * 2 : 1024;
        if (cap > (SIZE_MAX >> 8) / sizeof(uint64_t)) {
            return SCAN_NO_MEMORY;
        }
        uint64_t *weights = PyMem_RawRealloc(t->line_weight, cap * sizeof(uint64_t));
        if (weights == NULL) {
            return SCAN_NO_MEMORY;
        }
        t->line_weight = weights;
        size_t *groups = PyMem_RawRealloc(t->line_group, cap * sizeof(size_t));
        if (groups == NULL) {
            return SCAN_NO_MEMORY;
        }
        t->line_group = groups;
        t->line_cap = cap;
    }
    size_t line = t->line_count++;
    t->line_weight[line] = weight;
    t->line_group[line] = NO_GROUP; /* until placed */
    LineSlot *slot = &t->lines[i];
    slot->w0 = p->w0;
    slot->w1 = p->w1;
    slot->count = 1;
    slot->meta = ((uint64_t)line << 8) | length;
    if (t->line_count * 2 > mask + 1 && !grow_lines(t)) {
        return SCAN_NO_MEMORY;
    }
    return place(t, weight, key, ranked, line);
}

static ScanResult flush(Table *t, Pending *pending, size_t *waiting) {
    for (size_t k = 0; k < *waiting; k++) {
        ScanResult result = count_line(t, &pending[k]);
        if (result != SCAN_OK) {
            return result;
        }
    }
    *waiting = 0;
    return SCAN_OK;
}

/* The bytes of a short line, zero-padded: two 8-byte loads when the data has room. */
static inline void line_words(const unsigned char *s, size_t length, const unsigned char *limit,
                              uint64_t *w0, uint64_t *w1) {
    unsigned char bytes[LINE_BYTES] = {0};
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (limit - s >= LINE_BYTES) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        if (length < 8) {
            *w0 = a & ((UINT64_C(1) << (8 * length)) - 1);
            *w1 = 0;
        } else {
            *w0 = a;
            *w1 = length == 16 ? b : b & ((UINT64_C(1) << (8 * (length - 8))) - 1);
        }
        return;
    }
#endif
    (void)limit;
    memcpy(bytes, s, length);
    memcpy(w0, bytes, 8);
    memcpy(w1, bytes + 8, 8);
}

/* One pass over buf[start:end] (``limit``: the end of the data): every line parsed, or
 * counted as a repeat, and grouped. */
static ScanResult scan(const unsigned char *buf, size_t start, size_t end,
                       const unsigned char *limit, Table *t) {
    Pending pending[BATCH];
    size_t waiting = 0;
    ScanResult result = SCAN_OK;
    /* Every line ends with '\n' (the section ends where the line of its closing 0 starts),
     * and each parsing loop stops at a byte that is not a blank, or not a digit: at that '\n'
     * at the latest. A section that does not end so is handed over. */
    if (end > start && buf[end - 1] != '\n') {
        return SCAN_HAND_OVER;
    }
    /* the line table sized for a distinct line in about 64 bytes of the section (a million
     * lines of 11 bytes, 92,000 of them distinct: the size it would grow to), from 4,096 to a
     * million slots: one table, not a chain of ever larger ones; the rankings' table alike */
    t->line_bits = FIRST_BITS;
    while (t->line_bits < 20 && ((size_t)1 << t->line_bits) < (end - start) / 64) {
        t->line_bits++;
    }
    if (!grow_lines(t) || !grow_slots(t)) {
        return SCAN_NO_MEMORY;
    }
    const unsigned char *s = buf + start;
    const unsigned char *const e = buf + end;
    while (s < e) {
        const unsigned char *nl = memchr(s, '\n', (size_t)(e - s)); /* found: e[-1] is one */
        size_t length = (size_t)(nl - s);
        if (length == 0) {
            s = nl + 1; /* an empty line */
            continue;
        }
        if (length <= LINE_BYTES) {
            Pending *p = &pending[waiting];
            p->s = s;
            p->nl = nl;
            line_words(s, length, limit, &p->w0, &p->w1);
            p->hash = line_hash(p->w0, p->w1, length);
            __builtin_prefetch(&t->lines[p->hash >> (64 - t->line_bits)], 1);
            if (++waiting == BATCH && (result = flush(t, pending, &waiting)) != SCAN_OK) {
                return result;
            }
        } else {
            if ((result = flush(t, pending, &waiting)) != SCAN_OK) {
                return result; /* the batch goes first: groups keep the order they appear in */
            }
            uint64_t weight = 0, key = 0;
            size_t ranked = 0;
            result = parse_line(t, s, nl, &weight, &key, &ranked);
            if (result == SCAN_OK) {
                t->total += weight; /* below 2**63 before, and a weight below 10**18 */
                if (t->total >= WEIGHT_LIMIT) {
                    return SCAN_HAND_OVER; /* the numpy reader names the problem */
                }
                result = place(t, weight, key, ranked, NO_LINE);
            }
            if (result != SCAN_OK && result != SCAN_BLANK) {
                return result;
            }
        }
        s = nl + 1;
    }
    if ((result = flush(t, pending, &waiting)) != SCAN_OK || (result = place_waiting(t)) != SCAN_OK) {
        return result;
    }
    /* each short line's weight times its count, to its group and to the total: the counts
     * gathered by line first (the slots are in hash order, the lines in file order), then
     * added in line order, which is nearly the groups' order */
    uint64_t *counts = PyMem_RawMalloc((t->line_count ? t->line_count : 1) * sizeof(uint64_t));
    if (counts == NULL) {
        return SCAN_NO_MEMORY;
    }
    for (size_t i = 0; i < ((size_t)1 << t->line_bits); i++) {
        if (t->lines[i].meta) {
            counts[t->lines[i].meta >> 8] = t->lines[i].count;
        }
    }
    for (size_t line = 0; line < t->line_count; line++) {
        size_t group = t->line_group[line];
        uint64_t weight = t->line_weight[line];
        if (group == NO_GROUP) {
            continue;
        }
        if (weight > (WEIGHT_LIMIT - 1 - t->total) / counts[line]) {
            PyMem_RawFree(counts);
            return SCAN_HAND_OVER; /* the total reaches 2**63: the numpy reader says so */
        }
        t->total += weight * counts[line];
        t->order[group].weight += weight * counts[line];
    }
    PyMem_RawFree(counts);
    if (t->count == 0) {
        return SCAN_HAND_OVER; /* no ballot of positive weight: the reader's own shape */
    }
    return SCAN_OK;
}

static PyObject *scan_plain(PyObject *module, PyObject *args) {
    (void)module;
    /* bytes only: immutable, so the scan may run without the GIL (a bytearray changed by
     * another thread meanwhile could move the line ends the loops stop at) */
    PyObject *data;
    Py_buffer view;
    Py_ssize_t start, end;
    long long n;
    if (!PyArg_ParseTuple(args, "O!nnL:scan_plain", &PyBytes_Type, &data, &start, &end, &n) ||
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) != 0) {
        return NULL;
    }
    if (start < 0 || end < start || end > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "scan_plain: start and end must lie in the data");
        return NULL;
    }
    if (n < 1 || n >= INT32_MAX) {
        PyBuffer_Release(&view); /* codes are int32: the numpy reader takes such a header */
        Py_RETURN_NONE;
    }
    Table t;
    memset(&t, 0, sizeof(t));
    t.n = (int64_t)n;
    t.base = (uint64_t)n + 1;
    for (uint64_t reach = t.base; reach <= KEY_LIMIT / t.base; reach *= t.base) {
        t.pack_length++; /* base ** (pack_length + 1) <= KEY_LIMIT */
    }
    t.pack_length++; /* base ** pack_length <= KEY_LIMIT: keys stay below it */
    ScanResult result;
    const unsigned char *buf = (const unsigned char *)view.buf;
    Py_BEGIN_ALLOW_THREADS
    result = scan(buf, (size_t)start, (size_t)end, buf + view.len, &t);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (result != SCAN_OK) {
        table_free(&t);
        if (result == SCAN_NO_MEMORY) {
            return PyErr_NoMemory();
        }
        Py_RETURN_NONE;
    }
    size_t width = t.width ? t.width : 1;
    size_t count = t.count;
    if (count > (size_t)PY_SSIZE_T_MAX / sizeof(int32_t) / width) {
        table_free(&t);
        return PyErr_NoMemory();
    }
    PyObject *rows = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(count * width * 4));
    PyObject *weights = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)(count * 8));
    if (rows == NULL || weights == NULL) {
        Py_XDECREF(rows);
        Py_XDECREF(weights);
        table_free(&t);
        return NULL;
    }
    int32_t *out = (int32_t *)PyByteArray_AS_STRING(rows);
    int64_t *totals = (int64_t *)PyByteArray_AS_STRING(weights);
    for (size_t g = 0; g < count; g++) {
        const Ref *ref = &t.order[g];
        int32_t *row = out + g * width;
        if (ref->packed) {
            uint64_t key = ref->ref;
            for (size_t k = 0; k < ref->length; k++) {
                row[k] = (int32_t)(key % t.base) - 1;
                key /= t.base;
            }
        } else {
            const Long *item = &t.longs[ref->ref];
            memcpy(row, t.arena + item->offset, item->length * sizeof(int32_t));
        }
        for (size_t k = ref->length; k < width; k++) {
            row[k] = SKIP_CODE;
        }
        totals[g] = (int64_t)ref->weight;
    }
    table_free(&t);
    return Py_BuildValue("(NNnn)", rows, weights, (Py_ssize_t)count, (Py_ssize_t)width);
}

static PyMethodDef methods[] = {
    {"scan_plain", scan_plain, METH_VARARGS,
     "scan_plain(data, start, end, n) -> (rows, weights, count, width) | None\n\n"
     "The distinct rankings of the BLT ballot lines data[start:end] and their total weights,\n"
     "or None when the section needs the numpy reader (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "tallyroom.formats._blt_c",
    "The compiled scan of plain BLT ballot lines (see tallyroom.formats.blt_native).",
    0,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__blt_c(void) { return PyModuleDef_Init(&module_def); }
