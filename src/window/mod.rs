// SPDX-License-Identifier: GPL-2.0

//! The race-window engine.
//!
//! A window is a bounded busy-wait placed at a probe site inside the
//! memory-management code, opened only for the page and task its filters
//! select, and watched while open: if the page's folio changes or another
//! window arrives on the same page, the window counts a hit. A window can
//! also wait for another one (a rendezvous) so that an interleaving is
//! forced rather than hoped for.
//!
//! Each built-in window is one file below this directory, declaring its
//! [`Desc`]; [`WINDOWS`] lists them first, then the slots that
//! `windows/define` fills at run time (`define.rs`). Adding a built-in
//! window is adding a file and a line in `windows!()`.

use crate::abstractions::{
    context::{self, now_ns, udelay_1us},
    debugfs::{Errno, Why},
    folio::{flag, Flag},
    mm::{self, Page},
    pid::PidSlot,
    probe::{self, Fired, Handler, Probe, Site},
    sync::Latch,
};
use core::fmt::Write;
use core::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicU8,
    Ordering::{Relaxed, SeqCst},
};
use kernel::{
    prelude::*,
    sync::{lock::mutex::MutexBackend, lock::Guard, new_mutex, Arc, Mutex},
};

pub(crate) mod adversary;
pub(crate) mod budget;
pub(crate) mod define;
pub(crate) mod files;
pub(crate) mod profile;
pub(crate) mod stats;

/// Declares the windows from one list: a module (file) each, [`WINDOWS`],
/// [`NR_WINDOWS`] and their names, in the order of `summary` and of the
/// debugfs tree. A window finds its index from its module's name
/// ([`Window::new`]), so that a window module declared outside this list
/// does not compile.
macro_rules! windows {
    ($($name:ident),+ $(,)?) => {
        $(pub(crate) mod $name;)+

        /// Every window slot, in the order of `summary` and of the debugfs
        /// tree: the built-in windows, then the slots of defined ones.
        pub(crate) static WINDOWS: [&Window; MAX_WINDOWS] = {
            let builtin = [$(&$name::WINDOW),+];
            let mut all = [&DEFINED[0]; MAX_WINDOWS];
            let mut i = 0;
            while i < MAX_WINDOWS {
                all[i] = if i < NR_BUILTIN { builtin[i] } else { &DEFINED[i - NR_BUILTIN] };
                i += 1;
            }
            all
        };

        /// Names of the windows' modules, indexed like [`WINDOWS`].
        const NAMES: &[&str] = &[$(stringify!($name)),+];
    };
}

windows!(
    gup_fast_pre_grab,
    gup_fast_post_grab,
    migrate_freeze,
    compact_isolate,
    pagecache_pre_grab,
    pagecache_post_grab,
);

/// How many built-in windows there are: the first of [`WINDOWS`].
pub(crate) const NR_BUILTIN: usize = NAMES.len();

/// How many windows there can be, built-in and defined.
pub(crate) const MAX_WINDOWS: usize = 64;

/// How many windows `windows/define` can add.
pub(crate) const NR_DEFINABLE: usize = MAX_WINDOWS - NR_BUILTIN;

// `profile` selects windows by bit in a `u64`.
const _: () = assert!(
    MAX_WINDOWS <= 64 && NR_BUILTIN < MAX_WINDOWS,
    "more windows than profile/windows has bits"
);

/// What a defined window's slot says of itself: one phase, whose one site
/// is in the control state (`define.rs`).
static DEFINED_DESC: Desc = Desc {
    name: kernel::c_str!("defined"),
    phases: &[Phase {
        name: "site",
        default: true,
        sites: &[],
    }],
    fits: adversary::TRANSPARENT,
};

/// The slots of defined windows, `WINDOWS[NR_BUILTIN..]`.
static DEFINED: [Window; NR_DEFINABLE] = {
    let mut i = 0;
    let mut all = [const { Window::slot(0) }; NR_DEFINABLE];
    while i < NR_DEFINABLE {
        all[i].index = NR_BUILTIN + i;
        i += 1;
    }
    all
};

/// Longest window name (`windows/define`).
pub(crate) const MAX_NAME: usize = 31;

/// A window's name, copied out (a defined window's may change while no
/// probe of it is registered).
#[derive(Clone, Copy)]
pub(crate) struct Name {
    buf: [u8; MAX_NAME + 1],
    len: usize,
}

impl Name {
    /// The name as a string (empty: a free slot).
    pub(crate) fn as_str(&self) -> &str {
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("?")
    }
}

impl core::fmt::Display for Name {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Index in [`NAMES`] (and [`WINDOWS`]) of the window in module `module`
/// (a `module_path!()`); fails to compile if it is not in the list.
const fn index_of(module: &str) -> usize {
    let path = module.as_bytes();
    // The last path segment: after the last `::`.
    let mut start = path.len();
    while start > 0 && path[start - 1] != b':' {
        start -= 1;
    }
    let mut i = 0;
    while i < NAMES.len() {
        let name = NAMES[i].as_bytes();
        if name.len() == path.len() - start {
            let mut j = 0;
            while j < name.len() && name[j] == path[start + j] {
                j += 1;
            }
            if j == name.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("a window module is missing from windows!() in src/window/mod.rs");
}

/// Whether the debugfs name `name` is `module` (a name in [`NAMES`]).
const fn is_named(name: &CStr, module: &str) -> bool {
    let (name, module) = (name.as_bytes_with_nul(), module.as_bytes());
    if name.len() != module.len() + 1 {
        return false;
    }
    let mut i = 0;
    while i < module.len() {
        if name[i] != module[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// "Any" for the `pfn` and `pid` filters.
pub(crate) const ANY: u64 = u64::MAX;

/// Most phases a window has.
pub(crate) const MAX_PHASES: usize = 12;

/// Set once the module is going away: open windows close at once.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// A group of sites a window can be armed at, selectable with `phase`.
pub(crate) struct Phase {
    /// Name written to and read from `phase`.
    pub(crate) name: &'static str,
    /// Whether `all` (the default selection) includes it. Phases at a
    /// `page_ref` tracepoint are left out: the tracepoint fires for every
    /// reference the kernel takes, and each firing that passes the task
    /// filter walks the stack for its caller, a cost a window armed with
    /// its defaults (or by the profile) should not impose. They are armed
    /// when named.
    pub(crate) default: bool,
    /// Where its probes go.
    pub(crate) sites: &'static [&'static Site],
}

/// What a window is: its name and where it is placed.
pub(crate) struct Desc {
    /// Directory name under `windows/`: the name of the window's module.
    pub(crate) name: &'static CStr,
    /// Its phases; most windows have one.
    pub(crate) phases: &'static [Phase],
    /// The adversaries that fit the pages it opens on, as
    /// [`adversary::Op::bit`]s: the profile draws from these when its set
    /// has any (profile.rst, "Adversaries").
    pub(crate) fits: u32,
}

/// The settings of a window, as its debugfs files set them: one value,
/// kept in [`State`] and published whole to the window's handlers
/// ([`Window::settings`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Whether the window is armed: its probes (for the selected phases)
    /// are registered, and its handlers act.
    pub(crate) armed: bool,
    pub(crate) delay_us: u64,
    /// Each window's delay is drawn uniformly from `0..=delay_us`.
    pub(crate) random_delay: bool,
    pub(crate) probability: u32,
    pub(crate) interval: u64,
    pub(crate) pid: i32,
    pub(crate) pid_tree: bool,
    pub(crate) pfn: u64,
    /// `target`: the process (-1: none; its number in the initial pid
    /// namespace, resolved from the writer's) and address whose PTE is
    /// watched ([`Window::target_ref`]).
    pub(crate) target_pid: i32,
    pub(crate) target_addr: u64,
    pub(crate) verbose: u32,
    /// The rendezvous partner, an index in [`WINDOWS`].
    pub(crate) wait_for: Option<usize>,
    pub(crate) wait_timeout_us: u64,
    /// Bit `i`: phase `i` is selected.
    pub(crate) phases: u32,
    /// What is done to the window's page each time it opens.
    pub(crate) adversary: adversary::Op,
    /// With no `target`, an adversary's job names the process the window
    /// opened in, and no address (the helper finds the page's): set by
    /// the profile only.
    pub(crate) event_target: bool,
}

/// Words of a [`Settings`] in its [`Latch`].
const SETTINGS_WORDS: usize = 9;

impl Settings {
    /// Every setting at its default (debugfs.rst).
    pub(crate) const DEFAULT: Self = Self {
        armed: false,
        delay_us: 0,
        random_delay: false,
        probability: 100,
        interval: 1,
        pid: -1,
        pid_tree: false,
        pfn: ANY,
        target_pid: -1,
        target_addr: 0,
        verbose: 0,
        wait_for: None,
        wait_timeout_us: 10_000,
        phases: u32::MAX,
        adversary: adversary::Op::None,
        event_target: false,
    };

    const fn to_words(self) -> [u64; SETTINGS_WORDS] {
        let wait_for = match self.wait_for {
            Some(i) => i as u64 + 1,
            None => 0,
        };
        [
            self.delay_us,
            self.interval,
            self.pfn,
            self.target_addr,
            self.wait_timeout_us,
            (self.pid as u32 as u64) | (self.target_pid as u32 as u64) << 32,
            self.probability as u64 | (self.verbose as u64) << 32,
            self.phases as u64 | wait_for << 32,
            self.armed as u64
                | (self.random_delay as u64) << 1
                | (self.pid_tree as u64) << 2
                | (self.event_target as u64) << 3
                | self.adversary.code() << 8,
        ]
    }

    fn from_words(w: [u64; SETTINGS_WORDS]) -> Self {
        let wait_for = (w[7] >> 32) as usize;
        Self {
            delay_us: w[0],
            interval: w[1],
            pfn: w[2],
            target_addr: w[3],
            wait_timeout_us: w[4],
            pid: w[5] as u32 as i32,
            target_pid: (w[5] >> 32) as u32 as i32,
            probability: w[6] as u32,
            verbose: (w[6] >> 32) as u32,
            phases: w[7] as u32,
            wait_for: wait_for.checked_sub(1),
            armed: w[8] & 1 != 0,
            random_delay: w[8] & 2 != 0,
            pid_tree: w[8] & 4 != 0,
            event_target: w[8] & 8 != 0,
            adversary: adversary::Op::from_code((w[8] >> 8) & 0xff),
        }
    }
}

/// A race window: what it is, the snapshot of its settings its handlers
/// read, and what they count. Its settings themselves are in [`State`].
pub(crate) struct Window {
    pub(crate) desc: &'static Desc,
    /// Its position in [`WINDOWS`].
    index: usize,
    /// A defined window's name, `[a-z0-9_]`, NUL-padded (all NUL: a free
    /// slot); written under the control mutex while no probe of the slot
    /// is registered. Unused for built-in windows.
    defined_name: [AtomicU8; MAX_NAME + 1],
    /// The settings, as last committed by [`State::apply`] (the only
    /// writer, under the control mutex).
    published: Latch<SETTINGS_WORDS>,
    /// The process of `target` (its `target_pid`, the number in the
    /// initial pid namespace), resolved in the writer's namespace when
    /// `target` was written; set with the settings (before they are
    /// published) and emptied when they have none ([`State::apply`]) and
    /// at unload. The module's worker zaps in it.
    pub(crate) target_ref: PidSlot,
    pub(crate) stats: stats::Stats,
    /// [`probe::skipped`] for this window when its statistics were last
    /// reset: the calls its probes' page filters turned away since then
    /// count as entered and filtered out ([`Window::skipped`]).
    skip_base: AtomicU64,
    /// How many more windows may open (`times`); -1: unlimited.
    times_left: AtomicI64,
    /// Events that passed the page, task and caller filters (for
    /// `interval`).
    events: AtomicU64,
    /// Arrivals on a page (events past the page, task and caller filters),
    /// with the pfn of the last one: what partners watch for.
    arrivals: AtomicU64,
    last_pfn: AtomicU64,
    /// Windows open right now, and the pfn of the last one opened.
    open: AtomicU32,
    open_pfn: AtomicU64,
    /// The adversary's job slot.
    adversary: adversary::Slot,
    /// The window's random stream (splitmix64): `probability` and random
    /// delays draw from it, so that a seed replays the same choices.
    rng: AtomicU64,
    /// Rate limit of `verbose` messages: the second and the count in it.
    verbose_epoch: AtomicU64,
    verbose_count: AtomicU32,
}

impl Window {
    /// Creates the window declared in module `module` (its
    /// `module_path!()`), which must be listed in `windows!()` and be its
    /// debugfs name; otherwise this fails to compile.
    pub(crate) const fn new(module: &'static str, desc: &'static Desc) -> Self {
        let index = index_of(module);
        assert!(
            is_named(desc.name, NAMES[index]),
            "a window's debugfs name must be its module's name"
        );
        assert!(
            !desc.phases.is_empty() && desc.phases.len() <= MAX_PHASES,
            "a window has 1 to MAX_PHASES phases"
        );
        Self {
            desc,
            ..Self::slot(index)
        }
    }

    /// A free slot for a defined window (its index set by [`DEFINED`]).
    const fn slot(index: usize) -> Self {
        Self {
            desc: &DEFINED_DESC,
            index,
            defined_name: [const { AtomicU8::new(0) }; MAX_NAME + 1],
            published: Latch::new(Settings::DEFAULT.to_words()),
            stats: stats::Stats::new(),
            skip_base: AtomicU64::new(0),
            times_left: AtomicI64::new(-1),
            events: AtomicU64::new(0),
            arrivals: AtomicU64::new(0),
            last_pfn: AtomicU64::new(ANY),
            open: AtomicU32::new(0),
            open_pfn: AtomicU64::new(ANY),
            adversary: adversary::Slot::new(),
            target_ref: PidSlot::new(),
            rng: AtomicU64::new(0),
            verbose_epoch: AtomicU64::new(0),
            verbose_count: AtomicU32::new(0),
        }
    }

    /// Whether the window is built in (not defined at run time).
    pub(crate) fn builtin(&self) -> bool {
        self.index < NR_BUILTIN
    }

    /// The window's name (empty for a free slot).
    pub(crate) fn name(&self) -> Name {
        let mut name = Name {
            buf: [0; MAX_NAME + 1],
            len: 0,
        };
        if self.builtin() {
            let b = self.desc.name.as_bytes();
            let len = b.len().min(MAX_NAME);
            name.buf[..len].copy_from_slice(&b[..len]);
            name.len = len;
        } else {
            for (d, s) in name.buf.iter_mut().zip(self.defined_name.iter()) {
                *d = s.load(Relaxed);
            }
            name.len = name.buf.iter().position(|&b| b == 0).unwrap_or(MAX_NAME);
        }
        name
    }

    /// Whether the window exists: built in, or a defined slot in use.
    pub(crate) fn exists(&self) -> bool {
        self.builtin() || self.defined_name[0].load(Relaxed) != 0
    }

    /// Names a defined window's slot (empty: frees it), under the control
    /// mutex (`_state`) while none of its probes is registered.
    fn set_name(&self, _state: &mut State, name: &str) {
        let b = name.as_bytes();
        for (i, d) in self.defined_name.iter().enumerate() {
            d.store(
                if i < MAX_NAME {
                    b.get(i).copied().unwrap_or(0)
                } else {
                    0
                },
                Relaxed,
            );
        }
    }

    /// Its position in [`WINDOWS`].
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// The settings, whole, as last committed: what a handler acts on.
    /// Lock-free; never a mix of two writes.
    fn settings(&self) -> Settings {
        Settings::from_words(self.published.read())
    }

    /// All of the window's phases, as a bit mask.
    fn all_phases(&self) -> u32 {
        (1u32 << self.desc.phases.len()) - 1
    }

    /// The default phases ([`Phase::default`]) whose probe sites are all
    /// in this kernel, as a bit mask: what the default selection (`all`)
    /// arms. Sites are resolved at load
    /// time, so this does not change while the module is loaded. (A
    /// debug kernel may inline a caller a phase filters on, such as
    /// `find_get_entry()`.)
    fn present_phases(&self) -> u32 {
        let mut mask = 0;
        for (i, phase) in self.desc.phases.iter().enumerate() {
            if phase.default
                && phase
                    .sites
                    .iter()
                    .all(|site| site.missing_symbol().is_none())
            {
                mask |= 1 << i;
            }
        }
        mask
    }

    /// The phases `s` selects: `all` (`u32::MAX`, the default) means
    /// those this kernel has; phases written by name mean exactly those,
    /// so that arming one whose site is missing fails and says why.
    pub(crate) fn selected_phases(&self, s: &Settings) -> u32 {
        if s.phases == u32::MAX {
            self.present_phases()
        } else {
            s.phases & self.all_phases()
        }
    }

    /// Whether arming with the default phases can succeed: some phase has
    /// all of its probe sites in this kernel.
    pub(crate) fn sites_present(&self) -> bool {
        self.present_phases() != 0
    }

    /// How many more windows may open; -1: unlimited.
    pub(crate) fn times_left(&self) -> i64 {
        self.times_left.load(Relaxed)
    }

    /// Records that an event arrived on `pfn`, for partners to see.
    fn arrive(&self, pfn: u64) {
        self.last_pfn.store(pfn, Relaxed);
        self.arrivals.fetch_add(1, Relaxed);
    }

    /// Seeds the window's random stream.
    fn seed(&self, seed: u64) {
        self.rng.store(seed, Relaxed);
    }

    /// The next number of the window's random stream (splitmix64).
    fn draw(&self) -> u64 {
        let x = self
            .rng
            .fetch_add(0x9e37_79b9_7f4a_7c15, Relaxed)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(x)
    }

    /// The page, task and caller filters.
    fn wants(&self, s: &Settings, pfns: (u64, u64), fired: &Fired<'_>) -> bool {
        self.wants_page_task(s, pfns) && fired.expected_caller()
    }

    /// The page and task filters.
    fn wants_page_task(&self, s: &Settings, (pfn, head_pfn): (u64, u64)) -> bool {
        if s.pfn != ANY && pfn != s.pfn && head_pfn != s.pfn {
            return false;
        }
        if s.pid >= 0 {
            let ok = if s.pid_tree {
                context::current_in_tree(s.pid)
            } else {
                context::current_tgid() == s.pid
            };
            if !ok {
                return false;
            }
        }
        true
    }

    /// `interval`, `probability` and `times`, in that order (like the
    /// kernel's fault injection).
    fn selected(&self, s: &Settings) -> bool {
        let interval = s.interval.max(1);
        if self.events.fetch_add(1, Relaxed).wrapping_add(1) % interval != 0 {
            return false;
        }
        if s.probability < 100 && self.draw() % 100 >= u64::from(s.probability) {
            return false;
        }
        self.times_left
            .fetch_update(Relaxed, Relaxed, |t| match t {
                0 => None,
                t if t > 0 => Some(t - 1),
                t => Some(t),
            })
            .is_ok()
    }

    /// The target address, if a `target` is set in the current process.
    fn watched_pte_addr(s: &Settings) -> Option<u64> {
        (s.target_pid >= 0 && context::current_tgid() == s.target_pid).then_some(s.target_addr)
    }

    fn verbose(&self, s: &Settings, level: u32) -> bool {
        if s.verbose < level {
            return false;
        }
        // At most 10 messages per second per window.
        let epoch = now_ns() / 1_000_000_000;
        if self.verbose_epoch.swap(epoch, Relaxed) != epoch {
            self.verbose_count.store(0, Relaxed);
        }
        self.verbose_count.fetch_add(1, Relaxed) < 10
    }

    /// Holds the window open on `page` and watches it; see the module
    /// documentation. The wait ends at the first step at which the clock,
    /// or the count of 1 us steps (should the clock stand still), has
    /// reached the delay.
    fn open_window(&self, s: &Settings, page: Page, pfn: u64) {
        let mut delay_us = s.delay_us;
        if s.random_delay {
            delay_us = self.draw() % (delay_us + 1);
        }
        let partner = s.wait_for.and_then(|i| WINDOWS.get(i).copied());
        let timeout_us = match partner {
            Some(_) => s.wait_timeout_us,
            None => 0,
        };
        let Some(reservation) = budget::reserve(delay_us.max(timeout_us) * 1000) else {
            self.stats.throttled.fetch_add(1, Relaxed);
            return;
        };
        let mut seen = [0u64; MAX_WINDOWS];
        for (s, w) in seen.iter_mut().zip(WINDOWS.iter()) {
            *s = w.arrivals.load(Relaxed);
        }
        self.open_pfn.store(pfn, SeqCst);
        self.open.fetch_add(1, SeqCst);
        // With a `target` in the current process, also watch its PTE: a
        // racing unmap changes the PTE before the folio (its TLB-flush IPI
        // may wait for this very window to end).
        let pte_addr = Self::watched_pte_addr(s);
        let pte_before = pte_addr.map(mm::current_pte);

        // The snapshot is taken here, not when the probe fired: a
        // zero-length window is then two back-to-back reads, and its
        // natural hits are not inflated by the filters' own time.
        let before = page.state();
        // The adversary, if any, is woken now, after the snapshot (what it
        // does to the page is then a change the window sees, however fast
        // it is); the delay gives it time.
        adversary::post(self.index, s, pfn);
        let start = now_ns();
        let (mut hit, mut met, mut timed_out) = (false, partner.is_none(), false);
        let mut after = before;
        // The clock ends the window; counting steps (each at least 1 us)
        // ends it too, should the clock stand still.
        for step in 0..=budget::MAX_DELAY_US {
            let t_us = step.max(now_ns().saturating_sub(start) / 1000);
            if !hit {
                after = page.state();
                hit = after != before || pte_addr.map(mm::current_pte) != pte_before;
            }
            for (w, s) in WINDOWS.iter().zip(seen.iter()) {
                if core::ptr::eq(*w, self) {
                    continue;
                }
                let arrived = w.arrivals.load(Relaxed) != *s && w.last_pfn.load(Relaxed) == pfn;
                let inside = w.open.load(Relaxed) > 0 && w.open_pfn.load(Relaxed) == pfn;
                if arrived || inside {
                    hit = true;
                    if partner.is_some_and(|p| core::ptr::eq(p, *w)) {
                        met = true;
                    }
                }
            }
            if !met && t_us >= timeout_us {
                timed_out = true;
            }
            if SHUTDOWN.load(Relaxed) || (t_us >= delay_us && (met || timed_out)) {
                break;
            }
            udelay_1us();
        }
        let elapsed = now_ns().saturating_sub(start);
        // Read while still open: an adversary's freeze is held while the
        // window is open on the page (and 100 us after).
        let end = page.state();
        self.open.fetch_sub(1, SeqCst);
        let waiters = |flags: u64| flags & (1 << flag::Waiters::BIT) != 0;
        let closing = end.flags;
        if end.refcount == 0 || end.mapping != before.mapping {
            self.stats.released.fetch_add(1, Relaxed);
        }
        if !waiters(before.flags) && waiters(closing) {
            self.stats.waiters_queued.fetch_add(1, Relaxed);
        }
        if closing != before.flags {
            self.stats.flags_changed.fetch_add(1, Relaxed);
        }
        // The lock's changes whose undoing someone notices: PG_locked
        // either way, PG_waiters set (a waiter queued). PG_waiters cleared
        // (the last waiter woken) and written back set costs one needless
        // wake-up.
        let locked = 1 << flag::Locked::BIT;
        if (closing ^ before.flags) & locked != 0 || (!waiters(before.flags) && waiters(closing)) {
            self.stats.lock_changed.fetch_add(1, Relaxed);
        }
        budget::settle(reservation, elapsed);

        // A zero-length window (delay_us=0, no rendezvous) is one look at
        // the page: it counts natural hits but no delay.
        if delay_us > 0 || partner.is_some() {
            self.stats.add_delay(elapsed);
        }
        if partner.is_some() {
            let counter = if met {
                &self.stats.rendezvous_met
            } else {
                &self.stats.rendezvous_timeout
            };
            counter.fetch_add(1, Relaxed);
        }
        if hit {
            self.stats.hits.fetch_add(1, Relaxed);
            if self.verbose(s, 1) {
                pr_info!(
                    "{}: hit on pfn {:#x} after {} ns: refcount {} -> {}, mapcount {} -> {}, flags {:#x} -> {:#x}\n",
                    self.name(),
                    pfn,
                    elapsed,
                    before.refcount,
                    after.refcount,
                    before.mapcount,
                    after.mapcount,
                    before.flags,
                    after.flags
                );
            }
        } else if self.verbose(s, 2) {
            pr_info!(
                "{}: no hit on pfn {:#x} in {} ns\n",
                self.name(),
                pfn,
                elapsed
            );
        }
    }

    /// Fires the window's phase `phase` on `page` from the module's own
    /// code (a scenario's stand-in for a kernel path, or a callback the
    /// kernel makes into the module), as its probes would: if the window
    /// is armed with that phase, its filters apply and it opens. Same
    /// context rules as a probe.
    pub(crate) fn fire_page(&'static self, phase: usize, page: Page) {
        Handler::fire(self, &Fired::direct(page, phase as u32));
    }

    /// Calls for other pages its probes' page filters turned away since
    /// the statistics were reset: entered, and filtered out.
    pub(crate) fn skipped(&self) -> u64 {
        probe::skipped(self.skip_counter()).wrapping_sub(self.skip_base.load(Relaxed))
    }

    /// Zeroes the statistics, those the page filters count included.
    pub(crate) fn reset_stats(&self) {
        self.stats.reset();
        self.skip_base
            .store(probe::skipped(self.skip_counter()), Relaxed);
    }

    /// Restarts what the handlers count and draw: statistics, `times`,
    /// the random stream (seeded with `seed`).
    fn restart(&self, seed: u64) {
        self.reset_stats();
        self.times_left.store(-1, Relaxed);
        self.seed(seed);
    }
}

impl Handler for Window {
    fn fire(&'static self, fired: &Fired<'_>) {
        if SHUTDOWN.load(Relaxed) {
            return;
        }
        // One consistent snapshot for the whole firing.
        let s = self.settings();
        // A probe of a phase no longer selected (being unregistered), or
        // of a window being disarmed, or registered before its arming is
        // committed, does nothing.
        if !s.armed || s.phases & self.all_phases() & (1u32 << fired.tag()) == 0 {
            return;
        }
        self.stats.entered.fetch_add(1, Relaxed);
        let page = fired.page();
        // The pfns only: most firings are for other pages, and the window
        // takes its snapshot when it opens.
        let pfns = page.pfns();
        if !self.wants(&s, pfns, fired) {
            self.stats.filtered_out.fetch_add(1, Relaxed);
            return;
        }
        self.arrive(pfns.0);
        if !self.selected(&s) {
            self.stats.filtered_out.fetch_add(1, Relaxed);
            return;
        }
        self.open_window(&s, page, pfns.0);
    }

    /// The cheap filters, at a return probe's entry: armed with this
    /// phase, the task, and the page when the entry names it (its pfns
    /// are a superset of the folio's at return: [`Site::known_at_entry`]).
    /// A call turned away counts as entered and filtered out, as it would
    /// at return.
    fn admits(&'static self, tag: u32, page: Option<Page>) -> bool {
        if SHUTDOWN.load(Relaxed) {
            return false;
        }
        let s = self.settings();
        if !s.armed || s.phases & self.all_phases() & (1u32 << tag) == 0 {
            return false;
        }
        let ok = match page {
            Some(page) => self.wants_page_task(&s, page.pfns()),
            None => self.wants_page_task(&s, (s.pfn, s.pfn)),
        };
        if !ok {
            self.stats.entered.fetch_add(1, Relaxed);
            self.stats.filtered_out.fetch_add(1, Relaxed);
        }
        ok
    }

    fn invalid(&'static self, tag: u32) {
        let s = self.settings();
        if s.armed && s.phases & self.all_phases() & (1u32 << tag) != 0 {
            self.stats.invalid.fetch_add(1, Relaxed);
        }
    }

    fn skip_counter(&self) -> u32 {
        // Below SKIP_COUNTERS (checked at build time below).
        self.index as u32
    }
}

const _: () = assert!(
    MAX_WINDOWS <= probe::SKIP_COUNTERS,
    "every window needs a skip counter"
);

/// splitmix64's finalizer: a well-mixed 64-bit function of `x`.
pub(crate) fn mix64(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Looks up every window's probe sites, at load time: before anything is
/// armed (see `Site::resolve`), all at once (`Site::resolve_all`).
pub(crate) fn resolve_sites() -> Result {
    let mut sites = KVec::new();
    for w in WINDOWS {
        for phase in w.desc.phases {
            for &site in phase.sites {
                sites.push(site, GFP_KERNEL)?;
            }
        }
    }
    Site::resolve_all(&sites)
}

/// Looks a window up by name (under the control mutex, `_state`: defined
/// windows come and go).
pub(crate) fn find(_state: &State, name: &str) -> Option<(usize, &'static Window)> {
    if name.is_empty() {
        return None;
    }
    WINDOWS
        .iter()
        .copied()
        .enumerate()
        .find(|(_, w)| w.exists() && w.name().as_str() == name)
}

/// Every window's settings, indexed like [`WINDOWS`] ([`MAX_WINDOWS`]
/// of them).
pub(crate) type Table = KVec<Settings>;

/// A table of [`MAX_WINDOWS`] default settings.
fn default_table() -> Result<Table> {
    let mut t = KVec::with_capacity(MAX_WINDOWS, GFP_KERNEL)?;
    for _ in 0..MAX_WINDOWS {
        t.push(Settings::DEFAULT, GFP_KERNEL)?;
    }
    Ok(t)
}

/// All of the control state: every window's settings, the probes that
/// arming them registered, the defined windows and the profile. Behind
/// the one control mutex ([`Control`]); changed only by [`State::apply`]
/// (and the profile's plain fields, and `define.rs`), so that a write
/// either commits whole or changes nothing.
pub(crate) struct State {
    /// The settings of each window; `WINDOWS[i]`'s handlers see
    /// `settings[i]` once committed. [`MAX_WINDOWS`] long.
    settings: Table,
    /// A second table, the same length, that writes build their new
    /// table in (so that editing allocates nothing and disarming cannot
    /// fail).
    scratch: Table,
    /// INVARIANT: `probes[i][p]` holds the probes of phase `p` of window
    /// `i` if that window is armed with that phase selected, and is empty
    /// otherwise.
    probes: KVec<[KVec<Probe>; MAX_PHASES]>,
    pub(crate) profile: profile::Profile,
    /// The defined windows, indexed like `WINDOWS[NR_BUILTIN..]`.
    pub(crate) slots: KVec<define::Slot>,
    /// Where defined windows' directories are made (`windows/`); set by
    /// the tree, dropped before it goes.
    pub(crate) anchor: Option<crate::abstractions::debugfs::Anchor>,
}

impl State {
    fn new() -> Result<Self> {
        let mut probes = KVec::with_capacity(MAX_WINDOWS, GFP_KERNEL)?;
        for _ in 0..MAX_WINDOWS {
            probes.push([const { KVec::new() }; MAX_PHASES], GFP_KERNEL)?;
        }
        let mut slots = KVec::with_capacity(NR_DEFINABLE, GFP_KERNEL)?;
        for _ in 0..NR_DEFINABLE {
            slots.push(define::Slot::FREE, GFP_KERNEL)?;
        }
        Ok(Self {
            settings: default_table()?,
            scratch: default_table()?,
            probes,
            profile: profile::Profile::DEFAULT,
            slots,
            anchor: None,
        })
    }

    /// The settings of every window.
    pub(crate) fn settings(&self) -> &[Settings] {
        &self.settings
    }

    /// Whether window `i`, as a file made for generation `gen` of its
    /// slot knows it, still exists (built-in windows always do).
    pub(crate) fn alive(&self, i: usize, gen: u64) -> bool {
        match i.checked_sub(NR_BUILTIN) {
            None => true,
            Some(k) => self.slots.get(k).is_some_and(|s| s.is_defined(gen)),
        }
    }

    /// Builds a new table from the current one with `edit` and applies it
    /// ([`State::apply`]), all or nothing; allocates nothing itself.
    pub(crate) fn edit_table(
        &mut self,
        why: &mut Why<'_>,
        edit: impl FnOnce(&State, &mut [Settings], &mut Why<'_>) -> Result,
        before_commit: impl FnOnce(),
    ) -> Result {
        let mut new = core::mem::take(&mut self.scratch);
        // Both are MAX_WINDOWS long (`State::new`; the table taken is put
        // back below).
        // (Element by element: `copy_from_slice`'s length-mismatch
        // panic is a function objtool finds falling through.)
        let mut result = if new.len() == self.settings.len() {
            for (d, s) in new.iter_mut().zip(self.settings.iter()) {
                *d = *s;
            }
            Ok(())
        } else {
            Err(EINVAL)
        };
        if result.is_ok() {
            result = edit(self, &mut new, why);
        }
        if result.is_ok() {
            result = self.apply(&new, why, before_commit);
        }
        self.scratch = new;
        result
    }

    /// Applies `new`, the whole table, all or nothing: registers the
    /// probes `new` needs that are not registered yet; if any fails,
    /// unregisters those and returns the error (the reason in `why`) with
    /// nothing changed. Otherwise runs `before_commit` (for what is reset
    /// along with the settings), publishes every window's new settings to
    /// its handlers, and then unregisters the probes no longer needed.
    fn apply(
        &mut self,
        new: &[Settings],
        why: &mut Why<'_>,
        before_commit: impl FnOnce(),
    ) -> Result {
        if new.len() != MAX_WINDOWS {
            return Err(EINVAL);
        }
        let prepared = self.prepare(new, why)?;
        before_commit();
        // Publish first: a probe about to go is already inert once its
        // handlers see the new settings, and a new one comes alive now.
        for (w, s) in WINDOWS.iter().zip(new.iter()) {
            w.published.write(s.to_words());
        }
        for (d, s) in self.settings.iter_mut().zip(new.iter()) {
            *d = *s;
        }
        for (i, p, probes) in prepared {
            // INVARIANT: newly wanted, and registered.
            self.probes[i][p] = probes;
        }
        // The page filters follow the settings just published: a probe
        // kept filters on its window's target page, one about to go on
        // none (its handler, inert now, counts nothing).
        for (i, w) in WINDOWS.iter().enumerate() {
            let want = Self::wanted(w, &new[i]);
            let pfn = (new[i].pfn != ANY).then_some(new[i].pfn);
            for (p, probes) in self.probes[i].iter().enumerate() {
                let keep = want & (1 << p) != 0;
                for probe in probes.iter() {
                    probe.filter_pfn(if keep { pfn } else { None });
                }
            }
        }
        // Unregistering waits for running handlers to return; all at once,
        // with one grace period (a probe the list has no room for goes on
        // its own).
        let mut gone = KVec::new();
        for (i, w) in WINDOWS.iter().enumerate() {
            let want = Self::wanted(w, &new[i]);
            for p in 0..MAX_PHASES {
                if want & (1 << p) == 0 {
                    for probe in core::mem::take(&mut self.probes[i][p]) {
                        let _ = gone.push(probe, GFP_KERNEL);
                    }
                }
            }
        }
        Probe::unregister_all(gone);
        // A window without a target drops its process's reference.
        for (w, s) in WINDOWS.iter().zip(new.iter()) {
            if s.target_pid < 0 {
                drop(w.target_ref.replace(None));
            }
        }
        // Jobs of windows disarmed or without an adversary now are
        // cancelled: a late `done` for them is ignored.
        adversary::cancel(
            (0..MAX_WINDOWS).filter(|&i| !new[i].armed || new[i].adversary == adversary::Op::None),
        );
        Ok(())
    }

    /// The phases whose probes `s` needs registered for window `w`.
    fn wanted(w: &Window, s: &Settings) -> u32 {
        if s.armed {
            w.selected_phases(s)
        } else {
            0
        }
    }

    /// Registers the probes `new` needs and `self` does not have: (window,
    /// phase, probes). On error, what was registered is dropped
    /// (unregistered), and nothing changed.
    fn prepare(
        &self,
        new: &[Settings],
        why: &mut Why<'_>,
    ) -> Result<KVec<(usize, usize, KVec<Probe>)>> {
        let mut prepared = KVec::new();
        for (i, w) in WINDOWS.iter().enumerate() {
            let have = Self::wanted(w, &self.settings[i]);
            let want = Self::wanted(w, &new[i]);
            for (p, phase) in w.desc.phases.iter().enumerate() {
                if want & !have & (1 << p) == 0 {
                    continue;
                }
                let probes = if w.builtin() {
                    register(w, p, phase.sites, why)?
                } else {
                    match self.slots[i - NR_BUILTIN].site() {
                        Some(site) => register(w, p, &[site], why)?,
                        None => return Err(ENODEV),
                    }
                };
                prepared.push((i, p, probes), GFP_KERNEL)?;
            }
        }
        Ok(prepared)
    }
}

/// Registers the probes of phase `p` (at `sites`) of window `w`.
fn register(
    w: &'static Window,
    p: usize,
    sites: &[&Site],
    why: &mut Why<'_>,
) -> Result<KVec<Probe>> {
    let mut probes = KVec::new();
    for site in sites {
        if let Some(missing) = site.missing_symbol() {
            let _ = write!(
                why,
                "{}: probe site {} not in this kernel (inlined or renamed): window unavailable",
                w.name(),
                missing.to_str().unwrap_or("?")
            );
            return Err(ENOENT);
        }
        match Probe::register(site, w, p as u32) {
            Ok(probe) => probes.push(probe, GFP_KERNEL)?,
            Err(e) => {
                let _ = write!(why, "{}: registering probe at ", w.name());
                let _ = site.describe(why);
                if e == ENOTSUPP {
                    let _ = write!(why, " failed: the kernel lacks CONFIG_DEBUG_PAGE_REF");
                } else {
                    let _ = write!(why, " failed: error {}", Errno(e));
                }
                return Err(e);
            }
        }
    }
    Ok(probes)
}

/// The control state and its lock, owned by the module object.
#[pin_data]
pub(crate) struct Control {
    #[pin]
    state: Mutex<State>,
}

impl Control {
    /// The control state, every window disarmed and at its defaults.
    pub(crate) fn new() -> Result<Arc<Self>> {
        let state = State::new()?;
        Arc::pin_init(
            pin_init!(Self {
                state <- new_mutex!(state, "mmrace_control"),
            }),
            GFP_KERNEL,
        )
    }

    /// Takes the control mutex (sleeping: process context only).
    pub(crate) fn lock(&self) -> Guard<'_, State, MutexBackend> {
        self.state.lock()
    }

    /// Changes window `i`'s settings with `edit`, all or nothing, if the
    /// window still exists as generation `gen` of its slot (`ENODEV`: it
    /// was removed).
    pub(crate) fn edit(
        &self,
        i: usize,
        gen: u64,
        why: &mut Why<'_>,
        edit: impl FnOnce(&mut Settings),
    ) -> Result {
        self.edit_with(i, gen, why, |_, s, _| {
            edit(s);
            Ok(())
        })
    }

    /// As [`Control::edit`], and `before_commit` run once the edit is
    /// sure to commit, just before its settings are published (for what
    /// changes along with them).
    pub(crate) fn edit_then(
        &self,
        i: usize,
        gen: u64,
        why: &mut Why<'_>,
        edit: impl FnOnce(&mut Settings),
        before_commit: impl FnOnce(),
    ) -> Result {
        self.edit_committing(
            i,
            gen,
            why,
            |_, s, _| {
                edit(s);
                Ok(())
            },
            before_commit,
        )
    }

    /// As [`Control::edit`], `edit` seeing the state (and able to refuse).
    pub(crate) fn edit_with(
        &self,
        i: usize,
        gen: u64,
        why: &mut Why<'_>,
        edit: impl FnOnce(&State, &mut Settings, &mut Why<'_>) -> Result,
    ) -> Result {
        self.edit_committing(i, gen, why, edit, || {})
    }

    /// [`Control::edit_with`] and [`Control::edit_then`] at once.
    fn edit_committing(
        &self,
        i: usize,
        gen: u64,
        why: &mut Why<'_>,
        edit: impl FnOnce(&State, &mut Settings, &mut Why<'_>) -> Result,
        before_commit: impl FnOnce(),
    ) -> Result {
        let mut state = self.lock();
        if !state.alive(i, gen) {
            return Err(ENODEV);
        }
        state.edit_table(
            why,
            |state, new, why| edit(state, &mut new[i], why),
            before_commit,
        )
    }

    /// Disarms every window (the profile's `enable` and `state` stay).
    pub(crate) fn disarm_all(&self) {
        let mut state = self.lock();
        let mut why = [0u8; 8];
        // Disarming registers nothing, so it cannot fail.
        let _ = state.edit_table(
            &mut Why::new(&mut why),
            |_, new, _| {
                for s in new.iter_mut() {
                    s.armed = false;
                }
                Ok(())
            },
            || {},
        );
        adversary::wake_waiters();
    }

    /// Disarms every window and restores every setting, the profile
    /// and every counter, at once (defined windows stay defined).
    pub(crate) fn reset_all(&self) {
        let mut state = self.lock();
        let mut why = [0u8; 8];
        let _ = state.edit_table(
            &mut Why::new(&mut why),
            |_, new, _| {
                for s in new.iter_mut() {
                    *s = Settings::DEFAULT;
                }
                Ok(())
            },
            || {
                for w in WINDOWS {
                    w.restart(0);
                }
            },
        );
        state.profile = profile::Profile::DEFAULT;
        adversary::wake_waiters();
    }

    /// Called first at module unload: windows open close at once, and
    /// handlers do nothing from now on.
    pub(crate) fn shutdown_begin(&self) {
        SHUTDOWN.store(true, Relaxed);
        adversary::wake_waiters();
    }
}

/// Sets how many more windows `w` may open (-1: unlimited); under the
/// control mutex (`_state`), like every write.
pub(crate) fn set_times(_state: &mut State, w: &Window, times: i64) {
    w.times_left.store(times, Relaxed);
}

/// Writes window `i`'s one-line summary, from `s`, its settings.
pub(crate) fn summary(out: &mut impl Write, i: usize, s: &Settings) -> core::fmt::Result {
    let w = WINDOWS[i];
    if !w.exists() {
        return Ok(());
    }
    write!(
        out,
        "{} enabled={} delay_us={} probability={} interval={} times={} pfn=",
        w.name(),
        u8::from(s.armed),
        s.delay_us,
        s.probability,
        s.interval,
        w.times_left(),
    )?;
    files::show_any(out, s.pfn)?;
    write!(out, " pid={}", s.pid)?;
    write!(out, " wait_for=")?;
    match s.wait_for.and_then(|i| WINDOWS.get(i)) {
        Some(p) => write!(out, "{}", p.name())?,
        None => write!(out, "none")?,
    }
    let st = &w.stats;
    write!(
        out,
        " entered={} delayed={} hits={} rendezvous_met={} rendezvous_timeout={}",
        st.entered.load(Relaxed).wrapping_add(w.skipped()),
        st.delayed.load(Relaxed),
        st.hits.load(Relaxed),
        st.rendezvous_met.load(Relaxed),
        st.rendezvous_timeout.load(Relaxed),
    )?;
    // Only defined windows' values can fail their check.
    if !w.builtin() {
        write!(out, " invalid={}", st.invalid.load(Relaxed))?;
    }
    writeln!(out)
}
