//! The `.npy` preamble + header parser and the size checks made before mapping, on
//! arbitrary bytes: never a panic, never an allocation beyond the header limit.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmnpy_core::fuzz::npy_header(data);
});
