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
}

#[derive(Clone, Copy)]
enum Hook {
    Kprobe {
        symbol: &'static CStr,
        when: When,
        caller: Option<&'static CStr>,
    },
    Tracepoint {
        tp: Tracepoint,
        callers: &'static [&'static CStr],
    },
}

/// Most callers a tracepoint site filters on.
const MAX_CALLERS: usize = 3;

/// A place a probe can be put, and what it hands over.
pub(crate) struct Site {
    hook: Hook,
    value: Value,
    /// `[start, end)` of the symbol, then of each caller, resolved once by
    /// [`Site::resolve`] (zero: missing). Resolving registers a throw-away
    /// kprobe; doing it at load time, before anything is armed, keeps
    /// those away from the addresses of armed probes.
    ranges: [AtomicUsize; 2 * (1 + MAX_CALLERS)],
}

impl Site {
    /// A kprobe (entry) or kretprobe (return) on `symbol`, firing only when
    /// called directly from `caller` if one is given.
    ///
    /// # Safety
    ///
    /// In every kernel the module loads into, `symbol` must be a function
    /// whose chosen argument (entry) or return value (return) is what
    /// `value` says it is.
    pub(crate) const unsafe fn kprobe(
        symbol: &'static CStr,
        when: When,
        caller: Option<&'static CStr>,
        value: Value,
    ) -> Self {
        Self {
            hook: Hook::Kprobe {
                symbol,
                when,
                caller,
            },
            value,
            ranges: [const { AtomicUsize::new(0) }; 2 * (1 + MAX_CALLERS)],
        }
    }

    /// A `page_ref` tracepoint, delivering the page whose operation
    /// succeeded, for [`Fired::expected_caller`] to filter on `callers`
    /// (found on the stack). More than [`MAX_CALLERS`] callers do not
    /// compile.
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

    /// The symbols the site needs: the probed one (none for tracepoints),
    /// then the callers.
    fn symbols(&self) -> impl Iterator<Item = &'static CStr> {
        let (first, second, rest): (_, _, &'static [&'static CStr]) = match self.hook {
            Hook::Kprobe { symbol, caller, .. } => (Some(symbol), caller, &[]),
            Hook::Tracepoint { callers, .. } => (None, None, callers),
        };
        Iterator::chain(
            Iterator::chain(first.into_iter(), second),
            rest.iter().copied(),
        )
    }

    /// Looks up the site's symbols; call once, before arming.
    pub(crate) fn resolve(&self) {
        let offset = match self.hook {
            Hook::Kprobe { .. } => 0,
            Hook::Tracepoint { .. } => 2,
        };
        for (i, symbol) in self.symbols().enumerate().take(1 + MAX_CALLERS) {
            let (start, end) = symbol_range(symbol).unwrap_or((0, 0));
            self.ranges[offset + 2 * i].store(start, Relaxed);
            self.ranges[offset + 2 * i + 1].store(end, Relaxed);
        }
    }

    /// `[start, end)` of the site's `i`-th symbol (0: the probed function,
    /// then the callers), as resolved.
    fn range(&self, i: usize) -> Option<(usize, usize)> {
        let end = self.ranges.get(2 * i + 1)?.load(Relaxed);
        (end != 0).then(|| (self.ranges[2 * i].load(Relaxed), end))
    }

    /// The first symbol the site needs that this kernel lacks (or that was
    /// not resolved).
    pub(crate) fn missing_symbol(&self) -> Option<&'static CStr> {
        let offset = match self.hook {
            Hook::Kprobe { .. } => 0,
            Hook::Tracepoint { .. } => 1,
        };
        self.symbols()
            .enumerate()
            .find(|(i, _)| self.range(offset + i).is_none())
            .map(|(_, s)| s)
    }

    /// Writes where the site is, e.g. `try_grab_folio_fast:return`.
    pub(crate) fn describe(&self, f: &mut impl core::fmt::Write) -> core::fmt::Result {
        match self.hook {
            Hook::Kprobe {
                symbol,
                when,
                caller,
            } => {
                write!(f, "{}:", symbol.to_str().unwrap_or("?"))?;
                match when {
                    When::Entry { arg } => write!(f, "entry(arg{arg})")?,
                    When::Return => write!(f, "return")?,
                }
                if let Some(c) = caller {
                    write!(f, "<-{}", c.to_str().unwrap_or("?"))?;
                }
                Ok(())
            }
            Hook::Tracepoint { tp, callers } => {
                let name = match tp {
                    Tracepoint::RefModUnless => "page_ref_mod_unless",
                    Tracepoint::RefFreeze => "page_ref_freeze",
                };
                write!(f, "tracepoint:{name}<-")?;
                for (i, c) in callers.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "|" };
                    write!(f, "{sep}{}", c.to_str().unwrap_or("?"))?;
                }
                Ok(())
            }
        }
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
    /// Caller ranges for tracepoint sites, as (start, end) pairs.
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
        let mut callers = KVec::new();
        if let Hook::Tracepoint { callers: names, .. } = site.hook {
            for i in 0..names.len().min(MAX_CALLERS) {
                let (start, end) = site.range(1 + i).ok_or(ENOENT)?;
                callers.push(start, GFP_KERNEL)?;
                callers.push(end, GFP_KERNEL)?;
            }
        }
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
            Hook::Kprobe {
                symbol,
                when,
                caller,
            } => {
                let (caller_start, caller_end) = match caller {
                    Some(_) => site.range(1).ok_or(ENOENT)?,
                    None => (0, 0),
                };
                let (kind, arg) = match when {
                    When::Entry { arg } => (bindings::mmrace_probe_kind_MMRACE_PROBE_ENTRY, arg),
                    When::Return => (bindings::mmrace_probe_kind_MMRACE_PROBE_RETURN, 0),
                };
                // SAFETY: `symbol` is NUL-terminated and static; `ctx` stays
                // valid until the probe is unregistered (type invariant).
                let ptr = from_err_ptr(unsafe {
                    bindings::mmrace_probe_register(
                        symbol.as_char_ptr(),
                        kind,
                        arg,
                        caller_start,
                        caller_end,
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
