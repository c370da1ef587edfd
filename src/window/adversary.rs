// SPDX-License-Identifier: GPL-2.0

//! Adversaries (v0): the other side of a race, performed on the window's
//! own page while the window holds it.
//!
//! A window whose `adversary` setting is not `none` posts a job each time
//! it opens (at most one in flight per window): the operation, the
//! window's `target` (process and address of the page) and the pfn it
//! holds. Posting is a few atomic stores and an `irq_work` kick
//! ([`wake::kick`]), so it is safe in the window's context (a probe
//! handler, preemption off, perhaps in an int3 or NMI-like context); the
//! operation itself never runs there. A helper process waits on
//! `adversary/wait`, reads the job from `adversary/job`, performs the
//! operation through the kernel's own user-space interface (`migrate`:
//! `move_pages(2)`, since `migrate_pages()` is not exported on 6.12; the
//! others in [`Op`]), and reports `done SEQ RC`. The job counts as `adversary_inside` if the
//! window is still open on the job's page when the helper reports it
//! done: the whole operation landed inside the window ([`done`] says why
//! any opening on that page counts, not only the one that posted it).
//!
//! `freeze` and `zap` have no user-space interface; they run in the
//! module itself, in process context: the window's kick also queues the
//! module's worker ([`wake::kick_worker`], a work item on
//! `system_highpri_wq`, on another CPU than the window's), which takes
//! them ([`work`]) and does them through [`adversary_ops`]. Those count
//! as inside when their conflicting step (the freeze made, the zap done)
//! happened while the window was open on the job's page.
//!
//! A module-wide rate limit bounds the jobs posted: at most
//! [`MAX_JOBS_PER_SEC`] per second across windows; an opening over it
//! posts nothing and counts in `adversary_throttled`.

use super::{Settings, SHUTDOWN, WINDOWS};
use crate::abstractions::{
    adversary_ops,
    context::{current_tgid, now_ns, udelay_1us},
    debugfs::{reject, AttrOps, Buffer, Parent, Why},
    wake,
};
use crate::window::files::{parse_max, parse_u64};
use core::fmt::{self, Write};
use core::sync::atomic::{
    fence, AtomicU32, AtomicU64,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};
use kernel::{c_str, prelude::*};

/// What an adversary does to the window's page, and how the helper does
/// it (windows.rst, "Adversaries"): each through the interface user space
/// has, so through the kernel's own path.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// Nothing: no job is posted.
    None = 0,
    /// Move the page to another NUMA node (`move_pages(2)`).
    Migrate = 1,
    /// Reclaim the page (`process_madvise(2)`, `MADV_PAGEOUT`).
    Pageout = 2,
    /// Split the page's large folio (`split_huge_pages` in debugfs).
    Split = 3,
    /// Compact the page's node (`/sys/devices/system/node/nodeN/compact`).
    Compact = 4,
    /// Drop the page's page-cache folio (`POSIX_FADV_DONTNEED`).
    Evict = 5,
    /// Freeze the page's page-cache folio's reference count, briefly, as
    /// migration does (in the module: [`adversary_ops`]).
    Freeze = 6,
    /// Unmap the page at the target address, as `MADV_DONTNEED` does (in
    /// the module: [`adversary_ops`]). Intrusive.
    Zap = 7,
    /// `migrate`, then the freed page allocated again (`+reuse`).
    MigrateReuse = 9,
    /// `evict`, then the freed page allocated again (`+reuse`).
    EvictReuse = 13,
    /// `zap`, then the freed page allocated again (`+reuse`). Intrusive.
    ZapReuse = 15,
}

/// The `+reuse` bit of an [`Op`]'s code.
const REUSE: u64 = 8;

/// Every operation and its name in the `adversary` file: the one table
/// names are parsed from and printed with.
const OPS: [(Op, &str); 11] = [
    (Op::None, "none"),
    (Op::Migrate, "migrate"),
    (Op::Pageout, "pageout"),
    (Op::Split, "split"),
    (Op::Compact, "compact"),
    (Op::Evict, "evict"),
    (Op::Freeze, "freeze"),
    (Op::Zap, "zap"),
    (Op::MigrateReuse, "migrate+reuse"),
    (Op::EvictReuse, "evict+reuse"),
    (Op::ZapReuse, "zap+reuse"),
];

/// The names in [`OPS`], comma-separated (for a rejection).
struct Names;

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (_, name)) in OPS.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

impl Op {
    /// Its code in a [`Settings`] word.
    pub(crate) const fn code(self) -> u64 {
        self as u64
    }

    /// The operation of code `code` (unknown codes: none).
    pub(crate) fn from_code(code: u64) -> Self {
        OPS.iter()
            .find(|(op, _)| op.code() == code)
            .map_or(Op::None, |(op, _)| *op)
    }

    /// Its name.
    pub(crate) fn name(self) -> &'static str {
        OPS.iter()
            .find(|(op, _)| *op == self)
            .map_or("?", |(_, name)| name)
    }

    /// Whether a correct kernel hides it from every program (issue 16):
    /// the kernel may do it to any page at any moment. Every operation
    /// here is but `zap` (unmapping the page changes what the program
    /// sees); the profile takes transparent ones only.
    pub(crate) const fn transparent(self) -> bool {
        match self {
            Op::None | Op::Zap | Op::ZapReuse => false,
            Op::Migrate
            | Op::Pageout
            | Op::Split
            | Op::Compact
            | Op::Evict
            | Op::Freeze
            | Op::MigrateReuse
            | Op::EvictReuse => true,
        }
    }

    /// Whether it ends by allocating the freed page again (`+reuse`).
    const fn reuse(self) -> bool {
        self as u64 & REUSE != 0
    }

    /// The operation without `+reuse`.
    fn base(self) -> Self {
        Self::from_code(self.code() & !REUSE)
    }

    /// Whether the module's worker does it ([`work`]) rather than the
    /// user-space helper: `freeze`, `zap`, and `evict+reuse` (whose
    /// freed page the helper's own syscalls after `fadvise(2)` would take
    /// before its `done`).
    fn in_module(self) -> bool {
        matches!(self.base(), Op::Freeze | Op::Zap) || self == Op::EvictReuse
    }

    /// Whether it needs the window's `target` (a process and address):
    /// every operation but `freeze`, which acts on the pfn alone.
    const fn needs_target(self) -> bool {
        !matches!(self, Op::Freeze)
    }

    /// Its bit in a set of operations ([`parse_set`]).
    pub(crate) const fn bit(self) -> u32 {
        1 << self.code()
    }

    /// The operations of `set`, in the order of [`OPS`].
    pub(crate) fn in_set(set: u32) -> impl Iterator<Item = Self> {
        OPS.iter()
            .map(|(op, _)| *op)
            .filter(move |op| *op != Op::None && set & op.bit() != 0)
    }

    /// Parses a name written to `adversary`.
    pub(crate) fn parse(s: &str, why: &mut Why<'_>) -> Result<Self> {
        match OPS.iter().find(|(_, name)| *name == s) {
            Some((op, _)) => Ok(*op),
            None => {
                reject(why, format_args!("'{s}': write one of {Names}"))?;
                Err(EINVAL)
            }
        }
    }
}

/// Every transparent operation without `+reuse` (whose step needs the CPU
/// the page was freed on: windows.rst): the profile's default set, and
/// what it accepts.
pub(crate) const TRANSPARENT: u32 = {
    let mut set = 0;
    let mut i = 0;
    while i < OPS.len() {
        if OPS[i].0.transparent() && !OPS[i].0.reuse() {
            set |= OPS[i].0.bit();
        }
        i += 1;
    }
    set
};

/// Parses a set of operations: `none`, or names of transparent ones,
/// comma-separated. All or nothing: an unknown or intrusive name rejects
/// the whole write.
pub(crate) fn parse_set(s: &str, why: &mut Why<'_>) -> Result<u32> {
    if s == "none" {
        return Ok(0);
    }
    let mut set = 0;
    for name in s.split(',') {
        match OPS.iter().find(|(_, n)| *n == name) {
            Some((op, _)) if TRANSPARENT & op.bit() != 0 => set |= op.bit(),
            Some(_) => {
                reject(
                    why,
                    format_args!("'{name}': not a transparent operation without +reuse"),
                )?;
                return Err(EINVAL);
            }
            None => {
                reject(
                    why,
                    format_args!("'{name}': write none or some of {}", SetNames),
                )?;
                return Err(EINVAL);
            }
        }
    }
    Ok(set)
}

/// Writes the names of the operations of `set`, comma-separated, or
/// `none`.
pub(crate) fn show_set(out: &mut impl Write, set: u32) -> fmt::Result {
    let mut first = true;
    for op in Op::in_set(set) {
        write!(out, "{}{}", if first { "" } else { "," }, op.name())?;
        first = false;
    }
    if first {
        out.write_str("none")?;
    }
    Ok(())
}

/// The operations that fit a page the process maps (GUP-fast's windows):
/// what the kernel does to such pages.
pub(crate) const FITS_MAPPED: u32 =
    Op::Migrate.bit() | Op::Pageout.bit() | Op::Split.bit() | Op::Compact.bit();
/// The operations that fit a page-cache folio, often mapped by no one
/// (the page-cache lookup windows): its freeze (seed 004), its eviction,
/// its reclaim or migration.
pub(crate) const FITS_PAGE_CACHE: u32 =
    Op::Freeze.bit() | Op::Evict.bit() | Op::Pageout.bit() | Op::Migrate.bit();

/// The transparent operations' names (for a rejection).
struct SetNames;

impl fmt::Display for SetNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_set(f, TRANSPARENT)
    }
}

/// `errno` of a post without a target: `EDESTADDRREQ`.
const EDESTADDRREQ: u64 = 89;

/// Most jobs posted per second, across windows (issue 16's global rate
/// limit); more openings post nothing and count in `adversary_throttled`.
pub(crate) const MAX_JOBS_PER_SEC: u64 = 2000;
/// The second [`RATE_COUNT`] counts jobs in.
static RATE_EPOCH: AtomicU64 = AtomicU64::new(0);
/// Jobs posted in second [`RATE_EPOCH`].
static RATE_COUNT: AtomicU64 = AtomicU64::new(0);

/// Whether one more job may be posted this second (and counts it).
/// Racy at a second's turn (two posters may both reset the count): a
/// bound, not an exact quota.
fn rate_allows() -> bool {
    let epoch = now_ns() / 1_000_000_000;
    if RATE_EPOCH.swap(epoch, Relaxed) != epoch {
        RATE_COUNT.store(0, Relaxed);
    }
    RATE_COUNT.fetch_add(1, Relaxed) < MAX_JOBS_PER_SEC
}

/// Longest a `freeze` keeps the folio frozen, in microseconds (interrupts
/// off on the worker's CPU, the mapping's xarray lock held).
const FREEZE_MAX_US: u64 = 1000;
/// How long a `freeze` stays after the window closed on the page, in
/// microseconds: the held lookup's next step (its speculative reference)
/// comes right after the window closes, and must meet the frozen count.
const FREEZE_TAIL_US: u64 = 100;
/// Longest the `+reuse` step holds the page it allocated again, in
/// microseconds (process context, busy-waiting): while the window is open
/// on it and [`FREEZE_TAIL_US`] after.
const REUSE_HOLD_MAX_US: u64 = 5000;
/// What a page allocated again by `+reuse` is filled with: "mmreuse!".
pub(crate) const REUSE_WORD: u64 = 0x2165_7375_6572_6d6d;

/// Most jobs the worker does per run before it queues itself again (so
/// that flushing it, at a disarm, waits for a bounded run).
const WORKER_BATCH: u32 = 16;

// A slot's states. Only the posting window moves it from IDLE (through
// FILLING) to POSTED; only a waiter from POSTED to TAKEN; `done`, disarming
// and resetting back to IDLE.
const IDLE: u32 = 0;
const FILLING: u32 = 1;
const POSTED: u32 = 2;
const TAKEN: u32 = 3;

/// The last sequence number given to a job: unique, so that a `done` for
/// a job that was cancelled never closes a later one.
static SEQ: AtomicU64 = AtomicU64::new(0);
/// Bumped when jobs are cancelled (disarm, reset, unload): waiters return.
static CANCEL: AtomicU64 = AtomicU64::new(0);

/// One window's job slot: at most one job in flight per window.
pub(crate) struct Slot {
    state: AtomicU32,
    seq: AtomicU64,
    op: AtomicU64,
    pid: AtomicU64,
    addr: AtomicU64,
    pfn: AtomicU64,
    /// The order of the folio at `pfn` when the job was posted (a hint,
    /// read without a reference): the order `+reuse` allocates again.
    order: AtomicU32,
    posted_ns: AtomicU64,
    /// Post to take: the helper's wake-up latency.
    wake_ns: AtomicU64,
}

impl Slot {
    /// An idle slot.
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicU32::new(IDLE),
            seq: AtomicU64::new(0),
            op: AtomicU64::new(0),
            pid: AtomicU64::new(0),
            addr: AtomicU64::new(0),
            pfn: AtomicU64::new(0),
            order: AtomicU32::new(0),
            posted_ns: AtomicU64::new(0),
            wake_ns: AtomicU64::new(0),
        }
    }

    /// Cancels the job in the slot, if any; returns whether there was one.
    fn idle(&self) -> bool {
        self.state.swap(IDLE, SeqCst) != IDLE
    }
}

/// Posts window `i`'s job for its opening on `pfn`, if its settings
/// `s` ask for an adversary and no job of it is in flight. Any context:
/// atomics and an `irq_work` kick only.
pub(super) fn post(i: usize, s: &Settings, pfn: u64) {
    if s.adversary == Op::None {
        return;
    }
    let w = WINDOWS[i];
    let st = &w.stats;
    // The target's process and address; for the profile's windows
    // (`event_target`) with none, the process the window opened in and
    // address 0: the helper finds the page's address there.
    let (pid, addr) = if s.target_pid >= 0 {
        (s.target_pid, s.target_addr)
    } else if s.event_target {
        (current_tgid(), 0)
    } else if !s.adversary.needs_target() {
        (0, 0)
    } else {
        st.adversary_failed.fetch_add(1, Relaxed);
        st.adversary_last_error.store(EDESTADDRREQ, Relaxed);
        return;
    };
    let slot = &w.adversary;
    if slot
        .state
        .compare_exchange(IDLE, FILLING, Acquire, Relaxed)
        .is_err()
    {
        return;
    }
    if !rate_allows() {
        slot.state.store(IDLE, Release);
        st.adversary_throttled.fetch_add(1, Relaxed);
        return;
    }
    slot.seq.store(SEQ.fetch_add(1, Relaxed) + 1, Relaxed);
    slot.op.store(s.adversary.code(), Relaxed);
    slot.pid.store(pid as u64, Relaxed);
    slot.addr.store(addr, Relaxed);
    slot.pfn.store(pfn, Relaxed);
    let order = if s.adversary.reuse() {
        adversary_ops::order_hint(pfn)
    } else {
        0
    };
    slot.order.store(order, Relaxed);
    slot.posted_ns.store(now_ns(), Relaxed);
    // A cancel meanwhile (the slot set IDLE) drops the job.
    if slot
        .state
        .compare_exchange(FILLING, POSTED, Release, Relaxed)
        .is_ok()
    {
        st.adversary_posted.fetch_add(1, Relaxed);
        if s.adversary.in_module() {
            wake::kick_worker();
        } else {
            wake::kick();
        }
    }
}

/// Takes the oldest posted job of the module's worker (`in_module`) or of
/// the helper, if any: it is now theirs. Returns its window's index.
fn take(in_module: bool) -> Option<usize> {
    let mut best: Option<(u64, usize)> = None;
    for (i, w) in WINDOWS.iter().enumerate() {
        if w.adversary.state.load(Acquire) == POSTED
            && Op::from_code(w.adversary.op.load(Relaxed)).in_module() == in_module
        {
            let seq = w.adversary.seq.load(Relaxed);
            match best {
                Some((b, _)) if b <= seq => {}
                _ => best = Some((seq, i)),
            }
        }
    }
    let (_, i) = best?;
    let w = WINDOWS[i];
    let slot = &w.adversary;
    if slot
        .state
        .compare_exchange(POSTED, TAKEN, Acquire, Relaxed)
        .is_err()
    {
        return None;
    }
    let posted = slot.posted_ns.load(Relaxed);
    slot.wake_ns.store(now_ns().saturating_sub(posted), Relaxed);
    w.stats.adversary_started.fetch_add(1, Relaxed);
    Some(i)
}

/// Longest a write to `adversary/wait` waits, in milliseconds.
const MAX_WAIT_MS: u64 = 10_000;

/// Waits, interruptibly, until a job is posted and takes it, or
/// `timeout_ms` passes (`EAGAIN`), or jobs are cancelled (`EAGAIN`), or a
/// signal comes (`ERESTARTSYS`). Process context.
fn wait(timeout_ms: u64) -> Result {
    let epoch = CANCEL.load(Acquire);
    let deadline = now_ns().saturating_add(timeout_ms.saturating_mul(1_000_000));
    loop {
        let mut took = false;
        // One tick at a time: the `irq_work` wakes the waiter at once
        // when the window's CPU has interrupts on; a window with them off
        // (GUP-fast, a frozen folio under the xarray lock) is seen at the
        // waiter's next tick instead.
        let woken = wake::wait_jiffies(1, || {
            if CANCEL.load(Acquire) != epoch || SHUTDOWN.load(Relaxed) {
                return true;
            }
            took = take(false).is_some();
            took
        })?;
        if took {
            return Ok(());
        }
        if woken || now_ns() >= deadline {
            return Err(EAGAIN);
        }
    }
}

/// Closes job `seq` with the helper's result `rc` (0 or a negative
/// errno). A job no longer taken (cancelled, or closed already) is
/// ignored: counted nowhere.
///
/// It counts as inside if the window is open on the job's page when the
/// helper reports it done, which is after the operation completed: in any
/// opening, not only the one that posted it. `move_pages(2)` cannot
/// complete inside the opening that posted it: it starts with
/// `lru_cache_disable()`, which waits for an expedited RCU grace period
/// and for work on every CPU, so for the window's CPU to leave its
/// preemption-off busy-wait. A later opening on the same page (the
/// workload's next lookup, held by a rendezvous in the adversary's path)
/// is where it lands. An opening that began after the operation
/// completed would count too, for windows that can open on a page the
/// operation has already taken away; `pagecache_pre_grab` cannot (its
/// lookup finds the new folio once migration replaced the old one).
fn done(seq: u64, rc: i64) {
    close(seq, rc, None);
}

/// Whether window `w` is open on `pfn` now.
fn open_on(w: &super::Window, pfn: u64) -> bool {
    w.open.load(SeqCst) > 0 && w.open_pfn.load(SeqCst) == pfn
}

/// Closes job `seq` with result `rc`: inside if `inside` says so, or, if
/// `None`, if the window is open on the job's page now ([`done`]).
fn close(seq: u64, rc: i64, inside: Option<bool>) {
    for w in WINDOWS {
        let slot = &w.adversary;
        if slot.state.load(Acquire) != TAKEN || slot.seq.load(Relaxed) != seq {
            continue;
        }
        // The window open on the job's page now: it loaded the page
        // before the operation completed (see `done`'s documentation).
        let pfn = slot.pfn.load(Relaxed);
        let inside = inside.unwrap_or_else(|| open_on(w, pfn));
        // `+reuse`: here, on the CPU that did the operation (the helper's,
        // in its `done`; the worker's), whose free list has the page on top.
        if rc >= 0 && Op::from_code(slot.op.load(Relaxed)).reuse() {
            // Counted only if the window was open on the page when it was
            // allocated again: a reuse after the lookup is no proof. A
            // large folio's pages come back as a block of its order
            // without `__GFP_COMP`, counted only if freed while another
            // reference (the held lookup's, taken once the window closed)
            // was on its first page: the seed-001 interleaving.
            let order = slot.order.load(Relaxed);
            let mut under_window = false;
            let reused = adversary_ops::reuse_pfn(pfn, order, REUSE_WORD, || {
                under_window = hold_while_open(w, pfn, REUSE_HOLD_MAX_US);
            });
            if let Some(shared) = reused {
                if under_window && (order == 0 || shared) {
                    w.stats.adversary_reused.fetch_add(1, Relaxed);
                }
            }
        }
        if slot
            .state
            .compare_exchange(TAKEN, IDLE, SeqCst, Relaxed)
            .is_err()
        {
            return;
        }
        let st = &w.stats;
        if rc < 0 {
            st.adversary_failed.fetch_add(1, Relaxed);
            st.adversary_last_error.store(rc.unsigned_abs(), Relaxed);
        } else if inside {
            st.adversary_inside.fetch_add(1, Relaxed);
        } else {
            st.adversary_after.fetch_add(1, Relaxed);
        }
        return;
    }
}

/// Busy-waits while window `w` is open on `pfn` and [`FREEZE_TAIL_US`]
/// after, `max_us` at most (by the clock, or by counting 1 us steps should
/// it stand still). Returns whether the window, open on the page at the
/// start, closed on it meanwhile.
fn hold_while_open(w: &super::Window, pfn: u64, max_us: u64) -> bool {
    let open_at_start = open_on(w, pfn);
    let mut closed_while_held = false;
    let start = now_ns();
    let mut closed_us = 0;
    for step in 0..max_us {
        if step.max(now_ns().saturating_sub(start) / 1000) >= max_us || SHUTDOWN.load(Relaxed) {
            break;
        }
        if open_on(w, pfn) {
            closed_us = 0;
        } else {
            closed_while_held |= open_at_start;
            closed_us += 1;
            if closed_us >= FREEZE_TAIL_US {
                break;
            }
        }
        udelay_1us();
    }
    closed_while_held
}

/// Does the job of window `i` taken by the worker: `Ok(inside)`, whether
/// its conflicting step happened while the window was open on the job's
/// page, or why it failed.
fn perform(i: usize, op: Op, pid: i32, addr: u64, pfn: u64) -> Result<bool> {
    let w = WINDOWS[i];
    match op.base() {
        // Inside if the window held the page when the count was frozen
        // and closed on it while still frozen: the held side then resumed
        // against the frozen folio.
        Op::Freeze => {
            adversary_ops::freeze_pagecache_folio(pfn, || hold_while_open(w, pfn, FREEZE_MAX_US))
        }
        Op::Zap => {
            // The process `target` named when it was written, if the job
            // is still for it (its number in the initial namespace).
            let target = w.target_ref.get().filter(|p| p.nr() == pid);
            adversary_ops::zap_user_page(&target.ok_or(ESRCH)?, addr)?;
            Ok(open_on(w, pfn))
        }
        Op::Evict => {
            adversary_ops::evict_pagecache_pfn(pfn)?;
            Ok(open_on(w, pfn))
        }
        _ => Err(EINVAL),
    }
}

/// The module's worker (process context, `system_highpri_wq`): takes and
/// does the posted in-module jobs, [`WORKER_BATCH`] at most per run.
pub(crate) fn work() {
    for _ in 0..WORKER_BATCH {
        if SHUTDOWN.load(Relaxed) {
            return;
        }
        let Some(i) = take(true) else {
            return;
        };
        let slot = &WINDOWS[i].adversary;
        let seq = slot.seq.load(Relaxed);
        let op = Op::from_code(slot.op.load(Relaxed));
        let pid = slot.pid.load(Relaxed) as i32;
        let (addr, pfn) = (slot.addr.load(Relaxed), slot.pfn.load(Relaxed));
        match perform(i, op, pid, addr, pfn) {
            Ok(inside) => close(seq, 0, Some(inside)),
            Err(e) => close(seq, e.to_errno().into(), Some(false)),
        }
    }
    // More may be posted: run again (a fresh run, which a flush does not
    // wait for); never once unloading has begun, so that the unload's
    // sync leaves nothing queued.
    if !SHUTDOWN.load(Relaxed) {
        wake::kick_worker();
    }
}

/// Cancels the jobs of the windows in `which` (indexes in [`WINDOWS`]) and
/// wakes the waiters if there were any; waits for the worker, so that no
/// in-module operation of theirs is still running (nothing left frozen).
/// Process context.
pub(super) fn cancel(which: impl Iterator<Item = usize>) {
    let mut any = false;
    for i in which {
        any |= WINDOWS[i].adversary.idle();
    }
    if any {
        CANCEL.fetch_add(1, Release);
        wake::wake_all();
        wake::flush_worker();
    }
}

/// Wakes the waiters: they return (`EAGAIN`) as after a cancel.
pub(super) fn wake_waiters() {
    CANCEL.fetch_add(1, Release);
    wake::wake_all();
}

/// At unload, once no handler can post any more: every job cancelled,
/// every waiter woken, no wake-up left to run in module text, and every
/// `target`'s process reference dropped.
pub(crate) fn shutdown() {
    cancel(0..WINDOWS.len());
    wake_waiters();
    wake::sync();
    for w in WINDOWS {
        drop(w.target_ref.replace(None));
    }
}

/// One job, read whole (or not at all, if it changed meanwhile).
fn job_line(out: &mut impl Write, i: usize) -> Result<bool, fmt::Error> {
    let slot = &WINDOWS[i].adversary;
    // The worker's jobs are not the helper's to see.
    if slot.state.load(Acquire) != TAKEN || Op::from_code(slot.op.load(Relaxed)).in_module() {
        return Ok(false);
    }
    let seq = slot.seq.load(Relaxed);
    let words = [
        slot.op.load(Relaxed),
        slot.pid.load(Relaxed),
        slot.addr.load(Relaxed),
        slot.pfn.load(Relaxed),
        slot.wake_ns.load(Relaxed),
    ];
    fence(Acquire);
    if slot.state.load(Relaxed) != TAKEN || slot.seq.load(Relaxed) != seq {
        return Ok(false);
    }
    writeln!(
        out,
        "{seq} {} {} {} {:#x} {:#x} {}",
        WINDOWS[i].name(),
        // The helper does the operation; `+reuse` is the module's.
        Op::from_code(words[0]).base().name(),
        words[1],
        words[2],
        words[3],
        words[4]
    )?;
    Ok(true)
}

/// `adversary/wait` and `adversary/job`.
enum File {
    Wait,
    Job,
}

impl AttrOps for File {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        match self {
            File::Wait => {
                let count = |state| {
                    WINDOWS
                        .iter()
                        .filter(|w| w.adversary.state.load(Relaxed) == state)
                        .count()
                };
                writeln!(out, "posted: {}", count(POSTED))?;
                writeln!(out, "taken: {}", count(TAKEN))
            }
            File::Job => {
                let mut any = false;
                for i in 0..WINDOWS.len() {
                    any |= job_line(out, i)?;
                }
                if !any {
                    writeln!(out, "none")?;
                }
                Ok(())
            }
        }
    }

    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        match self {
            File::Wait => {
                let ms = parse_max(s, MAX_WAIT_MS, why)?;
                if ms == 0 {
                    return reject(why, format_args!("a timeout of 1 to {MAX_WAIT_MS} ms"));
                }
                wait(ms)
            }
            File::Job => {
                let mut words = s.split_ascii_whitespace();
                let (Some("done"), Some(seq), Some(rc), None) =
                    (words.next(), words.next(), words.next(), words.next())
                else {
                    return reject(why, format_args!("write 'done SEQ RC'"));
                };
                let seq = parse_u64(seq, why)?;
                // RC: 0 or a negative errno, the one signed number here.
                let rc = match rc.strip_prefix('-') {
                    Some(e) => -(parse_max(e, 4095, why)? as i64),
                    None => parse_max(rc, 0, why)? as i64,
                };
                done(seq, rc);
                Ok(())
            }
        }
    }
}

/// Creates `adversary/` below `parent`.
pub(crate) fn create(parent: &mut impl Parent) -> Result {
    let mut dir = parent.subdir(c_str!("adversary"))?;
    dir.attr(c_str!("wait"), 0o600, File::Wait)?;
    dir.attr(c_str!("job"), 0o600, File::Job)?;
    Ok(())
}
