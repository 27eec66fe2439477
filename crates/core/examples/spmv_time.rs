//! Times `A @ x` over a mapped `.npz` sparse file (x all ones, float64), as mmbench's
//! sparse scenario does, reporting CPU time (`getrusage`, all threads) and wall time per
//! product: `cargo run --release --example spmv_time -- FILE [REPS] [out]`. With `out`,
//! the product goes into one in-memory array given as `out` each time. `MMNPY_THREADS`
//! picks the thread count. A measuring tool, not a test.

use std::path::Path;
use std::time::Instant;

use mmnpy_core::kernels::elementwise::Dest;
use mmnpy_core::kernels::reduce::Source;
use mmnpy_core::sparse::load_sparse;
use mmnpy_core::{ByteOrder, DType, Mode, NewArray};

fn cpu_ms() -> f64 {
    // SAFETY: `rusage` is plain integers (all-zero is valid); getrusage fills the struct it is given.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let t = |v: libc::timeval| v.tv_sec as f64 * 1e3 + v.tv_usec as f64 / 1e3;
    t(u.ru_utime) + t(u.ru_stime)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = &args[1];
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(15);
    let into_out = args.get(3).map(|s| s == "out").unwrap_or(false);
    let m = load_sparse(Path::new(path), Some(Mode::ReadOnly)).unwrap();
    let n = m.shape[1];
    let spec = NewArray { dtype: DType::Float64, byte_order: ByteOrder::NATIVE, shape: vec![n], fortran_order: false };
    let ones: Vec<u8> = (0..n).flat_map(|_| 1.0f64.to_ne_bytes()).collect();
    let xa = mmnpy_core::npy::from_bytes(&ones, &spec).unwrap();
    let xl = xa.layout();
    let x = Source { map: &xa.mapping, layout: &xl, dtype: xa.dtype, order: xa.byte_order, release: false };
    let out = mmnpy_core::npy::zeros(&NewArray { shape: vec![m.shape[0]], ..spec }).unwrap();
    let ol = out.layout();
    let dest = Dest { map: &out.mapping, layout: &ol, dtype: out.dtype, order: out.byte_order, release: false };
    let once = || {
        if into_out {
            assert!(m.dot(&x, Some(&dest), false).unwrap().is_none());
        } else {
            drop(m.dot(&x, None, false).unwrap());
        }
    };
    for _ in 0..3 {
        once();
    }
    let (mut cpu, mut wall) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let (c0, w0) = (cpu_ms(), Instant::now());
        once();
        wall.push(w0.elapsed().as_secs_f64() * 1e3);
        cpu.push(cpu_ms() - c0);
    }
    cpu.sort_by(f64::total_cmp);
    wall.sort_by(f64::total_cmp);
    let gb = 12.0 * m.nnz() as f64 / 1e9;
    println!(
        "{{\"cpu_med\": {:.2}, \"cpu_min\": {:.2}, \"wall_med\": {:.2}, \"wall_min\": {:.2}, \"gbps_best\": {:.2}, \"threads\": {}}}",
        cpu[reps / 2],
        cpu[0],
        wall[reps / 2],
        wall[0],
        gb / wall[0] * 1e3,
        mmnpy_core::kernels::pool::threads()
    );
}
