// SPDX-License-Identifier: GPL-2.0
// expect: ok
// Every allowed use compiles: the negative cases fail for their own reason,
// not because the build setup is broken.

fn snippet() -> Result {
    let mut new: Folio<Unpublished> = Folio::alloc()?;
    new.set_nonatomic::<flag::Swapbacked>();
    new.clear_nonatomic::<flag::Dirty>();
    new.set::<flag::Uptodate>();
    {
        let guard = new.lock();
        let _ = guard.test::<flag::Locked>() && guard.test::<flag::Waiters>();
    }
    let folio: Folio<Referenced> = new.publish();
    folio.set::<flag::Referenced>();
    let _ = folio.test_and_set::<flag::Dirty>();
    let _ = folio.test_and_clear::<flag::Dirty>();
    folio.clear::<flag::Isolated>();
    {
        let guard = folio.lock();
        guard.clear::<flag::Isolated>();
    }
    let other = folio.clone();
    thread::join(|| folio.test::<flag::OwnerPriv1>(), move || other.set::<flag::OwnerPriv1>())?;
    let folio = match folio.try_freeze(1) {
        Ok(mut frozen) => {
            frozen.set_nonatomic::<flag::Dirty>();
            frozen.clear_nonatomic::<flag::Isolated>();
            drop(frozen.lock());
            frozen.unfreeze(NonZeroU16::MIN)
        }
        Err(TransitionError { error, folio }) => {
            let _ = error == EAGAIN;
            folio
        }
    };
    let frozen = folio.try_freeze(1)?;
    drop(frozen);
    Ok(())
}
