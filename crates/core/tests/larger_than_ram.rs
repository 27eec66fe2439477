//! Files larger than RAM + swap map in 'r' and 'c' (no up-front reservation), and the
//! strict-accounting behaviour (simulated with MMNPY_SIMULATE_STRICT_OVERCOMMIT, which
//! is process-wide: this binary's tests run one after the other under one lock).

use std::sync::Mutex;

use mmnpy_core::npy::{self, NewArray};
use mmnpy_core::{ByteOrder, DType, ErrorKind, Mode};

static ENV: Mutex<()> = Mutex::new(());

fn ram() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(16 << 30, |kb| kb * 1024)
}

/// A sparse float64 .npy of twice the RAM, with 1.5 as its last element.
fn huge(dir: &std::path::Path) -> std::path::PathBuf {
    let p = dir.join("huge.npy");
    let n = (2 * ram() / 8) as usize;
    let spec = NewArray { dtype: DType::Float64, byte_order: ByteOrder::Little, shape: vec![n], fortran_order: false };
    let a = npy::create_npy(&p, &spec, None).unwrap();
    a.mapping.write_bytes((n - 1) * 8, &1.5f64.to_le_bytes()).unwrap();
    a.mapping.flush().unwrap();
    p
}

fn strict(on: bool) {
    // SAFETY (of set_var/remove_var): every test of this binary holds `ENV` while the
    // environment is changed and read.
    unsafe {
        if on {
            std::env::set_var("MMNPY_SIMULATE_STRICT_OVERCOMMIT", "1")
        } else {
            std::env::remove_var("MMNPY_SIMULATE_STRICT_OVERCOMMIT")
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn r_and_c_open_twice_the_ram() {
    let _g = ENV.lock().unwrap_or_else(|p| p.into_inner());
    strict(false);
    if std::fs::read_to_string("/proc/sys/vm/overcommit_memory").is_ok_and(|s| s.trim() == "2") {
        return; // this machine accounts strictly: the test below covers it
    }
    let dir = tempfile::tempdir().unwrap();
    let p = huge(dir.path());
    for mode in [Mode::ReadOnly, Mode::CopyOnWrite, Mode::ReadWrite] {
        let a = npy::open_npy(&p, mode).unwrap_or_else(|e| panic!("{mode:?}: {e}"));
        assert!(!a.mapping.is_read_only());
        let len = a.mapping.len();
        assert_eq!(a.mapping.read_bytes(len - 8, 8).unwrap(), 1.5f64.to_le_bytes(), "{mode:?}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn strict_accounting_maps_r_read_only_and_refuses_a_huge_c_clearly() {
    let _g = ENV.lock().unwrap_or_else(|p| p.into_inner());
    strict(true);
    let dir = tempfile::tempdir().unwrap();
    let p = huge(dir.path());
    let r = npy::open_npy(&p, Mode::ReadOnly).unwrap();
    assert!(r.mapping.is_read_only());
    let len = r.mapping.len();
    assert_eq!(r.mapping.read_bytes(len - 8, 8).unwrap(), 1.5f64.to_le_bytes());
    assert_eq!(r.mapping.write_bytes(0, &[1; 8]).unwrap_err().kind(), ErrorKind::ReadOnly, "read-only memory is never written");
    let e = npy::open_npy(&p, Mode::CopyOnWrite).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NoMemory, "{e}");
    assert!(e.to_string().contains("huge.npy") && e.message().contains("mmapMode 'r'"), "{e}");
    // A small file maps copy-on-write as ever.
    let small = dir.path().join("small.npy");
    let spec = NewArray { dtype: DType::Int32, byte_order: ByteOrder::Little, shape: vec![1024], fortran_order: false };
    drop(npy::create_npy(&small, &spec, None).unwrap());
    let c = npy::open_npy(&small, Mode::CopyOnWrite).unwrap();
    assert!(!c.mapping.is_read_only());
    c.mapping.write_bytes(0, &[7; 4]).unwrap();
    assert_eq!(std::fs::read(&small).unwrap()[128..132], [0; 4]);
    strict(false);
}
