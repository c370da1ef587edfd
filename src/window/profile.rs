// SPDX-License-Identifier: GPL-2.0

//! The random-window profile: one write arms every selected window, for one
//! process tree only, with delays drawn at random up to `max_delay_us` at
//! each event, at a chosen probability, and with randomly chosen rendezvous
//! among the pairs that can meet. Every choice comes from `seed`: writing
//! the seed of a failing run back replays the same choices (the same
//! configuration, and the same random stream in each window).
//!
//! Files under `/sys/kernel/debug/mmrace/profile/`: `pid`, `probability`,
//! `max_delay_us`, `windows`, `seed`, `enable`, and `state` (read-only).

use super::{
    budget::MAX_DELAY_US,
    files::{parse_any, parse_bool, parse_max, parse_u64},
    find, mix64, Window, WINDOWS,
};
use crate::abstractions::{
    context,
    debugfs::{reject, Attr, AttrOps, Buffer, Parent, Why},
};
use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{c_str, prelude::*};

/// Pairs (waiting window, partner) that can meet; see windows.rst. The
/// GUP-fast pairs cannot (the TLB-flush IPI finding) and are not drawn.
const PAIRS: [(&str, &str); 2] = [
    ("migrate_freeze", "pagecache_pre_grab"),
    ("pagecache_pre_grab", "migrate_freeze"),
];

struct Profile {
    pid: AtomicI32,
    probability: AtomicU32,
    max_delay_us: AtomicU64,
    /// Bit `i`: `WINDOWS[i]` is selected.
    windows: AtomicU32,
    seed: AtomicU64,
    enabled: AtomicBool,
    /// Bit `i`: `WINDOWS[i]` armed by the last `enable`.
    armed: AtomicU32,
    /// Bit `k`: `PAIRS[k]` drawn as a rendezvous by the last `enable`.
    rendezvous: AtomicU32,
}

static PROFILE: Profile = Profile {
    pid: AtomicI32::new(-1),
    probability: AtomicU32::new(10),
    max_delay_us: AtomicU64::new(1000),
    windows: AtomicU32::new(u32::MAX),
    seed: AtomicU64::new(0),
    enabled: AtomicBool::new(false),
    armed: AtomicU32::new(0),
    rendezvous: AtomicU32::new(0),
};

fn index(name: &str) -> Option<usize> {
    find(name).map(|(i, _)| i)
}

fn selected(i: usize) -> bool {
    PROFILE.windows.load(Relaxed) & (1 << i) != 0
}

/// Disarms the windows the profile armed (their statistics stay, and
/// `state` still says which they were).
fn disarm() {
    let armed = PROFILE.armed.load(Relaxed);
    for (i, w) in WINDOWS.iter().enumerate() {
        if armed & (1 << i) != 0 {
            let mut scratch = [0u8; 8];
            let _ = w.set_enabled(false, &mut Why::new(&mut scratch));
        }
    }
    PROFILE.enabled.store(false, Relaxed);
}

/// Arms the selected windows for the process tree of `pid`.
fn arm(why: &mut Why<'_>) -> Result {
    let pid = PROFILE.pid.load(Relaxed);
    if pid < 0 {
        return reject(
            why,
            format_args!("write the root of the process tree to profile/pid first"),
        );
    }
    // Checked before anything changes: a rejected write changes nothing.
    if !WINDOWS
        .iter()
        .enumerate()
        .any(|(i, w)| selected(i) && w.sites_present())
    {
        return reject(
            why,
            format_args!("none of the selected windows has its probe sites in this kernel"),
        );
    }
    disarm();
    PROFILE.armed.store(0, Relaxed);
    let mut seed = PROFILE.seed.load(Relaxed);
    if seed == 0 {
        seed = u64::from(context::random_below(u32::MAX)) << 32
            | u64::from(context::random_below(u32::MAX));
        PROFILE.seed.store(seed.max(1), Relaxed);
    }
    let probability = PROFILE.probability.load(Relaxed);
    let max_delay_us = PROFILE.max_delay_us.load(Relaxed);
    for (i, w) in WINDOWS.iter().enumerate() {
        if !selected(i) {
            continue;
        }
        let mut scratch = [0u8; 8];
        let _ = w.set_enabled(false, &mut Why::new(&mut scratch));
        configure(w, i, seed, pid, probability, max_delay_us);
    }
    let draws = mix64(seed ^ 0x5eed_0f7e_5de2_f0aa);
    let mut rendezvous = 0;
    for (k, (waiting, partner)) in PAIRS.iter().enumerate() {
        let (Some(a), Some(b)) = (index(waiting), index(partner)) else {
            continue;
        };
        // At most one direction of a pair: two windows each waiting for
        // the other would both wait out their timeouts.
        let taken = PAIRS[..k].iter().enumerate().any(|(j, (w2, p2))| {
            rendezvous & (1 << j) != 0 && (*w2 == *partner || *p2 == *waiting)
        });
        if selected(a) && selected(b) && !taken && (draws >> k) & 1 == 1 {
            WINDOWS[a].config.wait_for.store(b + 1, Relaxed);
            WINDOWS[a]
                .config
                .wait_timeout_us
                .store(max_delay_us, Relaxed);
            rendezvous |= 1 << k;
        }
    }
    PROFILE.rendezvous.store(rendezvous, Relaxed);
    let mut armed = 0;
    for (i, w) in WINDOWS.iter().enumerate() {
        // A window whose site is missing from this kernel is left out;
        // `state` says which were armed.
        let mut scratch = [0u8; 256];
        if selected(i) && w.set_enabled(true, &mut Why::new(&mut scratch)).is_ok() {
            armed |= 1 << i;
        }
    }
    PROFILE.armed.store(armed, Relaxed);
    if armed == 0 {
        // Only if registering every probe failed (out of memory, or
        // kprobes refusing the site): the previous arm is gone by now.
        return reject(why, format_args!("no selected window could be armed"));
    }
    PROFILE.enabled.store(true, Relaxed);
    Ok(())
}

fn configure(w: &Window, i: usize, seed: u64, pid: i32, probability: u32, max_delay_us: u64) {
    let c = &w.config;
    c.reset();
    w.stats.reset();
    c.pid.store(pid, Relaxed);
    c.pid_tree.store(true, Relaxed);
    c.probability.store(probability, Relaxed);
    c.delay_us.store(max_delay_us, Relaxed);
    c.random_delay.store(true, Relaxed);
    w.seed(mix64(seed ^ (i as u64).wrapping_mul(0x100_0000_01b3)));
}

/// Disarms the profile at module unload or `control reset`.
pub(crate) fn reset() {
    disarm();
    PROFILE.pid.store(-1, Relaxed);
    PROFILE.probability.store(10, Relaxed);
    PROFILE.max_delay_us.store(1000, Relaxed);
    PROFILE.windows.store(u32::MAX, Relaxed);
    PROFILE.seed.store(0, Relaxed);
    PROFILE.armed.store(0, Relaxed);
    PROFILE.rendezvous.store(0, Relaxed);
}

fn show_windows(out: &mut impl Write, mask: u32) -> fmt::Result {
    let mut first = true;
    for (i, w) in WINDOWS.iter().enumerate() {
        if mask & (1 << i) != 0 {
            write!(out, "{}{}", if first { "" } else { "," }, w.name())?;
            first = false;
        }
    }
    if first {
        write!(out, "none")?;
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Kind {
    Enable,
    Pid,
    Probability,
    MaxDelayUs,
    Windows,
    Seed,
    State,
}

struct File(Kind);

impl AttrOps for File {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        let p = &PROFILE;
        match self.0 {
            Kind::Enable => writeln!(out, "{}", u8::from(p.enabled.load(Relaxed))),
            Kind::Pid => writeln!(out, "{}", p.pid.load(Relaxed)),
            Kind::Probability => writeln!(out, "{}", p.probability.load(Relaxed)),
            Kind::MaxDelayUs => writeln!(out, "{}", p.max_delay_us.load(Relaxed)),
            Kind::Windows => {
                let mask = p.windows.load(Relaxed) & ((1 << WINDOWS.len()) - 1);
                show_windows(out, mask)?;
                writeln!(out)
            }
            Kind::Seed => writeln!(out, "{}", p.seed.load(Relaxed)),
            Kind::State => {
                writeln!(out, "enabled: {}", u8::from(p.enabled.load(Relaxed)))?;
                writeln!(out, "seed: {}", p.seed.load(Relaxed))?;
                writeln!(out, "pid: {}", p.pid.load(Relaxed))?;
                writeln!(out, "probability: {}", p.probability.load(Relaxed))?;
                writeln!(out, "max_delay_us: {}", p.max_delay_us.load(Relaxed))?;
                write!(out, "armed: ")?;
                show_windows(out, p.armed.load(Relaxed))?;
                write!(out, "\nrendezvous:")?;
                let rendezvous = p.rendezvous.load(Relaxed);
                let mut any = false;
                for (k, (waiting, partner)) in PAIRS.iter().enumerate() {
                    if rendezvous & (1 << k) != 0 {
                        write!(out, " {waiting}->{partner}")?;
                        any = true;
                    }
                }
                if !any {
                    write!(out, " none")?;
                }
                writeln!(out)
            }
        }
    }

    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        let p = &PROFILE;
        match self.0 {
            Kind::Enable => {
                if parse_bool(s, why)? {
                    arm(why)
                } else {
                    disarm();
                    Ok(())
                }
            }
            Kind::Pid => {
                let v = parse_any(s, i32::MAX as u64, why)?;
                p.pid
                    .store(if v == super::ANY { -1 } else { v as i32 }, Relaxed);
                Ok(())
            }
            Kind::Probability => {
                p.probability.store(parse_max(s, 100, why)? as u32, Relaxed);
                Ok(())
            }
            Kind::MaxDelayUs => {
                p.max_delay_us
                    .store(parse_max(s, MAX_DELAY_US, why)?, Relaxed);
                Ok(())
            }
            Kind::Windows => {
                let mut mask = 0u32;
                for name in s.split(',') {
                    match index(name) {
                        Some(i) => mask |= 1 << i,
                        None if name == "all" => mask = u32::MAX,
                        None => return reject(why, format_args!("no window named '{name}'")),
                    }
                }
                p.windows.store(mask, Relaxed);
                Ok(())
            }
            Kind::Seed => {
                p.seed.store(parse_u64(s, why)?, Relaxed);
                Ok(())
            }
            Kind::State => reject(why, format_args!("read-only file")),
        }
    }
}

static FILES: [(&CStr, u16, Attr<File>); 7] = [
    (c_str!("enable"), 0o600, Attr::new(File(Kind::Enable))),
    (c_str!("pid"), 0o600, Attr::new(File(Kind::Pid))),
    (
        c_str!("probability"),
        0o600,
        Attr::new(File(Kind::Probability)),
    ),
    (
        c_str!("max_delay_us"),
        0o600,
        Attr::new(File(Kind::MaxDelayUs)),
    ),
    (c_str!("windows"), 0o600, Attr::new(File(Kind::Windows))),
    (c_str!("seed"), 0o600, Attr::new(File(Kind::Seed))),
    (c_str!("state"), 0o400, Attr::new(File(Kind::State))),
];

/// Creates `profile/` below `parent`.
pub(crate) fn create(parent: &impl Parent) -> Result {
    let dir = parent.subdir(c_str!("profile"))?;
    for (name, mode, attr) in &FILES {
        dir.attr(name, *mode, attr)?;
    }
    Ok(())
}
