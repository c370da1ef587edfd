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
//! Each window is one file below this directory, declaring its [`Desc`];
//! [`WINDOWS`] lists them. Adding a window is adding a file and a line there.

use crate::abstractions::{
    context::{self, now_ns, udelay_1us},
    debugfs::{Errno, Why},
    folio::{flag, Flag},
    mm::{self, Page},
    probe::{Fired, Handler, Probe, Site},
    sync::Control,
};
use core::fmt::Write;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use kernel::prelude::*;

pub(crate) mod budget;
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

        /// Every window, in the order of `summary` and of the debugfs tree.
        pub(crate) static WINDOWS: [&Window; NR_WINDOWS] = [$(&$name::WINDOW),+];

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

/// How many windows there are.
pub(crate) const NR_WINDOWS: usize = NAMES.len();

// `profile` selects windows by bit in a `u32`, and masks them with
// `(1 << NR_WINDOWS) - 1`.
const _: () = assert!(
    NR_WINDOWS < 32,
    "more windows than profile/windows has bits"
);

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

/// Set once the module is going away: open windows close at once.
static SHUTDOWN: AtomicBool = AtomicBool::new(false);

/// The probes of each armed window, indexed like [`WINDOWS`].
static ARMED: Control<[KVec<Probe>; NR_WINDOWS]> =
    Control::new([const { KVec::new() }; NR_WINDOWS]);

/// A group of sites a window can be armed at, selectable with `phase`.
pub(crate) struct Phase {
    /// Name written to and read from `phase`.
    pub(crate) name: &'static str,
    /// Where its probes go.
    pub(crate) sites: &'static [&'static Site],
}

/// What a window is: its name and where it is placed.
pub(crate) struct Desc {
    /// Directory name under `windows/`: the name of the window's module.
    pub(crate) name: &'static CStr,
    /// Its phases; most windows have one.
    pub(crate) phases: &'static [Phase],
}

/// Settings of a window, written through its debugfs files.
pub(crate) struct Config {
    pub(crate) delay_us: AtomicU64,
    pub(crate) probability: AtomicU32,
    pub(crate) interval: AtomicU64,
    pub(crate) times: AtomicI64,
    pub(crate) pid: AtomicI32,
    pub(crate) pid_tree: AtomicBool,
    pub(crate) pfn: AtomicU64,
    pub(crate) target_pid: AtomicI32,
    pub(crate) target_addr: AtomicU64,
    pub(crate) verbose: AtomicU32,
    /// 0: none; `i + 1`: `WINDOWS[i]`.
    pub(crate) wait_for: AtomicUsize,
    pub(crate) wait_timeout_us: AtomicU64,
    /// Bit `i`: phase `i` is selected.
    pub(crate) phases: AtomicU32,
    /// Each window's delay is drawn uniformly from `0..=delay_us`.
    pub(crate) random_delay: AtomicBool,
}

impl Config {
    const fn new() -> Self {
        Self {
            delay_us: AtomicU64::new(0),
            probability: AtomicU32::new(100),
            interval: AtomicU64::new(1),
            times: AtomicI64::new(-1),
            pid: AtomicI32::new(-1),
            pid_tree: AtomicBool::new(false),
            pfn: AtomicU64::new(ANY),
            target_pid: AtomicI32::new(-1),
            target_addr: AtomicU64::new(0),
            verbose: AtomicU32::new(0),
            wait_for: AtomicUsize::new(0),
            wait_timeout_us: AtomicU64::new(10_000),
            phases: AtomicU32::new(u32::MAX),
            random_delay: AtomicBool::new(false),
        }
    }

    fn reset(&self) {
        let defaults = Self::new();
        self.delay_us.store(defaults.delay_us.into_inner(), Relaxed);
        self.probability
            .store(defaults.probability.into_inner(), Relaxed);
        self.interval.store(defaults.interval.into_inner(), Relaxed);
        self.times.store(defaults.times.into_inner(), Relaxed);
        self.pid.store(defaults.pid.into_inner(), Relaxed);
        self.pid_tree.store(defaults.pid_tree.into_inner(), Relaxed);
        self.pfn.store(defaults.pfn.into_inner(), Relaxed);
        self.target_pid
            .store(defaults.target_pid.into_inner(), Relaxed);
        self.target_addr
            .store(defaults.target_addr.into_inner(), Relaxed);
        self.verbose.store(defaults.verbose.into_inner(), Relaxed);
        self.wait_for.store(defaults.wait_for.into_inner(), Relaxed);
        self.wait_timeout_us
            .store(defaults.wait_timeout_us.into_inner(), Relaxed);
        self.phases.store(defaults.phases.into_inner(), Relaxed);
        self.random_delay
            .store(defaults.random_delay.into_inner(), Relaxed);
    }
}

/// A race window: its description, settings, statistics and debugfs files.
pub(crate) struct Window {
    pub(crate) desc: &'static Desc,
    /// Its position in [`WINDOWS`].
    index: usize,
    pub(crate) config: Config,
    pub(crate) stats: stats::Stats,
    /// Whether the window's probes are registered.
    enabled: AtomicBool,
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
    /// The window's random stream (splitmix64): `probability` and random
    /// delays draw from it, so that a seed replays the same choices.
    rng: AtomicU64,
    /// Rate limit of `verbose` messages: the second and the count in it.
    verbose_epoch: AtomicU64,
    verbose_count: AtomicU32,
    pub(crate) files: files::Files,
}

impl Window {
    /// Creates the window `this` (its own address, for its files), declared
    /// in module `module` (its `module_path!()`), which must be listed in
    /// `windows!()` and be its debugfs name; otherwise this fails to
    /// compile.
    pub(crate) const fn new(
        this: &'static Window,
        module: &'static str,
        desc: &'static Desc,
    ) -> Self {
        let index = index_of(module);
        assert!(
            is_named(desc.name, NAMES[index]),
            "a window's debugfs name must be its module's name"
        );
        Self {
            desc,
            index,
            config: Config::new(),
            stats: stats::Stats::new(),
            enabled: AtomicBool::new(false),
            events: AtomicU64::new(0),
            arrivals: AtomicU64::new(0),
            last_pfn: AtomicU64::new(ANY),
            open: AtomicU32::new(0),
            open_pfn: AtomicU64::new(ANY),
            rng: AtomicU64::new(0),
            verbose_epoch: AtomicU64::new(0),
            verbose_count: AtomicU32::new(0),
            files: files::Files::new(this),
        }
    }

    /// The window's name.
    pub(crate) fn name(&self) -> &'static str {
        self.desc.name.to_str().unwrap_or("?")
    }

    fn index(&self) -> usize {
        self.index
    }

    /// Whether the window is armed.
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Relaxed)
    }

    /// The phases selected, as a bit mask clipped to the window's phases.
    fn selected_phases(&self) -> u32 {
        let all = (1u32 << self.desc.phases.len()) - 1;
        self.config.phases.load(Relaxed) & all
    }

    /// Whether every probe site of every phase is in this kernel: what
    /// arming with the default phases (all of them) needs.
    pub(crate) fn sites_present(&self) -> bool {
        self.desc
            .phases
            .iter()
            .flat_map(|phase| phase.sites.iter())
            .all(|site| site.missing_symbol().is_none())
    }

    /// Arms (`on`) or disarms the window: registers or unregisters its
    /// probes. A site missing from this kernel refuses arming, with the
    /// reason in `why`.
    pub(crate) fn set_enabled(&'static self, on: bool, why: &mut Why<'_>) -> Result {
        let mut armed = ARMED.lock();
        self.set_enabled_locked(&mut armed, on, why)
    }

    fn set_enabled_locked(
        &'static self,
        armed: &mut [KVec<Probe>; NR_WINDOWS],
        on: bool,
        why: &mut Why<'_>,
    ) -> Result {
        let probes = &mut armed[self.index()];
        // Unregistering waits for running handlers to return.
        *probes = KVec::new();
        self.enabled.store(false, Relaxed);
        if !on {
            return Ok(());
        }
        let phases = self.selected_phases();
        for (i, phase) in self.desc.phases.iter().enumerate() {
            if phases & (1 << i) == 0 {
                continue;
            }
            for site in phase.sites {
                if let Some(missing) = site.missing_symbol() {
                    *probes = KVec::new();
                    let _ = write!(
                        why,
                        "probe site {} not in this kernel (inlined or renamed): window unavailable",
                        missing.to_str().unwrap_or("?")
                    );
                    return Err(ENOENT);
                }
                match Probe::register(site, self) {
                    Ok(probe) => probes.push(probe, GFP_KERNEL)?,
                    Err(e) => {
                        *probes = KVec::new();
                        let _ = write!(why, "registering probe at ");
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
        }
        self.enabled.store(true, Relaxed);
        Ok(())
    }

    /// Re-registers the probes if armed, after a change of phases.
    pub(crate) fn rearm(&'static self, why: &mut Why<'_>) -> Result {
        let mut armed = ARMED.lock();
        if self.is_enabled() {
            self.set_enabled_locked(&mut armed, true, why)?;
        }
        Ok(())
    }

    /// Records that an event arrived on `pfn`, for partners to see.
    fn arrive(&self, pfn: u64) {
        self.last_pfn.store(pfn, Relaxed);
        self.arrivals.fetch_add(1, Relaxed);
    }

    /// Seeds the window's random stream.
    pub(crate) fn seed(&self, seed: u64) {
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
    fn wants(&self, (pfn, head_pfn): (u64, u64), fired: &Fired<'_>) -> bool {
        let target = self.config.pfn.load(Relaxed);
        if target != ANY && pfn != target && head_pfn != target {
            return false;
        }
        let pid = self.config.pid.load(Relaxed);
        if pid >= 0 {
            let ok = if self.config.pid_tree.load(Relaxed) {
                context::current_in_tree(pid)
            } else {
                context::current_tgid() == pid
            };
            if !ok {
                return false;
            }
        }
        fired.expected_caller()
    }

    /// `interval`, `probability` and `times`, in that order (like the
    /// kernel's fault injection).
    fn selected(&self) -> bool {
        let interval = self.config.interval.load(Relaxed).max(1);
        if self.events.fetch_add(1, Relaxed).wrapping_add(1) % interval != 0 {
            return false;
        }
        let probability = self.config.probability.load(Relaxed);
        if probability < 100 && self.draw() % 100 >= u64::from(probability) {
            return false;
        }
        self.config
            .times
            .fetch_update(Relaxed, Relaxed, |t| match t {
                0 => None,
                t if t > 0 => Some(t - 1),
                t => Some(t),
            })
            .is_ok()
    }

    /// The target address, if a `target` is set in the current process.
    fn watched_pte_addr(&self) -> Option<u64> {
        let pid = self.config.target_pid.load(Relaxed);
        (pid >= 0 && context::current_tgid() == pid).then(|| self.config.target_addr.load(Relaxed))
    }

    /// The window this one waits for, if any.
    fn partner(&self) -> Option<&'static Window> {
        match self.config.wait_for.load(Relaxed) {
            0 => None,
            i => WINDOWS.get(i - 1).copied(),
        }
    }

    fn verbose(&self, level: u32) -> bool {
        if self.config.verbose.load(Relaxed) < level {
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
    fn open_window(&self, page: Page, pfn: u64) {
        let mut delay_us = self.config.delay_us.load(Relaxed);
        if self.config.random_delay.load(Relaxed) {
            delay_us = self.draw() % (delay_us + 1);
        }
        let partner = self.partner();
        let timeout_us = match partner {
            Some(_) => self.config.wait_timeout_us.load(Relaxed),
            None => 0,
        };
        let Some(reservation) = budget::reserve(delay_us.max(timeout_us) * 1000) else {
            self.stats.throttled.fetch_add(1, Relaxed);
            return;
        };
        let mut seen = [0u64; NR_WINDOWS];
        for (s, w) in seen.iter_mut().zip(WINDOWS.iter()) {
            *s = w.arrivals.load(Relaxed);
        }
        self.open_pfn.store(pfn, Relaxed);
        self.open.fetch_add(1, Relaxed);

        // With a `target` in the current process, also watch its PTE: a
        // racing unmap changes the PTE before the folio (its TLB-flush IPI
        // may wait for this very window to end).
        let pte_addr = self.watched_pte_addr();
        let pte_before = pte_addr.map(mm::current_pte);

        // The snapshot is taken here, not when the probe fired: a
        // zero-length window is then two back-to-back reads, and its
        // natural hits are not inflated by the filters' own time.
        let before = page.state();
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
        self.open.fetch_sub(1, Relaxed);
        let waiters = |flags: u64| flags & (1 << flag::Waiters::BIT) != 0;
        if !waiters(before.flags) && waiters(page.state().flags) {
            self.stats.waiters_queued.fetch_add(1, Relaxed);
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
            if self.verbose(1) {
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
        } else if self.verbose(2) {
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
    /// is enabled with that phase, its filters apply and it opens. Same
    /// context rules as a probe.
    pub(crate) fn fire_page(&'static self, phase: usize, page: Page) {
        let selected = self.config.phases.load(Relaxed) & (1 << phase) != 0;
        if self.is_enabled() && selected {
            Handler::fire(self, &Fired::direct(page));
        }
    }

    /// Disarms the window and restores every setting and counter.
    fn reset_locked(&'static self, armed: &mut [KVec<Probe>; NR_WINDOWS], why: &mut Why<'_>) {
        let _ = self.set_enabled_locked(armed, false, why);
        self.config.reset();
        self.stats.reset();
    }

    /// Writes the window's one-line summary.
    pub(crate) fn summary(&self, out: &mut impl Write) -> core::fmt::Result {
        let c = &self.config;
        write!(
            out,
            "{} enabled={} delay_us={} probability={} interval={} times={} pfn=",
            self.name(),
            u8::from(self.is_enabled()),
            c.delay_us.load(Relaxed),
            c.probability.load(Relaxed),
            c.interval.load(Relaxed),
            c.times.load(Relaxed),
        )?;
        files::show_any(out, c.pfn.load(Relaxed))?;
        write!(out, " pid={}", c.pid.load(Relaxed))?;
        write!(out, " wait_for=")?;
        match self.partner() {
            Some(p) => write!(out, "{}", p.name())?,
            None => write!(out, "none")?,
        }
        let s = &self.stats;
        writeln!(
            out,
            " entered={} delayed={} hits={} rendezvous_met={} rendezvous_timeout={}",
            s.entered.load(Relaxed),
            s.delayed.load(Relaxed),
            s.hits.load(Relaxed),
            s.rendezvous_met.load(Relaxed),
            s.rendezvous_timeout.load(Relaxed),
        )
    }
}

impl Handler for Window {
    fn fire(&'static self, fired: &Fired<'_>) {
        if SHUTDOWN.load(Relaxed) {
            return;
        }
        self.stats.entered.fetch_add(1, Relaxed);
        let page = fired.page();
        // The pfns only: most firings are for other pages, and the window
        // takes its snapshot when it opens.
        let pfns = page.pfns();
        if !self.wants(pfns, fired) {
            self.stats.filtered_out.fetch_add(1, Relaxed);
            return;
        }
        self.arrive(pfns.0);
        if !self.selected() {
            self.stats.filtered_out.fetch_add(1, Relaxed);
            return;
        }
        self.open_window(page, pfns.0);
    }
}

/// splitmix64's finalizer: a well-mixed 64-bit function of `x`.
pub(crate) fn mix64(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Looks up every window's probe sites, at load time: before anything is
/// armed (see `Site::resolve`).
pub(crate) fn resolve_sites() {
    for w in WINDOWS {
        for phase in w.desc.phases {
            for site in phase.sites {
                site.resolve();
            }
        }
    }
}

/// Disarms every window.
pub(crate) fn disarm_all() {
    let mut armed = ARMED.lock();
    for w in WINDOWS {
        let mut why = [0u8; 8];
        let _ = w.set_enabled_locked(&mut armed, false, &mut Why::new(&mut why));
    }
}

/// Disarms every window and restores every setting and counter.
pub(crate) fn reset_all() {
    profile::reset();
    let mut armed = ARMED.lock();
    for w in WINDOWS {
        let mut why = [0u8; 8];
        w.reset_locked(&mut armed, &mut Why::new(&mut why));
    }
}

/// Called at module unload: closes open windows at once and disarms all.
pub(crate) fn shutdown() {
    SHUTDOWN.store(true, Relaxed);
    disarm_all();
}

/// Looks a window up by name.
pub(crate) fn find(name: &str) -> Option<(usize, &'static Window)> {
    WINDOWS
        .iter()
        .copied()
        .enumerate()
        .find(|(_, w)| w.name() == name)
}
