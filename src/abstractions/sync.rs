// SPDX-License-Identifier: GPL-2.0

//! A latch (a seqcount over two copies): how a probe handler reads a
//! window's settings, whole and without a lock.
//!
//! The control state itself is behind the kernel crate's own
//! `kernel::sync::Mutex` (`window::Control`). What 6.12's kernel crate
//! lacks is the other half: a way for code in atomic context (a probe
//! handler, preemption off, perhaps interrupts off, perhaps in an NMI) to
//! read a consistent copy of data that a sleeping writer replaces. It has
//! no RCU-protected pointer and no seqcount; hence this type, a port of the
//! kernel's `seqcount_latch_t` (`include/linux/seqlock.h`, "latch
//! technique") to Rust atomics. It needs no `unsafe`: the data are words of
//! [`AtomicU64`], so a reader racing with the writer reads stale or mixed
//! words (which it then discards), never undefined behaviour.
//!
//! Why a latch rather than a plain seqcount: a reader never waits for the
//! writer. The writer updates one copy while readers are steered to the
//! other, so a reader that interrupts the writer on its own CPU, or runs
//! while the writer is preempted, still completes at once; it retries only
//! when a whole update finished during its read.

use core::sync::atomic::{
    fence, AtomicU64,
    Ordering::{Acquire, Relaxed, Release},
};

/// `N` words, published as a whole.
///
/// Writers must be serialized by the caller (mmrace: the control mutex);
/// readers may run anywhere, at any time.
pub(crate) struct Latch<const N: usize> {
    /// Bumped twice per write; its low bit says which copy readers use.
    seq: AtomicU64,
    copies: [[AtomicU64; N]; 2],
}

impl<const N: usize> Latch<N> {
    /// A latch holding `words`.
    pub(crate) const fn new(words: [u64; N]) -> Self {
        let mut copies = [const { [const { AtomicU64::new(0) }; N] }; 2];
        let mut i = 0;
        while i < N {
            copies[0][i] = AtomicU64::new(words[i]);
            copies[1][i] = AtomicU64::new(words[i]);
            i += 1;
        }
        Self {
            seq: AtomicU64::new(0),
            copies,
        }
    }

    /// The words of one write, never a mix of two. Lock-free: it retries
    /// only if a write completed while it read.
    pub(crate) fn read(&self) -> [u64; N] {
        loop {
            let seq = self.seq.load(Acquire);
            let copy = &self.copies[(seq & 1) as usize];
            let mut words = [0u64; N];
            for (w, c) in words.iter_mut().zip(copy.iter()) {
                *w = c.load(Relaxed);
            }
            // Pairs with the release fences in `write`: if a word above
            // came from a later write, the bump of `seq` before it is
            // visible below.
            fence(Acquire);
            if self.seq.load(Relaxed) == seq {
                return words;
            }
        }
    }

    /// Publishes `words`. Callers serialize writes.
    pub(crate) fn write(&self, words: [u64; N]) {
        let seq = self.seq.load(Relaxed);
        for step in 1..=2u64 {
            // Odd: readers go to copy 1 while copy 0 changes; even: to
            // copy 0 (now new) while copy 1 changes.
            self.seq.store(seq.wrapping_add(step), Release);
            fence(Release);
            let copy = &self.copies[(step - 1) as usize];
            for (c, w) in copy.iter().zip(words.iter()) {
                c.store(*w, Relaxed);
            }
        }
        // The next write's first bump (a release store) publishes copy 1;
        // until then readers use copy 0.
    }
}
