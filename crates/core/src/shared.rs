//! Process-wide handles to mappings, so that the isolates of one process (the main
//! thread and its `worker_threads`) can use one mapping instead of each mapping the
//! file again.
//!
//! A handle is a number. [`share`] registers an [`Array`] (its `Arc<Mapping>` and what
//! its elements are) under a fresh one; any thread may then [`adopt`] it, getting its
//! own clone of the `Arc`; [`release`] drops the registry's clone. The memory is
//! unmapped when the last clone goes, whichever isolate holds it: a worker that closes
//! its array or is terminated drops only its own clone, and the main thread closing its
//! array leaves the mapping to the workers still using it (the reverse holds too).
//!
//! Numbers are never reused within a process, so a stale handle cannot name another
//! mapping: adopting a released handle is an error, never a wrong array.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::error::{Error, ErrorKind, Result};
use crate::npy::Array;

/// Handles fit in a JavaScript number: they count up from 1 and stay below 2^53.
static NEXT: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, HashMap<u64, Array>> {
    static REGISTRY: OnceLock<Mutex<HashMap<u64, Array>>> = OnceLock::new();
    // A panic while holding the lock cannot leave the map inconsistent.
    REGISTRY.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// Registers `array` (keeping its mapping alive) and returns its handle.
pub fn share(array: Array) -> u64 {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    registry().insert(id, array);
    id
}

/// A clone of the array behind `handle`, holding its own reference to the mapping.
pub fn adopt(handle: u64) -> Result<Array> {
    registry()
        .get(&handle)
        .cloned()
        .ok_or_else(|| Error::new(ErrorKind::Closed, format!("shared mapping {handle} was released by the thread that shared it (its task has settled)")))
}

/// Drops the registry's reference; returns whether the handle was live.
pub fn release(handle: u64) -> bool {
    // Taken out first: the mapping may be unmapped here, never under the lock.
    let taken = registry().remove(&handle);
    taken.is_some()
}

/// Whether `handle` is still registered.
pub fn is_live(handle: u64) -> bool {
    registry().contains_key(&handle)
}

/// How many handles are registered (for tests and leak checks).
pub fn live_count() -> usize {
    registry().len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::npy::{self, NewArray};
    use crate::{ByteOrder, DType};
    use std::sync::Arc;

    fn small() -> Array {
        let spec = NewArray { dtype: DType::Float64, byte_order: ByteOrder::NATIVE, shape: vec![4], fortran_order: false };
        npy::from_bytes(&[1u8; 32], &spec).unwrap()
    }

    #[test]
    fn adopted_mapping_outlives_release_and_the_sharer() {
        let a = small();
        let weak = Arc::downgrade(&a.mapping);
        let h = share(a);
        assert!(is_live(h));
        let b = adopt(h).unwrap();
        assert!(release(h));
        assert!(!is_live(h));
        assert!(!release(h));
        // The adopter's clone keeps the memory mapped after the registry let go.
        assert!(weak.upgrade().is_some());
        drop(b);
        assert!(weak.upgrade().is_none());
        assert_eq!(adopt(h).unwrap_err().kind(), ErrorKind::Closed);
    }

    #[test]
    fn handles_are_never_reused_and_adopt_works_from_other_threads() {
        let h1 = share(small());
        let h2 = share(small());
        assert!(h2 > h1);
        let got = std::thread::spawn(move || adopt(h2).map(|a| a.shape.clone())).join().unwrap().unwrap();
        assert_eq!(got, vec![4]);
        release(h1);
        release(h2);
    }
}
