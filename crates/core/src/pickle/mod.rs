//! Python's pickle format (protocols 2 to 5), read by a restricted machine that never
//! runs code, and written for joblib files.
//!
//! # The format (CPython's `Lib/pickle.py`, `Lib/pickletools.py`)
//!
//! ```text
//! a pickle is a program for a stack machine: one opcode byte, then its argument
//!   \x80 PROTO n        first opcode from protocol 2 on (n = 2..5)
//!   \x95 FRAME u64      protocol 4+: the next u64 bytes are one frame (read through)
//!   data      N None, \x88/\x89 True/False, K u8, M u16, J i32, \x8a LONG1 u8 + n bytes,
//!             \x8b LONG4 i32 + n bytes (little-endian two's complement), G f64 (big-endian),
//!             X u32 / \x8c u8 / \x8d u64 + UTF-8 (str), B u32 / C u8 / \x8e u64 (bytes),
//!             T i32 / U u8 (Python 2 str: ASCII only), \x96 BYTEARRAY8 u64
//!   build     ( MARK, ] [], } {}, ) (), \x8f set(), t l d \x91 from the items above the
//!             last mark (tuple, list, dict, frozenset), \x85 \x86 \x87 tuples of 1..3,
//!             a e APPEND(S), s u SETITEM(S), \x90 ADDITEMS
//!   memo      q u8 / r u32 / p text PUT, h u8 / j u32 / g text GET, \x94 MEMOIZE
//!   stack     0 POP, 1 POP_MARK, 2 DUP, . STOP (the value on top is the result)
//!   objects   c "module\nname\n" GLOBAL, \x93 STACK_GLOBAL (module, name from the
//!             stack), R REDUCE (callable, args), \x81 NEWOBJ / \x92 NEWOBJ_EX (class,
//!             args), b BUILD (object, state)
//! ```
//!
//! Protocol 0 text forms of ints and floats (`I`, `L`, `F`) and text memo indices are
//! read; quoted strings (`S`, `V`), persistent ids, extension codes, out-of-band
//! buffers and `INST`/`OBJ` are refused.
//!
//! # What mmnpy refuses
//!
//! `pickle.load` imports any `module.name` a stream names and calls it: a pickle is
//! code. The machine here knows a fixed list of globals ([`globals`]) and what each
//! one builds, and evaluates nothing else: any other global is
//! [`ErrorKind::UnsafePickle`](crate::ErrorKind::UnsafePickle) naming it, before
//! anything is built. Everything is bounded: the stack ([`MAX_STACK`] values), marks
//! ([`MAX_MARKS`]), the memo ([`MAX_MEMO`]), the objects built ([`MAX_OBJECTS`]),
//! integers ([`MAX_LONG_BYTES`]); lengths are checked against what the input can
//! still hold before anything is allocated. The machine is one loop with explicit
//! stacks, and so is every walk over what it built: 100,000 nested lists cost heap,
//! never Rust stack.
//!
//! # What it builds
//!
//! An [`Arena`] of [`Node`]s (strings, containers, arrays, ...) referenced by index,
//! and small values inline ([`Val`]). Objects referenced twice in the stream (the memo)
//! are one node, so sharing and cycles (a list containing itself) are kept, and a
//! stream of many references to one big object costs one object.

pub mod flat;
pub mod globals;
pub mod read;
pub mod write;

use crate::descr::Descr;
use crate::error::{Error, ErrorKind, Result};
use crate::npy::Array;

pub use globals::Global;
pub use read::{Build, Machine, NoObjects, Source, Stream};
pub use write::{Event, Writer};

/// Values on the machine's stack, across all marks.
pub const MAX_STACK: usize = 1 << 20;
/// Open marks (`(`): nesting built with marks.
pub const MAX_MARKS: usize = 1 << 20;
/// Memo entries.
pub const MAX_MEMO: usize = 1 << 26;
/// Objects (nodes) built: strings, containers, arrays.
pub const MAX_OBJECTS: usize = 1 << 26;
/// Bytes of one integer (`LONG1`/`LONG4`): 8 Mbit.
pub const MAX_LONG_BYTES: usize = 1 << 20;
/// Record fields that all dtype states of one pickle may build together (a memoized
/// state built again and again must not cost unbounded memory).
pub const MAX_DTYPE_FIELDS: usize = 1 << 20;

/// Index of a node in its [`Arena`].
pub type NodeId = u32;

/// A value: small ones inline, everything else a node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Ref(NodeId),
}

/// A NumPy dtype object (`numpy.dtype(code, False, True)` and its `__setstate__`).
#[derive(Debug, Clone, PartialEq)]
pub struct Dtype {
    /// The code given to `numpy.dtype`: `'f8'`, `'i4'`, `'M8'`, `'V12'`, `'U3'`, ...
    pub code: String,
    /// `'<'`, `'>'`, `'|'` or `'='` from the state; `'='` until a state is set.
    pub endian: char,
    /// Why mmnpy cannot hold it, naming the dtype as NumPy does (the object dtype,
    /// field titles), when it cannot.
    pub unsupported: Option<String>,
    /// The dtype its state describes (records, datetimes, strings included); `None`
    /// until a state is built: then `code` in native byte order.
    pub descr: Option<Descr>,
    /// The shape of a subarray dtype (`np.dtype(('<f4', (3,)))`, a record field's
    /// type): `descr` is then its base. Empty otherwise.
    pub subarray: Vec<usize>,
}

/// An object the machine built.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// An int beyond 64 bits: little-endian two's complement, as `LONG1` holds it.
    BigInt(Vec<u8>),
    Complex(f64, f64),
    Str(String),
    Bytes(Vec<u8>),
    ByteArray(Vec<u8>),
    List(Vec<Val>),
    Tuple(Vec<Val>),
    /// Items in insertion order (a later equal key wins when converted, as in Python).
    Dict(Vec<(Val, Val)>),
    Set(Vec<Val>),
    FrozenSet(Vec<Val>),
    /// An array: index into [`Arena::arrays`].
    Array(usize),
    Dtype(Dtype),
    /// A whitelisted class or function itself (only meaningful as a callable).
    Global(Global),
    /// An instance made by `NEWOBJ` of a whitelisted class, before its `BUILD`.
    Object(Global),
    /// Used up by its `BUILD` (an array wrapper, whose array took its place).
    Spent(Global),
    /// `numpy._reconstruct(ndarray, (0,), b'b')` before the `BUILD` that gives its data.
    Reconstruct,
}

impl Node {
    /// What the node is, for messages (`a list`, `the global numpy.dtype`).
    pub fn describe(&self) -> String {
        match self {
            Node::BigInt(_) => "an int".into(),
            Node::Complex(..) => "a complex".into(),
            Node::Str(_) => "a str".into(),
            Node::Bytes(_) => "a bytes".into(),
            Node::ByteArray(_) => "a bytearray".into(),
            Node::List(_) => "a list".into(),
            Node::Tuple(_) => "a tuple".into(),
            Node::Dict(_) => "a dict".into(),
            Node::Set(_) => "a set".into(),
            Node::FrozenSet(_) => "a frozenset".into(),
            Node::Array(_) => "an ndarray".into(),
            Node::Dtype(_) => "a numpy.dtype".into(),
            Node::Global(g) => format!("the global {}", g.name()),
            Node::Object(g) | Node::Spent(g) => format!("a {} object", g.name()),
            Node::Reconstruct => "an ndarray being reconstructed".into(),
        }
    }
}

/// What a pickle built: its nodes, its arrays and the result.
#[derive(Debug, Default)]
pub struct Arena {
    pub nodes: Vec<Node>,
    pub arrays: Vec<Array>,
    /// Record fields built by dtype states so far (bounded by [`MAX_DTYPE_FIELDS`]).
    pub dtype_fields: usize,
}

impl Arena {
    pub fn add(&mut self, node: Node) -> Result<Val> {
        if self.nodes.len() >= MAX_OBJECTS {
            return Err(Error::new(ErrorKind::BadPickle, format!("the pickle builds more than {MAX_OBJECTS} objects (mmnpy's limit)")));
        }
        self.nodes.push(node);
        Ok(Val::Ref((self.nodes.len() - 1) as NodeId))
    }

    pub fn node(&self, v: Val) -> Option<&Node> {
        match v {
            Val::Ref(id) => self.nodes.get(id as usize),
            _ => None,
        }
    }

    pub fn add_array(&mut self, a: Array) -> Result<Val> {
        self.arrays.push(a);
        self.add(Node::Array(self.arrays.len() - 1))
    }

    /// What a value is, for messages.
    pub fn describe(&self, v: Val) -> String {
        match v {
            Val::None => "None".into(),
            Val::Bool(_) => "a bool".into(),
            Val::Int(_) => "an int".into(),
            Val::Float(_) => "a float".into(),
            Val::Ref(_) => self.node(v).map(Node::describe).unwrap_or_else(|| "nothing".into()),
        }
    }

    pub fn str(&self, v: Val) -> Option<&str> {
        match self.node(v) {
            Some(Node::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The items of a tuple or list.
    pub fn items(&self, v: Val) -> Option<&[Val]> {
        match self.node(v) {
            Some(Node::Tuple(t)) | Some(Node::List(t)) => Some(t),
            _ => None,
        }
    }

    /// The value of key `key` in a dict with str keys (the last one, as Python keeps).
    pub fn get(&self, dict: Val, key: &str) -> Option<Val> {
        match self.node(dict) {
            Some(Node::Dict(items)) => items.iter().rev().find(|(k, _)| self.str(*k) == Some(key)).map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// An error of a malformed stream at byte `at` of the pickle.
pub(crate) fn bad(at: u64, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::BadPickle, format!("malformed pickle at byte {at}: {message}"))
}
