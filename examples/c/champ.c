/* champ.c: a persistent hash map from u32 keys to u32 values whose every node is a biasrc object, shared by every
 * thread of the heap through one atom (an object with one slot holding the current root), updated with the slot
 * compare-and-swap brc_cas_ref: no lock, readers never wait, and an old version stays valid while anyone holds it.
 *
 * The map is a CHAMP (Steindorf and Vinju, "Optimizing Hash-Array Mapped Tries for Fast and Lean Immutable JVM
 * Collections", OOPSLA 2015): a node has a 32-bit datamap (entries stored inline) and a 32-bit nodemap (children),
 * five hash bits per level. Here a node is an object whose slots are its children (slot i = i-th nodemap bit) and
 * whose payload is { datamap, nodemap, key0, value0, key1, value1, ... }. The hash is a bijection of u32, so two
 * distinct keys always part within 7 levels and no collision nodes are needed.
 *
 * Build: ./build.sh (docs/EMBEDDING.md). Run: test/embed.test.ts links it into a heap on the main thread and in two
 * workers, which insert concurrently; the test then checks every key, and that nothing is left alive. */

#include "biasrc.h"

typedef struct node {
  uint32_t datamap;
  uint32_t nodemap;
  uint32_t kv[]; /* key, value for each datamap bit, in bit order */
} node_t;

/* Static data and thread-locals on purpose: they live in the data block (one per heap) and in each thread's TLS
 * block, which the loader places; the pointers below need the data relocations it applies once. */
static uint32_t fmix32(uint32_t h) { /* murmur3's finaliser: a bijection */
  h ^= h >> 16; h *= 0x85ebca6bu; h ^= h >> 13; h *= 0xc2b2ae35u; h ^= h >> 16;
  return h;
}
uint32_t (*champ_hash)(uint32_t) = fmix32; /* a function pointer in data: relocated through __table_base */
const char *champ_name_text = "champ";     /* a pointer in data: relocated through __memory_base */
brc_ref champ_atom;                        /* the one atom, shared by every thread */
static _Thread_local uint32_t cas_retries; /* per thread */
static _Thread_local uint32_t puts_done;

#define BITS 5u
#define MASK 31u

static inline node_t *N(brc_ref n) { return (node_t *)brc_obj_payload(n); }
static inline uint32_t popcount(uint32_t x) { return (uint32_t)__builtin_popcount(x); }
static inline uint32_t index_of(uint32_t map, uint32_t bit) { return popcount(map & (bit - 1)); }

/* A new node (one reference, ours) with room for the maps' entries and children; 0 if the heap is full. */
static brc_ref new_node(uint32_t datamap, uint32_t nodemap) {
  brc_ref n = brc_alloc(8 + 8 * popcount(datamap), popcount(nodemap));
  if (n == 0) __builtin_trap();
  N(n)->datamap = datamap;
  N(n)->nodemap = nodemap;
  return n;
}

/* Moves our reference to `child` into slot i of the new (unpublished) node n. */
static void put_child(brc_ref n, uint32_t i, brc_ref child) {
  brc_set_ref(n, i, child);
  brc_decref_inline(child);
}

/* A node holding the two entries, or a chain of single-child nodes down to where their hashes part. */
static brc_ref merge(uint32_t shift, uint32_t k1, uint32_t v1, uint32_t h1, uint32_t k2, uint32_t v2, uint32_t h2) {
  uint32_t i1 = (h1 >> shift) & MASK, i2 = (h2 >> shift) & MASK;
  if (i1 != i2) {
    brc_ref n = new_node((1u << i1) | (1u << i2), 0);
    uint32_t *kv = N(n)->kv;
    if (i1 < i2) { kv[0] = k1; kv[1] = v1; kv[2] = k2; kv[3] = v2; }
    else { kv[0] = k2; kv[1] = v2; kv[2] = k1; kv[3] = v1; }
    return n;
  }
  brc_ref n = new_node(0, 1u << i1);
  put_child(n, 0, merge(shift + BITS, k1, v1, h1, k2, v2, h2));
  return n;
}

/* Copies `old`'s children into the new node n, skipping old's child `skip` (-1: none) and leaving slot `hole`
 * of n free (-1: none). */
static void copy_children(brc_ref n, brc_ref old, int skip, int hole) {
  uint32_t count = popcount(N(old)->nodemap);
  uint32_t j = 0;
  for (uint32_t i = 0; i < count; i++) {
    if ((int)i == skip) continue;
    if ((int)j == hole) j++;
    brc_set_ref(n, j++, brc_obj_slot(old, i));
  }
}

/* The map `node` with key -> value; a new node with one reference (ours). `node` (borrowed) is unchanged. */
static brc_ref insert(brc_ref node, uint32_t shift, uint32_t h, uint32_t key, uint32_t value) {
  uint32_t bit = 1u << ((h >> shift) & MASK);
  if (node == 0) {
    brc_ref n = new_node(bit, 0);
    N(n)->kv[0] = key;
    N(n)->kv[1] = value;
    return n;
  }
  const node_t *o = N(node);
  uint32_t data = popcount(o->datamap);
  if (o->datamap & bit) {
    uint32_t at = index_of(o->datamap, bit);
    uint32_t k = o->kv[2 * at];
    if (k == key) { /* replace the value */
      brc_ref n = new_node(o->datamap, o->nodemap);
      for (uint32_t i = 0; i < 2 * data; i++) N(n)->kv[i] = o->kv[i];
      N(n)->kv[2 * at + 1] = value;
      copy_children(n, node, -1, -1);
      return n;
    }
    /* the entry moves down into a new child that holds both */
    brc_ref sub = merge(shift + BITS, k, o->kv[2 * at + 1], champ_hash(k), key, value, h);
    brc_ref n = new_node(o->datamap & ~bit, o->nodemap | bit);
    for (uint32_t i = 0, j = 0; i < data; i++) {
      if (i == at) continue;
      N(n)->kv[2 * j] = o->kv[2 * i];
      N(n)->kv[2 * j + 1] = o->kv[2 * i + 1];
      j++;
    }
    uint32_t slot = index_of(o->nodemap | bit, bit);
    copy_children(n, node, -1, (int)slot);
    put_child(n, slot, sub);
    return n;
  }
  if (o->nodemap & bit) { /* down into the child */
    uint32_t at = index_of(o->nodemap, bit);
    brc_ref child = insert(brc_obj_slot(node, at), shift + BITS, h, key, value);
    brc_ref n = new_node(o->datamap, o->nodemap);
    for (uint32_t i = 0; i < 2 * data; i++) N(n)->kv[i] = o->kv[i];
    copy_children(n, node, (int)at, (int)at);
    put_child(n, at, child);
    return n;
  }
  /* a new entry in this node */
  brc_ref n = new_node(o->datamap | bit, o->nodemap);
  uint32_t at = index_of(o->datamap, bit);
  for (uint32_t i = 0, j = 0; j <= data; j++) {
    if (j == at) { N(n)->kv[2 * j] = key; N(n)->kv[2 * j + 1] = value; continue; }
    N(n)->kv[2 * j] = o->kv[2 * i];
    N(n)->kv[2 * j + 1] = o->kv[2 * i + 1];
    i++;
  }
  copy_children(n, node, -1, -1);
  return n;
}

/* Looks key up in the map rooted at `node` (borrowed: the caller holds the root, which holds everything below). */
static int lookup(brc_ref node, uint32_t key, uint32_t *value) {
  uint32_t h = champ_hash(key);
  for (uint32_t shift = 0; node != 0; shift += BITS) {
    const node_t *n = N(node);
    uint32_t bit = 1u << ((h >> shift) & MASK);
    if (n->datamap & bit) {
      uint32_t at = index_of(n->datamap, bit);
      if (n->kv[2 * at] != key) return 0;
      *value = n->kv[2 * at + 1];
      return 1;
    }
    if (!(n->nodemap & bit)) return 0;
    node = brc_obj_slot(node, index_of(n->nodemap, bit));
  }
  return 0;
}

static uint32_t count(brc_ref node) {
  if (node == 0) return 0;
  const node_t *n = N(node);
  uint32_t total = popcount(n->datamap);
  uint32_t children = popcount(n->nodemap);
  for (uint32_t i = 0; i < children; i++) total += count(brc_obj_slot(node, i));
  return total;
}

/* ---- exports ------------------------------------------------------------------------------------------------- */

#define EXPORT(name) __attribute__((export_name(#name)))

/* Makes the atom (once, on one thread); returns it. */
EXPORT(champ_init) brc_ref champ_init(void) {
  if (!brc_layout_check()) __builtin_trap(); /* the loader checked too; this is the header's own check */
  if (champ_atom == 0) champ_atom = brc_alloc(0, 1);
  return champ_atom;
}

/* key -> value in the shared map: builds the new version from the current root, then swaps it in with a CAS;
 * if another thread swapped first, frees the attempt (only the new path: everything else is shared) and retries. */
EXPORT(champ_put) void champ_put(uint32_t key, uint32_t value) {
  uint32_t h = champ_hash(key);
  for (;;) {
    brc_ref root = brc_load_ref(champ_atom, 0); /* our reference to this version (0: the empty map) */
    brc_ref next = insert(root, 0, h, key, value);
    int swapped = brc_cas_ref(champ_atom, 0, root, next);
    brc_decref_inline(next); /* the atom holds it now, or it was a failed attempt and goes */
    if (root) brc_decref_inline(root);
    if (swapped) break;
    cas_retries++;
  }
  puts_done++;
}

/* Puts keys start, start + step, ... (n of them), each with value key * 3 + 1. */
EXPORT(champ_put_range) void champ_put_range(uint32_t start, uint32_t n, uint32_t step) {
  for (uint32_t i = 0; i < n; i++) champ_put(start + i * step, (start + i * step) * 3 + 1);
}

/* 1 and *out = the value if key is in the current version; 0 if not. */
EXPORT(champ_get) int champ_get(uint32_t key, uint32_t *out) {
  brc_ref root = brc_load_ref(champ_atom, 0);
  int found = lookup(root, key, out);
  if (root) brc_decref_inline(root);
  return found;
}

/* How many of keys start, start + step, ... (n) are present with value key * 3 + 1. */
EXPORT(champ_check_range) uint32_t champ_check_range(uint32_t start, uint32_t n, uint32_t step) {
  brc_ref root = brc_load_ref(champ_atom, 0);
  uint32_t ok = 0, v;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t k = start + i * step;
    if (lookup(root, k, &v) && v == k * 3 + 1) ok++;
  }
  if (root) brc_decref_inline(root);
  return ok;
}

EXPORT(champ_count) uint32_t champ_count(void) {
  brc_ref root = brc_load_ref(champ_atom, 0);
  uint32_t n = count(root);
  if (root) brc_decref_inline(root);
  return n;
}

/* A reference to the current version, for the caller to keep (a snapshot that later puts do not change). */
EXPORT(champ_snapshot) brc_ref champ_snapshot(void) { return brc_load_ref(champ_atom, 0); }

EXPORT(champ_snapshot_count) uint32_t champ_snapshot_count(brc_ref root) { return count(root); }

/* Empties the map and releases the atom: after this the module's data holds no reference. */
EXPORT(champ_shutdown) void champ_shutdown(void) {
  if (champ_atom == 0) return;
  brc_set_ref(champ_atom, 0, 0);
  brc_decref(champ_atom);
  champ_atom = 0;
}

EXPORT(champ_name) const char *champ_name(void) { return champ_name_text; }
EXPORT(champ_retries) uint32_t champ_retries(void) { return cas_retries; }
EXPORT(champ_puts) uint32_t champ_puts(void) { return puts_done; }
EXPORT(champ_hash_of) uint32_t champ_hash_of(uint32_t key) { return champ_hash(key); }

/* The value of key, or 0 if it is absent (values put by champ_put_range are never 0 for keys below 2^30). */
EXPORT(champ_value) uint32_t champ_value(uint32_t key) {
  uint32_t v = 0;
  return champ_get(key, &v) ? v : 0;
}
