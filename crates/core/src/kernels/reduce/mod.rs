//! Reductions (`sum`, `prod`, `mean`, `var`, `std`, `min`, `max`, `argmin`,
//! `argmax`) over strided views, in place on the mapped memory, on an owned
//! rayon pool.
//!
//! Float sums follow NumPy's pairwise summation (`loops_utils.h.src`): below 8
//! elements a plain loop from +0.0; up to 128, eight accumulators combined as
//! `((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))` then the tail; above, a split at `n/2`
//! rounded down to a multiple of 8 (complex: NumPy's own tree, four accumulators,
//! leaves of 64). Threads take subtrees of that same tree, so the result does not
//! depend on the thread count. A reduction of the whole view visits the elements in
//! NumPy's order (axes by |stride|, merged where possible, see `KOrder`) and in the
//! pieces NumPy's loop is called with (whole 1-D walks; blocks of 8192 elements where
//! NumPy buffers: byte-swapped, unaligned or cast input, and N-D walks), so sums,
//! means and variances equal NumPy's for every layout. Reductions along an axis follow
//! NumPy's loop too: pairwise per output when the reduced axis is the inner one, else
//! row by row (NumPy's SIMD complex multiply uses FMA there: complex `prod` along such
//! an axis differs from NumPy's by a few ulps).
//!
//! One file per concept, imports running one way (top to bottom):
//! - `op`: the operation and its result dtype;
//! - `order`: NumPy's walk of a view and its pieces;
//! - `pieces`: pieces on the pool, streaming release;
//! - `pairwise`: NumPy's summation tree, generic and dispatched per instruction set;
//! - `sums`: sums and products of a whole view;
//! - `extreme`: min/max/argmin/argmax;
//! - `moments`: mean/var/std;
//! - `whole`: [`reduce_all`] and the dispatch by dtype;
//! - `axis`: [`reduce_axis`].

mod axis;
mod extreme;
mod moments;
mod op;
mod order;
mod pairwise;
mod pieces;
mod sums;
#[cfg(test)]
mod tests;
mod whole;

/// Re-exported for the Node glue, which names them through `reduce`.
pub use crate::kernels::source::{Source, Value};
pub use axis::{reduce_axis, IsNan, Reduced, ToBytes};
pub use extreme::Ordered;
pub use moments::Sq;
pub use op::{given_dtype, result_dtype, Given, Input, Op};
pub(crate) use pairwise::pairwise;
pub use whole::reduce_all;
