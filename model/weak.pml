/*
 * biasrc: weak references (design v2: a cell per weakly referenced object, the WEAK flag, try-incref under the
 * weak mutex W), modelled on top of the counting protocol of brc.pml (which this file includes with WEAKREF).
 * See brc.pml for the threads, the steps and the ghosts, and docs/MODEL.md for what is proved.
 *
 * Any thread holding a strong reference may call weak() (once in all); from then on every thread knows the weak
 * handle and may upgrade it (MAXUP upgrades in all), whether it holds a strong reference or not. An upgrade locks W,
 * reads the cell, try-increfs the target and unlocks. The free path (releaseObjectBlock) clears the cell under W
 * before the block is released when the shared word has WEAK. Assertions added to brc.pml's:
 *   - no access to a released block (ACC), in particular by an upgrader that read the cell;
 *   - an upgrade never succeeds after the free was decided (assert(!decided) in try-incref's successful step);
 *   - an upgrade fails only when no thread holds a strong reference (refs == qref: the queue's pending one aside);
 *   - counts conserved (INV, with tentative adds), and at the end: freed, and the cell cleared.
 *
 * Switches (on top of brc.pml's):
 *   BROKEN_NO_WEAK_FLAG     weak() does not set WEAK: the owner's mergeZeroLocal takes its shared == 0 shortcut
 *                           (a free decided by a plain load) while an upgrader CASes 0 -> ONE.
 *   BROKEN_TRYINC_EXACT     try-incref refuses only shared == MERGED exactly (CPython's test): with WEAK set it
 *                           never refuses, and resurrects an object whose free is decided.
 *   BROKEN_TRYINC_NOMERGED  try-incref refuses count - QUEUED <= 0 without looking at MERGED: it fails on an object
 *                           whose references are all in its owner's local count.
 *   RELAXED_QUEUED          try-incref refuses MERGED and count <= 0, ignoring QUEUED (expected to pass).
 *   BROKEN_TRYINC_ADD       try-incref is the one atomic add, undone when the old word was dying.
 *   BROKEN_FREE_ORDER       the free path releases the block before it clears the cell.
 *   BROKEN_QUEUE_TEST       decrefShared keeps today's literal `s == 0` test for "set QUEUED in place of a
 *                           decrement": with WEAK set the count goes below zero without QUEUED.
 *   BROKEN_DROP_WEAK        mergeQueued and abandonObject re-encode the flags without WEAK (today's code): the free
 *                           path then skips the cell.
 * Bounds: scripts/model.mjs runs this with NO_PARK NO_DEAD NO_REUSE (the rights machinery is brc.pml's subject).
 */
#define WEAKREF
#include "brc.pml"
