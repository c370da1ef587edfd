// SPDX-License-Identifier: GPL-2.0

//! The debugfs files of a window, `windows/<name>/*`, and their parsing.
//! Documentation/debugfs.rst describes each; every rejected write changes
//! nothing and says why.

use super::{adversary::Op, budget::MAX_DELAY_US, find, set_times, Control, Window, ANY};
use crate::abstractions::{
    debugfs::{reject, AttrOps, Buffer, Errno, Parent, Why},
    mm,
    pid::PidRef,
};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*, sync::Arc};

/// What a file of a window is.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Enable,
    DelayUs,
    Probability,
    Interval,
    Times,
    Pid,
    PidTree,
    Pfn,
    Target,
    Verbose,
    WaitFor,
    WaitTimeoutUs,
    Phase,
    Adversary,
    Stats,
    Sites,
}

/// Name, mode and kind of each file, in directory order.
const FILES: [(&CStr, u16, Kind); 16] = [
    (c_str!("enable"), 0o600, Kind::Enable),
    (c_str!("delay_us"), 0o600, Kind::DelayUs),
    (c_str!("probability"), 0o600, Kind::Probability),
    (c_str!("interval"), 0o600, Kind::Interval),
    (c_str!("times"), 0o600, Kind::Times),
    (c_str!("pid"), 0o600, Kind::Pid),
    (c_str!("pid_tree"), 0o600, Kind::PidTree),
    (c_str!("pfn"), 0o600, Kind::Pfn),
    (c_str!("target"), 0o600, Kind::Target),
    (c_str!("verbose"), 0o600, Kind::Verbose),
    (c_str!("wait_for"), 0o600, Kind::WaitFor),
    (c_str!("wait_timeout_us"), 0o600, Kind::WaitTimeoutUs),
    (c_str!("phase"), 0o600, Kind::Phase),
    (c_str!("adversary"), 0o600, Kind::Adversary),
    (c_str!("stats"), 0o600, Kind::Stats),
    (c_str!("sites"), 0o400, Kind::Sites),
];

/// One file of one window.
struct File {
    control: Arc<Control>,
    window: &'static Window,
    /// The generation of the window's slot the file was made for (0 for
    /// built-in windows): a file left over from a removed window acts on
    /// nothing ([`super::State::alive`]).
    gen: u64,
    kind: Kind,
}

/// Creates built-in window `window`'s directory and files below `parent`.
pub(crate) fn create(
    parent: &mut impl Parent,
    control: &Arc<Control>,
    window: &'static Window,
) -> Result {
    let mut dir = parent.subdir(window.desc.name)?;
    populate(&mut dir, control, window, 0)
}

/// Creates window `window`'s files in `dir`, for generation `gen` of its
/// slot.
pub(crate) fn populate(
    dir: &mut impl Parent,
    control: &Arc<Control>,
    window: &'static Window,
    gen: u64,
) -> Result {
    for (name, mode, kind) in FILES {
        // `phase` only where there is a choice.
        if matches!(kind, Kind::Phase) && window.desc.phases.len() < 2 {
            continue;
        }
        let file = File {
            control: control.clone(),
            window,
            gen,
            kind,
        };
        dir.attr(name, mode, file)?;
    }
    Ok(())
}

/// Writes `v`, or `-1` for [`ANY`].
pub(crate) fn show_any(out: &mut impl Write, v: u64) -> fmt::Result {
    if v == ANY {
        write!(out, "-1")
    } else {
        write!(out, "{v}")
    }
}

/// Parses a non-negative number: decimal, or hexadecimal with `0x`.
pub(crate) fn parse_u64(s: &str, why: &mut Why<'_>) -> Result<u64> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u64::from_str_radix(hex, 16).ok()
        }
        Some(_) => None,
        None if s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<u64>().ok(),
        None => None,
    };
    match parsed {
        Some(v) => Ok(v),
        None => {
            reject(
                why,
                format_args!("'{s}' is not a non-negative number (decimal or 0x-hex) that fits"),
            )?;
            Err(EINVAL)
        }
    }
}

/// Parses a number in `0..=max`.
pub(crate) fn parse_max(s: &str, max: u64, why: &mut Why<'_>) -> Result<u64> {
    let v = parse_u64(s, why)?;
    if v > max {
        reject(why, format_args!("{v} is above the maximum {max}"))?;
    }
    Ok(v)
}

/// Parses `-1` (any) or a number in `0..=max`.
pub(crate) fn parse_any(s: &str, max: u64, why: &mut Why<'_>) -> Result<u64> {
    if s == "-1" {
        return Ok(ANY);
    }
    parse_max(s, max, why)
}

/// Parses `0` or `1`.
pub(crate) fn parse_bool(s: &str, why: &mut Why<'_>) -> Result<bool> {
    match s {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => {
            reject(why, format_args!("'{s}': write 0 or 1"))?;
            Err(EINVAL)
        }
    }
}

impl AttrOps for File {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        let w = self.window;
        // A consistent view: the settings under the control mutex.
        let state = self.control.lock();
        if !state.alive(w.index(), self.gen) {
            return writeln!(out, "removed");
        }
        let c = state.settings()[w.index()];
        match self.kind {
            Kind::Enable => writeln!(out, "{}", u8::from(c.armed)),
            Kind::DelayUs => writeln!(out, "{}", c.delay_us),
            Kind::Probability => writeln!(out, "{}", c.probability),
            Kind::Interval => writeln!(out, "{}", c.interval),
            Kind::Times => writeln!(out, "{}", w.times_left()),
            Kind::Pid => writeln!(out, "{}", c.pid),
            Kind::PidTree => writeln!(out, "{}", u8::from(c.pid_tree)),
            Kind::Pfn => {
                show_any(out, c.pfn)?;
                writeln!(out)
            }
            Kind::Target => match c.target_pid {
                -1 => writeln!(out, "none"),
                nr => {
                    // In the reader's pid namespace, as it was written
                    // in the writer's.
                    let pid = w.target_ref.get().map_or(nr, |p| p.vnr());
                    write!(out, "{pid} {:#x} pfn ", c.target_addr)?;
                    show_any(out, c.pfn)?;
                    writeln!(out)
                }
            },
            Kind::Verbose => writeln!(out, "{}", c.verbose),
            Kind::WaitFor => match c.wait_for {
                None => writeln!(out, "none"),
                Some(i) => writeln!(out, "{}", super::WINDOWS[i].name()),
            },
            Kind::Sites if !w.builtin() => {
                match state.slots[w.index() - super::NR_BUILTIN].site() {
                    Some(site) => {
                        write!(out, "site: ")?;
                        site.describe(out)?;
                        site.describe_mechanism(out)?;
                        writeln!(out)
                    }
                    None => Ok(()),
                }
            }
            Kind::WaitTimeoutUs => writeln!(out, "{}", c.wait_timeout_us),
            Kind::Phase => {
                let selected = w.selected_phases(&c);
                for (i, p) in w.desc.phases.iter().enumerate() {
                    let (l, r) = if selected & (1 << i) != 0 {
                        ("[", "]")
                    } else {
                        ("", "")
                    };
                    let sep = if i == 0 { "" } else { " " };
                    write!(out, "{sep}{l}{}{r}", p.name)?;
                }
                writeln!(out)
            }
            Kind::Adversary => writeln!(out, "{}", c.adversary.name()),
            Kind::Stats => w.stats.show(out, w.skipped()),
            Kind::Sites => {
                for p in w.desc.phases {
                    for site in p.sites {
                        write!(out, "{}: ", p.name)?;
                        site.describe(out)?;
                        site.describe_mechanism(out)?;
                        writeln!(out)?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Parses first, then changes the window's settings all or nothing
    /// under the control mutex ([`Control::edit`]).
    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        let w = self.window;
        let control = &self.control;
        let i = w.index();
        let gen = self.gen;
        match self.kind {
            Kind::Enable => {
                let on = parse_bool(s, why)?;
                control.edit(i, gen, why, |c| {
                    c.armed = on;
                })
            }
            Kind::DelayUs => {
                let v = parse_max(s, MAX_DELAY_US, why)?;
                control.edit(i, gen, why, |c| {
                    c.delay_us = v;
                })
            }
            Kind::Probability => {
                let v = parse_max(s, 100, why)? as u32;
                control.edit(i, gen, why, |c| {
                    c.probability = v;
                })
            }
            Kind::Interval => {
                let v = parse_max(s, u32::MAX.into(), why)?;
                if v == 0 {
                    return reject(why, format_args!("interval must be at least 1"));
                }
                control.edit(i, gen, why, |c| {
                    c.interval = v;
                })
            }
            Kind::Times => {
                let v = parse_any(s, i64::MAX as u64, why)?;
                let times = if v == ANY { -1 } else { v as i64 };
                let mut state = control.lock();
                if !state.alive(i, gen) {
                    return Err(ENODEV);
                }
                set_times(&mut state, w, times);
                Ok(())
            }
            Kind::Pid => {
                let v = parse_any(s, i32::MAX as u64, why)?;
                control.edit(i, gen, why, |c| {
                    c.pid = if v == ANY { -1 } else { v as i32 };
                })
            }
            Kind::PidTree => {
                let v = parse_bool(s, why)?;
                control.edit(i, gen, why, |c| {
                    c.pid_tree = v;
                })
            }
            Kind::Pfn => {
                let v = parse_any(s, ANY - 1, why)?;
                control.edit(i, gen, why, |c| {
                    c.pfn = v;
                    c.target_pid = -1;
                    c.target_addr = 0;
                })
            }
            Kind::Target => {
                if s == "none" || s == "-1" {
                    return control.edit(i, gen, why, |c| {
                        c.target_pid = -1;
                        c.target_addr = 0;
                        c.pfn = ANY;
                    });
                }
                let mut words = s.split_ascii_whitespace();
                let (Some(pid), Some(addr), None) = (words.next(), words.next(), words.next())
                else {
                    return reject(why, format_args!("write 'PID ADDRESS' or 'none'"));
                };
                let pid = parse_max(pid, i32::MAX as u64, why)? as i32;
                let addr = parse_u64(addr, why)?;
                // Resolved in the writer's pid namespace, before the
                // control mutex is taken (it takes the target's mmap lock);
                // the worker uses this reference, whatever its namespace.
                let Some(target) = PidRef::find(pid) else {
                    return reject(why, format_args!("no process {pid}"));
                };
                match mm::user_addr_to_pfn(&target, addr) {
                    // The three change together: a handler sees all or none.
                    // The reference is the window's once the write commits
                    // (the old one dropped); a rejected write drops it.
                    Ok(pfn) => {
                        let nr = target.nr();
                        control.edit_then(
                            i,
                            gen,
                            why,
                            |c| {
                                c.pfn = pfn;
                                c.target_addr = addr;
                                c.target_pid = nr;
                            },
                            || drop(w.target_ref.replace(Some(target))),
                        )
                    }
                    Err(e) => reject(
                        why,
                        format_args!(
                            "no page mapped at {addr:#x} in process {pid} ({})",
                            Errno(e)
                        ),
                    ),
                }
            }
            Kind::Verbose => {
                let v = parse_max(s, 2, why)? as u32;
                control.edit(i, gen, why, |c| {
                    c.verbose = v;
                })
            }
            Kind::WaitFor => control.edit_with(i, gen, why, |state, c, why| {
                // Looked up under the control mutex: defined windows come
                // and go.
                c.wait_for = if s == "none" {
                    None
                } else {
                    match find(state, s) {
                        Some((_, p)) if core::ptr::eq(p, w) => {
                            return reject(why, format_args!("a window cannot wait for itself"))
                        }
                        Some((p, _)) => Some(p),
                        None => return reject(why, format_args!("no window named '{s}'")),
                    }
                };
                Ok(())
            }),
            Kind::WaitTimeoutUs => {
                let v = parse_max(s, MAX_DELAY_US, why)?;
                control.edit(i, gen, why, |c| {
                    c.wait_timeout_us = v;
                })
            }
            Kind::Phase => {
                let mut mask = 0u32;
                for name in s.split(',') {
                    match w.desc.phases.iter().position(|p| p.name == name) {
                        Some(i) => mask |= 1 << i,
                        // The default: every phase this kernel has.
                        None if name == "all" => mask = u32::MAX,
                        None => {
                            return reject(why, format_args!("no phase '{name}' in {}", w.name()))
                        }
                    }
                }
                // An armed window registers the probes of the new phases
                // before it commits: if one fails, it stays as it was.
                control.edit(i, gen, why, |c| {
                    c.phases = mask;
                })
            }
            Kind::Adversary => {
                let op = Op::parse(s, why)?;
                control.edit(i, gen, why, |c| {
                    c.adversary = op;
                })
            }
            Kind::Stats => {
                if s != "0" {
                    return reject(why, format_args!("write 0 to reset the statistics"));
                }
                if !control.lock().alive(i, gen) {
                    return Err(ENODEV);
                }
                w.reset_stats();
                Ok(())
            }
            Kind::Sites => reject(why, format_args!("read-only file")),
        }
    }
}
