// SPDX-License-Identifier: GPL-2.0

//! mmrace: forced race windows for Linux memory-management testing.
//!
//! Layers, bottom up: `bindings` (the C shim and bindgen's view of it),
//! `abstractions` (safe wrappers; all of the module's `unsafe` is there),
//! and the safe code on top (`control`, the `window` engine and its
//! windows, the `scenario`s).

use kernel::{prelude::*, sync::Arc};

mod abstractions;
mod bindings;
#[deny(unsafe_code)]
mod control;
#[deny(unsafe_code)]
mod scenario;
#[deny(unsafe_code)]
mod window;

module! {
    type: MmRace,
    name: "mmrace",
    author: "mmrace developers",
    description: "Forced race windows for memory-management testing",
    license: "GPL",
}

/// The module: its control state, and the debugfs tree acting on it.
struct MmRace {
    /// Every window's settings, the profile and the registered probes,
    /// behind one mutex (`window::Control`); the tree's files share it.
    control: Arc<window::Control>,
    /// Taken (and so removed) first at unload.
    tree: Option<control::Tree>,
}

impl kernel::Module for MmRace {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        if let Err(e) = abstractions::context::check_not_locked_down() {
            pr_err!("refusing to load: the kernel is locked down (integrity or confidentiality); mmrace changes how memory management runs, from debugfs\n");
            return Err(e);
        }
        window::resolve_sites()?;
        let control = window::Control::new()?;
        let tree = control::Tree::new(&control)?;
        pr_info!("version {} loaded\n", control::VERSION);
        Ok(Self {
            control,
            tree: Some(tree),
        })
    }
}

impl Drop for MmRace {
    fn drop(&mut self) {
        // Close open windows at once, remove the tree (waiting for reads
        // and writes in progress, which the closed windows keep short),
        // then unregister every probe (waiting for running handlers).
        self.control.shutdown_begin();
        // Defined windows' directories go first, while the tree is there.
        window::define::remove_all(&self.control);
        drop(self.tree.take());
        self.control.disarm_all();
        // No handler can post a job any more: cancel them, and wait for a
        // queued wake-up to have run.
        window::adversary::shutdown();
        pr_info!("unloading\n");
    }
}
