// SPDX-License-Identifier: GPL-2.0

//! The debugfs tree: `/sys/kernel/debug/mmrace/` and its top-level files;
//! the windows' own files are in `window/files.rs`.

use crate::abstractions::debugfs::{reject, AttrOps, Buffer, Dir, Parent, Why};
use crate::{scenario, window};
use core::fmt::{self, Write};
use kernel::{c_str, prelude::*, sync::Arc};

/// Version of the debugfs ABI and of the module, in `version`.
pub(crate) const VERSION: &str = "0.2.0";

/// `version`: read-only, one line.
struct Version;

impl AttrOps for Version {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        writeln!(out, "{VERSION}")
    }
}

/// `control`: commands for all windows at once.
struct ControlFile(Arc<window::Control>);

impl AttrOps for ControlFile {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        writeln!(out, "disarm-all reset")
    }

    fn store(&self, input: &str, why: &mut Why<'_>) -> Result {
        match input {
            "disarm-all" => self.0.disarm_all(),
            "reset" => self.0.reset_all(),
            _ => {
                return reject(
                    why,
                    format_args!("unknown command '{input}' (disarm-all, reset)"),
                )
            }
        }
        Ok(())
    }
}

/// `summary`: one line per window.
struct Summary(Arc<window::Control>);

impl AttrOps for Summary {
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result {
        // Every line from the same state.
        let state = self.0.lock();
        for (i, s) in state.settings().iter().enumerate() {
            window::summary(out, i, s)?;
        }
        Ok(())
    }
}

/// The module's debugfs tree; removing it on drop waits for readers and
/// writers in progress.
pub(crate) struct Tree {
    _root: Dir,
}

impl Tree {
    /// Creates the tree, its files acting on `control`.
    pub(crate) fn new(control: &Arc<window::Control>) -> Result<Self> {
        let mut root = Dir::new(c_str!("mmrace"))?;
        root.attr(c_str!("version"), 0o400, Version)?;
        root.attr(c_str!("control"), 0o600, ControlFile(control.clone()))?;
        root.attr(c_str!("summary"), 0o400, Summary(control.clone()))?;
        let mut windows = root.subdir(c_str!("windows"))?;
        for w in &window::WINDOWS[..window::NR_BUILTIN] {
            window::files::create(&mut windows, control, w)?;
        }
        let anchor = window::define::create(&mut windows, control)?;
        window::profile::create(&mut root, control)?;
        window::adversary::create(&mut root)?;
        scenario::create(&mut root)?;
        control.lock().anchor = Some(anchor);
        Ok(Self { _root: root })
    }
}
