// SPDX-License-Identifier: GPL-2.0

//! The random-window profile: one write arms every selected window, for one
//! process tree only, with delays drawn at random up to `max_delay_us` at
//! each event, at a chosen probability, and with randomly chosen rendezvous
//! among the pairs that can meet. Every choice comes from `seed`: writing
//! the seed of a failing run back replays the same choices (the same
//! configuration, and the same random stream in each window).
//!
//! Each armed window may also get an adversary (windows.rst,
//! "Adversaries"), drawn from `adversaries` (transparent operations only),
//! acting on the page the window opened on in the process it opened in.
//!
//! Files under `/sys/kernel/debug/mmrace/profile/`: `pid`, `probability`,
//! `max_delay_us`, `windows`, `adversaries`, `seed`, `enable`, and `state`
//! (read-only).

use super::{
    adversary::{self, Op},
    budget::MAX_DELAY_US,
    files::{parse_any, parse_bool, parse_max, parse_u64},
    find, mix64, Control, Settings, State, MAX_WINDOWS, WINDOWS,
};
use crate::abstractions::{
    context,
    debugfs::{reject, AttrOps, Buffer, Parent, Why},
};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*, sync::Arc};

/// Pairs (waiting window, partner) that can meet; see windows.rst. The
/// GUP-fast pairs cannot (the TLB-flush IPI finding) and are not drawn.
const PAIRS: [(&str, &str); 2] = [
    ("migrate_freeze", "pagecache_pre_grab"),
    ("pagecache_pre_grab", "migrate_freeze"),
];

/// The profile's part of the control state ([`super::State`]).
#[derive(Clone, Copy)]
pub(crate) struct Profile {
    pid: i32,
    probability: u32,
    max_delay_us: u64,
    /// Bit `i`: `WINDOWS[i]` is selected (`u64::MAX`: `all`).
    pub(crate) windows: u64,
    /// The adversaries it may attach, as [`Op::bit`]s: transparent ones.
    adversaries: u32,
    seed: u64,
    enabled: bool,
    /// Bit `i`: `WINDOWS[i]` armed by the last `enable`.
    pub(crate) armed: u64,
    /// Bit `k`: `PAIRS[k]` drawn as a rendezvous by the last `enable`.
    rendezvous: u32,
    /// The adversary the last `enable` attached to each window.
    pub(crate) attached: [Op; MAX_WINDOWS],
}

impl Profile {
    /// The profile at load and after `control reset`.
    pub(crate) const DEFAULT: Self = Self {
        pid: -1,
        probability: 10,
        max_delay_us: 1000,
        windows: u64::MAX,
        adversaries: adversary::TRANSPARENT,
        seed: 0,
        enabled: false,
        armed: 0,
        rendezvous: 0,
        attached: [Op::None; MAX_WINDOWS],
    };

    /// Whether window `i` is selected (and exists).
    fn selected(&self, i: usize) -> bool {
        self.windows & (1 << i) != 0 && WINDOWS[i].exists()
    }

    /// Forgets window `i` (being removed): no longer selected by name,
    /// armed or attached.
    pub(crate) fn forget(&mut self, i: usize) {
        if self.windows != u64::MAX {
            self.windows &= !(1 << i);
        }
        self.armed &= !(1 << i);
        self.attached[i] = Op::None;
    }
}

fn index(state: &State, name: &str) -> Option<usize> {
    find(state, name).map(|(i, _)| i)
}

/// Disarms the windows the profile armed (their statistics stay, and
/// `state` still says which they were).
fn disarm(state: &mut State) {
    let armed = state.profile.armed;
    let mut scratch = [0u8; 8];
    // Disarming registers nothing, so it cannot fail.
    let _ = state.edit_table(
        &mut Why::new(&mut scratch),
        |_, new, _| {
            for (i, s) in new.iter_mut().enumerate() {
                if armed & (1 << i) != 0 {
                    s.armed = false;
                    // Its adversary acted on the tree's pages: not left behind.
                    s.adversary = Op::None;
                    s.event_target = false;
                }
            }
            Ok(())
        },
        || {},
    );
    state.profile.enabled = false;
}

/// Arms the selected windows for the process tree of `pid`, all or
/// nothing: the new table of settings is built, its probes registered,
/// and only then committed with the profile's new state.
fn arm(state: &mut State, why: &mut Why<'_>) -> Result {
    let p = state.profile;
    if p.pid < 0 {
        return reject(
            why,
            format_args!("write the root of the process tree to profile/pid first"),
        );
    }
    // Windows whose sites are missing are left out.
    let armable = |i: usize| p.selected(i) && WINDOWS[i].sites_present();
    if !(0..WINDOWS.len()).any(armable) {
        return reject(
            why,
            format_args!("none of the selected windows has its probe sites in this kernel"),
        );
    }
    let mut seed = p.seed;
    if seed == 0 {
        seed = (u64::from(context::random_below(u32::MAX)) << 32
            | u64::from(context::random_below(u32::MAX)))
        .max(1);
    }
    let mut armed = 0u64;
    let mut attached = [Op::None; MAX_WINDOWS];
    let mut rendezvous = 0;
    let build = |state: &State, new: &mut [Settings], _: &mut Why<'_>| -> Result {
        for (i, s) in new.iter_mut().enumerate() {
            // What the previous `enable` armed is disarmed, unless armed again.
            if p.armed & (1 << i) != 0 {
                s.armed = false;
            }
            if !p.selected(i) {
                continue;
            }
            *s = Settings {
                armed: armable(i),
                pid: p.pid,
                pid_tree: true,
                probability: p.probability,
                delay_us: p.max_delay_us,
                random_delay: true,
                ..Settings::DEFAULT
            };
            if s.armed {
                armed |= 1 << i;
            }
        }
        // Each armed window gets one adversary drawn from the set, acting on
        // the page the window opens on, in the process it opens in (no
        // `target`: the profile's windows open on any page of the tree).
        // From the operations of the set that fit the window's pages, if
        // any (a `freeze` for a page-cache lookup, not for GUP-fast).
        for (i, s) in new.iter_mut().enumerate() {
            let fit = p.adversaries & WINDOWS[i].desc.fits;
            let set = if fit != 0 { fit } else { p.adversaries };
            let ops = Op::in_set(set).count() as u64;
            if armed & (1 << i) != 0 && ops > 0 {
                let k = mix64(seed ^ 0xad5e_7a11_0b5e_55ed ^ i as u64) % ops;
                s.adversary = Op::in_set(set).nth(k as usize).unwrap_or(Op::None);
                s.event_target = true;
                attached[i] = s.adversary;
            }
        }
        let draws = mix64(seed ^ 0x5eed_0f7e_5de2_f0aa);
        for (k, (waiting, partner)) in PAIRS.iter().enumerate() {
            let (Some(a), Some(b)) = (index(state, waiting), index(state, partner)) else {
                continue;
            };
            // At most one direction of a pair: two windows each waiting for
            // the other would both wait out their timeouts.
            let taken = PAIRS[..k].iter().enumerate().any(|(j, (w2, p2))| {
                rendezvous & (1 << j) != 0 && (*w2 == *partner || *p2 == *waiting)
            });
            if p.selected(a) && p.selected(b) && !taken && (draws >> k) & 1 == 1 {
                new[a].wait_for = Some(b);
                new[a].wait_timeout_us = p.max_delay_us;
                rendezvous |= 1 << k;
            }
        }
        Ok(())
    };
    // Registration failing (out of memory, or kprobes refusing a site)
    // rejects the write, with nothing changed.
    state.edit_table(why, build, || {
        for (i, w) in WINDOWS.iter().enumerate() {
            if p.selected(i) {
                w.restart(mix64(seed ^ (i as u64).wrapping_mul(0x100_0000_01b3)));
            }
        }
    })?;
    state.profile = Profile {
        seed,
        enabled: true,
        armed,
        rendezvous,
        attached,
        ..p
    };
    Ok(())
}

fn show_windows(out: &mut impl Write, mask: u64) -> fmt::Result {
    let mut first = true;
    for (i, w) in WINDOWS.iter().enumerate() {
        if mask & (1 << i) != 0 && w.exists() {
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
    Adversaries,
    Seed,
    State,
}

struct File {
    control: Arc<Control>,
    kind: Kind,
}

impl AttrOps for File {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        let p = self.control.lock().profile;
        match self.kind {
            Kind::Enable => writeln!(out, "{}", u8::from(p.enabled)),
            Kind::Pid => writeln!(out, "{}", p.pid),
            Kind::Probability => writeln!(out, "{}", p.probability),
            Kind::MaxDelayUs => writeln!(out, "{}", p.max_delay_us),
            Kind::Windows => {
                show_windows(out, p.windows)?;
                writeln!(out)
            }
            Kind::Adversaries => {
                adversary::show_set(out, p.adversaries)?;
                writeln!(out)
            }
            Kind::Seed => writeln!(out, "{}", p.seed),
            Kind::State => {
                writeln!(out, "enabled: {}", u8::from(p.enabled))?;
                writeln!(out, "seed: {}", p.seed)?;
                writeln!(out, "pid: {}", p.pid)?;
                writeln!(out, "probability: {}", p.probability)?;
                writeln!(out, "max_delay_us: {}", p.max_delay_us)?;
                write!(out, "adversaries: ")?;
                adversary::show_set(out, p.adversaries)?;
                write!(out, "\narmed: ")?;
                show_windows(out, p.armed)?;
                write!(out, "\nattached:")?;
                let mut any = false;
                for (w, op) in WINDOWS.iter().zip(p.attached) {
                    if op != Op::None && w.exists() {
                        write!(out, " {}={}", w.name(), op.name())?;
                        any = true;
                    }
                }
                if !any {
                    write!(out, " none")?;
                }
                write!(out, "\nrendezvous:")?;
                let mut any = false;
                for (k, (waiting, partner)) in PAIRS.iter().enumerate() {
                    if p.rendezvous & (1 << k) != 0 {
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

    /// Parses first, then changes the profile (and for `enable`, the
    /// windows) under the control mutex, all or nothing.
    fn store(&self, s: &str, why: &mut Why<'_>) -> Result {
        match self.kind {
            Kind::Enable => {
                let on = parse_bool(s, why)?;
                let mut state = self.control.lock();
                if on {
                    arm(&mut state, why)
                } else {
                    disarm(&mut state);
                    Ok(())
                }
            }
            Kind::Pid => {
                let v = parse_any(s, i32::MAX as u64, why)?;
                self.control.lock().profile.pid = if v == super::ANY { -1 } else { v as i32 };
                Ok(())
            }
            Kind::Probability => {
                let v = parse_max(s, 100, why)? as u32;
                self.control.lock().profile.probability = v;
                Ok(())
            }
            Kind::MaxDelayUs => {
                let v = parse_max(s, MAX_DELAY_US, why)?;
                self.control.lock().profile.max_delay_us = v;
                Ok(())
            }
            Kind::Windows => {
                let mut state = self.control.lock();
                let mut mask = 0u64;
                for name in s.split(',') {
                    match index(&state, name) {
                        Some(i) => mask |= 1 << i,
                        None if name == "all" => mask = u64::MAX,
                        None => return reject(why, format_args!("no window named '{name}'")),
                    }
                }
                state.profile.windows = mask;
                Ok(())
            }
            Kind::Adversaries => {
                let set = adversary::parse_set(s, why)?;
                self.control.lock().profile.adversaries = set;
                Ok(())
            }
            Kind::Seed => {
                let v = parse_u64(s, why)?;
                self.control.lock().profile.seed = v;
                Ok(())
            }
            Kind::State => reject(why, format_args!("read-only file")),
        }
    }
}

/// Name, mode and kind of each file of `profile/`.
const FILES: [(&CStr, u16, Kind); 8] = [
    (c_str!("enable"), 0o600, Kind::Enable),
    (c_str!("pid"), 0o600, Kind::Pid),
    (c_str!("probability"), 0o600, Kind::Probability),
    (c_str!("max_delay_us"), 0o600, Kind::MaxDelayUs),
    (c_str!("windows"), 0o600, Kind::Windows),
    (c_str!("adversaries"), 0o600, Kind::Adversaries),
    (c_str!("seed"), 0o600, Kind::Seed),
    (c_str!("state"), 0o400, Kind::State),
];

/// Creates `profile/` below `parent`.
pub(crate) fn create(parent: &mut impl Parent, control: &Arc<Control>) -> Result {
    let mut dir = parent.subdir(c_str!("profile"))?;
    for (name, mode, kind) in FILES {
        let file = File {
            control: control.clone(),
            kind,
        };
        dir.attr(name, mode, file)?;
    }
    Ok(())
}
