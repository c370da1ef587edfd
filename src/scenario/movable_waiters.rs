// SPDX-License-Identifier: GPL-2.0

//! Lock waiters on the module's movable pages while compaction isolates,
//! migrates and puts them back (seed 002's class: a non-atomic flag update
//! with the page locked wipes a waiter's `PG_waiters`). Shared by the
//! `isolated_putback`, `movable_isolate` and `movable_migrate` scenarios,
//! which differ in the callback whose interleaving they count.
//!
//! The module owns a few non-LRU movable pages (`MovablePages`). While a
//! scenario runs, user space triggers compaction
//! (`/proc/sys/vm/compact_memory`), which isolates them (`isolate_page`
//! callback, page locked, then sets `PG_isolated`), tries to migrate them
//! (`migrate_page`, page locked; on success it clears `PG_isolated`) and,
//! if that fails, puts them back (`putback_page`, page locked, then clears
//! `PG_isolated`). The `compact_isolate` window holds each page in the
//! callback of its phase. Meanwhile a kernel thread locks and unlocks the
//! pages in turn, and blocks, setting `PG_waiters`, whenever compaction
//! holds one. A watchdog (the writing task) checks that the locker always
//! gets its lock once the page is unlocked; if it does not within a second,
//! the wakeup was lost: the watchdog counts it and wakes the locker.
//!
//! The report counts the calls of the scenario's callback on the run's
//! pages, and those during which the locker queued on the page
//! (`PG_waiters` set inside the callback): the interleaving the bug loses.
//! A test needs that count to be non-zero to know the race ran. The pages
//! are placed where compaction reaches them (`MovablePages::new`).

use super::{Args, Report};
use crate::abstractions::movable::{self, Callback, MovablePages};
use crate::abstractions::{context::now_ns, thread};
use crate::window::compact_isolate;
use core::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

/// Pages the locker cycles through.
const PAGES: usize = 16;
/// How long a waiter may stay asleep on an unlocked page before its wakeup
/// counts as lost.
const LOST_NS: u64 = 1_000_000_000;
/// `waiting_on` when the locker waits for nothing.
const NONE: usize = usize::MAX;

struct Shared {
    stop: AtomicBool,
    /// The page the locker is locking, or `NONE`.
    waiting_on: AtomicUsize,
    /// Locks taken so far.
    locks: AtomicU64,
    /// Locks the locker had to wait for (the page was locked when it came).
    waited: AtomicU64,
}

fn locker(pages: &MovablePages, s: &Shared) {
    let mut rounds = 0u32;
    while !s.stop.load(Acquire) {
        for i in 0..pages.len() {
            if pages.is_locked(i) {
                s.waited.fetch_add(1, Relaxed);
            }
            s.waiting_on.store(i, Release);
            pages.with_lock(i, core::hint::spin_loop);
            s.waiting_on.store(NONE, Release);
            s.locks.fetch_add(1, Release);
        }
        // A short sleep now and then (it lasts milliseconds under TCG):
        // the locker must come back to every page within a window.
        rounds = rounds.wrapping_add(1);
        if rounds % 64 == 0 {
            thread::sleep_us(20);
        }
    }
}

/// One look: whether the locker has been asleep on an unlocked page for
/// `LOST_NS`. `last` holds the lock count seen and when it last moved.
fn stalled(pages: &MovablePages, s: &Shared, last: &mut (u64, u64)) -> Option<usize> {
    let locks = s.locks.load(Acquire);
    let i = s.waiting_on.load(Acquire);
    let now = now_ns();
    if locks != last.0 || i == NONE {
        *last = (locks, now);
        return None;
    }
    // No progress for `LOST_NS`, and the page unlocked right now: an
    // unlock that should have woken the locker did not (the kernel hands
    // the lock over to a woken waiter, so compaction re-locking it in
    // between does not starve it).
    (now.saturating_sub(last.1) > LOST_NS && !pages.is_locked(i)).then_some(i)
}

fn watchdog(pages: &MovablePages, s: &Shared, run_ms: u64, lost: &AtomicU64) {
    let mut last = (u64::MAX, now_ns());
    let end = now_ns().saturating_add(run_ms.saturating_mul(1_000_000));
    // Run for `run_ms`, then until the locker has noticed `stop`.
    loop {
        if now_ns() >= end {
            s.stop.store(true, Release);
        }
        if let Some(i) = stalled(pages, s, &mut last) {
            if pages.wake_waiters(i) {
                lost.fetch_add(1, Relaxed);
                last = (u64::MAX, now_ns());
            }
        }
        if s.stop.load(Acquire) && s.waiting_on.load(Acquire) == NONE {
            break;
        }
        thread::sleep_us(1000);
    }
}

/// Runs the locker and the watchdog on fresh movable pages for
/// `args.iterations` ms, while user space triggers compaction, and reports
/// the calls of callback `cb` and those during which the locker queued on
/// the page (`exercised`). The pages' migration succeeds if
/// `accept_migration`.
pub(super) fn run(r: &mut Report<'_>, args: &Args, cb: Callback, accept_migration: bool) {
    let pages = match MovablePages::new(PAGES, &compact_isolate::MOVABLE_HOOK, accept_migration) {
        Ok(p) => p,
        Err(e) => {
            r.check(
                false,
                "setup",
                format_args!("no movable pages: error {}", e.to_errno()),
            );
            return;
        }
    };
    let s = &Shared {
        stop: AtomicBool::new(false),
        waiting_on: AtomicUsize::new(NONE),
        locks: AtomicU64::new(0),
        waited: AtomicU64::new(0),
    };
    let lost = &AtomicU64::new(0);
    let pages = &pages;
    let (calls0, queued0) = movable::callback_counts(cb);
    let outcome = thread::join(
        || watchdog(pages, s, args.iterations, lost),
        move || locker(pages, s),
    );
    if !r.joined("setup", outcome) {
        return;
    }
    let (locks, waited, lost) = (
        s.locks.load(Relaxed),
        s.waited.load(Relaxed),
        lost.load(Relaxed),
    );
    let (lo, hi) = pages.pfn_range();
    let place = pages.placement();
    r.note(format_args!(
        "{PAGES} movable pages (pfn {lo:#x}-{hi:#x}; node {}, zone from pfn {:#x}, {} anchor pageblocks), {} ms: {locks} locks, {waited} found the page locked",
        place.nid, place.zone_start_pfn, place.anchors, args.iterations
    ));
    let (calls, queued) = movable::callback_counts(cb);
    let (calls, queued) = (calls - calls0, queued - queued0);
    let name = match cb {
        Callback::Isolate => "isolate_page",
        Callback::Migrate => "migrate_page",
        Callback::Putback => "putback_page",
    };
    // The count a test needs to know the race ran: the dangerous
    // interleaving, on this run's own pages (no other page has the module's
    // callbacks).
    r.note(format_args!(
        "{name} calls {calls}, waiter_queued {queued}: calls of the callback on these pages, and those during which a lock waiter queued on the page (PG_waiters set in the callback)"
    ));
    r.note(format_args!("exercised: {queued}"));
    r.check(locks > 0, "locks_taken", format_args!("{locks}"));
    r.check(
        lost == 0,
        "no_lost_wakeup",
        format_args!(
            "{lost} waiters slept on an unlocked page for over a second (woken by the watchdog)"
        ),
    );
}
