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
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use core::{ffi::c_void, ptr::NonNull};
use kernel::{error::from_err_ptr, error::to_result, prelude::*};

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
}

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

#[derive(Clone, Copy)]
enum Hook {
    Kprobe {
        symbol: &'static CStr,
        when: When,
        callers: &'static [&'static CStr],
    },
    Tracepoint {
        tp: Tracepoint,
        callers: &'static [&'static CStr],
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
                symbol,
                when,
                callers,
            },
            value,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
        }
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
            hook: Hook::Tracepoint { tp, callers },
            value: Value::Page,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
        }
    }

    /// The probed symbol (none for tracepoints).
    fn probed(&self) -> Option<&'static CStr> {
        match self.hook {
            Hook::Kprobe { symbol, .. } => Some(symbol),
            Hook::Tracepoint { .. } => None,
        }
    }

    /// The callers the site filters on (none: every caller).
    fn callers(&self) -> &'static [&'static CStr] {
        match self.hook {
            Hook::Kprobe { callers, .. } | Hook::Tracepoint { callers, .. } => callers,
        }
    }

    /// Looks up the site's symbols; call once, before arming.
    pub(crate) fn resolve(&self) {
        let symbols = Iterator::chain(
            self.probed().into_iter().map(|s| (0, s)),
            self.callers().iter().enumerate().map(|(i, s)| (1 + i, *s)),
        );
        for (slot, symbol) in symbols.take(1 + MAX_CALLERS) {
            let (start, end) = symbol_range(symbol).unwrap_or((0, 0));
            self.ranges[2 * slot].store(start, Relaxed);
            self.ranges[2 * slot + 1].store(end, Relaxed);
        }
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
    pub(crate) fn missing_symbol(&self) -> Option<&'static CStr> {
        if let Some(symbol) = self.probed() {
            if self.range(0).is_none() {
                return Some(symbol);
            }
        }
        let callers = self.callers();
        if (1..=callers.len()).any(|i| self.range(i).is_some()) {
            return None;
        }
        callers.first().copied()
    }

    /// The callers' ranges as `(start, end)` pairs, `(0, 0)` (never
    /// matching) for those this kernel lacks.
    fn caller_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        (1..=self.callers().len().min(MAX_CALLERS)).map(|i| self.range(i).unwrap_or((0, 0)))
    }

    /// Writes where the site is, e.g. `try_grab_folio_fast:return`.
    pub(crate) fn describe(&self, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        match self.hook {
            Hook::Kprobe { symbol, when, .. } => {
                write!(f, "{}:", symbol.to_str().unwrap_or("?"))?;
                match when {
                    When::Entry { arg } => write!(f, "entry(arg{arg})")?,
                    When::Return => write!(f, "return")?,
                }
            }
            Hook::Tracepoint { tp, .. } => {
                let name = match tp {
                    Tracepoint::RefModUnless => "page_ref_mod_unless",
                    Tracepoint::RefFreeze => "page_ref_freeze",
                    Tracepoint::PlainMod => "page_ref_mod",
                };
                write!(f, "tracepoint:{name}")?;
            }
        }
        for (i, c) in self.callers().iter().enumerate() {
            let sep = if i == 0 { "<-" } else { "|" };
            write!(f, "{sep}{}", c.to_str().unwrap_or("?"))?;
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

/// `[start, end)` of a kernel text symbol (`ENOENT` if hidden by the
/// `hide_symbols` module parameter).
fn symbol_range(symbol: &CStr) -> Result<(usize, usize)> {
    if hidden(symbol) {
        return Err(ENOENT);
    }
    let (mut start, mut end) = (0, 0);
    // SAFETY: `symbol` is NUL-terminated; the helper writes only the two
    // outputs.
    to_result(unsafe {
        bindings::mmrace_symbol_range(symbol.as_char_ptr(), &mut start, &mut end)
    })?;
    Ok((start, end))
}

/// Receives the pages a probe fires on.
pub(crate) trait Handler: Sync + 'static {
    /// Called in the probed context: preemption disabled, interrupts
    /// perhaps disabled, locks of the probed code held. Must not sleep.
    fn fire(&'static self, fired: &Fired<'_>);
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
    /// Caller ranges for tracepoint sites, as (start, end) pairs (empty
    /// for kprobes: their glue holds them).
    callers: KVec<usize>,
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
    pub(crate) fn register(
        site: &'static Site,
        handler: &'static dyn Handler,
        tag: u32,
    ) -> Result<Probe> {
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
        let (ranges, callers) = match site.hook {
            Hook::Kprobe { .. } => (ranges, KVec::new()),
            Hook::Tracepoint { .. } => (KVec::new(), ranges),
        };
        let registration = KBox::new(
            Registration {
                handler,
                tag,
                value: site.value,
                callers,
            },
            GFP_KERNEL,
        )?;
        let ctx: *const c_void = (&raw const *registration).cast();
        let raw = match site.hook {
            Hook::Kprobe { symbol, when, .. } => {
                let (kind, arg) = match when {
                    When::Entry { arg } => (bindings::mmrace_probe_kind_MMRACE_PROBE_ENTRY, arg),
                    When::Return => (bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN, 0),
                };
                let pairs = u32::try_from(ranges.len() / 2).map_err(|_| EINVAL)?;
                // SAFETY: `symbol` is NUL-terminated and static; `ranges`
                // holds `pairs` (start, end) pairs, at most MAX_CALLERS
                // (`caller_ranges`), which the glue copies; `ctx` stays
                // valid until the probe is unregistered (type invariant).
                let ptr = from_err_ptr(unsafe {
                    bindings::mmrace_probe_register(
                        symbol.as_char_ptr(),
                        kind,
                        arg,
                        ranges.as_ptr(),
                        pairs,
                        Some(trampoline),
                        ctx,
                    )
                })?;
                Raw::Kprobe(NonNull::new(ptr).ok_or(ENOMEM)?)
            }
            Hook::Tracepoint { tp, .. } => {
                let tp = raw_tracepoint(tp);
                // SAFETY: as above.
                to_result(unsafe {
                    bindings::mmrace_tracepoint_register(tp, Some(trampoline), ctx)
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

/// # Safety
///
/// `ctx` must be the context pointer of a registered [`Probe`] and `arg`
/// the value its site hands over.
unsafe extern "C" fn trampoline(ctx: *const c_void, arg: usize) {
    // SAFETY: `ctx` points to the live `Registration` of a registered probe
    // (invariant of `Probe`).
    let reg = unsafe { &*ctx.cast::<Registration>() };
    let page = match reg.value {
        // SAFETY: the site's declaration guarantees what `arg` is
        // (`Site::kprobe`'s contract; tracepoints pass a struct page).
        Value::Page => unsafe { Page::from_raw_page(arg) },
        // SAFETY: as above.
        Value::Folio => unsafe { Page::from_raw_folio(arg) },
        // Value (bit 0) and internal (bit 1) entries are not folios.
        // SAFETY: as above; the remaining entries are folio pointers.
        Value::XaEntry if arg & 3 == 0 => unsafe { Page::from_raw_folio(arg) },
        Value::XaEntry => None,
    };
    if let Some(page) = page {
        reg.handler.fire(&Fired {
            page,
            tag: reg.tag,
            callers: &reg.callers,
        });
    }
}
