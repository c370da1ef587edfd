// SPDX-License-Identifier: GPL-2.0

//! The debugfs files of a window, `windows/<name>/*`, and their parsing.
//! Documentation/debugfs.rst describes each; every rejected write changes
//! nothing and says why.

use super::{budget::MAX_DELAY_US, find, Window, ANY};
use crate::abstractions::{
    debugfs::{reject, Attr, AttrOps, Buffer, Errno, Parent, Why},
    mm,
};
use core::fmt::{self, Write};
use core::sync::atomic::Ordering::Relaxed;
use kernel::{c_str, prelude::*};

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
    Stats,
    Sites,
}

/// Name, mode and kind of each file, in directory order.
const FILES: [(&CStr, u16, Kind); 15] = [
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
    (c_str!("stats"), 0o600, Kind::Stats),
    (c_str!("sites"), 0o400, Kind::Sites),
];

/// One file of one window.
pub(crate) struct File {
    window: &'static Window,
    kind: Kind,
}

/// The files of a window, embedded in it (so they live as long as it).
pub(crate) struct Files([Attr<File>; 15]);

impl Files {
    pub(crate) const fn new(window: &'static Window) -> Self {
        const fn file(window: &'static Window, i: usize) -> Attr<File> {
            Attr::new(File {
                window,
                kind: FILES[i].2,
            })
        }
        Self([
            file(window, 0),
            file(window, 1),
            file(window, 2),
            file(window, 3),
            file(window, 4),
            file(window, 5),
            file(window, 6),
            file(window, 7),
            file(window, 8),
            file(window, 9),
            file(window, 10),
            file(window, 11),
            file(window, 12),
            file(window, 13),
            file(window, 14),
        ])
    }

    /// Creates the window's directory and files below `parent`.
    pub(crate) fn create(&'static self, parent: &impl Parent) -> Result {
        let window = self.0[0].window;
        let dir = parent.subdir(window.desc.name)?;
        for (attr, (name, mode, kind)) in self.0.iter().zip(FILES.iter()) {
            // `phase` only where there is a choice.
            if matches!(kind, Kind::Phase) && window.desc.phases.len() < 2 {
                continue;
            }
            dir.attr(name, *mode, attr)?;
        }
        Ok(())
    }
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
        let c = &w.config;
        match self.kind {
            Kind::Enable => writeln!(out, "{}", u8::from(w.is_enabled())),
            Kind::DelayUs => writeln!(out, "{}", c.delay_us.load(Relaxed)),
            Kind::Probability => writeln!(out, "{}", c.probability.load(Relaxed)),
            Kind::Interval => writeln!(out, "{}", c.interval.load(Relaxed)),
            Kind::Times => writeln!(out, "{}", c.times.load(Relaxed)),
            Kind::Pid => writeln!(out, "{}", c.pid.load(Relaxed)),
            Kind::PidTree => writeln!(out, "{}", u8::from(c.pid_tree.load(Relaxed))),
            Kind::Pfn => {
                show_any(out, c.pfn.load(Relaxed))?;
                writeln!(out)
            }
            Kind::Target => match c.target_pid.load(Relaxed) {
                -1 => writeln!(out, "none"),
                pid => {
                    write!(out, "{pid} {:#x} pfn ", c.target_addr.load(Relaxed))?;
                    show_any(out, c.pfn.load(Relaxed))?;
                    writeln!(out)
                }
            },
            Kind::Verbose => writeln!(out, "{}", c.verbose.load(Relaxed)),
            Kind::WaitFor => match c.wait_for.load(Relaxed) {
                0 => writeln!(out, "none"),
                i => writeln!(out, "{}", super::WINDOWS[i - 1].name()),
            },
            Kind::WaitTimeoutUs => writeln!(out, "{}", c.wait_timeout_us.load(Relaxed)),
            Kind::Phase => {
                let selected = c.phases.load(Relaxed);
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
            Kind::Stats => w.stats.show(out),
            Kind::Sites => {
                for p in w.desc.phases {
                    for site in p.sites {
                        write!(out, "{}: ", p.name)?;
                        site.describe(out)?;
                        writeln!(out)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        let w = self.window;
        let c = &w.config;
        match self.kind {
            Kind::Enable => {
                let on = parse_bool(s, why)?;
                w.set_enabled(on, why)
            }
            Kind::DelayUs => {
                let v = parse_max(s, MAX_DELAY_US, why)?;
                c.delay_us.store(v, Relaxed);
                Ok(())
            }
            Kind::Probability => {
                let v = parse_max(s, 100, why)?;
                c.probability.store(v as u32, Relaxed);
                Ok(())
            }
            Kind::Interval => {
                let v = parse_max(s, u32::MAX.into(), why)?;
                if v == 0 {
                    return reject(why, format_args!("interval must be at least 1"));
                }
                c.interval.store(v, Relaxed);
                Ok(())
            }
            Kind::Times => {
                let v = parse_any(s, i64::MAX as u64, why)?;
                c.times.store(if v == ANY { -1 } else { v as i64 }, Relaxed);
                Ok(())
            }
            Kind::Pid => {
                let v = parse_any(s, i32::MAX as u64, why)?;
                c.pid.store(if v == ANY { -1 } else { v as i32 }, Relaxed);
                Ok(())
            }
            Kind::PidTree => {
                c.pid_tree.store(parse_bool(s, why)?, Relaxed);
                Ok(())
            }
            Kind::Pfn => {
                let v = parse_any(s, ANY - 1, why)?;
                c.pfn.store(v, Relaxed);
                c.target_pid.store(-1, Relaxed);
                Ok(())
            }
            Kind::Target => {
                if s == "none" || s == "-1" {
                    c.target_pid.store(-1, Relaxed);
                    c.pfn.store(ANY, Relaxed);
                    return Ok(());
                }
                let mut words = s.split_ascii_whitespace();
                let (Some(pid), Some(addr), None) = (words.next(), words.next(), words.next())
                else {
                    return reject(why, format_args!("write 'PID ADDRESS' or 'none'"));
                };
                let pid = parse_max(pid, i32::MAX as u64, why)? as i32;
                let addr = parse_u64(addr, why)?;
                match mm::user_addr_to_pfn(pid, addr) {
                    Ok(pfn) => {
                        c.pfn.store(pfn, Relaxed);
                        c.target_addr.store(addr, Relaxed);
                        c.target_pid.store(pid, Relaxed);
                        Ok(())
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
                let v = parse_max(s, 2, why)?;
                c.verbose.store(v as u32, Relaxed);
                Ok(())
            }
            Kind::WaitFor => {
                if s == "none" {
                    c.wait_for.store(0, Relaxed);
                    return Ok(());
                }
                match find(s) {
                    Some((_, p)) if core::ptr::eq(p, w) => {
                        reject(why, format_args!("a window cannot wait for itself"))
                    }
                    Some((i, _)) => {
                        c.wait_for.store(i + 1, Relaxed);
                        Ok(())
                    }
                    None => reject(why, format_args!("no window named '{s}'")),
                }
            }
            Kind::WaitTimeoutUs => {
                let v = parse_max(s, MAX_DELAY_US, why)?;
                c.wait_timeout_us.store(v, Relaxed);
                Ok(())
            }
            Kind::Phase => {
                let mut mask = 0u32;
                for name in s.split(',') {
                    match w.desc.phases.iter().position(|p| p.name == name) {
                        Some(i) => mask |= 1 << i,
                        None if name == "all" => mask = u32::MAX,
                        None => {
                            return reject(why, format_args!("no phase '{name}' in {}", w.name()))
                        }
                    }
                }
                let old = c.phases.swap(mask, Relaxed);
                if let Err(e) = w.rearm(why) {
                    c.phases.store(old, Relaxed);
                    let _ = w.rearm(why);
                    return Err(e);
                }
                Ok(())
            }
            Kind::Stats => {
                if s != "0" {
                    return reject(why, format_args!("write 0 to reset the statistics"));
                }
                w.stats.reset();
                Ok(())
            }
            Kind::Sites => reject(why, format_args!("read-only file")),
        }
    }
}
