// SPDX-License-Identifier: GPL-2.0

//! Seed 002, the lost `PG_waiters`: a lock holder clears `PG_isolated`
//! non-atomically while another CPU sets a bit of the same flags word
//! atomically, and the store of the non-atomic update overwrites it.
//!
//! Both scenarios run on a folio the module owns, with the same forced
//! window: the holder opens it, the other thread sets the waiters-style bit
//! (`PG_owner_priv_1`, which the kernel does not interpret on this folio, so
//! that a lost update cannot hang a real waiter) and the window closes as
//! soon as it has, or after `window_us`.
//!
//! - `seed002_racy` goes through the one deliberately racy path of the
//!   layer (`RacyFolio`): the window sits between the load and the store.
//!   The bit set inside it is lost.
//! - `seed002_typestate` writes the same holder with the typestate API: a
//!   `Folio<Referenced>` and its lock guard offer only the atomic clear, and
//!   the route to a non-atomic one, a freeze, is refused while the other
//!   thread holds its reference. Nothing is lost.

use super::{wait_until, Args, Report, Scenario, Signal};
use crate::abstractions::{
    folio::{flag, Flag, Folio, RacyFolio},
    thread,
};
use core::num::NonZeroU16;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use kernel::prelude::*;

/// How long a side waits for the other between iterations before giving
/// up, in microseconds.
const PATIENCE_US: u64 = 2_000_000;

pub(super) static RACY: Scenario = Scenario {
    name: "seed002_racy",
    about: "the racy clear (load, window, store) under the lock: the bit set in the window is lost",
    run: racy,
};

pub(super) static TYPESTATE: Scenario = Scenario {
    name: "seed002_typestate",
    about: "the same holder through the typestate API: freeze refused, atomic clear, nothing lost",
    run: typestate,
};

/// What one run counted.
struct Counts {
    /// Iterations both sides completed.
    done: AtomicU64,
    /// The other side set its bit while the window was open.
    in_window: AtomicU64,
    /// The bit was not set after the iteration: its update was lost.
    lost: AtomicU64,
    /// `PG_isolated` was still set after the holder cleared it.
    isolated_left: AtomicU64,
    /// Freezes refused (the typestate holder's attempts at a non-atomic
    /// clear).
    freeze_refused: AtomicU64,
    /// One side gave up waiting for the other.
    gave_up: AtomicBool,
}

impl Counts {
    const fn new() -> Self {
        Self {
            done: AtomicU64::new(0),
            in_window: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            isolated_left: AtomicU64::new(0),
            freeze_refused: AtomicU64::new(0),
            gave_up: AtomicBool::new(false),
        }
    }

    fn add(counter: &AtomicU64, yes: bool) {
        if yes {
            counter.fetch_add(1, Relaxed);
        }
    }
}

/// The other CPU of the seed: for each iteration, waits for the window to
/// open and sets the waiters-style bit with `set`.
fn setter(n: u64, open: &Signal, set_done: &Signal, counts: &Counts, set: impl Fn()) {
    for i in 1..=n {
        if !wait_until(PATIENCE_US, || {
            open.reached(i) || counts.gave_up.load(Relaxed)
        }) {
            counts.gave_up.store(true, Relaxed);
        }
        if counts.gave_up.load(Relaxed) {
            return;
        }
        set();
        set_done.raise(i);
    }
}

/// After the holder's update: waits for the setter's, then counts.
fn settle(
    i: u64,
    set_done: &Signal,
    counts: &Counts,
    bit_set: impl Fn() -> bool,
    isolated: impl Fn() -> bool,
) -> bool {
    if !wait_until(PATIENCE_US, || {
        set_done.reached(i) || counts.gave_up.load(Relaxed)
    }) {
        counts.gave_up.store(true, Relaxed);
    }
    if counts.gave_up.load(Relaxed) {
        return false;
    }
    counts.done.fetch_add(1, Relaxed);
    Counts::add(&counts.lost, !bit_set());
    Counts::add(&counts.isolated_left, isolated());
    true
}

fn racy(r: &mut Report<'_>, args: &Args) {
    let (mut racy, spare) = match RacyFolio::new() {
        Ok(pair) => pair,
        Err(e) => {
            r.check(false, "racy_setup", format_args!("error {}", e.to_errno()));
            return;
        }
    };
    let n = args.iterations;
    let (open, set_done, counts) = (&Signal::new(), &Signal::new(), &Counts::new());
    let outcome = thread::join(
        || {
            for i in 1..=n {
                racy.reset();
                racy.clear_isolated_racy(|| {
                    open.raise(i);
                    let met = wait_until(args.window_us, || set_done.reached(i));
                    Counts::add(&counts.in_window, met);
                });
                let bit = || racy.test::<flag::OwnerPriv1>();
                let isolated = || racy.test::<flag::Isolated>();
                if !settle(i, set_done, counts, bit, isolated) {
                    break;
                }
            }
        },
        move || setter(n, open, set_done, counts, || spare.set_spare()),
    );
    if !r.joined("racy_setup", outcome) {
        return;
    }
    report(r, "racy", n, args, counts);
    let lost = counts.lost.load(Relaxed);
    r.check(
        lost > 0,
        "racy_lost_updates",
        format_args!(
            "{lost} of {} atomic sets lost to the non-atomic clear (expected: more than 0)",
            counts.done.load(Relaxed)
        ),
    );
}

fn typestate(r: &mut Report<'_>, args: &Args) {
    let folio = match Folio::alloc() {
        Ok(f) => f.publish(),
        Err(e) => {
            r.check(
                false,
                "typestate_setup",
                format_args!("error {}", e.to_errno()),
            );
            return;
        }
    };
    let other = folio.clone();
    let n = args.iterations;
    let (open, set_done, counts) = (&Signal::new(), &Signal::new(), &Counts::new());
    let outcome = thread::join(
        || {
            let mut folio = folio;
            for i in 1..=n {
                folio.set::<flag::Isolated>();
                folio.clear::<flag::OwnerPriv1>();
                // The only way to a non-atomic clear is a freeze, which
                // fails while the other thread holds its reference.
                folio = match folio.try_freeze(1) {
                    Ok(mut frozen) => {
                        frozen.clear_nonatomic::<flag::Isolated>();
                        frozen.unfreeze(NonZeroU16::MIN)
                    }
                    Err(e) => {
                        Counts::add(&counts.freeze_refused, e.error == EAGAIN);
                        e.folio
                    }
                };
                let guard = folio.lock();
                open.raise(i);
                let met = wait_until(args.window_us, || set_done.reached(i));
                Counts::add(&counts.in_window, met);
                guard.clear::<flag::Isolated>();
                drop(guard);
                let bit = || folio.test::<flag::OwnerPriv1>();
                let isolated = || folio.test::<flag::Isolated>();
                if !settle(i, set_done, counts, bit, isolated) {
                    break;
                }
            }
        },
        move || {
            setter(n, open, set_done, counts, || {
                other.set::<flag::OwnerPriv1>()
            })
        },
    );
    if !r.joined("typestate_setup", outcome) {
        return;
    }
    report(r, "typestate", n, args, counts);
    let refused = counts.freeze_refused.load(Relaxed);
    r.check(
        refused == counts.done.load(Relaxed),
        "typestate_freeze_refused",
        format_args!("{refused} freezes refused while the other thread held a reference"),
    );
    let lost = counts.lost.load(Relaxed);
    r.check(
        lost == 0,
        "typestate_lost_updates",
        format_args!(
            "{lost} of {} atomic sets lost (expected: 0)",
            counts.done.load(Relaxed)
        ),
    );
}

/// The checks both scenarios share: every iteration ran, the race was
/// exercised, the holder's clear took effect.
fn report(r: &mut Report<'_>, what: &str, n: u64, args: &Args, counts: &Counts) {
    let done = counts.done.load(Relaxed);
    let in_window = counts.in_window.load(Relaxed);
    let isolated_left = counts.isolated_left.load(Relaxed);
    r.note(format_args!(
        "{what}: iterations {done}/{n}, window {} us, setter of PG_{} inside the window \
         {in_window}, lost {}, PG_{} left set {isolated_left}",
        args.window_us,
        <flag::OwnerPriv1 as Flag>::NAME,
        counts.lost.load(Relaxed),
        <flag::Isolated as Flag>::NAME,
    ));
    r.check(
        done == n && !counts.gave_up.load(Relaxed),
        format_args!("{what}_iterations"),
        format_args!("{done} of {n} iterations completed"),
    );
    r.check(
        in_window > 0,
        format_args!("{what}_window_exercised"),
        format_args!("the setter arrived inside the window in {in_window} of {done} iterations"),
    );
    r.check(
        isolated_left == 0,
        format_args!("{what}_isolated_cleared"),
        format_args!("PG_isolated still set after the clear in {isolated_left} iterations"),
    );
}
