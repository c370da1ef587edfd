// SPDX-License-Identifier: GPL-2.0

//! Safe abstractions over the C shim and the kernel APIs mmrace uses.
//!
//! Every `unsafe` block of the module lives below this directory, each with
//! its `// SAFETY:` argument; the windows, scenarios and debugfs commands
//! above it are safe Rust (the crate root denies `unsafe_code` for them).

pub(crate) mod adversary_ops;
pub(crate) mod block;
pub(crate) mod context;
pub(crate) mod debugfs;
pub(crate) mod folio;
pub(crate) mod mm;
pub(crate) mod movable;
pub(crate) mod pid;
pub(crate) mod probe;
pub(crate) mod sites;
pub(crate) mod sync;
pub(crate) mod thread;
pub(crate) mod wake;
