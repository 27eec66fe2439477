//! Selection and joining from JavaScript (`compress`, `take`, `nonzero`/`argwhere`, `where`,
//! `concatenate`): argument checking, owned views for the tasks, and the shared [`Work`]
//! shape of `everyday.rs` for the sync and `...Async` forms.

use mmnpy_core::kernels::join;
use mmnpy_core::kernels::r#where;
use mmnpy_core::kernels::select::{self, TakeMode, Target};
use mmnpy_core::npy::{self, NewArray};
use mmnpy_core::ByteOrder;
use napi::bindgen_prelude::*;
use napi::Env;
use napi_derive::napi;

use crate::array::NativeArray;
use crate::compute::{writable, OwnedView, ViewArg};
use crate::convert::{self, invalid};
use crate::everyday::{Done, DoneJs, Work};

/// An optional `out` with its view: checked writable, owned.
fn out_view(out: Option<&NativeArray>, o: Option<ViewArg>) -> Result<Option<OwnedView>, String> {
    match (out, o) {
        (Some(a), Some(v)) => {
            writable(a)?;
            Ok(Some(OwnedView::of(a, v)?))
        }
        (None, None) => Ok(None),
        _ => Err(invalid("out and its view come together")),
    }
}

fn done(made: Option<npy::Array>) -> Done {
    made.map_or(Done::Unit, Done::Array)
}

impl NativeArray {
    fn compress_work(&self, a: ViewArg, mask: &NativeArray, m: ViewArg, out: Option<&NativeArray>, o: Option<ViewArg>, release: bool) -> Result<Work, String> {
        let (a, m, o) = (OwnedView::of(self, a)?, OwnedView::of(mask, m)?, out_view(out, o)?);
        Ok(Work::new(self.allow_copy, move || {
            let (mut s, mut k) = (a.source(), m.source());
            s.release = release;
            k.release = release;
            let d = o.as_ref().map(|o| {
                let mut d = o.dest();
                d.release = release;
                d
            });
            let target = d.as_ref().map_or(Target::New, Target::Out);
            select::compress(&s, &k, target, release).map(done)
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn take_work(
        &self,
        a: ViewArg,
        idx: &NativeArray,
        i: ViewArg,
        axis: Option<u32>,
        mode: String,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
    ) -> Result<Work, String> {
        let mode = match mode.as_str() {
            "raise" => TakeMode::Raise,
            "wrap" => TakeMode::Wrap,
            "clip" => TakeMode::Clip,
            other => return Err(invalid(format!("clipmode must be one of 'clip', 'raise', or 'wrap' (got '{other}')"))),
        };
        let (a, i, o) = (OwnedView::of(self, a)?, OwnedView::of(idx, i)?, out_view(out, o)?);
        Ok(Work::new(self.allow_copy, move || {
            let d = o.as_ref().map(|o| o.dest());
            let target = d.as_ref().map_or(Target::New, Target::Out);
            select::take(&a.source(), &i.source(), axis.map(|x| x as usize), mode, target).map(done)
        }))
    }

    fn nonzero_work(&self, a: ViewArg, argwhere: bool, release: bool) -> Result<Work, String> {
        let a = OwnedView::of(self, a)?;
        Ok(Work::new(self.allow_copy, move || {
            let mut s = a.source();
            s.release = release;
            if argwhere {
                select::argwhere(&s, release).map(Done::Array)
            } else {
                select::nonzero(&s, release).map(Done::Arrays)
            }
        }))
    }
}

#[napi]
impl NativeArray {
    /// `self[a][mask[m]]` (NumPy boolean indexing), into `out[o]` when given.
    #[napi(ts_return_type = "NativeArray | void")]
    #[allow(clippy::too_many_arguments)]
    pub fn compress(
        &self,
        env: Env,
        a: ViewArg,
        mask: &NativeArray,
        m: ViewArg,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
        release: bool,
    ) -> Result<DoneJs, String> {
        self.compress_work(a, mask, m, out, o, release)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<NativeArray | void>")]
    pub fn compress_async(
        &self,
        a: ViewArg,
        mask: &NativeArray,
        m: ViewArg,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
        release: bool,
    ) -> Result<AsyncTask<Work>, String> {
        Ok(self.compress_work(a, mask, m, out, o, release)?.later())
    }

    /// NumPy's `take(self[a], idx[i], axis, mode)`, into `out[o]` when given.
    #[napi(ts_return_type = "NativeArray | void")]
    #[allow(clippy::too_many_arguments)]
    pub fn take(
        &self,
        env: Env,
        a: ViewArg,
        idx: &NativeArray,
        i: ViewArg,
        axis: Option<u32>,
        mode: String,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
    ) -> Result<DoneJs, String> {
        self.take_work(a, idx, i, axis, mode, out, o)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<NativeArray | void>")]
    #[allow(clippy::too_many_arguments)]
    pub fn take_async(
        &self,
        a: ViewArg,
        idx: &NativeArray,
        i: ViewArg,
        axis: Option<u32>,
        mode: String,
        out: Option<&NativeArray>,
        o: Option<ViewArg>,
    ) -> Result<AsyncTask<Work>, String> {
        Ok(self.take_work(a, idx, i, axis, mode, out, o)?.later())
    }

    /// `nonzero()` (one index array per axis) or `argwhere()` (one `(count, ndim)` array).
    #[napi(ts_return_type = "NativeArray | NativeArray[]")]
    pub fn nonzero(&self, env: Env, a: ViewArg, argwhere: bool, release: bool) -> Result<DoneJs, String> {
        self.nonzero_work(a, argwhere, release)?.now(&env)
    }

    #[napi(ts_return_type = "Promise<NativeArray | NativeArray[]>")]
    pub fn nonzero_async(&self, a: ViewArg, argwhere: bool, release: bool) -> Result<AsyncTask<Work>, String> {
        Ok(self.nonzero_work(a, argwhere, release)?.later())
    }
}

/// The operands of `where(cond, x, y)`, each with its view broadcast to `out`'s shape.
#[napi(object, object_to_js = false)]
pub struct WhereViews {
    pub cond: ViewArg,
    pub x: ViewArg,
    pub y: ViewArg,
    pub out: ViewArg,
}

fn where_work(cond: &NativeArray, x: &NativeArray, y: &NativeArray, out: &NativeArray, v: WhereViews) -> Result<Work, String> {
    writable(out)?;
    let (c, x, y, o) = (OwnedView::of(cond, v.cond)?, OwnedView::of(x, v.x)?, OwnedView::of(y, v.y)?, OwnedView::of(out, v.out)?);
    Ok(Work::new(false, move || r#where::select(&c.source(), &x.source(), &y.source(), &o.dest()).map(|_| Done::Unit)))
}

/// `out = where(cond, x, y)`.
#[napi(js_name = "whereInto", ts_return_type = "void")]
pub fn where_into(env: Env, cond: &NativeArray, x: &NativeArray, y: &NativeArray, out: &NativeArray, views: WhereViews) -> Result<DoneJs, String> {
    where_work(cond, x, y, out, views)?.now(&env)
}

#[napi(js_name = "whereIntoAsync", ts_return_type = "Promise<void>")]
pub fn where_into_async(cond: &NativeArray, x: &NativeArray, y: &NativeArray, out: &NativeArray, views: WhereViews) -> Result<AsyncTask<Work>, String> {
    Ok(where_work(cond, x, y, out, views)?.later())
}

/// NumPy's `result_type` of a sequence of dtypes (canonical names).
#[napi]
pub fn result_type(dtypes: Vec<String>) -> Result<String, String> {
    let ds = dtypes.iter().map(|d| convert::dtype(d).map(|x| x.0)).collect::<Result<Vec<_>, _>>()?;
    join::result_type(&ds).map(|d| d.name().to_string()).ok_or_else(|| invalid("need at least one array to concatenate"))
}

/// The arguments of `concatenate` past the arrays.
#[napi(object, object_to_js = false)]
pub struct JoinArgs {
    pub axis: u32,
    pub views: Vec<ViewArg>,
    pub out_view: Option<ViewArg>,
    /// Streaming: release the pages of sources and `out` behind the copy.
    pub release: bool,
    /// The new array's memory order when there is no `out`.
    pub fortran: bool,
}

fn join_work(arrays: &[ClassInstance<NativeArray>], out: Option<&NativeArray>, args: JoinArgs) -> Result<Work, String> {
    if arrays.len() != args.views.len() {
        return Err(invalid("one view per array"));
    }
    let srcs = arrays.iter().zip(args.views).map(|(a, v)| OwnedView::of(a, v)).collect::<Result<Vec<_>, _>>()?;
    let o = out_view(out, args.out_view)?;
    let (axis, release, fortran) = (args.axis as usize, args.release, args.fortran);
    Ok(Work::new(false, move || {
        let sources: Vec<_> = srcs
            .iter()
            .map(|s| {
                let mut x = s.source();
                x.release = release;
                x
            })
            .collect();
        match &o {
            Some(o) => {
                let mut d = o.dest();
                d.release = release;
                join::concatenate(&sources, axis, &d).map(|_| Done::Unit)
            }
            None => {
                let shapes: Vec<&[usize]> = sources.iter().map(|s| s.layout.shape.as_slice()).collect();
                let shape = join::concat_shape(&shapes, axis)?;
                let dtype = join::result_type(&sources.iter().map(|s| s.dtype).collect::<Vec<_>>()).expect("at least one array");
                let r = npy::zeros(&NewArray { dtype, byte_order: ByteOrder::NATIVE, shape, fortran_order: fortran })?;
                let l = r.layout();
                let d = mmnpy_core::kernels::elementwise::Dest { map: &r.mapping, layout: &l, dtype: r.dtype, order: r.byte_order, release: false };
                join::concatenate(&sources, axis, &d)?;
                Ok(Done::Array(r))
            }
        }
    }))
}

/// `concatenate(arrays, axis)` into `out` when given, else a new array of NumPy's result type.
#[napi(ts_return_type = "NativeArray | void")]
pub fn concatenate(env: Env, arrays: Vec<ClassInstance<NativeArray>>, out: Option<&NativeArray>, args: JoinArgs) -> Result<DoneJs, String> {
    join_work(&arrays, out, args)?.now(&env)
}

#[napi(ts_return_type = "Promise<NativeArray | void>")]
pub fn concatenate_async(arrays: Vec<ClassInstance<NativeArray>>, out: Option<&NativeArray>, args: JoinArgs) -> Result<AsyncTask<Work>, String> {
    Ok(join_work(&arrays, out, args)?.later())
}
