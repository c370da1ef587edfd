// SPDX-License-Identifier: GPL-2.0

//! A window's statistics: the `stats` file, one `key: value` per line, in
//! the order and with the names of Documentation/debugfs.rst.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters of one window; all monotonic until reset.
pub(crate) struct Stats {
    /// Probe firings on a page (before any filter).
    pub(crate) entered: AtomicU64,
    /// Firings dropped by a filter: page, task, caller, interval,
    /// probability or times.
    pub(crate) filtered_out: AtomicU64,
    /// Windows not opened because the delay budget was spent.
    pub(crate) throttled: AtomicU64,
    /// Windows opened (a delay or a rendezvous wait was spent).
    pub(crate) delayed: AtomicU64,
    /// Windows during which a conflicting event was observed: the folio's
    /// refcount, mapcount, flags or mapping changed, or another window
    /// arrived on the same page.
    pub(crate) hits: AtomicU64,
    /// Windows during which the folio's `PG_waiters` went from clear to set:
    /// a task queued for the folio's lock (or another bit) while the window
    /// held it (class 3: the bit a non-atomic flag update can wipe).
    pub(crate) waiters_queued: AtomicU64,
    /// Windows at whose close the folio's flags word differs from its value
    /// when the window opened: someone wrote it meanwhile (class 3: what a
    /// non-atomic read-modify-write spanning the window would undo).
    pub(crate) flags_changed: AtomicU64,
    /// Windows at whose close the folio's `PG_locked` differs from its
    /// value when the window opened, or its `PG_waiters` went from clear to
    /// set: a task locked, unlocked or queued for the folio meanwhile
    /// (class 3: the writes whose loss a lock waiter notices, unlike that
    /// of, say, `PG_referenced`).
    pub(crate) lock_changed: AtomicU64,
    /// Windows at whose close the folio's reference count is zero (frozen
    /// or freed) or its `mapping` is no longer the one it had when the
    /// window opened: a lookup holding an unreferenced pointer to it must
    /// now notice (class 1).
    pub(crate) released: AtomicU64,
    /// Rendezvous waits that saw their partner arrive.
    pub(crate) rendezvous_met: AtomicU64,
    /// Rendezvous waits that ended at their timeout.
    pub(crate) rendezvous_timeout: AtomicU64,
    /// Nanoseconds spent inside windows.
    pub(crate) total_delay_ns: AtomicU64,
    /// Longest single window, in nanoseconds.
    pub(crate) max_delay_ns: AtomicU64,
    /// Adversary jobs posted (windows opened with an adversary and no job
    /// in flight).
    pub(crate) adversary_posted: AtomicU64,
    /// Jobs a helper took (`adversary/wait`).
    pub(crate) adversary_started: AtomicU64,
    /// Jobs done while the window that posted them was still open.
    pub(crate) adversary_inside: AtomicU64,
    /// Jobs done after it closed.
    pub(crate) adversary_after: AtomicU64,
    /// Jobs that failed (or could not be posted: no target).
    pub(crate) adversary_failed: AtomicU64,
    /// The errno (positive) of the last failure; 0: none.
    pub(crate) adversary_last_error: AtomicU64,
    /// Values a defined window's probe handed over that were not what its
    /// definition claims (not a `struct page *` in the memmap, not a
    /// folio's head page, not a valid pfn): counted and skipped.
    pub(crate) invalid: AtomicU64,
    /// Openings that posted no job: over the module-wide rate limit
    /// (`adversary::MAX_JOBS_PER_SEC`).
    pub(crate) adversary_throttled: AtomicU64,
    /// `+reuse` steps that allocated the freed page again.
    pub(crate) adversary_reused: AtomicU64,
}

impl Stats {
    /// All zero.
    pub(crate) const fn new() -> Self {
        Self {
            entered: AtomicU64::new(0),
            filtered_out: AtomicU64::new(0),
            throttled: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            waiters_queued: AtomicU64::new(0),
            flags_changed: AtomicU64::new(0),
            lock_changed: AtomicU64::new(0),
            released: AtomicU64::new(0),
            rendezvous_met: AtomicU64::new(0),
            rendezvous_timeout: AtomicU64::new(0),
            total_delay_ns: AtomicU64::new(0),
            max_delay_ns: AtomicU64::new(0),
            adversary_posted: AtomicU64::new(0),
            adversary_started: AtomicU64::new(0),
            adversary_inside: AtomicU64::new(0),
            adversary_after: AtomicU64::new(0),
            adversary_failed: AtomicU64::new(0),
            adversary_last_error: AtomicU64::new(0),
            invalid: AtomicU64::new(0),
            adversary_throttled: AtomicU64::new(0),
            adversary_reused: AtomicU64::new(0),
        }
    }

    fn fields(&self) -> [(&'static str, &AtomicU64); 22] {
        [
            ("entered", &self.entered),
            ("filtered_out", &self.filtered_out),
            ("throttled", &self.throttled),
            ("delayed", &self.delayed),
            ("hits", &self.hits),
            ("rendezvous_met", &self.rendezvous_met),
            ("rendezvous_timeout", &self.rendezvous_timeout),
            ("total_delay_ns", &self.total_delay_ns),
            ("max_delay_ns", &self.max_delay_ns),
            ("waiters_queued", &self.waiters_queued),
            ("flags_changed", &self.flags_changed),
            ("lock_changed", &self.lock_changed),
            ("released", &self.released),
            ("adversary_posted", &self.adversary_posted),
            ("adversary_started", &self.adversary_started),
            ("adversary_inside", &self.adversary_inside),
            ("adversary_after", &self.adversary_after),
            ("adversary_failed", &self.adversary_failed),
            ("adversary_last_error", &self.adversary_last_error),
            ("invalid", &self.invalid),
            ("adversary_throttled", &self.adversary_throttled),
            ("adversary_reused", &self.adversary_reused),
        ]
    }

    /// Zeroes every counter.
    pub(crate) fn reset(&self) {
        for (_, counter) in self.fields() {
            counter.store(0, Relaxed);
        }
    }

    /// Accounts one opened window of `ns` nanoseconds.
    pub(crate) fn add_delay(&self, ns: u64) {
        self.delayed.fetch_add(1, Relaxed);
        self.total_delay_ns.fetch_add(ns, Relaxed);
        self.max_delay_ns.fetch_max(ns, Relaxed);
    }

    /// Writes the `stats` file, with `skipped` calls the probes' page
    /// filters turned away before the handler counted them: entered and
    /// filtered out.
    pub(crate) fn show(&self, out: &mut impl Write, skipped: u64) -> fmt::Result {
        for (name, counter) in self.fields() {
            let mut value = counter.load(Relaxed);
            if name == "entered" || name == "filtered_out" {
                value = value.wrapping_add(skipped);
            }
            writeln!(out, "{name}: {value}")?;
        }
        Ok(())
    }
}
