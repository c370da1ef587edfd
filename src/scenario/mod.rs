// SPDX-License-Identifier: GPL-2.0

//! Scenarios: in-kernel programs run on demand on pages the module owns,
//! each reporting a list of checks. `typestate/run` in debugfs runs one per
//! write and shows the last report when read (Documentation/typestate.rst).
//!
//! Each scenario is one file; [`SCENARIOS`] lists them.

use crate::abstractions::{
    context::now_ns,
    debugfs::{reject, AttrOps, Buffer, Parent, Why},
    thread,
};
use crate::window::files::parse_u64;
use core::fmt::{self, Write};
use core::sync::atomic::{
    AtomicBool, AtomicU64, AtomicU8, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use kernel::{c_str, prelude::*};

mod isolated_putback;
mod memfd_pin;
mod movable_isolate;
mod movable_migrate;
mod movable_waiters;
mod seed002;
mod spec_ref_reuse;
mod typestate;

/// A scenario: its name (the command written to `typestate/run`) and body.
pub(crate) struct Scenario {
    name: &'static str,
    /// What it shows, for the listing.
    about: &'static str,
    run: fn(&mut Report<'_>, &Args),
}

/// Every scenario, in the order of the listing.
static SCENARIOS: [&Scenario; 12] = [
    &typestate::TRANSITIONS,
    &typestate::DROP_FROZEN,
    &typestate::FREEZE_CONTENDED,
    &typestate::LOCK,
    &typestate::LOCK_CONTENDED,
    &seed002::RACY,
    &seed002::TYPESTATE,
    &spec_ref_reuse::SPEC_REF_REUSE,
    &isolated_putback::ISOLATED_PUTBACK,
    &movable_isolate::MOVABLE_ISOLATE,
    &movable_migrate::MOVABLE_MIGRATE,
    &memfd_pin::MEMFD_PIN,
];

/// Options of a run, `key=value` after the scenario's name.
pub(crate) struct Args {
    /// Iterations of a repeated scenario.
    pub(crate) iterations: u64,
    /// How long a forced window waits for the other side, in microseconds.
    pub(crate) window_us: u64,
    /// A file descriptor of the writer's (`memfd_pin`).
    pub(crate) fd: Option<u64>,
}

/// Largest `iterations` accepted: an iteration of the seed 002 scenarios
/// may wait for `window_us` and a tick more, and the writer waits for the
/// whole run.
const MAX_ITERATIONS: u64 = 10_000;
/// Largest `window_us` accepted.
const MAX_WINDOW_US: u64 = 10_000;
/// Largest `fd` accepted (an `int`).
const MAX_FD: u64 = i32::MAX as u64;

impl Args {
    fn parse(words: core::str::SplitAsciiWhitespace<'_>, why: &mut Why<'_>) -> Result<Args> {
        let mut args = Args {
            iterations: 200,
            window_us: 200,
            fd: None,
        };
        let mut fd = 0;
        for word in words {
            let (key, value) = word.split_once('=').unwrap_or((word, ""));
            let (slot, max) = match key {
                "iterations" => (&mut args.iterations, MAX_ITERATIONS),
                "window_us" => (&mut args.window_us, MAX_WINDOW_US),
                "fd" => (&mut fd, MAX_FD),
                _ => {
                    reject(
                        why,
                        format_args!("unknown option '{key}' (iterations=N, window_us=N, fd=N)"),
                    )?;
                    continue;
                }
            };
            // The one number syntax of debugfs.rst (decimal or 0x-hex, no
            // sign); its own reason is replaced by the range.
            let mut scratch = [0u8; 1];
            match parse_u64(value, &mut Why::new(&mut scratch)) {
                Ok(v) if (1..=max).contains(&v) => *slot = v,
                _ => reject(why, format_args!("{key}: a number from 1 to {max}"))?,
            }
        }
        if fd > 0 {
            args.fd = Some(fd);
        }
        Ok(args)
    }
}

/// Size of the report text.
const REPORT_SIZE: usize = 4000;

/// The last run's report: text written by the one running scenario and
/// read by `show`. Bytes are atomics, so that a reader racing with a new
/// run sees a torn report rather than undefined behaviour.
struct ReportText {
    running: AtomicBool,
    len: AtomicUsize,
    bytes: [AtomicU8; REPORT_SIZE],
}

static TEXT: ReportText = ReportText {
    running: AtomicBool::new(false),
    len: AtomicUsize::new(0),
    bytes: [const { AtomicU8::new(0) }; REPORT_SIZE],
};

/// The report of a running scenario: `ok`/`not ok` lines, one per check,
/// and `#` comments. Only the run holding `TEXT.running` makes one.
pub(crate) struct Report<'a> {
    text: &'a ReportText,
    len: usize,
    checks: u32,
    failed: u32,
}

impl Write for Report<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            // A full report keeps its beginning; `show` marks it cut.
            let Some(slot) = self.text.bytes.get(self.len) else {
                return Ok(());
            };
            slot.store(b, Relaxed);
            self.len += 1;
        }
        self.text.len.store(self.len, Release);
        Ok(())
    }
}

impl Report<'_> {
    /// Records a check: `ok` or `not ok`, its name and what was seen.
    pub(crate) fn check(&mut self, ok: bool, name: impl fmt::Display, seen: fmt::Arguments<'_>) {
        self.checks += 1;
        if !ok {
            self.failed += 1;
        }
        let _ = writeln!(self, "{}ok {name}: {seen}", if ok { "" } else { "not " });
    }

    /// Records a failed [`thread::join`] as the failed check `name` ("no
    /// thread"); returns whether both threads ran.
    pub(crate) fn joined<T>(&mut self, name: &str, outcome: Result<T>) -> bool {
        if let Err(e) = &outcome {
            self.check(
                false,
                name,
                format_args!("no thread: error {}", e.to_errno()),
            );
        }
        outcome.is_ok()
    }

    /// Records a comment line (`# ...`).
    pub(crate) fn note(&mut self, what: fmt::Arguments<'_>) {
        let _ = writeln!(self, "# {what}");
    }
}

/// Microseconds a wait spins before it starts to sleep.
const SPIN_US: u64 = 20;

/// Waits until `done` returns true or `timeout_us` microseconds have
/// passed; returns whether `done` did. It spins for the first
/// microseconds, for a partner on another CPU, then sleeps in short steps,
/// so that the partner can run even on this CPU. Process context; it may be
/// called with a folio lock held (that lock sleeps too).
///
/// The forced windows of the scenarios are such waits: held open until the
/// other side has arrived, or for `timeout_us`.
pub(crate) fn wait_until(timeout_us: u64, mut done: impl FnMut() -> bool) -> bool {
    let start = now_ns();
    let deadline = start.saturating_add(timeout_us.saturating_mul(1000));
    let spin_end = start.saturating_add(SPIN_US * 1000);
    while !done() {
        let now = now_ns();
        if now > deadline {
            return done();
        }
        if now < spin_end {
            core::hint::spin_loop();
        } else {
            thread::sleep_us(SPIN_US);
        }
    }
    true
}

/// A one-way signal between the two threads of a scenario: a sequence
/// number that only grows.
pub(crate) struct Signal(AtomicU64);

impl Signal {
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Announces step `n`; what was done before is visible to whoever sees
    /// it.
    pub(crate) fn raise(&self, n: u64) {
        self.0.store(n, Release);
    }

    /// Whether step `n` (or a later one) was announced.
    pub(crate) fn reached(&self, n: u64) -> bool {
        self.0.load(Acquire) >= n
    }
}

/// `typestate/run`: write a scenario's name (and options) to run it; read
/// the last report.
struct RunFile;

impl AttrOps for RunFile {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        if TEXT.running.load(Acquire) {
            writeln!(out, "state running")?;
        }
        let len = TEXT.len.load(Acquire);
        if len == 0 {
            writeln!(
                out,
                "# scenarios (write one, with iterations=N window_us=N):"
            )?;
            for s in SCENARIOS {
                writeln!(out, "# {}: {}", s.name, s.about)?;
            }
            return Ok(());
        }
        for b in &TEXT.bytes[..len] {
            out.write_char(char::from(b.load(Relaxed)))?;
        }
        if len == REPORT_SIZE {
            writeln!(out, "\n# report cut at {REPORT_SIZE} bytes")?;
        }
        Ok(())
    }

    fn store(&self, input: &str, why: &mut Why<'_>) -> Result {
        let mut words = input.split_ascii_whitespace();
        let name = words.next().unwrap_or("");
        let Some(scenario) = SCENARIOS.iter().find(|s| s.name == name) else {
            return reject(
                why,
                format_args!("unknown scenario '{name}' (read the file)"),
            );
        };
        let args = Args::parse(words, why)?;
        if TEXT.running.swap(true, Acquire) {
            return reject(why, format_args!("a scenario is running"));
        }
        TEXT.len.store(0, Release);
        let mut report = Report {
            text: &TEXT,
            len: 0,
            checks: 0,
            failed: 0,
        };
        let _ = writeln!(report, "scenario {}", scenario.name);
        (scenario.run)(&mut report, &args);
        let (checks, failed) = (report.checks, report.failed);
        let _ = writeln!(report, "state done: {checks} checks, {failed} failed");
        TEXT.running.store(false, Release);
        Ok(())
    }
}

/// Creates `typestate/` and its files below `parent`.
pub(crate) fn create(parent: &mut impl Parent) -> Result {
    let mut dir = parent.subdir(c_str!("typestate"))?;
    dir.attr(c_str!("run"), 0o600, RunFile)
}
