// SPDX-License-Identifier: GPL-2.0

//! The delay budget: however the windows are configured, the module spends
//! at most [`BUDGET_NS_PER_SEC`] of busy-waiting per second, all CPUs and
//! windows together. A window that cannot reserve its time is not opened
//! (and counted as `throttled`). With single windows capped at
//! [`MAX_DELAY_US`], no CPU spins for more than twice the budget in a row,
//! well below the soft-lockup (2 s at `watchdog_thresh=1`), RCU-stall (3 s
//! at its minimum) and hung-task thresholds.

use crate::abstractions::context::now_ns;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Largest delay, and largest rendezvous timeout, of one window (100 ms).
pub(crate) const MAX_DELAY_US: u64 = 100_000;

/// Busy-waiting allowed per second, all windows together (500 ms).
pub(crate) const BUDGET_NS_PER_SEC: u64 = 500_000_000;

static EPOCH: AtomicU64 = AtomicU64::new(0);
static USED_NS: AtomicU64 = AtomicU64::new(0);

/// A reservation of busy-wait time, made in one second's budget.
#[must_use]
pub(crate) struct Reservation {
    epoch: u64,
    ns: u64,
}

/// Reserves `ns` of busy-waiting in the current second, if it fits.
pub(crate) fn reserve(ns: u64) -> Option<Reservation> {
    let epoch = now_ns() / 1_000_000_000;
    let seen = EPOCH.load(Relaxed);
    if seen != epoch
        && EPOCH
            .compare_exchange(seen, epoch, Relaxed, Relaxed)
            .is_ok()
    {
        USED_NS.store(0, Relaxed);
    }
    let used = USED_NS.fetch_add(ns, Relaxed);
    if used.saturating_add(ns) > BUDGET_NS_PER_SEC {
        release(ns);
        return None;
    }
    Some(Reservation { epoch, ns })
}

/// Settles a reservation with what the window really used: gives back the
/// rest, or charges the overrun (interrupts and the host can stretch a
/// busy-wait past its reservation).
pub(crate) fn settle(reservation: Reservation, used_ns: u64) {
    if EPOCH.load(Relaxed) != reservation.epoch {
        return;
    }
    if used_ns > reservation.ns {
        USED_NS.fetch_add(used_ns - reservation.ns, Relaxed);
    } else {
        release(reservation.ns - used_ns);
    }
}

fn release(ns: u64) {
    // Saturating: a new second may have reset the count meanwhile.
    let _ = USED_NS.fetch_update(Relaxed, Relaxed, |used| Some(used.saturating_sub(ns)));
}
