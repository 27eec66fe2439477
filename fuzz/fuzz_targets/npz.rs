//! The zip directory reader and `.npz` member reading (in memory, 'r', 'c') on
//! arbitrary bytes: never a panic, never an allocation beyond what members declare.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmnpy_core::fuzz::npz(data);
});
