/* The embed benchmark's C side (bench/suites/embed.mjs), built with examples/c/build.sh and linked by the loader
 * into a heap whose core is bench/build/loops.wasm, so that the in-core loop (rc_brc) runs the same core code.
 *
 *   rc_import / rc_inline        n incref+decref pairs on one object, through the imports / the header's inline path
 *   rc_*_list                    the same, visiting a list of handles round robin (mask + 1 of them, a power of two)
 *   rc_owner_only_list           the inline path minus its ATTENTION check (information only)
 *   lookup_calls / _accessors / _handwritten
 *                                n lookups of keys in the CHAMP map of examples/c/champ.c, reading node fields through
 *                                brc_payload/brc_get_ref calls, the header's accessors, or offsets written by hand
 *
 * A compiler barrier (an empty asm that clobbers memory) sits between the increment and the decrement, standing for
 * the work a real caller does between them: without it LLVM folds the pair into a load and a compare (it may: the
 * intermediate count is invisible to every other thread), and the loop would measure nothing. */
#include "../../examples/c/champ.c"

#define BARRIER() __asm__ volatile("" ::: "memory")

EXPORT(rc_import) void rc_import(brc_ref obj, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) { brc_incref(obj); BARRIER(); brc_decref(obj); }
}

EXPORT(rc_inline) void rc_inline(brc_ref obj, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) { brc_incref_inline(obj); BARRIER(); brc_decref_inline(obj); }
}

EXPORT(rc_import_list) void rc_import_list(const brc_ref *list, uint32_t mask, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) { brc_ref o = list[i & mask]; brc_incref(o); BARRIER(); brc_decref(o); }
}

EXPORT(rc_inline_list) void rc_inline_list(const brc_ref *list, uint32_t mask, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) { brc_ref o = list[i & mask]; brc_incref_inline(o); BARRIER(); brc_decref_inline(o); }
}

/* The inline path without its ATTENTION check, for the table only (never correct to use: a pause or a stop would
 * go unseen): what the check costs here. */
static inline void inc_owner_only(brc_ref o) {
  brc__u64 *word = (brc__u64 *)(uintptr_t)o;
  uint64_t w = *word;
  if (((w - brc__tid_high()) & BRC_OWNER_WORD_MASK) < (uint64_t)BRC_LOCAL_IMMORTAL - 1) *word = w + 1; else brc_incref(o);
}
static inline void dec_owner_only(brc_ref o) {
  brc__u64 *word = (brc__u64 *)(uintptr_t)o;
  uint64_t w = *word;
  if (((w - brc__tid_high()) & BRC_OWNER_WORD_MASK) - 2 < (uint64_t)BRC_LOCAL_IMMORTAL - 2) *word = w - 1; else brc_decref(o);
}
EXPORT(rc_owner_only_list) void rc_owner_only_list(const brc_ref *list, uint32_t mask, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) { brc_ref o = list[i & mask]; inc_owner_only(o); BARRIER(); dec_owner_only(o); }
}

/* ---- field reads: one lookup walks the nodes reading datamap, nodemap, keys and a child slot per level ---- */

/* The lookup of examples/c/champ.c with its two accesses as parameters: NODE(node), the node's fields; CHILD(node, i),
 * its i-th child (borrowed). One body for every variant, so that only the accesses differ between them. */
#define CHAMP_LOOKUP(name, NODE, CHILD)                                                  \
  static int name(brc_ref node, uint32_t key, uint32_t *value) {                        \
    uint32_t h = champ_hash(key);                                                        \
    for (uint32_t shift = 0; node != 0; shift += BITS) {                                 \
      const node_t *n = NODE(node);                                                      \
      uint32_t bit = 1u << ((h >> shift) & MASK);                                        \
      if (n->datamap & bit) {                                                            \
        uint32_t at = index_of(n->datamap, bit);                                         \
        if (n->kv[2 * at] != key) return 0;                                              \
        *value = n->kv[2 * at + 1];                                                      \
        return 1;                                                                        \
      }                                                                                  \
      if (!(n->nodemap & bit)) return 0;                                                 \
      node = CHILD(node, index_of(n->nodemap, bit));                                     \
    }                                                                                    \
    return 0;                                                                            \
  }

/* Through the exports: a call per node for its payload, and one per child. */
#define NODE_BY_CALL(node) ((const node_t *)brc_payload(node))
CHAMP_LOOKUP(lookup_with_calls, NODE_BY_CALL, brc_get_ref)

/* What one would write without the header: the v2 layout's offsets by hand (16-byte header, slot count in the low
 * 12 bits of the u16 at 6, 4-byte slots, the payload after them 8-aligned), plain loads. */
#define SLOTS_BY_HAND(node) ((uint32_t)*(const uint16_t *)((uintptr_t)(node) + 6) & 0xfff)
#define NODE_BY_HAND(node) ((const node_t *)((uintptr_t)(node) + 16 + ((4 * SLOTS_BY_HAND(node) + 7) & ~7u)))
#define CHILD_BY_HAND(node, i) (((const uint32_t *)((uintptr_t)(node) + 16))[i] & ~1u)
CHAMP_LOOKUP(lookup_by_hand, NODE_BY_HAND, CHILD_BY_HAND)

#define LOOKUP_LOOP(name, fn)                                                            \
  EXPORT(name) uint32_t name(uint32_t keys, uint32_t n) {                                \
    brc_ref root = brc_load_ref(champ_atom, 0);                                          \
    uint32_t found = 0, v = 0, x = 12345;                                                \
    for (uint32_t i = 0; i < n; i++) {                                                   \
      x = x * 1664525u + 1013904223u;                                                    \
      found += (uint32_t)fn(root, (x >> 8) % keys, &v);                                  \
    }                                                                                    \
    if (root) brc_decref(root);                                                          \
    return found + (v & 0);                                                              \
  }

LOOKUP_LOOP(lookup_calls, lookup_with_calls)
LOOKUP_LOOP(lookup_accessors, lookup)
LOOKUP_LOOP(lookup_handwritten, lookup_by_hand)
