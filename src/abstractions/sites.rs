// SPDX-License-Identifier: GPL-2.0

//! The probe sites mmrace uses, with what the kernel (6.12) hands over at
//! each: the one place where the kernel's function signatures are trusted.
//! Documentation/windows.rst explains each placement and how robust it is
//! to inlining; the module checks at arm time that every symbol exists.

use crate::abstractions::probe::{Site, Tracepoint, Value, When};
use kernel::c_str;

/// `mm/gup.c`: `static struct folio *try_grab_folio_fast(struct page
/// *page, int refs, unsigned int flags)`, at entry: GUP-fast read the PTE
/// locklessly and is about to take the reference.
// SAFETY: argument 0 is the `struct page *` of the PTE just read.
pub(crate) static GUP_FAST_GRAB_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("try_grab_folio_fast"),
        When::Entry { arg: 0 },
        &[],
        Value::Page,
    )
};

/// The same function at return: the reference is taken (or NULL), the
/// PTE/PMD re-check has not run yet. Its entry already names the page, so
/// that calls for other pages are not hooked at return.
// SAFETY: it returns the `struct folio *` it took a reference on, or NULL:
// the folio of argument 0, the `struct page *`, which GUP-fast reads with
// interrupts off, so that the folio cannot be freed or split (both wait
// for a TLB-flush IPI, or an RCU grace period) between entry and return.
// Its three arguments travel in registers.
pub(crate) static GUP_FAST_GRAB_RETURN: Site = unsafe {
    Site::kprobe(
        c_str!("try_grab_folio_fast"),
        When::Return,
        &[],
        Value::Folio,
    )
    .known_at_entry(0, Value::Page)
    .register_args()
};

/// `mm/migrate.c`: `static int __migrate_folio(struct address_space
/// *mapping, struct folio *dst, struct folio *src, void *src_private, enum
/// migrate_mode mode)`, at entry: the source is locked, isolated and
/// unmapped (migration entries in the page tables); next comes the
/// expected-refcount check.
// SAFETY: argument 2 is the source `struct folio *`.
pub(crate) static MIGRATE_FOLIO_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("__migrate_folio"),
        When::Entry { arg: 2 },
        &[],
        Value::Folio,
    )
};

/// `mm/migrate.c`: `int folio_migrate_mapping(struct address_space
/// *mapping, struct folio *newfolio, struct folio *folio, int
/// extra_count)`, at entry: the same check, for filesystems' own
/// `migrate_folio` callbacks.
// SAFETY: argument 2 is the source `struct folio *`.
pub(crate) static FOLIO_MIGRATE_MAPPING_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("folio_migrate_mapping"),
        When::Entry { arg: 2 },
        &[],
        Value::Folio,
    )
};

/// `page_ref_freeze` succeeded in migration's mapping move: the source's
/// refcount is 0 and the xarray lock (interrupts off) is held.
pub(crate) static MIGRATE_REF_FROZEN: Site = Site::tracepoint(
    Tracepoint::RefFreeze,
    &[
        c_str!("__folio_migrate_mapping"),
        c_str!("migrate_huge_page_move_mapping"),
    ],
);

/// `mm/migrate.c`: `static int move_to_new_folio(struct folio *dst, struct
/// folio *src, enum migrate_mode mode)`, at entry: the source is isolated
/// and locked (LRU or movable non-LRU), about to be migrated, after which
/// it is un-isolated and unlocked.
// SAFETY: argument 1 is the source `struct folio *`.
pub(crate) static MOVE_TO_NEW_FOLIO_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("move_to_new_folio"),
        When::Entry { arg: 1 },
        &[],
        Value::Folio,
    )
};

/// `mm/ksm.c`: `void folio_migrate_ksm(struct folio *newfolio, struct
/// folio *folio)`, at entry (`CONFIG_KSM`): called by `folio_migrate_flags()`
/// for every migrated LRU folio, between the flags it copies to the new
/// folio and the rest. The new folio has replaced the source in the
/// mapping (page-cache lookups find it) and is locked, as is the source.
// SAFETY: argument 0 is the new `struct folio *`.
pub(crate) static FOLIO_MIGRATE_KSM_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("folio_migrate_ksm"),
        When::Entry { arg: 0 },
        &[],
        Value::Folio,
    )
};

/// `mm/swap.c`: `static void lru_add(struct lruvec *lruvec, struct folio
/// *folio)`, at entry (called through `folio_batch_move_lru()`'s
/// `move_fn`): a folio being added to an LRU list, the lru_lock held with
/// interrupts off; `PG_lru` is set after it. Migration adds the new folio
/// this way while it is still locked and in the page cache (`move_pages(2)`
/// disables the per-CPU LRU batches, so the add is immediate).
// SAFETY: argument 1 is the `struct folio *`.
pub(crate) static LRU_ADD_ENTRY: Site =
    unsafe { Site::kprobe(c_str!("lru_add"), When::Entry { arg: 1 }, &[], Value::Folio) };

/// `page_ref_mod` (the `folio_get()`) inside `mm/vmscan.c`: `bool
/// folio_isolate_lru(struct folio *folio)`: the folio is being isolated
/// from its LRU list, `PG_lru` just cleared by `folio_test_clear_lru()`,
/// the lru_lock not yet taken (interrupts on), the folio not locked by the
/// isolator (`move_pages(2)` isolates before it locks). No call between
/// the clear and the lock can be probed (`folio_lruvec_lock_irq()` is
/// inlined without memcg): the tracepoint of `folio_get()` is the place.
pub(crate) static LRU_ISOLATE_GET: Site =
    Site::tracepoint(Tracepoint::PlainMod, &[c_str!("folio_isolate_lru")]);

/// `mm/migrate.c`: `static void putback_movable_folio(struct folio
/// *folio)`, at entry: a movable non-LRU folio, isolated and locked by
/// `putback_movable_pages()`, about to be put back and un-isolated.
// SAFETY: argument 0 is the `struct folio *`.
pub(crate) static PUTBACK_MOVABLE_FOLIO_ENTRY: Site = unsafe {
    Site::kprobe(
        c_str!("putback_movable_folio"),
        When::Entry { arg: 0 },
        &[],
        Value::Folio,
    )
};

/// `lib/xarray.c`: `void *xas_load(struct xa_state *xas)` returning to
/// `filemap_get_entry()`: the page-cache entry is loaded, under RCU, and
/// the speculative reference is not taken yet.
// SAFETY: it returns the xarray entry: a folio pointer or a value/internal
// entry or NULL.
pub(crate) static FILEMAP_GET_ENTRY_LOAD: Site = unsafe {
    Site::kprobe(
        c_str!("xas_load"),
        When::Return,
        &[c_str!("filemap_get_entry"), c_str!("__filemap_get_folio")],
        Value::XaEntry,
    )
};

/// The same, returning to `filemap_get_folios_contig()` (from
/// `memfd_pin_folios()`): the first folio of the range is loaded, not yet
/// referenced.
// SAFETY: as for `FILEMAP_GET_ENTRY_LOAD`.
pub(crate) static FOLIOS_CONTIG_LOAD: Site = unsafe {
    Site::kprobe(
        c_str!("xas_load"),
        When::Return,
        &[c_str!("filemap_get_folios_contig")],
        Value::XaEntry,
    )
};

/// The same, returning to `filemap_get_read_batch()` (the read(2) path):
/// the first folio of the batch is loaded, not yet referenced.
// SAFETY: as for `FILEMAP_GET_ENTRY_LOAD`.
pub(crate) static FILEMAP_READ_BATCH_LOAD: Site = unsafe {
    Site::kprobe(
        c_str!("xas_load"),
        When::Return,
        &[
            c_str!("filemap_get_read_batch"),
            c_str!("filemap_get_pages"),
            c_str!("filemap_read"),
            c_str!("filemap_splice_read"),
        ],
        Value::XaEntry,
    )
};

/// `lib/xarray.c`: `void *xas_find(struct xa_state *xas, unsigned long
/// max)` returning to `next_uptodate_folio()` (fault-around,
/// `filemap_map_pages()`): the first folio of the batch (and any after a
/// node boundary) is loaded, not yet referenced.
// SAFETY: it returns the xarray entry: a folio pointer or a value/internal
// entry or NULL.
pub(crate) static NEXT_UPTODATE_FOLIO_FIND: Site = unsafe {
    Site::kprobe(
        c_str!("xas_find"),
        When::Return,
        &[c_str!("next_uptodate_folio"), c_str!("filemap_map_pages")],
        Value::XaEntry,
    )
};

/// The same, returning to `find_get_entry()` (the gang lookups of
/// truncation, invalidation and `filemap_get_folios*()`).
// SAFETY: as for `NEXT_UPTODATE_FOLIO_FIND`.
pub(crate) static FIND_GET_ENTRY_FIND: Site = unsafe {
    Site::kprobe(
        c_str!("xas_find"),
        When::Return,
        &[
            c_str!("find_get_entry"),
            c_str!("find_get_entries"),
            c_str!("find_lock_entries"),
            c_str!("filemap_get_folios_tag"),
            c_str!("filemap_get_folios"),
        ],
        Value::XaEntry,
    )
};

/// `page_ref_add_unless` succeeded inside a page-cache lookup: the
/// speculative reference is held, the xarray re-check has not run.
pub(crate) static PAGECACHE_SPECULATIVE_REF: Site = Site::tracepoint(
    Tracepoint::RefModUnless,
    &[
        c_str!("filemap_get_entry"),
        c_str!("__filemap_get_folio"),
        c_str!("filemap_get_read_batch"),
        c_str!("filemap_get_pages"),
        c_str!("next_uptodate_folio"),
        c_str!("filemap_map_pages"),
    ],
);

/// `page_ref_add_unless` succeeded inside compaction's isolation: the
/// speculative reference of `folio_get_nontail_page()`, taken by
/// `isolate_migratepages_block()` on a page of the block it scans (before
/// it checks the folio's mapping, locks it or clears `PG_lru`), or by
/// `isolate_movable_page()` on a non-LRU movable page (before it locks
/// the page and isolates it). Preemption may be on; the zone's lru_lock is
/// not held (`isolate_migratepages_block()` takes it after).
pub(crate) static COMPACT_ISOLATE_SPECULATIVE_REF: Site = Site::tracepoint(
    Tracepoint::RefModUnless,
    &[
        c_str!("isolate_migratepages_block"),
        c_str!("isolate_movable_page"),
    ],
);
