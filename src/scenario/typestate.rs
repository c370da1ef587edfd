// SPDX-License-Identifier: GPL-2.0

//! The typestate folio API on real pages: every transition, the freeze
//! refused while another thread holds a reference, and the lock guard,
//! alone and with a real waiter queued on it.

use super::{wait_until, Args, Report, Scenario, Signal};
use crate::abstractions::{
    folio::{self, flag, Folio, Frozen, Referenced, Unpublished},
    thread,
};
use core::num::NonZeroU16;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;

/// How long one side of a two-thread scenario waits for the other, in
/// microseconds, before it reports a failure.
const PATIENCE_US: u64 = 2_000_000;

const TWO: NonZeroU16 = match NonZeroU16::new(2) {
    Some(n) => n,
    None => NonZeroU16::MIN,
};

pub(super) static TRANSITIONS: Scenario = Scenario {
    name: "transitions",
    about: "alloc, non-atomic updates while unpublished, publish, atomic updates, \
            freeze (wrong and right count), non-atomic updates while frozen, unfreeze",
    run: transitions,
};

pub(super) static DROP_FROZEN: Scenario = Scenario {
    name: "drop_frozen",
    about: "a frozen handle dropped without unfreeze restores its count and frees the folio",
    run: drop_frozen,
};

pub(super) static FREEZE_CONTENDED: Scenario = Scenario {
    name: "freeze_contended",
    about: "a freeze fails while another thread holds a reference, succeeds once it drops it",
    run: freeze_contended,
};

pub(super) static LOCK: Scenario = Scenario {
    name: "lock",
    about: "the lock guard in each state: locked while held, unlocked when dropped",
    run: lock,
};

pub(super) static LOCK_CONTENDED: Scenario = Scenario {
    name: "lock_contended",
    about: "seed 002 through the API: a real waiter queues (PG_waiters) while the holder \
            clears isolated; every waiter wakes",
    run: lock_contended,
};

/// Allocates a folio, or records why not.
fn alloc(r: &mut Report<'_>) -> Option<Folio<Unpublished>> {
    match Folio::alloc() {
        Ok(f) => Some(f),
        Err(e) => {
            r.check(
                false,
                "alloc",
                format_args!("folio_alloc failed: {}", e.to_errno()),
            );
            None
        }
    }
}

fn transitions(r: &mut Report<'_>, _args: &Args) {
    let Some(mut folio) = alloc(r) else {
        return;
    };
    r.check(
        folio.ref_count() == 1 && folio.refs() == 1,
        "alloc",
        format_args!(
            "Unpublished, pfn {:#x}, refcount {}, flags {}",
            folio.pfn(),
            folio.ref_count(),
            folio.flag_names()
        ),
    );

    folio.set_nonatomic::<flag::Swapbacked>();
    folio.set_nonatomic::<flag::Uptodate>();
    folio.set_nonatomic::<flag::Isolated>();
    folio.set_nonatomic::<flag::Dirty>();
    folio.clear_nonatomic::<flag::Dirty>();
    r.check(
        folio.test::<flag::Swapbacked>()
            && folio.test::<flag::Uptodate>()
            && folio.test::<flag::Isolated>()
            && !folio.test::<flag::Dirty>(),
        "unpublished_nonatomic",
        format_args!(
            "__set swapbacked, uptodate, isolated, dirty; __clear dirty: flags {}",
            folio.flag_names()
        ),
    );

    let folio: Folio<Referenced> = folio.publish();
    r.check(
        folio.ref_count() == 1 && folio.test::<flag::Isolated>(),
        "publish",
        format_args!(
            "Referenced, refcount {}, flags {}",
            folio.ref_count(),
            folio.flag_names()
        ),
    );

    folio.set::<flag::Referenced>();
    let was_dirty = folio.test_and_set::<flag::Dirty>();
    let dirty_again = folio.test_and_set::<flag::Dirty>();
    let cleared = folio.test_and_clear::<flag::Dirty>();
    let cleared_again = folio.test_and_clear::<flag::Dirty>();
    folio.clear::<flag::Isolated>();
    r.check(
        folio.test::<flag::Referenced>()
            && !was_dirty
            && dirty_again
            && cleared
            && !cleared_again
            && !folio.test::<flag::Isolated>(),
        "referenced_atomic",
        format_args!(
            "set referenced; test_and_set dirty {was_dirty} then {dirty_again}; \
             test_and_clear dirty {cleared} then {cleared_again}; clear isolated: flags {}",
            folio.flag_names()
        ),
    );

    let folio = match folio.try_freeze(2) {
        Ok(frozen) => {
            r.check(
                false,
                "freeze_wrong_count",
                format_args!("froze from 2 with 1 reference"),
            );
            frozen.unfreeze(NonZeroU16::MIN)
        }
        Err(e) => {
            r.check(
                e.error == EINVAL && e.folio.ref_count() == 1,
                "freeze_wrong_count",
                format_args!(
                    "try_freeze(2) on a 1-reference handle: error {}, handle back, refcount {}",
                    e.error.to_errno(),
                    e.folio.ref_count()
                ),
            );
            e.folio
        }
    };

    let mut frozen: Folio<Frozen> = match folio.try_freeze(1) {
        Ok(frozen) => frozen,
        Err(e) => {
            r.check(
                false,
                "freeze",
                format_args!("try_freeze(1): error {}", e.error.to_errno()),
            );
            return;
        }
    };
    r.check(
        frozen.ref_count() == 0 && frozen.refs() == 1,
        "freeze",
        format_args!(
            "try_freeze(1): Frozen, refcount {}, frozen from {}",
            frozen.ref_count(),
            frozen.refs()
        ),
    );

    frozen.set_nonatomic::<flag::Dirty>();
    frozen.clear_nonatomic::<flag::Swapbacked>();
    frozen.set_nonatomic::<flag::Isolated>();
    r.check(
        frozen.test::<flag::Dirty>()
            && !frozen.test::<flag::Swapbacked>()
            && frozen.test::<flag::Isolated>()
            && frozen.ref_count() == 0,
        "frozen_nonatomic",
        format_args!(
            "__set dirty, isolated; __clear swapbacked: flags {}, refcount {}",
            frozen.flag_names(),
            frozen.ref_count()
        ),
    );

    let folio = frozen.unfreeze(TWO);
    r.check(
        folio.ref_count() == 2 && folio.refs() == 2,
        "unfreeze",
        format_args!(
            "unfreeze(2): Referenced, refcount {}, owned {}",
            folio.ref_count(),
            folio.refs()
        ),
    );

    let folio = match folio.try_freeze(2) {
        Ok(frozen) => {
            let refcount = frozen.ref_count();
            let folio = frozen.unfreeze(NonZeroU16::MIN);
            r.check(
                refcount == 0 && folio.ref_count() == 1,
                "refreeze",
                format_args!(
                    "try_freeze(2): refcount {refcount}; unfreeze(1): refcount {}",
                    folio.ref_count()
                ),
            );
            folio
        }
        Err(e) => {
            r.check(
                false,
                "refreeze",
                format_args!("try_freeze(2): error {}", e.error.to_errno()),
            );
            e.folio
        }
    };

    let other = folio.clone();
    let folio = match folio.try_freeze(1) {
        Ok(frozen) => {
            r.check(
                false,
                "freeze_with_clone",
                format_args!("froze with a clone alive"),
            );
            frozen.unfreeze(NonZeroU16::MIN)
        }
        Err(e) => {
            r.check(
                e.error == EAGAIN && e.folio.ref_count() == 2,
                "freeze_with_clone",
                format_args!(
                    "try_freeze(1) with a clone alive: error {}, refcount {}",
                    e.error.to_errno(),
                    e.folio.ref_count()
                ),
            );
            e.folio
        }
    };
    drop(other);
    r.check(
        folio.ref_count() == 1,
        "drop_clone",
        format_args!("refcount {} after the clone's drop", folio.ref_count()),
    );
}

/// Cycles of a leak check: more pages than the per-CPU lists hold.
const LEAK_CYCLES: u64 = 4096;

fn drop_frozen(r: &mut Report<'_>, _args: &Args) {
    // One handle, observed after its drop: the count restored must equal
    // the count dropped, or the refcount would not read 0.
    let Some(folio) = alloc(r) else {
        return;
    };
    let observer = folio.observer();
    let folio = match folio.publish().try_freeze(1) {
        Ok(f) => f.unfreeze(TWO),
        Err(e) => {
            r.check(
                false,
                "drop_frozen",
                format_args!("try_freeze(1): error {}", e.error.to_errno()),
            );
            return;
        }
    };
    let frozen = match folio.try_freeze(2) {
        Ok(f) => f,
        Err(e) => {
            r.check(
                false,
                "drop_frozen",
                format_args!("try_freeze(2): error {}", e.error.to_errno()),
            );
            return;
        }
    };
    let before = frozen.ref_count();
    drop(frozen);
    let after = observer.map_or(-1, |p| p.state().refcount);
    r.check(
        before == 0 && after == 0,
        "drop_frozen",
        format_args!(
            "frozen from 2 (refcount {before}), dropped: refcount {after} \
             (1: restored too many, -1: too few)"
        ),
    );

    // Many: the folios go back to the allocator.
    let free_before = folio::nr_free_pages();
    let mut failed = 0u64;
    for _ in 0..LEAK_CYCLES {
        let Ok(folio) = Folio::alloc() else {
            failed += 1;
            continue;
        };
        match folio.publish().try_freeze(1) {
            Ok(frozen) => drop(frozen),
            Err(_) => failed += 1,
        }
    }
    let free_after = folio::nr_free_pages();
    let lost = free_before.saturating_sub(free_after);
    r.check(
        failed == 0 && lost < LEAK_CYCLES / 4,
        "drop_frozen_no_leak",
        format_args!(
            "{LEAK_CYCLES} alloc, publish, freeze, drop: free pages {free_before} -> \
             {free_after} ({lost} fewer), {failed} failed"
        ),
    );
}

fn freeze_contended(r: &mut Report<'_>, _args: &Args) {
    let Some(folio) = alloc(r) else {
        return;
    };
    let folio = folio.publish();
    let other = folio.clone();
    let (held, tried, dropped) = (&Signal::new(), &Signal::new(), &Signal::new());
    let outcome = thread::join(
        || {
            if !wait_until(PATIENCE_US, || held.reached(1)) {
                r.check(
                    false,
                    "freeze_contended",
                    format_args!("the other thread never ran"),
                );
                tried.raise(1);
                return;
            }
            let folio = match folio.try_freeze(1) {
                Ok(frozen) => {
                    r.check(
                        false,
                        "freeze_refused",
                        format_args!("froze while another thread held a reference"),
                    );
                    frozen.unfreeze(NonZeroU16::MIN)
                }
                Err(e) => {
                    r.check(
                        e.error == EAGAIN && e.folio.ref_count() == 2,
                        "freeze_refused",
                        format_args!(
                            "try_freeze(1) while another thread holds a reference: error {}, \
                             refcount {}, flags {}",
                            e.error.to_errno(),
                            e.folio.ref_count(),
                            e.folio.flag_names()
                        ),
                    );
                    e.folio
                }
            };
            tried.raise(1);
            if !wait_until(PATIENCE_US, || dropped.reached(1)) {
                r.check(
                    false,
                    "freeze_after_drop",
                    format_args!("the reference was never dropped"),
                );
                return;
            }
            match folio.try_freeze(1) {
                Ok(mut frozen) => {
                    frozen.clear_nonatomic::<flag::Referenced>();
                    r.check(
                        frozen.ref_count() == 0 && !frozen.test::<flag::Referenced>(),
                        "freeze_after_drop",
                        format_args!(
                            "try_freeze(1) once it is dropped: refcount {}; __clear referenced: \
                             flags {}",
                            frozen.ref_count(),
                            frozen.flag_names()
                        ),
                    );
                    let folio = frozen.unfreeze(NonZeroU16::MIN);
                    r.check(
                        folio.ref_count() == 1,
                        "unfreeze_after_drop",
                        format_args!("unfreeze(1): refcount {}", folio.ref_count()),
                    );
                }
                Err(e) => r.check(
                    false,
                    "freeze_after_drop",
                    format_args!("try_freeze(1): error {}", e.error.to_errno()),
                ),
            }
        },
        move || {
            // The other holder: flips a flag atomically, as any may.
            other.set::<flag::Referenced>();
            held.raise(1);
            wait_until(PATIENCE_US, || tried.reached(1));
            drop(other);
            dropped.raise(1);
        },
    );
    r.joined("freeze_contended", outcome);
}

fn lock(r: &mut Report<'_>, _args: &Args) {
    let Some(folio) = alloc(r) else {
        return;
    };
    {
        let guard = folio.lock();
        r.check(
            guard.test::<flag::Locked>() && folio.trylock().is_none(),
            "lock_unpublished",
            format_args!("held: flags {}, trylock refused", guard.flag_names()),
        );
    }
    r.check(
        !folio.test::<flag::Locked>(),
        "unlock_unpublished",
        format_args!("guard dropped: flags {}", folio.flag_names()),
    );

    let folio = folio.publish();
    let other = folio.clone();
    {
        let guard = folio.lock();
        let refused = other.trylock().is_none();
        guard.set::<flag::Referenced>();
        r.check(
            guard.test::<flag::Locked>() && refused && guard.test::<flag::Referenced>(),
            "lock_referenced",
            format_args!(
                "held: flags {}, trylock through a clone refused, atomic set allowed",
                guard.flag_names()
            ),
        );
    }
    let relocked = other.trylock().map(|g| g.test::<flag::Locked>());
    r.check(
        !folio.test::<flag::Locked>() && relocked == Some(true),
        "unlock_referenced",
        format_args!("guard dropped: trylock through the clone succeeded: {relocked:?}"),
    );
    drop(other);

    let frozen = match folio.try_freeze(1) {
        Ok(f) => f,
        Err(e) => {
            r.check(
                false,
                "lock_frozen",
                format_args!("try_freeze(1): error {}", e.error.to_errno()),
            );
            return;
        }
    };
    {
        let guard = frozen.lock();
        r.check(
            guard.test::<flag::Locked>() && guard.ref_count() == 0,
            "lock_frozen",
            format_args!("held while frozen: flags {}", guard.flag_names()),
        );
    }
    r.check(
        !frozen.test::<flag::Locked>(),
        "unlock_frozen",
        format_args!("guard dropped: flags {}", frozen.flag_names()),
    );
}

fn lock_contended(r: &mut Report<'_>, args: &Args) {
    let Some(folio) = alloc(r) else {
        return;
    };
    let folio = folio.publish();
    let other = folio.clone();
    let n = args.iterations;
    let (locked, woke) = (&Signal::new(), &Signal::new());
    let (waiters_seen, woken, isolated_left) =
        (&AtomicU64::new(0), &AtomicU64::new(0), &AtomicU64::new(0));
    let outcome = thread::join(
        || {
            for i in 1..=n {
                folio.set::<flag::Isolated>();
                let guard = folio.lock();
                locked.raise(i);
                // The waiter queues itself: PG_waiters, set by the kernel.
                if wait_until(PATIENCE_US, || guard.test::<flag::Waiters>()) {
                    waiters_seen.fetch_add(1, Relaxed);
                }
                // The holder's update: with the lock held, only the atomic
                // clear exists (seed 002's `__ClearPageIsolated` does not
                // compile here).
                guard.clear::<flag::Isolated>();
                drop(guard);
                if !wait_until(PATIENCE_US, || woke.reached(i)) {
                    break;
                }
            }
        },
        move || {
            for i in 1..=n {
                if !wait_until(PATIENCE_US, || locked.reached(i)) {
                    break;
                }
                let guard = other.lock();
                if guard.test::<flag::Isolated>() {
                    isolated_left.fetch_add(1, Relaxed);
                }
                drop(guard);
                woken.fetch_add(1, Relaxed);
                woke.raise(i);
            }
        },
    );
    if !r.joined("lock_contended", outcome) {
        return;
    }
    let seen = waiters_seen.load(Relaxed);
    let woken = woken.load(Relaxed);
    r.check(
        woken == n && seen == n && isolated_left.load(Relaxed) == 0,
        "lock_waiter_woken",
        format_args!(
            "{n} iterations: PG_waiters seen by the holder {seen} times, waiter woken {woken} \
             times, isolated still set for the waiter {} times",
            isolated_left.load(Relaxed)
        ),
    );
}
