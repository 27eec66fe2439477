//! What a pickle built, as a flat list of steps for a binding to rebuild as its own
//! values without recursion (the Node binding rebuilds JavaScript values from it in
//! `lib/joblib.ts`). Python values map as mmnpy's API says:
//!
//! | Python | step | JavaScript |
//! |---|---|---|
//! | `None`, `bool` | [`NONE`], [`TRUE`], [`FALSE`] | `null`, `boolean` |
//! | `int` within ±2^53, `float` | [`NUM`] (`nums`) | `number` |
//! | `int` beyond ±2^53 | [`BIG`] (`nums`: sign, `strs`: hex magnitude) | `bigint` |
//! | `str`, `numpy.dtype` (as `'<f8'`) | [`STR`] (`strs`) | `string` |
//! | `bytes`, `bytearray` | [`BYTES`] (`nums`: length, bytes from `bytes`) | `Uint8Array` |
//! | `complex` | [`COMPLEX`] (`nums`: re, im) | `{ re, im }` |
//! | `list`, `tuple` | [`LIST`], [`TUPLE`] ... [`END`] | `Array` |
//! | `dict` with str keys | [`OBJECT`] key, value, ... [`END`] | plain object |
//! | other `dict` | [`MAP`] key, value, ... [`END`] | `Map` |
//! | `set`, `frozenset` | [`SET`] ... [`END`] | `Set` |
//! | `ndarray` | [`ARRAY`] (next of `arrays`) | `NdArray` |
//! | an object seen before | [`REF`] (`nums`: its index) | the same object |
//!
//! Objects (containers, bytes, arrays) are numbered in the order they start; a second
//! reference to one, or a cycle, is a [`REF`] to it.

use std::collections::HashMap;

use super::{Arena, Node, NodeId, Val};
use crate::error::{Error, ErrorKind, Result};

pub const NONE: u8 = 0;
pub const TRUE: u8 = 1;
pub const FALSE: u8 = 2;
pub const NUM: u8 = 3;
pub const BIG: u8 = 4;
pub const STR: u8 = 5;
pub const BYTES: u8 = 6;
pub const COMPLEX: u8 = 7;
pub const LIST: u8 = 8;
pub const TUPLE: u8 = 9;
pub const OBJECT: u8 = 10;
pub const MAP: u8 = 11;
pub const SET: u8 = 12;
pub const END: u8 = 13;
pub const ARRAY: u8 = 14;
pub const REF: u8 = 15;

/// Largest integer a JavaScript number holds exactly.
const SAFE: i64 = (1 << 53) - 1;

/// The steps and their payloads.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Flat {
    pub kinds: Vec<u8>,
    pub nums: Vec<f64>,
    pub strs: Vec<String>,
    pub bytes: Vec<u8>,
    /// Indices into [`Arena::arrays`], in the order of the [`ARRAY`] steps.
    pub arrays: Vec<usize>,
}

enum Task {
    Val(Val),
    End,
}

/// The magnitude of a little-endian two's complement int, as hex, and its sign.
fn big_hex(le: &[u8]) -> (f64, String) {
    let neg = le.last().is_some_and(|b| b & 0x80 != 0);
    let mut mag = le.to_vec();
    if neg {
        // Two's complement negation: invert, add one.
        let mut carry = true;
        for b in mag.iter_mut() {
            *b = !*b;
            if carry {
                let (v, c) = b.overflowing_add(1);
                *b = v;
                carry = c;
            }
        }
    }
    let mut hex = String::with_capacity(2 + mag.len() * 2);
    hex.push_str("0x");
    for b in mag.iter().rev() {
        hex.push_str(&format!("{b:02x}"));
    }
    (if neg { -1.0 } else { 1.0 }, hex)
}

fn no_value(what: String) -> Error {
    Error::new(ErrorKind::BadPickle, format!("the pickle's value holds {what}, which is no data (a pickle that joblib writes never does)"))
}

/// Flattens the value `root` of `arena`.
pub fn flatten(arena: &Arena, root: Val) -> Result<Flat> {
    let mut f = Flat::default();
    let mut started: HashMap<NodeId, u32> = HashMap::new();
    let mut todo = vec![Task::Val(root)];
    while let Some(task) = todo.pop() {
        let v = match task {
            Task::End => {
                f.kinds.push(END);
                continue;
            }
            Task::Val(v) => v,
        };
        let id = match v {
            Val::None => {
                f.kinds.push(NONE);
                continue;
            }
            Val::Bool(b) => {
                f.kinds.push(if b { TRUE } else { FALSE });
                continue;
            }
            Val::Int(i) if (-SAFE..=SAFE).contains(&i) => {
                f.kinds.push(NUM);
                f.nums.push(i as f64);
                continue;
            }
            Val::Int(i) => {
                let (sign, hex) = big_hex(&i.to_le_bytes());
                f.kinds.push(BIG);
                f.nums.push(sign);
                f.strs.push(hex);
                continue;
            }
            Val::Float(x) => {
                f.kinds.push(NUM);
                f.nums.push(x);
                continue;
            }
            Val::Ref(id) => id,
        };
        let node = arena.nodes.get(id as usize).ok_or_else(|| no_value("a dangling reference".into()))?;
        let object = matches!(
            node,
            Node::List(_) | Node::Tuple(_) | Node::Dict(_) | Node::Set(_) | Node::FrozenSet(_) | Node::Bytes(_) | Node::ByteArray(_) | Node::Array(_)
        );
        if object {
            if let Some(&k) = started.get(&id) {
                f.kinds.push(REF);
                f.nums.push(k as f64);
                continue;
            }
            started.insert(id, started.len() as u32);
        }
        match node {
            Node::BigInt(le) => {
                let (sign, hex) = big_hex(le);
                f.kinds.push(BIG);
                f.nums.push(sign);
                f.strs.push(hex);
            }
            Node::Complex(re, im) => {
                f.kinds.push(COMPLEX);
                f.nums.extend([*re, *im]);
            }
            Node::Str(s) => {
                f.kinds.push(STR);
                f.strs.push(s.clone());
            }
            Node::Dtype(d) => {
                f.kinds.push(STR);
                let endian = if d.endian == '=' { crate::ByteOrder::NATIVE.symbol() } else { d.endian };
                let text = match d.descr.as_ref().map(|x| x.to_numpy()) {
                    Some(Ok(t)) if d.subarray.is_empty() => t,
                    Some(Ok(t)) => format!("('{t}', {:?})", d.subarray),
                    _ => format!("{endian}{}", d.code),
                };
                f.strs.push(text);
            }
            Node::Bytes(b) | Node::ByteArray(b) => {
                f.kinds.push(BYTES);
                f.nums.push(b.len() as f64);
                f.bytes.extend_from_slice(b);
            }
            Node::Array(i) => {
                f.kinds.push(ARRAY);
                f.arrays.push(*i);
            }
            Node::List(items) | Node::Tuple(items) | Node::Set(items) | Node::FrozenSet(items) => {
                f.kinds.push(match node {
                    Node::List(_) => LIST,
                    Node::Tuple(_) => TUPLE,
                    _ => SET,
                });
                todo.push(Task::End);
                todo.extend(items.iter().rev().map(|v| Task::Val(*v)));
            }
            Node::Dict(items) => {
                let plain = items.iter().all(|(k, _)| arena.str(*k).is_some());
                f.kinds.push(if plain { OBJECT } else { MAP });
                todo.push(Task::End);
                for (k, v) in items.iter().rev() {
                    todo.push(Task::Val(*v));
                    todo.push(Task::Val(*k));
                }
            }
            Node::Global(_) | Node::Object(_) | Node::Spent(_) | Node::Reconstruct => return Err(no_value(node.describe())),
        }
    }
    Ok(f)
}
