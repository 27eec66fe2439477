//! The restricted pickle machine and joblib files (uncompressed, compressed, mapped 'r')
//! on arbitrary bytes: never a panic, never code run, never an allocation beyond what
//! the input can hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmnpy_core::fuzz::pickle(data);
});
