/* gasguard policy plugin in C: a naming convention for the weights.
 *
 * Every tensor name must be a lower-case state_dict path, dot-separated
 * parts of a-z, 0-9 and _ (`encoder.layers.0.weight`): names with capitals,
 * spaces or other characters come from hand-built dicts that our loading
 * code does not map. Implements wit/gasguard-plugin.wit by hand, with no
 * libc: a bump allocator and a small JSON walker. Build: ../build.sh. */

typedef unsigned long size_t;
typedef unsigned char u8;

#define EXPORT(name) __attribute__((export_name(name)))
#define MAX_FINDINGS 100

/* ---- memory: a bump allocator (each call runs in a fresh instance) ---- */
extern u8 __heap_base;
static size_t heap_top = 0;

static void *alloc(size_t n) {
    if (heap_top == 0) heap_top = (size_t)&__heap_base;
    size_t start = (heap_top + 7) & ~(size_t)7, end = start + n;
    size_t have = __builtin_wasm_memory_size(0) * 65536;
    if (end > have) {
        size_t pages = (end - have + 65535) / 65536;
        if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) __builtin_trap();
    }
    heap_top = end;
    return (void *)start;
}

static void copy(u8 *to, const u8 *from, size_t n) {
    for (size_t i = 0; i < n; i++) to[i] = from[i];
}

EXPORT("cabi_realloc")
void *cabi_realloc(void *old, size_t old_len, size_t align, size_t new_len) {
    (void)align;
    u8 *fresh = alloc(new_len);
    if (old) copy(fresh, old, old_len < new_len ? old_len : new_len);
    return fresh;
}

/* ---- output: a growing buffer ---- */
typedef struct { u8 *data; size_t len, cap; } buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->len + n > b->cap) {
        size_t cap = (b->cap + n) * 2;
        u8 *d = alloc(cap);
        if (b->data) copy(d, b->data, b->len);
        b->data = d;
        b->cap = cap;
    }
    copy(b->data + b->len, (const u8 *)s, n);
    b->len += n;
}

static size_t cstrlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
static void puts_(buf *b, const char *s) { put(b, s, cstrlen(s)); }

static void putnum(buf *b, size_t v) {
    char d[24]; int n = 0;
    do { d[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put(b, &d[--n], 1);
}

/* The canonical ABI returns a string as (pointer, length) in memory. */
static size_t ret_area[2];
static size_t *give(buf *b) { ret_area[0] = (size_t)b->data; ret_area[1] = b->len; return ret_area; }

EXPORT("gasguard:plugin/policy@1.0.0#describe")
size_t *describe(void) {
    static buf b;
    b.len = 0;
    puts_(&b,
        "{\"name\":\"tensor-names\",\"version\":\"1.0.0\",\"rules\":["
        "{\"code\":\"001\",\"name\":\"tensor-name-convention\",\"severity\":\"error\","
        "\"summary\":\"a tensor name is not a lower-case state_dict path\","
        "\"docs\":\"Tensor names must be dot-separated parts of a-z, 0-9 and _ "
        "(`encoder.layers.0.weight`), as `model.state_dict()` makes them.\"}]}");
    return give(&b);
}

/* ---- input: just enough JSON to walk the facts ---- */
typedef struct { const u8 *p, *end; int bad; } cur;

static void ws(cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}

static int eat(cur *c, u8 ch) {
    ws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}

/* A string's raw (still escaped) bytes. */
static int string(cur *c, const u8 **s, size_t *n) {
    if (!eat(c, '"')) return c->bad = 1, 0;
    const u8 *start = c->p;
    while (c->p < c->end && *c->p != '"') c->p += (*c->p == '\\') ? 2 : 1;
    if (c->p >= c->end) return c->bad = 1, 0;
    *s = start; *n = (size_t)(c->p - start);
    c->p++;
    return 1;
}

static void skip(cur *c);

/* Calls `member` for each key of an object (the cursor on its value). */
static void object(cur *c, void (*member)(cur *, const u8 *, size_t, void *), void *ctx) {
    if (!eat(c, '{')) { c->bad = 1; return; }
    if (eat(c, '}')) return;
    do {
        const u8 *k; size_t kn;
        if (!string(c, &k, &kn) || !eat(c, ':')) { c->bad = 1; return; }
        member(c, k, kn, ctx);
    } while (!c->bad && eat(c, ','));
    if (!eat(c, '}')) c->bad = 1;
}

static void array(cur *c, void (*item)(cur *, void *), void *ctx) {
    if (!eat(c, '[')) { c->bad = 1; return; }
    if (eat(c, ']')) return;
    do item(c, ctx); while (!c->bad && eat(c, ','));
    if (!eat(c, ']')) c->bad = 1;
}

static void skip_member(cur *c, const u8 *k, size_t kn, void *ctx) { (void)k; (void)kn; (void)ctx; skip(c); }
static void skip_item(cur *c, void *ctx) { (void)ctx; skip(c); }

static void skip(cur *c) {
    ws(c);
    if (c->p >= c->end) { c->bad = 1; return; }
    const u8 *s; size_t n;
    switch (*c->p) {
    case '{': object(c, skip_member, 0); break;
    case '[': array(c, skip_item, 0); break;
    case '"': string(c, &s, &n); break;
    default:
        while (c->p < c->end && *c->p != ',' && *c->p != '}' && *c->p != ']') c->p++;
    }
}

static int key_is(const u8 *k, size_t kn, const char *want) {
    size_t n = cstrlen(want);
    if (n != kn) return 0;
    for (size_t i = 0; i < n; i++) if (k[i] != (u8)want[i]) return 0;
    return 1;
}

/* ---- the rule ---- */
static int part_char(u8 ch) { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'; }

static int conventional(const u8 *s, size_t n) {
    if (n == 0 || s[0] == '.' || s[n - 1] == '.' || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') { if (s[i + 1] == '.') return 0; continue; }
        if (!part_char(s[i])) return 0; /* also any escape: a backslash */
    }
    return 1;
}

typedef struct { const u8 *name; size_t len; } bad_name;
typedef struct {
    const u8 *file; size_t file_len;
    bad_name bad[MAX_FINDINGS]; size_t nbad, total;
} weights_file;

static void tensor_member(cur *c, const u8 *k, size_t kn, void *ctx) {
    weights_file *w = ctx;
    const u8 *s; size_t n;
    if (!key_is(k, kn, "name")) { skip(c); return; }
    if (!string(c, &s, &n)) return;
    if (!conventional(s, n)) {
        if (w->nbad < MAX_FINDINGS) { w->bad[w->nbad].name = s; w->bad[w->nbad].len = n; w->nbad++; }
        w->total++;
    }
}
static void tensor(cur *c, void *ctx) { object(c, tensor_member, ctx); }

static void weights_member(cur *c, const u8 *k, size_t kn, void *ctx) {
    weights_file *w = ctx;
    if (key_is(k, kn, "file")) string(c, &w->file, &w->file_len);
    else if (key_is(k, kn, "tensors")) array(c, tensor, ctx);
    else skip(c);
}

static buf out;
static size_t emitted;

static void weights_item(cur *c, void *ctx) {
    (void)ctx;
    weights_file *w = alloc(sizeof *w);
    w->file = 0; w->file_len = 0; w->nbad = 0; w->total = 0;
    object(c, weights_member, w);
    for (size_t i = 0; i < w->nbad && emitted < MAX_FINDINGS; i++, emitted++) {
        if (emitted) puts_(&out, ",");
        puts_(&out, "{\"code\":\"001\",\"message\":\"tensor `");
        put(&out, (const char *)w->bad[i].name, w->bad[i].len);
        puts_(&out, "` is not a lower-case state_dict path");
        if (i == 0 && w->total > 1) { puts_(&out, " (one of "); putnum(&out, w->total); puts_(&out, " such names)"); }
        puts_(&out, "\",\"help\":\"rename the tensors as `model.state_dict()` names them, e.g. `encoder.layers.0.weight`\"");
        if (w->file) { puts_(&out, ",\"file\":\""); put(&out, (const char *)w->file, w->file_len); puts_(&out, "\""); }
        puts_(&out, "}");
    }
}

static void facts_member(cur *c, const u8 *k, size_t kn, void *ctx) {
    if (key_is(k, kn, "weights")) array(c, weights_item, ctx);
    else skip(c);
}

EXPORT("gasguard:plugin/policy@1.0.0#check")
size_t *check(const u8 *facts, size_t len) {
    cur c = { facts, facts + len, 0 };
    out.len = 0; emitted = 0;
    puts_(&out, "{\"diagnostics\":[");
    object(&c, facts_member, 0);
    if (c.bad) __builtin_trap(); /* gasguard reports the trap: never a silent pass */
    puts_(&out, "]}");
    return give(&out);
}
