// SPDX-License-Identifier: GPL-2.0

//! `windows/define`: windows defined at run time, in the grammar of the
//! kernel's `kprobe_events` (Documentation/debugfs.rst):
//!
//! ```text
//! p:NAME SYMBOL[+OFFS][<-CALLER[|CALLER...]] KIND=$argN|KIND=%REG
//! r:NAME SYMBOL[<-CALLER[|CALLER...]] KIND=$retval
//! t:NAME TRACEPOINT<-CALLER[|CALLER...]
//! -:NAME
//! ```
//!
//! A defined window takes a free slot of [`WINDOWS`] (after the built-in
//! ones), with one phase whose one site is kept here, in the control
//! state; it gets the same directory and files as a built-in window. What
//! its probe hands over is only what `KIND` claims once checked
//! ([`crate::abstractions::mm::Page::from_claimed_page`] and friends).

use super::{
    files::{self, parse_u64},
    find, Control, Name, Settings, State, MAX_NAME, NR_BUILTIN, WINDOWS,
};
use crate::abstractions::{
    debugfs::{reject, Anchor, AttrOps, Buffer, DynDir, Errno, Parent, Why},
    probe::{Claim, Site, Tracepoint, When, REGISTERS},
};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*, str::CString, sync::Arc};

/// Most callers a definition names (the probe glue's limit).
const MAX_CALLERS: usize = crate::bindings::MMRACE_MAX_CALLERS as usize;

/// Longest symbol name accepted.
const MAX_SYMBOL: usize = 127;

/// What a defined window is: its site and its directory.
pub(crate) struct Defined {
    site: Site,
    /// Removed (waiting for reads and writes in progress) when dropped:
    /// never under the control mutex, which those take.
    dir: Option<DynDir>,
}

enum SlotState {
    Free,
    Defined(KBox<Defined>),
    /// Being removed: no longer a window (its name cleared, so that
    /// nothing finds it, arms it or waits for it), its directory going,
    /// and this name still taken until it is gone.
    Removing(Name),
}

/// A slot for a defined window, in the control state.
pub(crate) struct Slot {
    /// Incremented at each definition: files made for an older one act
    /// on nothing.
    gen: u64,
    state: SlotState,
}

impl Slot {
    /// A slot never used.
    pub(crate) const FREE: Self = Self {
        gen: 0,
        state: SlotState::Free,
    };

    /// Whether the slot holds the definition of generation `gen`.
    pub(crate) fn is_defined(&self, gen: u64) -> bool {
        matches!(self.state, SlotState::Defined(_)) && self.gen == gen
    }

    /// The defined window's site.
    pub(crate) fn site(&self) -> Option<&Site> {
        match &self.state {
            SlotState::Defined(d) => Some(&d.site),
            _ => None,
        }
    }
}

/// A parsed `windows/define` command (its site boxed: a [`Site`] is
/// large).
enum Command<'a> {
    Define { name: &'a str, site: KBox<Site> },
    Remove { name: &'a str },
}

/// Checks a window name: `[a-z0-9_]{1,31}`.
fn check_name<'a>(name: &'a str, why: &mut Why<'_>) -> Result<&'a str> {
    let ok = (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        reject(
            why,
            format_args!("window name '{name}': 1 to {MAX_NAME} of [a-z0-9_]"),
        )?;
    }
    Ok(name)
}

/// Checks a symbol name and copies it.
fn symbol(s: &str, why: &mut Why<'_>) -> Result<CString> {
    let ok = (1..=MAX_SYMBOL).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if !ok {
        reject(
            why,
            format_args!("symbol '{s}': 1 to {MAX_SYMBOL} of [A-Za-z0-9_.]"),
        )?;
    }
    CString::try_from_fmt(format_args!("{s}"))
}

/// Splits `SYMBOL[+OFFS][<-CALLER|...]` into the symbol, the offset and
/// the callers.
fn location<'a>(s: &'a str, why: &mut Why<'_>) -> Result<(&'a str, Option<u32>, KVec<CString>)> {
    let (place, callers) = match s.split_once("<-") {
        Some((p, c)) => (p, Some(c)),
        None => (s, None),
    };
    let mut list = KVec::new();
    if let Some(callers) = callers {
        for c in callers.split('|') {
            if list.len() == MAX_CALLERS {
                reject(why, format_args!("at most {MAX_CALLERS} callers"))?;
            }
            list.push(symbol(c, why)?, GFP_KERNEL)?;
        }
    }
    let (sym, offset) = match place.split_once('+') {
        Some((sym, off)) => {
            let off = parse_u64(off, why)?;
            match u32::try_from(off) {
                Ok(off) => (sym, Some(off)),
                Err(_) => return bad(why, format_args!("offset {off:#x} too large")),
            }
        }
        None => (place, None),
    };
    Ok((sym, offset, list))
}

/// Rejects the write (`EINVAL`, the reason in `why`), whatever the type.
fn bad<T>(why: &mut Why<'_>, reason: fmt::Arguments<'_>) -> Result<T> {
    reject(why, reason)?;
    Err(EINVAL)
}

/// Parses `KIND=ARG`.
fn fetch(s: &str, ret: bool, why: &mut Why<'_>) -> Result<(Claim, When)> {
    let Some((kind, arg)) = s.split_once('=') else {
        return bad(
            why,
            format_args!("'{s}': write KIND=ARG (page, folio or pfn)"),
        );
    };
    let claim = match kind {
        "page" => Claim::Page,
        "folio" => Claim::Folio,
        "pfn" => Claim::Pfn,
        _ => {
            return bad(why, format_args!("kind '{kind}': page, folio or pfn"));
        }
    };
    let when = if ret {
        if arg != "$retval" {
            reject(why, format_args!("'{arg}': a return probe fetches $retval"))?;
        }
        When::Return
    } else if let Some(n) = arg.strip_prefix("$arg") {
        match n.as_bytes() {
            [d @ b'1'..=b'6'] => When::Entry {
                arg: u32::from(d - b'1'),
            },
            _ => return bad(why, format_args!("'{arg}': $arg1 to $arg6")),
        }
    } else if let Some(r) = arg.strip_prefix('%') {
        match REGISTERS.iter().find(|name| **name == r) {
            Some(name) => When::Register { name },
            None => {
                return bad(why, format_args!("register '{arg}': not an x86-64 register name (%di, %si, %dx, %cx, %r8...)"));
            }
        }
    } else {
        return bad(why, format_args!("'{arg}': $argN or %REG ($retval for r:)"));
    };
    Ok((claim, when))
}

/// Parses one command; builds (and resolves) the site of a definition.
fn parse<'a>(s: &'a str, why: &mut Why<'_>) -> Result<Command<'a>> {
    let mut words = s.split_ascii_whitespace();
    let Some((kind, name)) = words.next().and_then(|w| w.split_once(':')) else {
        return bad(
            why,
            format_args!("write p:NAME, r:NAME, t:NAME or -:NAME and the site"),
        );
    };
    let name = check_name(name, why)?;
    if kind == "-" {
        if words.next().is_some() {
            reject(why, format_args!("-:NAME takes nothing else"))?;
        }
        return Ok(Command::Remove { name });
    }
    let Some(place) = words.next() else {
        return bad(why, format_args!("{kind}:{name}: no site"));
    };
    let (sym, offset, callers) = location(place, why)?;
    let site = match kind {
        "p" | "r" => {
            let ret = kind == "r";
            if ret && offset.is_some() {
                reject(why, format_args!("r: probes a function's return: no +OFFS"))?;
            }
            let Some(arg) = words.next() else {
                return bad(why, format_args!("{kind}:{name}: no KIND=ARG"));
            };
            let (claim, when) = fetch(arg, ret, why)?;
            if matches!(when, When::Entry { .. }) && offset.unwrap_or(0) != 0 {
                reject(
                    why,
                    format_args!("$argN only at a function's entry: use %REG with +OFFS"),
                )?;
            }
            let sym = symbol(sym, why)?;
            Site::defined_kprobe(sym, offset.unwrap_or(0), when, callers, claim)?
        }
        "t" => {
            let Some(tp) = Tracepoint::ALL.iter().find(|tp| tp.name() == sym) else {
                reject(
                    why,
                    format_args!(
                        "tracepoint '{sym}': page_ref_mod_unless, page_ref_freeze or page_ref_mod"
                    ),
                )?;
                return Err(EINVAL);
            };
            if offset.is_some() || callers.is_empty() {
                reject(
                    why,
                    format_args!("t:{name} {sym}<-CALLER[|CALLER...]: callers needed, no offset"),
                )?;
            }
            Site::defined_tracepoint(*tp, callers)?
        }
        _ => {
            return bad(why, format_args!("'{kind}:': p:, r:, t: or -:"));
        }
    };
    if words.next().is_some() {
        reject(why, format_args!("trailing words after the site"))?;
    }
    Ok(Command::Define {
        name,
        site: KBox::new(site, GFP_KERNEL)?,
    })
}

/// Checks that this kernel has the site and that kprobes accepts it, at
/// define time (arming registers it; this registers nothing armed).
fn check_site(name: &str, site: &Site, why: &mut Why<'_>) -> Result {
    // kprobes first: it tells a refused symbol (EINVAL) from a missing one.
    match site.check() {
        Err(e) if e != ENOENT => {
            let _ = write!(why, "{name}: kprobes refuses ");
            let _ = site.describe(why);
            let _ = write!(
                why,
                " ({}: on the kprobe blacklist, noinstr, not kernel text or not an instruction boundary)",
                Errno(e)
            );
            Err(e)
        }
        _ => match site.missing_symbol().or_else(|| site.missing_caller()) {
            Some(missing) => {
                let _ = write!(
                    why,
                    "{name}: no symbol '{}' in this kernel (inlined, renamed or not built in)",
                    missing.to_str().unwrap_or("?")
                );
                Err(ENOENT)
            }
            None => Ok(()),
        },
    }
}

/// Defines window `name` at `site`, all or nothing.
fn define(control: &Arc<Control>, name: &str, site: KBox<Site>, why: &mut Why<'_>) -> Result {
    check_site(name, &site, why)?;
    let defined = KBox::new(
        Defined {
            site: KBox::into_inner(site),
            dir: None,
        },
        GFP_KERNEL,
    )?;
    let mut state = control.lock();
    if super::SHUTDOWN.load(core::sync::atomic::Ordering::Relaxed) {
        return Err(ENODEV);
    }
    let removing = state
        .slots
        .iter()
        .any(|s| matches!(&s.state, SlotState::Removing(n) if n.as_str() == name));
    // `define` is the file next to the windows' directories.
    if find(&state, name).is_some() || removing || name == "define" {
        let _ = write!(why, "a window named '{name}' exists");
        return Err(EEXIST);
    }
    let Some(k) = state
        .slots
        .iter()
        .position(|s| matches!(s.state, SlotState::Free))
    else {
        let _ = write!(
            why,
            "{} windows already: remove one first",
            super::MAX_WINDOWS
        );
        return Err(ENOSPC);
    };
    let i = NR_BUILTIN + k;
    let w = WINDOWS[i];
    let gen = state.slots[k].gen + 1;
    let Some(anchor) = &state.anchor else {
        return Err(ENODEV);
    };
    let cname = CString::try_from_fmt(format_args!("{name}"))?;
    let mut dir = match anchor.create(&cname) {
        Ok(dir) => dir,
        Err(e) => {
            let _ = write!(
                why,
                "{name}: creating windows/{name}/ failed ({})",
                Errno(e)
            );
            return Err(e);
        }
    };
    // The slot is named and defined before its files can act on it (they
    // take the control mutex, held until the end).
    w.set_name(&mut state, name);
    w.restart(0);
    state.slots[k] = Slot {
        gen,
        state: SlotState::Defined(defined),
    };
    let populated = files::populate(&mut dir, control, w, gen);
    if let Err(e) = populated {
        // Undo, then remove the directory once the mutex is released.
        state.slots[k].state = SlotState::Free;
        w.set_name(&mut state, "");
        drop(state);
        drop(dir);
        let _ = write!(why, "{name}: creating its files failed ({})", Errno(e));
        return Err(e);
    }
    if let SlotState::Defined(d) = &mut state.slots[k].state {
        d.dir = Some(dir);
    }
    Ok(())
}

/// Removes defined window `i` (under `state`): disarms it and returns its
/// definition, whose directory the caller drops once the mutex is
/// released, and then frees the slot ([`free`]).
fn take(state: &mut State, i: usize, why: &mut Why<'_>) -> Result<KBox<Defined>> {
    let waiter = (0..super::MAX_WINDOWS)
        .find(|&j| j != i && WINDOWS[j].exists() && state.settings()[j].wait_for == Some(i));
    if let Some(j) = waiter {
        let _ = write!(
            why,
            "{} waits for {} (wait_for): change that first",
            WINDOWS[j].name(),
            WINDOWS[i].name()
        );
        return Err(EBUSY);
    }
    // Disarm and forget its settings; disarming registers nothing.
    state.edit_table(
        why,
        |_, new, _| {
            new[i] = Settings::DEFAULT;
            Ok(())
        },
        || {},
    )?;
    state.profile.forget(i);
    let k = i - NR_BUILTIN;
    let name = WINDOWS[i].name();
    match core::mem::replace(&mut state.slots[k].state, SlotState::Removing(name)) {
        SlotState::Defined(d) => {
            WINDOWS[i].set_name(state, "");
            Ok(d)
        }
        other => {
            state.slots[k].state = other;
            Err(ENOENT)
        }
    }
}

/// Frees slot `i` once its directory is gone.
fn free(control: &Control, i: usize) {
    let mut state = control.lock();
    state.slots[i - NR_BUILTIN].state = SlotState::Free;
}

/// Removes window `name`, disarming it first.
fn remove(control: &Arc<Control>, name: &str, why: &mut Why<'_>) -> Result {
    let mut state = control.lock();
    let Some((i, w)) = find(&state, name) else {
        let _ = write!(why, "no window named '{name}'");
        return Err(ENOENT);
    };
    if w.builtin() {
        return reject(
            why,
            format_args!("{name} is built in: it cannot be removed"),
        );
    }
    let defined = take(&mut state, i, why)?;
    drop(state);
    // Removing the directory waits for its files' reads and writes, which
    // take the mutex: never under it.
    drop(defined);
    free(control, i);
    Ok(())
}

/// Removes every defined window and the anchor of their directories: at
/// unload, before the tree goes.
pub(crate) fn remove_all(control: &Control) {
    for i in NR_BUILTIN..super::MAX_WINDOWS {
        let mut scratch = [0u8; 128];
        let mut why = Why::new(&mut scratch);
        let mut state = control.lock();
        if !matches!(state.slots[i - NR_BUILTIN].state, SlotState::Defined(_)) {
            continue;
        }
        // Nobody may wait for it any more.
        let _ = state.edit_table(
            &mut why,
            |_, new, _| {
                for s in new.iter_mut() {
                    if s.wait_for == Some(i) {
                        s.wait_for = None;
                    }
                }
                Ok(())
            },
            || {},
        );
        let defined = take(&mut state, i, &mut why);
        drop(state);
        drop(defined);
        free(control, i);
    }
    let anchor = control.lock().anchor.take();
    drop(anchor);
}

/// Writes every window in the grammar: the built-in ones from their sites
/// (a phase of several sites is several lines, a phase the module fires
/// itself a comment), then the defined ones.
fn list(state: &State, out: &mut impl Write) -> fmt::Result {
    for (i, w) in WINDOWS.iter().enumerate() {
        if !w.exists() {
            continue;
        }
        let name = w.name();
        if !w.builtin() {
            if let Some(site) = state.slots[i - NR_BUILTIN].site() {
                site.definition(out, name.as_str())?;
                writeln!(out)?;
            }
            continue;
        }
        let phases = w.desc.phases;
        for p in phases {
            if p.sites.is_empty() {
                writeln!(
                    out,
                    "# {name}: phase {} is fired by the module itself",
                    p.name
                )?;
            }
            for site in p.sites {
                site.definition(out, name.as_str())?;
                if phases.len() > 1 {
                    write!(out, " # phase {}", p.name)?;
                }
                writeln!(out)?;
            }
        }
    }
    Ok(())
}

/// The `windows/define` file.
struct DefineFile(Arc<Control>);

impl AttrOps for DefineFile {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        list(&self.0.lock(), out)
    }

    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        match parse(s, why)? {
            Command::Define { name, site } => define(&self.0, name, site, why),
            Command::Remove { name } => remove(&self.0, name, why),
        }
    }
}

/// Creates `define` in `windows/` (`dir`), and returns the anchor its
/// windows' directories are to be made at: the tree gives it to the
/// control state once it is complete (so that a tree that fails half-way
/// drops it first).
pub(crate) fn create(
    dir: &mut crate::abstractions::debugfs::SubDir<'_>,
    control: &Arc<Control>,
) -> Result<Anchor> {
    dir.attr(c_str!("define"), 0o600, DefineFile(control.clone()))?;
    Ok(dir.anchor())
}
