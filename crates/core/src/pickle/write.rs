//! Writing pickles: protocol 4 without frames (framing is optional in protocol 4),
//! from a flat list of [`Event`]s, so that deep structures never recurse. Containers
//! are written as Python's pickler writes them: the empty container, then batches of
//! at most 1000 items between a `MARK` and `APPENDS` / `SETITEMS` / `ADDITEMS`.

use super::MAX_STACK;
use crate::error::{Error, ErrorKind, Result};

/// Python's batch size for `APPENDS` / `SETITEMS`.
const BATCH: usize = 1000;

/// One step of a value, in order: scalars are whole values; `List`, `Dict`, `Set`,
/// `Tuple` open a container closed by `End` (a dict's items alternate key, value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Event<'a> {
    None,
    Bool(bool),
    Int(i64),
    /// An int of any size: little-endian two's complement.
    BigInt(&'a [u8]),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    List,
    Dict,
    Set,
    Tuple,
    End,
    /// Stores the container just opened in memo entry `n` (numbered from 0 in order).
    Memo,
    /// The container stored in memo entry `n` again (shared or cyclic references).
    Get(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Dict,
    Set,
    Tuple,
}

#[derive(Debug)]
struct Frame {
    kind: Kind,
    /// Values since the open MARK (`None`: no mark open).
    batch: Option<usize>,
    /// Values in all.
    count: usize,
    memo_allowed: bool,
}

/// A pickle being written into a buffer the caller drains ([`Writer::take`]).
#[derive(Debug)]
pub struct Writer {
    out: Vec<u8>,
    frames: Vec<Frame>,
    memo: u32,
    roots: usize,
}

impl Default for Writer {
    fn default() -> Self {
        Self::new()
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidArgument, message)
}

impl Writer {
    pub fn new() -> Self {
        Writer { out: vec![0x80, 4], frames: Vec::new(), memo: 0, roots: 0 }
    }

    /// The bytes written since the last call.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    /// Bytes waiting in the buffer.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Before a value: opens the batch's MARK in a list, dict or set.
    pub fn begin_value(&mut self) -> Result<()> {
        match self.frames.last_mut() {
            None if self.roots > 0 => return Err(invalid("a pickle holds one value: a second one was given")),
            Some(f) => {
                f.memo_allowed = false;
                if f.kind != Kind::Tuple && f.batch.is_none() {
                    f.batch = Some(0);
                    self.out.push(b'(');
                }
            }
            None => {}
        }
        Ok(())
    }

    /// After a value: counts it, and closes a full batch.
    pub fn end_value(&mut self) {
        let Some(f) = self.frames.last_mut() else {
            self.roots += 1;
            return;
        };
        f.count += 1;
        if let Some(b) = f.batch.as_mut() {
            *b += 1;
            let full = if f.kind == Kind::Dict { 2 * BATCH } else { BATCH };
            if *b >= full && !(f.kind == Kind::Dict && *b % 2 != 0) {
                self.out.push(Self::closer(f.kind));
                f.batch = None;
            }
        }
    }

    fn closer(kind: Kind) -> u8 {
        match kind {
            Kind::List => b'e',
            Kind::Dict => b'u',
            Kind::Set => 0x90,
            Kind::Tuple => b't',
        }
    }

    fn open(&mut self, kind: Kind) -> Result<()> {
        if self.frames.len() >= MAX_STACK {
            return Err(invalid(format!("the value nests deeper than {MAX_STACK} containers")));
        }
        self.begin_value()?;
        self.out.push(match kind {
            Kind::List => b']',
            Kind::Dict => b'}',
            Kind::Set => 0x8f,
            Kind::Tuple => b'(',
        });
        self.frames.push(Frame { kind, batch: None, count: 0, memo_allowed: kind != Kind::Tuple });
        Ok(())
    }

    /// Writes one event.
    pub fn event(&mut self, e: &Event) -> Result<()> {
        match *e {
            Event::List => return self.open(Kind::List),
            Event::Dict => return self.open(Kind::Dict),
            Event::Set => return self.open(Kind::Set),
            Event::Tuple => return self.open(Kind::Tuple),
            Event::End => {
                let f = self.frames.pop().ok_or_else(|| invalid("End without an open container"))?;
                if f.kind == Kind::Dict && f.count % 2 != 0 {
                    return Err(invalid("a dict closed after a key without its value"));
                }
                if f.kind == Kind::Tuple || f.batch.is_some() {
                    self.out.push(Self::closer(f.kind));
                }
                self.end_value();
                return Ok(());
            }
            Event::Memo => {
                let ok = self.frames.last().is_some_and(|f| f.memo_allowed);
                if !ok {
                    return Err(invalid("Memo must follow the opening of a list, dict or set"));
                }
                self.put_memo();
                if let Some(f) = self.frames.last_mut() {
                    f.memo_allowed = false;
                }
                return Ok(());
            }
            _ => {}
        }
        self.begin_value()?;
        match *e {
            Event::None => self.none(),
            Event::Bool(b) => self.bool(b),
            Event::Int(i) => self.int(i),
            Event::BigInt(b) => self.big_int(b),
            Event::Float(x) => {
                self.out.push(b'G');
                self.out.extend_from_slice(&x.to_be_bytes());
            }
            Event::Str(s) => self.str(s),
            Event::Bytes(b) => self.bytes(b),
            Event::Get(n) => {
                if n >= self.memo {
                    return Err(invalid(format!("Get({n}) of a memo entry not stored yet")));
                }
                if n < 256 {
                    self.out.extend_from_slice(&[b'h', n as u8]);
                } else {
                    self.out.push(b'j');
                    self.out.extend_from_slice(&n.to_le_bytes());
                }
            }
            _ => unreachable!("containers handled above"),
        }
        self.end_value();
        Ok(())
    }

    fn put_memo(&mut self) {
        let n = self.memo;
        self.memo += 1;
        if n < 256 {
            self.out.extend_from_slice(&[b'q', n as u8]);
        } else {
            self.out.push(b'r');
            self.out.extend_from_slice(&n.to_le_bytes());
        }
    }

    // Raw opcodes, for objects the caller writes itself (joblib's array wrapper);
    // the caller brackets them with begin_value / end_value.

    pub fn op(&mut self, op: u8) {
        self.out.push(op);
    }

    pub fn none(&mut self) {
        self.out.push(b'N');
    }

    pub fn bool(&mut self, b: bool) {
        self.out.push(if b { 0x88 } else { 0x89 });
    }

    pub fn int(&mut self, i: i64) {
        if (0..256).contains(&i) {
            self.out.extend_from_slice(&[b'K', i as u8]);
        } else if (0..65536).contains(&i) {
            self.out.push(b'M');
            self.out.extend_from_slice(&(i as u16).to_le_bytes());
        } else if let Ok(v) = i32::try_from(i) {
            self.out.push(b'J');
            self.out.extend_from_slice(&v.to_le_bytes());
        } else {
            self.big_int(&i.to_le_bytes());
        }
    }

    /// An int from little-endian two's complement bytes, trimmed to its shortest form.
    pub fn big_int(&mut self, le: &[u8]) {
        let mut n = le.len();
        while n > 1 && ((le[n - 1] == 0 && le[n - 2] & 0x80 == 0) || (le[n - 1] == 0xff && le[n - 2] & 0x80 != 0)) {
            n -= 1;
        }
        let le = &le[..n];
        if le.len() < 256 {
            self.out.extend_from_slice(&[0x8a, le.len() as u8]);
        } else {
            self.out.push(0x8b);
            self.out.extend_from_slice(&(le.len() as i32).to_le_bytes());
        }
        self.out.extend_from_slice(le);
    }

    pub fn str(&mut self, s: &str) {
        let n = s.len();
        if n < 256 {
            self.out.extend_from_slice(&[0x8c, n as u8]);
        } else if let Ok(n) = u32::try_from(n) {
            self.out.push(b'X');
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.out.push(0x8d);
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.out.extend_from_slice(s.as_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        let n = b.len();
        if n < 256 {
            self.out.extend_from_slice(&[b'C', n as u8]);
        } else if let Ok(n) = u32::try_from(n) {
            self.out.push(b'B');
            self.out.extend_from_slice(&n.to_le_bytes());
        } else {
            self.out.push(0x8e);
            self.out.extend_from_slice(&(n as u64).to_le_bytes());
        }
        self.out.extend_from_slice(b);
    }

    /// `GLOBAL module.name` (protocol 0's text form, valid in every protocol).
    pub fn global(&mut self, module: &str, name: &str) {
        self.out.push(b'c');
        self.out.extend_from_slice(module.as_bytes());
        self.out.push(b'\n');
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(b'\n');
    }

    /// Ends the pickle (`STOP`): exactly one whole value must have been written.
    pub fn finish(&mut self) -> Result<()> {
        if !self.frames.is_empty() {
            return Err(invalid(format!("{} containers are still open", self.frames.len())));
        }
        if self.roots != 1 {
            return Err(invalid("a pickle holds exactly one value; none was given"));
        }
        self.out.push(b'.');
        Ok(())
    }
}
