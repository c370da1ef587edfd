// SPDX-License-Identifier: GPL-2.0

//! Debugfs directories and attribute files.
//!
//! Shaped after mainline's `rust/kernel/debugfs.rs` (6.18+), which 6.12 lacks,
//! reduced to what mmrace needs: a [`Dir`] owns a tree and removes it when
//! dropped; [`SubDir`]s borrow it; each file is backed by an
//! [`Attr`] the tree owns, whose [`AttrOps`] render reads and parse writes.
//!
//! The C side (`src/bindings/debugfs_attr.c`) renders a file's text when
//! it is opened (and again at a rewind to offset 0) and serves reads from
//! it (so a reader with a tiny buffer sees one consistent snapshot), takes
//! each write as one command at offset 0 of at most
//! `MMRACE_ATTR_MAX_WRITE` bytes, and prints the reason for a rejected
//! write with `pr_warn_ratelimited`. This layer rejects NULs, control
//! characters and non-ASCII bytes before [`AttrOps::store`] sees the
//! input, trimmed of surrounding whitespace.

use crate::bindings;
use core::{fmt, ptr::NonNull};
use kernel::{error::from_err_ptr, error::to_result, ffi, prelude::*, str::CString};

/// Writes into a fixed byte buffer; fails (without writing) past its end.
pub(crate) struct Buffer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> Buffer<'a> {
    /// Creates an empty writer over `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// Returns the bytes written so far.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for Buffer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Where a rejected write explains itself; the C side prints it.
pub(crate) type Why<'a> = Buffer<'a>;

/// An error as the kernel prints it (`%pe`): `-EFAULT` for the errnos the
/// module and the kernel functions it calls return, else the number
/// (`-22`), never Rust's `Error(14)`.
pub(crate) struct Errno(pub(crate) Error);

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Error, &str); 17] = [
            (EPERM, "EPERM"),
            (ENOENT, "ENOENT"),
            (ESRCH, "ESRCH"),
            (EINTR, "EINTR"),
            (EIO, "EIO"),
            (ENXIO, "ENXIO"),
            (EAGAIN, "EAGAIN"),
            (ENOMEM, "ENOMEM"),
            (EACCES, "EACCES"),
            (EFAULT, "EFAULT"),
            (EBUSY, "EBUSY"),
            (EEXIST, "EEXIST"),
            (ENODEV, "ENODEV"),
            (EINVAL, "EINVAL"),
            (ENOSPC, "ENOSPC"),
            (ERANGE, "ERANGE"),
            (ENOTSUPP, "ENOTSUPP"),
        ];
        match NAMES.iter().find(|(e, _)| *e == self.0) {
            Some((_, name)) => write!(f, "-{name}"),
            None => write!(f, "{}", self.0.to_errno()),
        }
    }
}

/// Writes the reason into `why` and returns `EINVAL`: the one way a store
/// rejects its input.
pub(crate) fn reject(why: &mut Why<'_>, reason: fmt::Arguments<'_>) -> Result {
    // A reason longer than the buffer is cut; the error stands regardless.
    let _ = fmt::Write::write_fmt(why, reason);
    Err(EINVAL)
}

/// What a debugfs attribute file does when read and written.
pub(crate) trait AttrOps: Sync {
    /// Renders the file's contents.
    fn show(&self, out: &mut Buffer<'_>) -> fmt::Result;

    /// Parses one write, `input` trimmed of surrounding ASCII whitespace.
    ///
    /// Either applies it completely or changes nothing and returns an error
    /// (with [`reject`] for bad input). Read-only files keep the default.
    fn store(&self, input: &str, why: &mut Why<'_>) -> Result {
        let _ = input;
        reject(why, format_args!("read-only file"))
    }
}

/// A debugfs attribute: the C-visible callbacks followed by their state.
///
/// Made by [`Parent::attr`], which boxes it and keeps it with the tree.
#[repr(C)]
pub(crate) struct Attr<T: AttrOps> {
    // INVARIANT: first field, and its callbacks are `show_callback::<T>` and
    // `store_callback::<T>`, so a pointer to it is a pointer to this
    // `Attr<T>`.
    raw: bindings::mmrace_attr,
    ops: T,
}

impl<T: AttrOps> Attr<T> {
    /// Wraps `ops` as a debugfs attribute.
    const fn new(ops: T) -> Self {
        // INVARIANT: the callbacks are instantiated for this `T`.
        Self {
            raw: bindings::mmrace_attr {
                show: Some(show_callback::<T>),
                store: Some(store_callback::<T>),
            },
            ops,
        }
    }
}

/// # Safety
///
/// `raw` must point to the `raw` field of a live `Attr<T>`; `buf` must be
/// valid for writes of `len` bytes and not accessed by anyone else during
/// the call.
unsafe extern "C" fn show_callback<T: AttrOps>(
    raw: *const bindings::mmrace_attr,
    buf: *mut ffi::c_char,
    len: usize,
) -> isize {
    // SAFETY: by the type invariant of `Attr<T>`, `raw` points to the first
    // field of a live `Attr<T>`, which is `repr(C)`.
    let attr = unsafe { &*raw.cast::<Attr<T>>() };
    // SAFETY: the caller gives us `buf` for `len` bytes, exclusively.
    let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), len) };
    let mut out = Buffer::new(out);
    match attr.ops.show(&mut out) {
        // A slice never exceeds `isize::MAX` bytes.
        Ok(()) => out.as_bytes().len() as isize,
        Err(fmt::Error) => ENOSPC.to_errno() as isize,
    }
}

/// # Safety
///
/// `raw` must point to the `raw` field of a live `Attr<T>`; `buf` must be
/// valid for reads of `len` bytes; `why` must be valid for writes of
/// `why_len` bytes and not accessed by anyone else during the call.
unsafe extern "C" fn store_callback<T: AttrOps>(
    raw: *const bindings::mmrace_attr,
    buf: *const ffi::c_char,
    len: usize,
    why: *mut ffi::c_char,
    why_len: usize,
) -> ffi::c_int {
    // SAFETY: as in `show_callback`.
    let attr = unsafe { &*raw.cast::<Attr<T>>() };
    // SAFETY: the caller gives us `buf` for `len` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), len) };
    // SAFETY: the caller gives us `why` for `why_len` bytes, exclusively.
    let why = unsafe { core::slice::from_raw_parts_mut(why.cast::<u8>(), why_len) };
    // Keep the last byte for the terminating NUL the C side prints up to.
    let Some(room) = why_len.checked_sub(1) else {
        return EINVAL.to_errno();
    };
    let mut reason = Buffer::new(&mut why[..room]);
    let result = parse_input(input, &mut reason).and_then(|s| attr.ops.store(s, &mut reason));
    let end = reason.as_bytes().len();
    why[end] = 0;
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Checks that a write is printable ASCII and returns it trimmed.
fn parse_input<'a>(input: &'a [u8], why: &mut Why<'_>) -> Result<&'a str> {
    if let Some(b) = input
        .iter()
        .find(|b| !(b.is_ascii_graphic() || b.is_ascii_whitespace()))
    {
        reject(
            why,
            format_args!("byte {:#04x} in input: printable ASCII only", b),
        )?;
    }
    // Only ASCII from here on, so the conversion cannot fail.
    core::str::from_utf8(input)
        .map(str::trim)
        .map_err(|_| EINVAL)
}

/// A file's [`Attr`], owned by the tree it is in: allocated by
/// [`Parent::attr`], freed when the [`Dir`] is dropped, after its files
/// are gone.
pub(crate) struct Owned {
    // INVARIANT: from `KBox::into_raw` of a `KBox<Attr<T>>`, and `drop` is
    // `drop_attr::<T>` for that `T`.
    ptr: NonNull<()>,
    drop: unsafe fn(NonNull<()>),
}

// SAFETY: `Parent::attr` takes only `T: Send + Sync`, so the `Attr<T>` may
// be used from and dropped on any thread.
unsafe impl Send for Owned {}
// SAFETY: as above; `Owned` itself offers nothing through `&self`.
unsafe impl Sync for Owned {}

/// # Safety
///
/// `ptr` must come from `KBox::into_raw` of a `KBox<Attr<T>>` no file
/// refers to any more, and must not be used again.
unsafe fn drop_attr<T: AttrOps>(ptr: NonNull<()>) {
    // SAFETY: by the function's contract.
    drop(unsafe { KBox::from_raw(ptr.as_ptr().cast::<Attr<T>>()) });
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: `Owned`s are dropped only by `Dir::drop`, after the tree
        // was removed (no file refers to the attribute); type invariant for
        // the rest.
        unsafe { (self.drop)(self.ptr) };
    }
}

mod private {
    /// Seals [`super::Parent`]: only [`super::Dir`] and [`super::SubDir`]
    /// implement it, so `dentry` is always a live directory of a tree whose
    /// attributes are kept in `owned`.
    pub(crate) trait Sealed {
        /// The directory's dentry and the list of its tree's attributes.
        fn parts(
            &mut self,
        ) -> (
            super::NonNull<super::bindings::dentry>,
            &mut super::KVec<super::Owned>,
        );
    }
}

/// Something files and directories can be created in: a [`Dir`] or a
/// [`SubDir`] (sealed: no other type can claim to be a live directory).
pub(crate) trait Parent: private::Sealed {
    /// Creates a subdirectory, removed with the tree.
    fn subdir(&mut self, name: &CStr) -> Result<SubDir<'_>> {
        let (parent, owned) = self.parts();
        // SAFETY: `name` is NUL-terminated; `parent` is a live debugfs
        // directory (invariant of `Dir` and `SubDir`, sealed).
        let ptr = from_err_ptr(unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), parent.as_ptr())
        })?;
        let dentry = NonNull::new(ptr).ok_or(ENOMEM)?;
        // INVARIANT: just created below a live directory of the tree whose
        // attributes `owned` holds.
        Ok(SubDir { dentry, owned })
    }

    /// Creates a file with permissions `mode` (at most `0o777`) whose
    /// reads and writes `ops` handles; `ops` lives as long as the tree.
    fn attr<T: AttrOps + Send + 'static>(&mut self, name: &CStr, mode: u16, ops: T) -> Result {
        if mode & !0o777 != 0 {
            return Err(EINVAL);
        }
        let (parent, owned) = self.parts();
        owned.reserve(1, GFP_KERNEL)?;
        let attr = KBox::into_raw(KBox::new(Attr::new(ops), GFP_KERNEL)?);
        // INVARIANT: from `KBox::into_raw` of a `KBox<Attr<T>>`.
        let entry = Owned {
            // SAFETY: `KBox::into_raw` never returns null.
            ptr: unsafe { NonNull::new_unchecked(attr.cast::<()>()) },
            drop: drop_attr::<T>,
        };
        // SAFETY: `name` is NUL-terminated; the parent is live (sealed);
        // `attr` is a live `Attr<T>` (callbacks for `T`, invariant of
        // `Attr`) freed only after the tree is removed (`Owned`, pushed
        // below before anyone can drop the tree).
        let ret = unsafe {
            bindings::mmrace_debugfs_create_attr(
                name.as_char_ptr(),
                mode,
                parent.as_ptr(),
                &(*attr).raw,
            )
        };
        // Reserved above: cannot fail. Even if no file was created, the
        // attribute is freed with the tree.
        let _ = owned.push(entry, GFP_KERNEL);
        to_result(ret)
    }
}

/// A top-level debugfs directory, removed with everything below it on drop.
///
/// Removal waits for reads and writes in progress, so no callback runs once
/// the tree is gone; the attributes are freed after that.
pub(crate) struct Dir {
    // INVARIANT: a directory created by `Dir::new` and not yet removed.
    dentry: NonNull<bindings::dentry>,
    owned: KVec<Owned>,
}

// SAFETY: a debugfs dentry may be used and removed from any thread; `Owned`
// is `Send`.
unsafe impl Send for Dir {}
// SAFETY: `Dir`'s `&self` methods are none; debugfs serialises itself.
unsafe impl Sync for Dir {}

impl Dir {
    /// Creates `/sys/kernel/debug/<name>/`.
    pub(crate) fn new(name: &CStr) -> Result<Self> {
        // SAFETY: `name` is NUL-terminated; a null parent means the root.
        let ptr = from_err_ptr(unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), core::ptr::null_mut())
        })?;
        // INVARIANT: just created.
        Ok(Self {
            dentry: NonNull::new(ptr).ok_or(ENOMEM)?,
            owned: KVec::new(),
        })
    }
}

impl private::Sealed for Dir {
    fn parts(&mut self) -> (NonNull<bindings::dentry>, &mut KVec<Owned>) {
        (self.dentry, &mut self.owned)
    }
}

impl Parent for Dir {}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the directory is live and ours; it is
        // not used again.
        unsafe { bindings::debugfs_remove(self.dentry.as_ptr()) };
        // Now no file refers to the attributes: `owned` frees them when
        // dropped, right after this.
    }
}

/// A directory inside a [`Dir`]'s tree, removed with it.
pub(crate) struct SubDir<'a> {
    // INVARIANT: a live directory below the `Dir` whose attribute list is
    // `owned`, borrowed for `'a`.
    dentry: NonNull<bindings::dentry>,
    owned: &'a mut KVec<Owned>,
}

impl private::Sealed for SubDir<'_> {
    fn parts(&mut self) -> (NonNull<bindings::dentry>, &mut KVec<Owned>) {
        (self.dentry, self.owned)
    }
}

impl Parent for SubDir<'_> {}

impl SubDir<'_> {
    /// A reference to this directory, to create [`DynDir`]s in later.
    pub(crate) fn anchor(&self) -> Anchor {
        // SAFETY: `self.dentry` is a live directory (type invariant); the
        // helper takes a reference on it.
        let dentry = unsafe { bindings::mmrace_dget(self.dentry.as_ptr()) };
        // INVARIANT: referenced just now; `dget` returns its argument.
        Anchor {
            dentry: NonNull::new(dentry).unwrap_or(self.dentry),
        }
    }
}

/// A reference on a directory of a tree (`dget`), where directories can
/// be created and removed one by one after the tree was built: the
/// directories of windows defined at run time.
///
/// The reference keeps the dentry itself allocated even once its tree is
/// removed, so that a [`DynDir`] dropped after its tree finds nothing to
/// remove rather than a freed parent. Its owner drops every `DynDir` and
/// then the `Anchor` before removing the tree (`MmRace::drop`), so that
/// no reference on a removed dentry is left when debugfs is released.
pub(crate) struct Anchor {
    // INVARIANT: a debugfs directory dentry we hold a reference on.
    dentry: NonNull<bindings::dentry>,
}

// SAFETY: dentry references may be taken and dropped on any thread.
unsafe impl Send for Anchor {}
// SAFETY: `&Anchor` only creates directories, which debugfs serialises.
unsafe impl Sync for Anchor {}

impl Anchor {
    /// Creates directory `name` below the anchor, removed when the
    /// returned [`DynDir`] is dropped.
    pub(crate) fn create(&self, name: &CStr) -> Result<DynDir> {
        let name = CString::try_from(name)?;
        // SAFETY: `self.dentry` is a directory we hold a reference on
        // (type invariant), not yet removed while its owner can call this
        // (see the type's documentation).
        let ptr = from_err_ptr(unsafe {
            bindings::debugfs_create_dir(name.as_char_ptr(), self.dentry.as_ptr())
        })?;
        let dentry = NonNull::new(ptr).ok_or(ENOMEM)?;
        // SAFETY: as above; the helper takes another reference, for the
        // new directory's removal.
        let parent = unsafe { bindings::mmrace_dget(self.dentry.as_ptr()) };
        // INVARIANT: created just now below `parent`, referenced.
        Ok(DynDir {
            parent: Anchor {
                dentry: NonNull::new(parent).unwrap_or(self.dentry),
            },
            name,
            dentry,
            owned: KVec::new(),
        })
    }
}

impl Drop for Anchor {
    fn drop(&mut self) {
        // SAFETY: we hold a reference (type invariant) and drop it once.
        unsafe { bindings::mmrace_dput(self.dentry.as_ptr()) };
    }
}

/// A directory made below an [`Anchor`], holding its own files'
/// attributes: removed (waiting for reads and writes in progress) and its
/// attributes freed when dropped.
pub(crate) struct DynDir {
    parent: Anchor,
    name: CString,
    // INVARIANT: the directory `name` below `parent`, or removed with the
    // whole tree.
    dentry: NonNull<bindings::dentry>,
    owned: KVec<Owned>,
}

// SAFETY: as for `Dir`.
unsafe impl Send for DynDir {}
// SAFETY: as for `Dir`.
unsafe impl Sync for DynDir {}

impl private::Sealed for DynDir {
    fn parts(&mut self) -> (NonNull<bindings::dentry>, &mut KVec<Owned>) {
        (self.dentry, &mut self.owned)
    }
}

impl Parent for DynDir {}

impl Drop for DynDir {
    fn drop(&mut self) {
        // By name, below the referenced parent: if the tree was removed
        // first, there is nothing left to find. Removal waits for reads
        // and writes in progress.
        // SAFETY: `name` is NUL-terminated; the parent is referenced
        // (invariant of `Anchor`).
        unsafe {
            bindings::debugfs_lookup_and_remove(
                self.name.as_char_ptr(),
                self.parent.dentry.as_ptr(),
            )
        };
        // Now no file refers to the attributes: `owned` frees them when
        // dropped, right after this.
    }
}
