// SPDX-License-Identifier: GPL-2.0

//! Probes: kprobes, kretprobes and the `page_ref` tracepoints, delivering
//! the page they concern to a [`Handler`].
//!
//! A [`Site`] says where a probe goes and what the kernel hands over there;
//! sites are declared once, in `sites.rs`, where the kernel's function
//! signatures are trusted. A [`Probe`] is a registered site: registering
//! arms it, dropping it disarms it and waits for running handlers.

use crate::abstractions::mm::Page;
use crate::bindings;
use core::sync::atomic::{AtomicU8, AtomicUsize, Ordering::Relaxed};
use core::{ffi::c_void, mem::ManuallyDrop, ptr::NonNull};
use kernel::{error::from_err_ptr, error::to_result, prelude::*, str::CString};

/// What the probed function hands over.
#[derive(Clone, Copy)]
pub(crate) enum Value {
    /// A `struct page *`.
    Page,
    /// A `struct folio *` (or NULL).
    Folio,
    /// An xarray entry: a `struct folio *`, or a value/internal entry or
    /// NULL, which are ignored.
    XaEntry,
    /// What a user claims the value is (a defined window): checked before
    /// any use ([`Page::from_claimed_page`] and friends), and counted as
    /// invalid ([`Handler::invalid`]) when the check fails.
    Claimed(Claim),
}

/// What a user claims a probed value is (`KIND=` of `windows/define`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// A `struct page *`.
    Page,
    /// A `struct folio *`.
    Folio,
    /// A pfn.
    Pfn,
}

/// The registers an entry probe can read (x86-64, kprobe_events' names
/// without the `%`); `kprobe_glue.c` knows their offsets.
pub(crate) const REGISTERS: [&str; 16] = [
    "di", "si", "dx", "cx", "r8", "r9", "ax", "bx", "bp", "sp", "r10", "r11", "r12", "r13", "r14",
    "r15",
];

/// Where in the function a kprobe fires.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// At entry: the value is argument `arg`.
    Entry {
        /// Index of the argument (0-based).
        arg: u32,
    },
    /// At return: the value is the return value.
    Return,
    /// At entry (or at an offset into the function): the value is a
    /// register.
    Register {
        /// Its name, one of [`REGISTERS`].
        name: &'static str,
    },
}

/// A symbol name: static (built-in sites) or owned (defined ones).
enum Sym {
    Static(&'static CStr),
    Owned(CString),
}

impl Sym {
    fn get(&self) -> &CStr {
        match self {
            Sym::Static(s) => s,
            Sym::Owned(s) => s,
        }
    }
}

/// Caller names: static (built-in sites) or owned (defined ones).
enum Callers {
    Static(&'static [&'static CStr]),
    Owned(KVec<CString>),
}

impl Callers {
    fn len(&self) -> usize {
        match self {
            Callers::Static(c) => c.len(),
            Callers::Owned(c) => c.len(),
        }
    }

    fn get(&self, i: usize) -> Option<&CStr> {
        match self {
            Callers::Static(c) => c.get(i).copied(),
            Callers::Owned(c) => c.get(i).map(|s| &**s),
        }
    }
}

/// A `page_ref` tracepoint (needs `CONFIG_DEBUG_PAGE_REF`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tracepoint {
    /// A speculative reference was taken (`page_ref_add_unless` succeeded).
    RefModUnless,
    /// A refcount was frozen (`page_ref_freeze` succeeded).
    RefFreeze,
    /// A reference was taken or dropped without a test (`page_ref_mod`:
    /// `folio_get()`, `folio_ref_add()`).
    PlainMod,
}

impl Tracepoint {
    /// The tracepoint's name (`t:` of `windows/define`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Tracepoint::RefModUnless => "page_ref_mod_unless",
            Tracepoint::RefFreeze => "page_ref_freeze",
            Tracepoint::PlainMod => "page_ref_mod",
        }
    }

    /// Every tracepoint a site can hook.
    pub(crate) const ALL: [Tracepoint; 3] = [
        Tracepoint::RefModUnless,
        Tracepoint::RefFreeze,
        Tracepoint::PlainMod,
    ];
}

/// How a site's probe reaches it: what each call of the probed code pays.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mechanism {
    /// Not known: the site is not in this kernel (or not resolved yet).
    Unknown,
    /// A kprobe (or a kretprobe's entry) on the function's ftrace call
    /// (`CONFIG_KPROBES_ON_FTRACE`, at a function's entry): a call through
    /// the ftrace trampoline, no trap.
    Ftrace,
    /// A kprobe (or a kretprobe's entry) on a breakpoint written into the
    /// text: a trap on every call (or a jump, if kprobes optimizes it).
    Int3,
    /// A `page_ref` tracepoint: a static call, the stack walked for the
    /// callers only once the cheaper filters passed.
    Tracepoint,
    /// The function's ftrace call made a direct call of mmrace's own
    /// trampoline (`CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS`): no trap, no
    /// saved registers beyond the arguments, and a return hooked only for
    /// the calls whose entry passed the filter.
    Direct,
    /// A return site with callers: a kprobe right after each call of the
    /// function in those callers (a breakpoint, or a jump if kprobes
    /// optimizes it), so that calls from elsewhere pay nothing and the
    /// others no return hook.
    CallSites,
}

impl Mechanism {
    /// Its name in `sites` and in `make bench`'s report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mechanism::Unknown => "unknown",
            Mechanism::Ftrace => "ftrace",
            Mechanism::Int3 => "int3",
            Mechanism::Tracepoint => "tracepoint",
            Mechanism::Direct => "direct",
            Mechanism::CallSites => "callsite",
        }
    }

    fn code(self) -> u8 {
        match self {
            Mechanism::Unknown => 0,
            Mechanism::Ftrace => 1,
            Mechanism::Int3 => 2,
            Mechanism::Tracepoint => 3,
            Mechanism::Direct => 4,
            Mechanism::CallSites => 5,
        }
    }

    fn from_code(code: u8) -> Self {
        match code {
            1 => Mechanism::Ftrace,
            2 => Mechanism::Int3,
            3 => Mechanism::Tracepoint,
            4 => Mechanism::Direct,
            5 => Mechanism::CallSites,
            _ => Mechanism::Unknown,
        }
    }
}

enum Hook {
    Kprobe {
        symbol: Sym,
        /// Bytes into the function (`SYMBOL+OFFS`).
        offset: u32,
        when: When,
        callers: Callers,
    },
    Tracepoint {
        tp: Tracepoint,
        callers: Callers,
    },
}

/// Most callers a site filters on (the C glue's array holds as many).
const MAX_CALLERS: usize = bindings::MMRACE_MAX_CALLERS as usize;

/// A place a probe can be put, and what it hands over.
pub(crate) struct Site {
    hook: Hook,
    value: Value,
    /// `[start, end)` of the probed symbol (unused for tracepoints), then
    /// of each caller, resolved once by [`Site::resolve`] (zero: missing). Resolving registers a throw-away
    /// kprobe; doing it at load time, before anything is armed, keeps
    /// those away from the addresses of armed probes.
    ranges: [AtomicUsize; 2 * (1 + MAX_CALLERS)],
    /// The [`Mechanism`] found by [`Site::resolve`], as its code.
    mechanism: AtomicU8,
    /// For a return site: the entry argument that already says which page
    /// the call concerns, and what it is ([`Site::known_at_entry`]).
    entry: Option<(u32, Value)>,
    /// For a return site: the function's arguments all travel in
    /// registers ([`Site::register_args`]).
    register_args: bool,
}

impl Site {
    /// A kprobe (entry) or kretprobe (return) on `symbol`, firing only when
    /// called directly from one of `callers` if any are given: the function
    /// that calls `symbol`, and those the compiler may inline it into (a
    /// kernel built otherwise, a patched one, may inline a static function
    /// into some callers and keep it out of line for others). The site is
    /// there when `symbol` and at least one caller are. More than
    /// [`MAX_CALLERS`] callers do not compile.
    ///
    /// # Safety
    ///
    /// In every kernel the module loads into, `symbol` must be a function
    /// whose chosen argument (entry) or return value (return) is what
    /// `value` says it is.
    pub(crate) const unsafe fn kprobe<const N: usize>(
        symbol: &'static CStr,
        when: When,
        callers: &'static [&'static CStr; N],
        value: Value,
    ) -> Self {
        const {
            assert!(
                N <= MAX_CALLERS,
                "a kprobe site has more callers than MAX_CALLERS"
            )
        };
        Self {
            hook: Hook::Kprobe {
                symbol: Sym::Static(symbol),
                offset: 0,
                when,
                callers: Callers::Static(callers),
            },
            value,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
            mechanism: AtomicU8::new(0),
            entry: None,
            register_args: false,
        }
    }

    /// The same return site, told that argument `arg` at the function's
    /// entry is what `value` says and concerns the same page as the return
    /// value (its folio, at least): the return probe's entry filter
    /// ([`Handler::admits`]) then checks the page before the return is
    /// hooked.
    ///
    /// # Safety
    ///
    /// In every kernel the module loads into, the probed function's
    /// argument `arg` must be what `value` says, and, whenever the site's
    /// return value is a page or folio, that page must be the argument's or
    /// lie in the folio the argument's page was part of at entry.
    pub(crate) const unsafe fn known_at_entry(mut self, arg: u32, value: Value) -> Self {
        self.entry = Some((arg, value));
        self
    }

    /// The same return site, told that the function's arguments all travel
    /// in registers: its return may then ride a direct call
    /// ([`Mechanism::Direct`]), which calls the function's body from a
    /// frame of its own.
    ///
    /// # Safety
    ///
    /// In every kernel the module loads into, the probed function must
    /// take at most six arguments, none of them a structure passed by
    /// value on the stack, and not be variadic.
    pub(crate) const unsafe fn register_args(mut self) -> Self {
        self.register_args = true;
        self
    }

    /// Whether the site's probe rides a direct call on this kernel, once
    /// resolved to a function's ftrace call.
    fn rides_direct(&self) -> bool {
        let (kind, arg) = match &self.hook {
            Hook::Kprobe {
                offset: 0,
                when: When::Entry { arg },
                ..
            } => (bindings::mmrace_probe_kind_MMRACE_PROBE_ENTRY, *arg),
            Hook::Kprobe {
                offset: 0,
                when: When::Return,
                ..
            } if self.register_args => (bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN_REGARGS, 0),
            _ => return false,
        };
        let entry_arg = match self.entry {
            Some((arg, _)) => i32::try_from(arg).unwrap_or(i32::MAX),
            None => -1,
        };
        // SAFETY: the helper only compares its arguments.
        unsafe { bindings::mmrace_probe_direct(kind, arg, entry_arg) }
    }

    /// A `page_ref` tracepoint, delivering the page whose operation
    /// succeeded, for [`Fired::expected_caller`] to filter on `callers`
    /// (found on the stack; the site is there when at least one caller
    /// is). More than [`MAX_CALLERS`] callers do not compile.
    pub(crate) const fn tracepoint<const N: usize>(
        tp: Tracepoint,
        callers: &'static [&'static CStr; N],
    ) -> Self {
        const {
            assert!(
                N <= MAX_CALLERS,
                "a tracepoint site has more callers than MAX_CALLERS"
            )
        };
        Self {
            hook: Hook::Tracepoint {
                tp,
                callers: Callers::Static(callers),
            },
            value: Value::Page,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
            mechanism: AtomicU8::new(0),
            entry: None,
            register_args: false,
        }
    }

    /// A kprobe a user defined (`windows/define`), at `symbol+offset`
    /// (entry or register) or its return, firing only when called from
    /// one of `callers` if any; the value is only what `claim` says it is
    /// once checked (so this is safe). Resolved at once ([`Site::resolve`]).
    pub(crate) fn defined_kprobe(
        symbol: CString,
        offset: u32,
        when: When,
        callers: KVec<CString>,
        claim: Claim,
    ) -> Result<Self> {
        if callers.len() > MAX_CALLERS || (when == When::Return && offset != 0) {
            return Err(EINVAL);
        }
        let site = Self {
            hook: Hook::Kprobe {
                symbol: Sym::Owned(symbol),
                offset,
                when,
                callers: Callers::Owned(callers),
            },
            value: Value::Claimed(claim),
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
            mechanism: AtomicU8::new(0),
            entry: None,
            register_args: false,
        };
        site.resolve()?;
        Ok(site)
    }

    /// A `page_ref` tracepoint a user defined, for `callers` (on the
    /// stack). Resolved at once.
    pub(crate) fn defined_tracepoint(tp: Tracepoint, callers: KVec<CString>) -> Result<Self> {
        if callers.len() > MAX_CALLERS {
            return Err(EINVAL);
        }
        let site = Self {
            hook: Hook::Tracepoint {
                tp,
                callers: Callers::Owned(callers),
            },
            value: Value::Page,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
            mechanism: AtomicU8::new(0),
            entry: None,
            register_args: false,
        };
        site.resolve()?;
        Ok(site)
    }

    /// Whether kprobes accepts the site's probe (registered disabled:
    /// nothing is written to the kernel text): `ENOENT` for a missing
    /// symbol, or `register_kprobe()`'s error (`EINVAL`: on the kprobe
    /// blacklist, `noinstr`, not kernel text; `EILSEQ`: not an instruction
    /// boundary). Tracepoint sites are always accepted.
    pub(crate) fn check(&self) -> Result {
        match &self.hook {
            Hook::Kprobe { symbol, offset, .. } => {
                if hidden(symbol.get()) {
                    return Err(ENOENT);
                }
                // SAFETY: `symbol` is NUL-terminated; the helper registers
                // and unregisters a disabled probe of its own.
                to_result(unsafe {
                    bindings::mmrace_probe_check(symbol.get().as_char_ptr(), *offset)
                })
            }
            Hook::Tracepoint { .. } => Ok(()),
        }
    }

    /// The first of the site's callers this kernel lacks (as resolved).
    pub(crate) fn missing_caller(&self) -> Option<&CStr> {
        let callers = self.callers();
        (0..callers.len().min(MAX_CALLERS))
            .find(|&i| self.range(1 + i).is_none())
            .and_then(|i| callers.get(i))
    }

    /// Writes the site in `windows/define`'s grammar, as window `name`.
    pub(crate) fn definition(
        &self,
        f: &mut impl core::fmt::Write,
        name: &str,
    ) -> core::fmt::Result {
        let (prefix, symbol) = match &self.hook {
            Hook::Kprobe {
                when: When::Return,
                symbol,
                ..
            } => ("r", symbol.get().to_str().unwrap_or("?")),
            Hook::Kprobe { symbol, .. } => ("p", symbol.get().to_str().unwrap_or("?")),
            Hook::Tracepoint { tp, .. } => ("t", tp.name()),
        };
        write!(f, "{prefix}:{name} {symbol}")?;
        if let Hook::Kprobe { offset, .. } = &self.hook {
            if *offset != 0 {
                write!(f, "+{offset:#x}")?;
            }
        }
        let callers = self.callers();
        for i in 0..callers.len() {
            let sep = if i == 0 { "<-" } else { "|" };
            let c = callers.get(i).and_then(|c| c.to_str().ok()).unwrap_or("?");
            write!(f, "{sep}{c}")?;
        }
        let Hook::Kprobe { when, .. } = &self.hook else {
            return Ok(());
        };
        let kind = match self.value {
            Value::Page | Value::Claimed(Claim::Page) => "page",
            Value::Folio | Value::XaEntry | Value::Claimed(Claim::Folio) => "folio",
            Value::Claimed(Claim::Pfn) => "pfn",
        };
        match when {
            When::Entry { arg } => write!(f, " {kind}=$arg{}", arg + 1),
            When::Return => write!(f, " {kind}=$retval"),
            When::Register { name } => write!(f, " {kind}=%{name}"),
        }
    }

    /// The probed symbol (none for tracepoints).
    fn probed(&self) -> Option<&CStr> {
        match &self.hook {
            Hook::Kprobe { symbol, .. } => Some(symbol.get()),
            Hook::Tracepoint { .. } => None,
        }
    }

    /// The callers the site filters on (none: every caller).
    fn callers(&self) -> &Callers {
        match &self.hook {
            Hook::Kprobe { callers, .. } | Hook::Tracepoint { callers, .. } => callers,
        }
    }

    /// Looks up the site's symbols; call once, before arming.
    pub(crate) fn resolve(&self) -> Result {
        Self::resolve_all(&[self])
    }

    /// [`Site::resolve`] for every site of `sites` at once, with one RCU
    /// grace period in all rather than one per symbol looked up (each
    /// lookup registers a disabled kprobe, and unregistering waits for a
    /// grace period): the built-in sites, some sixty symbols, at every
    /// load.
    pub(crate) fn resolve_all(sites: &[&Site]) -> Result {
        let mut names = KVec::new();
        let mut slots = KVec::new();
        for (k, site) in sites.iter().enumerate() {
            let callers = site.callers();
            let symbols = Iterator::chain(
                site.probed().into_iter().map(|s| (0, s)),
                (0..callers.len()).filter_map(|i| Some((1 + i, callers.get(i)?))),
            );
            for (slot, symbol) in symbols.take(1 + MAX_CALLERS) {
                if !hidden(symbol) {
                    names.push(symbol.as_char_ptr(), GFP_KERNEL)?;
                    slots.push((k, slot), GFP_KERNEL)?;
                }
            }
        }
        let n = names.len();
        let mut start = KVec::from_elem(0usize, n, GFP_KERNEL)?;
        let mut end = KVec::from_elem(0usize, n, GFP_KERNEL)?;
        let mut mech = KVec::from_elem(0i32, n, GFP_KERNEL)?;
        // SAFETY: `names` holds `n` NUL-terminated strings, which outlive
        // the call (borrowed from `sites`); `start`, `end` and `mech` have
        // room for `n` values each, all the helper writes.
        to_result(unsafe {
            bindings::mmrace_symbols_resolve(
                names.as_ptr(),
                u32::try_from(n).map_err(|_| EINVAL)?,
                start.as_mut_ptr(),
                end.as_mut_ptr(),
                mech.as_mut_ptr(),
            )
        })?;
        for site in sites {
            let mechanism = match &site.hook {
                Hook::Tracepoint { .. } => Mechanism::Tracepoint,
                // Resolved below at offset 0; elsewhere, on its own.
                Hook::Kprobe { offset: 0, .. } => Mechanism::Unknown,
                Hook::Kprobe { symbol, offset, .. } => mechanism(symbol.get(), *offset),
            };
            site.mechanism.store(mechanism.code(), Relaxed);
        }
        for (j, &(k, slot)) in slots.iter().enumerate() {
            let site = sites[k];
            site.ranges[2 * slot].store(start[j], Relaxed);
            site.ranges[2 * slot + 1].store(end[j], Relaxed);
            if slot == 0 && matches!(site.hook, Hook::Kprobe { offset: 0, .. }) {
                let mut mechanism = mechanism_of(mech[j]);
                if mechanism == Mechanism::Ftrace && site.rides_direct() {
                    mechanism = Mechanism::Direct;
                }
                site.mechanism.store(mechanism.code(), Relaxed);
            }
        }
        for site in sites {
            if site.mechanism() != Mechanism::Direct && site.on_call_sites() {
                site.mechanism.store(Mechanism::CallSites.code(), Relaxed);
            }
        }
        Ok(())
    }

    /// Whether the site's probe goes on the call sites of its function in
    /// its callers (a return site with callers and no entry argument, on
    /// a kernel where those calls are found), once resolved.
    fn on_call_sites(&self) -> bool {
        self.call_sites() > 0
    }

    /// How many call sites of its function the site's callers hold, if
    /// its probe goes on them (0: it does not).
    ///
    /// The window runs in the caller's context there, as in a kretprobe's
    /// return handler: on an int3 the glue diverts it out of the
    /// breakpoint (`divert.c`), so an adversary's `zap` can still flush the
    /// window CPU's TLB while the window holds.
    fn call_sites(&self) -> u32 {
        let Hook::Kprobe {
            offset: 0,
            when: When::Return,
            ..
        } = &self.hook
        else {
            return 0;
        };
        let Some((func, _)) = self.range(0) else {
            return 0;
        };
        let entry_arg = self
            .entry
            .map_or(-1, |(arg, _)| i32::try_from(arg).unwrap_or(i32::MAX));
        let mut ranges = [0usize; 2 * MAX_CALLERS];
        let mut n = 0;
        for (start, end) in self.caller_ranges() {
            ranges[2 * n] = start;
            ranges[2 * n + 1] = end;
            n += 1;
        }
        let n = n as u32;
        let kind = if self.register_args {
            bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN_REGARGS
        } else {
            bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN
        };
        // SAFETY: the helper only compares its arguments.
        let eligible = unsafe { bindings::mmrace_probe_call_sites(kind, 0, entry_arg, n) };
        if !eligible {
            return 0;
        }
        // SAFETY: `ranges` holds `n` (start, end) pairs of resolved
        // symbols (or zeros); the helper reads the text they span without
        // faulting.
        unsafe { bindings::mmrace_call_sites_count(func, ranges.as_ptr(), n) }
    }

    /// Writes how the site's probe reaches it, e.g. ` [direct]`; for call
    /// sites, how many (each a kprobe and a disabled one in
    /// `kprobes/list`): ` (1 call) [callsite]`, ` (2 calls) [callsite]`.
    pub(crate) fn describe_mechanism(&self, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        let mechanism = self.mechanism();
        if mechanism == Mechanism::CallSites {
            let n = self.call_sites();
            write!(f, " ({n} call{})", if n == 1 { "" } else { "s" })?;
        }
        write!(f, " [{}]", mechanism.name())
    }

    /// How the site's probe reaches it, as found by [`Site::resolve`].
    pub(crate) fn mechanism(&self) -> Mechanism {
        Mechanism::from_code(self.mechanism.load(Relaxed))
    }

    /// `[start, end)` of the site's `i`-th symbol (0: the probed function,
    /// then the callers), as resolved.
    fn range(&self, i: usize) -> Option<(usize, usize)> {
        let end = self.ranges.get(2 * i + 1)?.load(Relaxed);
        (end != 0).then(|| (self.ranges[2 * i].load(Relaxed), end))
    }

    /// Why the site is not in this kernel: the probed symbol it lacks, or
    /// the first caller when it has none of them (or they were not
    /// resolved).
    pub(crate) fn missing_symbol(&self) -> Option<&CStr> {
        if let Some(symbol) = self.probed() {
            if self.range(0).is_none() {
                return Some(symbol);
            }
        }
        let callers = self.callers();
        if (1..=callers.len()).any(|i| self.range(i).is_some()) {
            return None;
        }
        callers.get(0)
    }

    /// The callers' ranges as `(start, end)` pairs, `(0, 0)` (never
    /// matching) for those this kernel lacks.
    fn caller_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (1..=self.callers().len().min(MAX_CALLERS)).map(|i| self.range(i).unwrap_or((0, 0)))
    }

    /// Writes where the site is, e.g. `try_grab_folio_fast:return`.
    pub(crate) fn describe(&self, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        match &self.hook {
            Hook::Kprobe {
                symbol,
                offset,
                when,
                ..
            } => {
                write!(f, "{}", symbol.get().to_str().unwrap_or("?"))?;
                if *offset != 0 {
                    write!(f, "+{offset:#x}")?;
                }
                match when {
                    When::Entry { arg } => write!(f, ":entry(arg{arg})")?,
                    When::Return => write!(f, ":return")?,
                    When::Register { name } => write!(f, ":entry(%{name})")?,
                }
            }
            Hook::Tracepoint { tp, .. } => {
                write!(f, "tracepoint:{}", tp.name())?;
            }
        }
        let callers = self.callers();
        for i in 0..callers.len() {
            let sep = if i == 0 { "<-" } else { "|" };
            let c = callers.get(i).and_then(|c| c.to_str().ok()).unwrap_or("?");
            write!(f, "{sep}{c}")?;
        }
        Ok(())
    }
}

/// Whether `symbol` is listed in the `hide_symbols` module parameter.
fn hidden(symbol: &CStr) -> bool {
    // SAFETY: the helper returns a NUL-terminated string that lives as
    // long as the module (the parameter is read-only, 0400).
    let list = unsafe { CStr::from_char_ptr(bindings::mmrace_hidden_symbols()) };
    list.as_bytes()
        .split(|&b| b == b',')
        .any(|s| s == symbol.as_bytes())
}

/// How a kprobe at `symbol+offset` (a kretprobe's entry: `offset` 0)
/// would be reached ([`Mechanism::Unknown`] if kprobes refuses the place).
fn mechanism(symbol: &CStr, offset: u32) -> Mechanism {
    if hidden(symbol) {
        return Mechanism::Unknown;
    }
    // SAFETY: `symbol` is NUL-terminated; the helper registers and
    // unregisters a disabled probe of its own.
    mechanism_of(unsafe { bindings::mmrace_probe_mechanism(symbol.as_char_ptr(), offset) })
}

/// The [`Mechanism`] a helper's answer (an `enum mmrace_probe_mechanism`
/// or an error) names.
fn mechanism_of(ret: i32) -> Mechanism {
    match u32::try_from(ret) {
        Ok(bindings::mmrace_probe_mechanism_MMRACE_MECH_FTRACE) => Mechanism::Ftrace,
        Ok(bindings::mmrace_probe_mechanism_MMRACE_MECH_INT3) => Mechanism::Int3,
        _ => Mechanism::Unknown,
    }
}

/// Receives the pages a probe fires on.
pub(crate) trait Handler: Sync + 'static {
    /// Called in the probed context: preemption disabled, interrupts
    /// perhaps disabled, locks of the probed code held. Must not sleep.
    fn fire(&'static self, fired: &Fired<'_>);

    /// Called instead of [`Handler::fire`], in the same context, when the
    /// value of a [`Value::Claimed`] site (of the probe tagged `tag`)
    /// failed its check: it was not what the user claimed, and was not
    /// used.
    fn invalid(&'static self, tag: u32) {
        let _ = tag;
    }

    /// Called at the entry of a return probe's function (same context as
    /// [`Handler::fire`]; the probe tagged `tag`), with the page the call
    /// concerns if the site knows it at entry: whether the call can pass
    /// the handler's filters. Only calls it admits have their return
    /// hooked and reach [`Handler::fire`]; it must admit every call that
    /// `fire` could act on, and should cost far less than a return hook.
    fn admits(&'static self, tag: u32, page: Option<Page>) -> bool {
        let _ = (tag, page);
        true
    }

    /// The skip counter (below [`SKIP_COUNTERS`]) where the handler's
    /// probes count the calls their page filter ([`Probe::filter_pfn`])
    /// turns away before any callback.
    fn skip_counter(&self) -> u32;
}

/// How many skip counters there are ([`Handler::skip_counter`]).
pub(crate) const SKIP_COUNTERS: usize = bindings::MMRACE_SKIP_COUNTERS as usize;

/// The calls turned away by the page filters of the probes counting in
/// `counter` ([`Handler::skip_counter`]), since the module was loaded.
pub(crate) fn skipped(counter: u32) -> u64 {
    // SAFETY: the helper only sums per-CPU counters (none past the last).
    unsafe { bindings::mmrace_skipped(counter) }
}

/// What a value is, for the glue's page filter.
fn page_key(value: Option<Value>) -> bindings::mmrace_page_key {
    match value {
        Some(Value::Page) => bindings::mmrace_page_key_MMRACE_KEY_PAGE,
        Some(Value::Folio) => bindings::mmrace_page_key_MMRACE_KEY_FOLIO,
        Some(Value::XaEntry) => bindings::mmrace_page_key_MMRACE_KEY_XA,
        // Claimed values are checked in Rust.
        _ => bindings::mmrace_page_key_MMRACE_KEY_NONE,
    }
}

/// One firing of a probe.
pub(crate) struct Fired<'a> {
    page: Page,
    tag: u32,
    callers: &'a [usize],
}

impl Fired<'static> {
    /// A firing made by the module's own code (a scenario) on `page`,
    /// tagged `tag`, with no caller to check.
    pub(crate) fn direct(page: Page, tag: u32) -> Self {
        Fired {
            page,
            tag,
            callers: &[],
        }
    }
}

impl Fired<'_> {
    /// The tag the probe was registered with (for a window: the phase).
    pub(crate) fn tag(&self) -> u32 {
        self.tag
    }

    /// The page the probe fired on.
    pub(crate) fn page(&self) -> Page {
        self.page
    }

    /// Whether the probed code was called from one of the site's expected
    /// callers. Free for kprobes (checked before firing); a stack walk for
    /// tracepoints, so call it after cheaper filters.
    pub(crate) fn expected_caller(&self) -> bool {
        if self.callers.is_empty() {
            return true;
        }
        let pairs = u32::try_from(self.callers.len() / 2).unwrap_or(0);
        // SAFETY: `callers` holds `pairs` (start, end) pairs and outlives the
        // call.
        unsafe { bindings::mmrace_stack_has_caller(self.callers.as_ptr(), pairs, 12) }
    }
}

struct Registration {
    handler: &'static dyn Handler,
    tag: u32,
    value: Value,
    /// What the entry argument handed to a return probe's entry filter is
    /// (`Site::known_at_entry`).
    entry: Option<Value>,
    /// Caller ranges for tracepoint sites, as (start, end) pairs (empty
    /// for kprobes: their glue holds them).
    callers: KVec<usize>,
    /// The value is checked before any use, whatever the site declares:
    /// a site on call sites ([`Mechanism::CallSites`]) reads `%rax` right
    /// after a call, and a jump elsewhere in the caller may reach the same
    /// instruction with anything in `%rax`.
    checked: bool,
}

enum Raw {
    Kprobe(NonNull<bindings::mmrace_probe>),
    Tracepoint(bindings::mmrace_tracepoint),
}

/// A registered probe; dropping it unregisters it and waits until no
/// handler runs.
pub(crate) struct Probe {
    // INVARIANT: `raw` is registered with `trampoline` and a context pointer
    // to `*registration`, which stays at the same address (boxed) and is
    // dropped only after `raw` is unregistered (in `Drop`).
    raw: Raw,
    registration: KBox<Registration>,
}

// SAFETY: a registered probe may be unregistered from any thread.
unsafe impl Send for Probe {}

impl Probe {
    /// Registers `site`, delivering its pages to `handler` with `tag`.
    /// Fails with `ENOTSUPP` for a tracepoint site on a kernel without
    /// `CONFIG_DEBUG_PAGE_REF`.
    pub(crate) fn register(site: &Site, handler: &'static dyn Handler, tag: u32) -> Result<Probe> {
        if site.missing_symbol().is_some() {
            return Err(ENOENT);
        }
        let mut ranges = KVec::new();
        for (start, end) in site.caller_ranges() {
            ranges.push(start, GFP_KERNEL)?;
            ranges.push(end, GFP_KERNEL)?;
        }
        // A kprobe's glue checks its callers before firing; a tracepoint's
        // handler walks the stack (`Fired::expected_caller`).
        let (ranges, callers) = match &site.hook {
            Hook::Kprobe { .. } => (ranges, KVec::new()),
            Hook::Tracepoint { .. } => (KVec::new(), ranges),
        };
        // Scans the callers' text: once per registration.
        let on_call_sites = site.on_call_sites();
        let registration = KBox::new(
            Registration {
                handler,
                tag,
                value: site.value,
                entry: site.entry.map(|(_, value)| value),
                callers,
                checked: on_call_sites,
            },
            GFP_KERNEL,
        )?;
        let ctx: *const c_void = (&raw const *registration).cast();
        let raw = match &site.hook {
            Hook::Kprobe {
                symbol,
                offset,
                when,
                ..
            } => {
                let (kind, arg) = match *when {
                    When::Entry { arg } => (bindings::mmrace_probe_kind_MMRACE_PROBE_ENTRY, arg),
                    When::Return if site.register_args => {
                        (bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN_REGARGS, 0)
                    }
                    When::Return => (bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN, 0),
                    When::Register { name } => {
                        let name = CString::try_from_fmt(format_args!("{name}"))?;
                        // SAFETY: `name` is NUL-terminated; the helper
                        // only compares it with its table.
                        let offset = unsafe { bindings::mmrace_reg_offset(name.as_char_ptr()) };
                        let offset = u32::try_from(offset).map_err(|_| EINVAL)?;
                        (bindings::mmrace_probe_kind_MMRACE_PROBE_REGISTER, offset)
                    }
                };
                let pairs = u32::try_from(ranges.len() / 2).map_err(|_| EINVAL)?;
                // The function's start, for a direct call or call sites
                // (0: neither; the glue then makes a kprobe or kretprobe).
                let func = match *when {
                    When::Return if !site.register_args && !on_call_sites => 0,
                    _ => site.range(0).map_or(0, |(start, _)| start),
                };
                let entry_arg = match site.entry {
                    Some((arg, _)) => i32::try_from(arg).map_err(|_| EINVAL)?,
                    None => -1,
                };
                // The page filter applies to the value `trampoline` gets
                // (entry) or `admit_trampoline` gets (return).
                let key = match *when {
                    // The entry argument if it names the page, else the
                    // return value.
                    When::Return => {
                        page_key(Some(site.entry.map_or(site.value, |(_, value)| value)))
                    }
                    When::Entry { .. } => page_key(Some(site.value)),
                    When::Register { .. } => page_key(None),
                };
                // SAFETY: `symbol` is NUL-terminated, and the glue copies
                // it; `ranges` holds `pairs` (start, end) pairs, at most
                // MAX_CALLERS (`caller_ranges`), which the glue copies;
                // `ctx` stays valid until the probe is unregistered (type
                // invariant); the glue hands `admit_trampoline` argument
                // `entry_arg` only if it is not negative, what
                // `Registration::entry` says it is (`Site::known_at_entry`'s
                // contract); `func` is 0 or the start of `symbol`, as
                // kprobes resolved it; a return probe is RETURN_REGARGS
                // only by `Site::register_args`'s contract; `key` says
                // what the filtered value is by the same contracts.
                let ptr = from_err_ptr(unsafe {
                    bindings::mmrace_probe_register(
                        symbol.get().as_char_ptr(),
                        func,
                        *offset,
                        kind,
                        arg,
                        ranges.as_ptr(),
                        pairs,
                        Some(trampoline),
                        Some(admit_trampoline),
                        entry_arg,
                        key,
                        handler.skip_counter(),
                        ctx,
                    )
                })?;
                Raw::Kprobe(NonNull::new(ptr).ok_or(ENOMEM)?)
            }
            Hook::Tracepoint { tp, .. } => {
                let tp = raw_tracepoint(*tp);
                // SAFETY: as above.
                to_result(unsafe {
                    bindings::mmrace_tracepoint_register(
                        tp,
                        Some(trampoline),
                        handler.skip_counter(),
                        ctx,
                    )
                })
                .map_err(|e| {
                    // The shim's answer when the kernel has no page_ref
                    // tracepoints.
                    if e.to_errno() == -(bindings::EOPNOTSUPP as i32) {
                        ENOTSUPP
                    } else {
                        e
                    }
                })?;
                Raw::Tracepoint(tp)
            }
        };
        // INVARIANT: registered with `ctx` pointing into the box.
        Ok(Probe { raw, registration })
    }
}

impl Probe {
    /// Filters the probe to pages whose pfn or head pfn is `pfn` (`None`:
    /// every page): the glue turns the others away before any callback,
    /// counting them in the handler's skip counter. A site whose value
    /// is not a page or folio (or, for a return site, whose entry names
    /// none) ignores the filter. A call sees the old filter or the new.
    pub(crate) fn filter_pfn(&self, pfn: Option<u64>) {
        // MMRACE_PFN_ANY.
        let pfn = pfn.unwrap_or(u64::MAX);
        match self.raw {
            // SAFETY: registered (type invariant); the helper only sets
            // the filter word.
            Raw::Kprobe(p) => unsafe { bindings::mmrace_probe_filter_pfn(p.as_ptr(), pfn) },
            Raw::Tracepoint(tp) => {
                let ctx: *const c_void = (&raw const *self.registration).cast();
                // SAFETY: the registered (tracepoint, fn, ctx); the helper
                // only sets the slot's filter word.
                unsafe { bindings::mmrace_tracepoint_filter_pfn(tp, Some(trampoline), ctx, pfn) }
            }
        }
    }
}

impl Probe {
    /// Drops `probes`: as one at a time, but their kprobes are
    /// unregistered together, waiting for one RCU grace period in all (one
    /// more with return probes) rather than one each (a window has up to
    /// a dozen; disarming every window, or unloading, unregisters them
    /// all).
    pub(crate) fn unregister_all(probes: KVec<Probe>) {
        let Ok(mut raw) = KVec::with_capacity(probes.len(), GFP_KERNEL) else {
            // `probes` is dropped one at a time.
            return;
        };
        for probe in probes.iter() {
            if let Raw::Kprobe(p) = probe.raw {
                // Within the capacity: does not allocate, cannot fail.
                let _ = raw.push(p.as_ptr(), GFP_KERNEL);
            }
        }
        let Ok(n) = u32::try_from(raw.len()) else {
            return;
        };
        // SAFETY: each pointer is a registered kprobe's (invariant of
        // `Probe`), once; none is used again: their `Probe`s are forgotten
        // below without their `Drop`.
        unsafe { bindings::mmrace_probes_unregister(raw.as_mut_ptr(), n) };
        for probe in probes {
            if let Raw::Tracepoint(_) = probe.raw {
                drop(probe);
                continue;
            }
            let probe = ManuallyDrop::new(probe);
            // SAFETY: read once from a value never used again (nor
            // dropped); its kprobe is unregistered, so no handler uses the
            // registration any more.
            drop(unsafe { core::ptr::read(&probe.registration) });
        }
    }
}

fn raw_tracepoint(tp: Tracepoint) -> bindings::mmrace_tracepoint {
    match tp {
        Tracepoint::RefModUnless => bindings::mmrace_tracepoint_MMRACE_TP_REF_MOD_UNLESS,
        Tracepoint::RefFreeze => bindings::mmrace_tracepoint_MMRACE_TP_REF_FREEZE,
        Tracepoint::PlainMod => bindings::mmrace_tracepoint_MMRACE_TP_REF_MOD,
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        match self.raw {
            // SAFETY: registered (type invariant); not used again.
            Raw::Kprobe(p) => unsafe { bindings::mmrace_probe_unregister(p.as_ptr()) },
            Raw::Tracepoint(tp) => {
                let ctx: *const c_void = (&raw const *self.registration).cast();
                // SAFETY: the same (tracepoint, fn, ctx) that was registered;
                // the helper waits for running probes.
                unsafe { bindings::mmrace_tracepoint_unregister(tp, Some(trampoline), ctx) }
            }
        }
        // `registration` is freed after this, with no handler left running.
    }
}

/// A return probe's entry filter.
///
/// # Safety
///
/// `ctx` must be the context pointer of a registered [`Probe`]; when
/// `has_arg`, `arg` is the entry argument its site declares
/// ([`Site::known_at_entry`]).
unsafe extern "C" fn admit_trampoline(ctx: *const c_void, arg: usize, has_arg: bool) -> bool {
    // SAFETY: `ctx` points to the live `Registration` of a registered probe
    // (invariant of `Probe`).
    let reg = unsafe { &*ctx.cast::<Registration>() };
    let page = match reg.entry {
        Some(value) if has_arg => {
            // SAFETY: as for `trampoline`, from `Site::known_at_entry`'s
            // contract.
            match unsafe { decode(value, arg, false) } {
                Ok(page) => page,
                // A wrong claim is counted at return, if at all.
                Err(()) => return true,
            }
        }
        _ => None,
    };
    reg.handler.admits(reg.tag, page)
}

/// The page `arg`, a `value`: `Err` when a claimed value fails its check.
/// With `checked`, a page, folio or xarray entry is checked as a claimed
/// one is, and one that fails is no page (`Ok(None)`), not a wrong claim.
///
/// # Safety
///
/// Unless `value` is [`Value::Claimed`] or `checked`, `arg` must be what
/// `value` says.
unsafe fn decode(
    value: Value,
    arg: usize,
    checked: bool,
) -> core::result::Result<Option<Page>, ()> {
    Ok(match value {
        Value::Page if checked => Page::from_claimed_page(arg),
        Value::Folio if checked => Page::from_claimed_folio(arg),
        // Value (bit 0) and internal (bit 1) entries are not folios.
        Value::XaEntry if checked && arg & 3 == 0 => Page::from_claimed_folio(arg),
        // SAFETY: the caller guarantees what `arg` is.
        Value::Page => unsafe { Page::from_raw_page(arg) },
        // SAFETY: as above.
        Value::Folio => unsafe { Page::from_raw_folio(arg) },
        // SAFETY: as above; the remaining entries are folio pointers.
        Value::XaEntry if arg & 3 == 0 => unsafe { Page::from_raw_folio(arg) },
        Value::XaEntry => None,
        // Checked before any use: a wrong claim is never read.
        Value::Claimed(claim) => {
            let page = match claim {
                Claim::Page => Page::from_claimed_page(arg),
                Claim::Folio => Page::from_claimed_folio(arg),
                Claim::Pfn => Page::from_claimed_pfn(arg as u64),
            };
            // NULL (a function that returned no folio) is no claim.
            if page.is_none() && (arg != 0 || claim == Claim::Pfn) {
                return Err(());
            }
            page
        }
    })
}

/// # Safety
///
/// `ctx` must be the context pointer of a registered [`Probe`] and `arg`
/// the value its site hands over.
unsafe extern "C" fn trampoline(ctx: *const c_void, arg: usize) {
    // SAFETY: `ctx` points to the live `Registration` of a registered probe
    // (invariant of `Probe`).
    let reg = unsafe { &*ctx.cast::<Registration>() };
    // SAFETY: the site's declaration guarantees what `arg` is
    // (`Site::kprobe`'s contract; tracepoints pass a struct page), unless
    // the value is claimed or `checked`: then it is checked before any use.
    let page = match unsafe { decode(reg.value, arg, reg.checked) } {
        Ok(page) => page,
        Err(()) => {
            reg.handler.invalid(reg.tag);
            None
        }
    };
    if let Some(page) = page {
        reg.handler.fire(&Fired {
            page,
            tag: reg.tag,
            callers: &reg.callers,
        });
    }
}
