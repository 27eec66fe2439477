//! The HDF5 reader on arbitrary bytes: open, walk, attributes, a bounded hyperslab of every
//! dataset and its mapping: never a panic, a hang or an allocation a small file cannot justify.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    mmnpy_core::fuzz::hdf5(data);
});
