//! The restricted machine: one loop over the opcodes (format in the module doc of
//! [`crate::pickle`]), explicit stacks, a position counter, and nothing evaluated.

use std::collections::HashMap;
use std::io::{self, Read};

use super::globals::{self, Global};
use super::{bad, Arena, Node, Val, MAX_LONG_BYTES, MAX_MARKS, MAX_MEMO, MAX_STACK};
use crate::error::{Error, ErrorKind, Result};

/// Longest text line read (`GLOBAL` names, protocol 0 numbers).
const MAX_LINE: usize = 1 << 16;

/// A byte stream the machine reads: a file, a decompressor, bytes in memory.
pub trait Stream: Read + Send {
    /// Skips `n` bytes (seeks where it can).
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let got = io::copy(&mut self.take(n), &mut io::sink())?;
        if got < n {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        Ok(())
    }
}

impl Stream for io::BufReader<std::fs::File> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let n = i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        self.seek_relative(n)
    }
}

impl Stream for io::Cursor<&[u8]> {
    fn skip(&mut self, n: u64) -> io::Result<()> {
        let to = self.position().checked_add(n).filter(|&p| p <= self.get_ref().len() as u64);
        match to {
            Some(p) => {
                self.set_position(p);
                Ok(())
            }
            None => Err(io::Error::from(io::ErrorKind::UnexpectedEof)),
        }
    }
}

/// The input of the machine: a stream, how far it has been read, and how much it can
/// hold at most (exactly, for a plain file; a bound from the compression ratio for a
/// compressed one), so that no length is believed beyond what the input can hold.
pub struct Source<'a> {
    r: Box<dyn Stream + 'a>,
    pos: u64,
    limit: u64,
    exact: bool,
}

impl<'a> Source<'a> {
    /// `limit`: the stream's length when `exact`, else an upper bound of it.
    pub fn new(r: Box<dyn Stream + 'a>, limit: u64, exact: bool) -> Self {
        Source { r, pos: 0, limit, exact }
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Bytes the stream can still hold, at most.
    pub fn left(&self) -> u64 {
        self.limit.saturating_sub(self.pos)
    }

    /// Whether the stream's length is known exactly (an uncompressed file).
    pub fn exact(&self) -> bool {
        self.exact
    }

    fn ended(&self, what: &str, need: u64) -> Error {
        let left = if self.exact { format!(", {} bytes are left", self.left()) } else { String::new() };
        Error::new(ErrorKind::Truncated, format!("the pickle ends inside {what} at byte {} ({need} bytes needed{left})", self.pos))
    }

    fn io(&self, e: io::Error, what: &str, need: u64) -> Error {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => self.ended(what, need),
            // Decoders report corrupt data as InvalidData / InvalidInput.
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Other => {
                Error::new(ErrorKind::BadPickle, format!("corrupt compressed data at byte {} of the pickle: {e}", self.pos))
            }
            _ => Error::io("cannot read", &e),
        }
    }

    /// Fills `buf` from the stream.
    pub fn read_exact(&mut self, buf: &mut [u8], what: &str) -> Result<()> {
        if (buf.len() as u64) > self.left() {
            return Err(self.ended(what, buf.len() as u64));
        }
        self.r.read_exact(buf).map_err(|e| self.io(e, what, buf.len() as u64))?;
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn byte(&mut self, what: &str) -> Result<u8> {
        let mut b = [0u8; 1];
        self.read_exact(&mut b, what)?;
        Ok(b[0])
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut b = [0u8; N];
        self.read_exact(&mut b, what)?;
        Ok(b)
    }

    /// `n` bytes, checked against what the stream can hold before anything is
    /// allocated; from a stream of unknown length, memory grows only as data arrives.
    pub fn read_vec(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        if n > self.left() {
            return Err(self.ended(what, n));
        }
        let len = usize::try_from(n).map_err(|_| self.ended(what, n))?;
        if self.exact {
            let mut v = vec![0u8; len];
            self.read_exact(&mut v, what)?;
            return Ok(v);
        }
        let mut v = Vec::with_capacity(len.min(1 << 20));
        let got = (&mut self.r).take(n).read_to_end(&mut v).map_err(|e| self.io(e, what, n))?;
        self.pos += got as u64;
        if got < len {
            return Err(self.ended(what, n - got as u64));
        }
        Ok(v)
    }

    /// Skips `n` bytes.
    pub fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        if n > self.left() {
            return Err(self.ended(what, n));
        }
        self.r.skip(n).map_err(|e| self.io(e, what, n))?;
        self.pos += n;
        Ok(())
    }

    fn line(&mut self, what: &str) -> Result<String> {
        let at = self.pos;
        let mut out = Vec::new();
        loop {
            let b = self.byte(what)?;
            if b == b'\n' {
                break;
            }
            if out.len() >= MAX_LINE {
                return Err(bad(at, format!("{what} is longer than {MAX_LINE} bytes")));
            }
            out.push(b);
        }
        String::from_utf8(out).map_err(|_| bad(at, format!("{what} is not UTF-8")))
    }
}

/// What builds the objects of classes the machine only knows by name: joblib's array
/// wrapper, whose `BUILD` reads the array that follows it in the file.
pub trait Build {
    /// `BUILD` of an instance of `class` (made by `NEWOBJ`) with `state`: returns the
    /// value that takes its place on the stack.
    fn build(&mut self, class: Global, state: Val, arena: &mut Arena, src: &mut Source) -> Result<Val>;
}

/// The machine: feed it a [`Source`], get an [`Arena`] and the result.
pub struct Machine<'a, 'b, B: Build> {
    src: Source<'a>,
    builder: &'b mut B,
    arena: Arena,
    stack: Vec<Val>,
    marks: Vec<usize>,
    memo: HashMap<u32, Val>,
    protocol: u8,
}

fn utf8(bytes: Vec<u8>, at: u64) -> Result<String> {
    String::from_utf8(bytes)
        .map_err(|e| bad(at, format!("a str is not valid UTF-8 (byte {} of it; mmnpy does not read lone surrogates)", e.utf8_error().valid_up_to())))
}

/// An int from little-endian two's complement bytes: inline when it fits 64 bits.
fn long(arena: &mut Arena, bytes: Vec<u8>) -> Result<Val> {
    if bytes.len() <= 8 {
        let neg = bytes.last().is_some_and(|b| b & 0x80 != 0);
        let mut a = if neg { [0xffu8; 8] } else { [0u8; 8] };
        a[..bytes.len()].copy_from_slice(&bytes);
        return Ok(Val::Int(i64::from_le_bytes(a)));
    }
    // Strip redundant sign bytes so that every int that fits 64 bits is inline.
    let mut b = bytes;
    while b.len() > 1 {
        let (last, prev) = (b[b.len() - 1], b[b.len() - 2]);
        if (last == 0 && prev & 0x80 == 0) || (last == 0xff && prev & 0x80 != 0) {
            b.pop();
        } else {
            break;
        }
    }
    if b.len() <= 8 {
        return long(arena, b);
    }
    arena.add(Node::BigInt(b))
}

impl<'a, 'b, B: Build> Machine<'a, 'b, B> {
    pub fn new(src: Source<'a>, builder: &'b mut B) -> Self {
        Machine { src, builder, arena: Arena::default(), stack: Vec::new(), marks: Vec::new(), memo: HashMap::new(), protocol: 0 }
    }

    fn push(&mut self, v: Val) -> Result<()> {
        if self.stack.len() >= MAX_STACK {
            return Err(Error::new(
                ErrorKind::BadPickle,
                format!("the pickle's stack grows past {MAX_STACK} values (mmnpy's limit) at byte {}", self.src.pos()),
            ));
        }
        self.stack.push(v);
        Ok(())
    }

    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, at: u64, op: &str) -> Result<Val> {
        if self.stack.len() <= self.floor() {
            return Err(bad(at, format!("{op} with nothing on the stack above the last mark")));
        }
        Ok(self.stack.pop().unwrap_or(Val::None))
    }

    fn top(&self, at: u64, op: &str) -> Result<Val> {
        if self.stack.len() <= self.floor() {
            return Err(bad(at, format!("{op} with nothing on the stack above the last mark")));
        }
        Ok(self.stack[self.stack.len() - 1])
    }

    fn pop_mark(&mut self, at: u64, op: &str) -> Result<Vec<Val>> {
        let Some(m) = self.marks.pop() else { return Err(bad(at, format!("{op} without a mark"))) };
        Ok(self.stack.split_off(m))
    }

    fn add(&mut self, node: Node) -> Result<()> {
        let v = self.arena.add(node)?;
        self.push(v)
    }

    /// The node a container opcode adds to, checked to be of the right kind.
    fn container(&mut self, at: u64, op: &str) -> Result<&mut Node> {
        let target = self.top(at, op)?;
        let describe = self.arena.describe(target);
        match target {
            Val::Ref(id) => Ok(&mut self.arena.nodes[id as usize]),
            _ => Err(bad(at, format!("{op} onto {describe}"))),
        }
    }

    fn memo_put(&mut self, key: u32, at: u64) -> Result<()> {
        let v = self.top(at, "PUT")?;
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
            return Err(bad(at, format!("the memo grows past {MAX_MEMO} entries (mmnpy's limit)")));
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn memo_get(&mut self, key: u64, at: u64) -> Result<()> {
        let v = u32::try_from(key).ok().and_then(|k| self.memo.get(&k).copied());
        match v {
            Some(v) => self.push(v),
            None => Err(bad(at, format!("memo entry {key} is referenced but was never stored"))),
        }
    }

    fn text_int(&mut self, at: u64, what: &str) -> Result<i64> {
        let line = self.src.line(what)?;
        let t = line.trim_end_matches('L');
        t.parse::<i64>().map_err(|_| bad(at, format!("{what} '{}' is not an int mmnpy reads (64 bits at most)", line.chars().take(40).collect::<String>())))
    }

    /// Runs the stream to its `STOP`; returns what it built, the result, and the
    /// protocol the stream declared.
    pub fn run(mut self) -> Result<(Arena, Val, u8)> {
        let first = self.src.pos();
        loop {
            let at = self.src.pos();
            let op = self.src.byte("an opcode")?;
            if at == first && op != 0x80 {
                return Err(bad(at, format!("the stream starts with 0x{op:02x}, not PROTO (0x80): not a pickle of protocol 2 to 5")));
            }
            match op {
                0x80 => {
                    let p = self.src.byte("PROTO")?;
                    if !(2..=5).contains(&p) {
                        return Err(bad(at, format!("pickle protocol {p} (mmnpy reads 2 to 5)")));
                    }
                    self.protocol = p;
                }
                0x95 => {
                    let n = u64::from_le_bytes(self.src.array("FRAME")?);
                    if n > self.src.left() {
                        return Err(Error::new(
                            ErrorKind::Truncated,
                            format!("a frame of {n} bytes at byte {at} runs past the end of the pickle ({} bytes are left at most)", self.src.left()),
                        ));
                    }
                }
                b'.' => {
                    let v = self.pop(at, "STOP")?;
                    return Ok((self.arena, v, self.protocol));
                }
                b'(' => {
                    if self.marks.len() >= MAX_MARKS {
                        return Err(bad(at, format!("more than {MAX_MARKS} open marks (mmnpy's limit)")));
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    if self.stack.len() > self.floor() {
                        self.stack.pop();
                    } else {
                        self.pop_mark(at, "POP")?;
                    }
                }
                b'1' => {
                    self.pop_mark(at, "POP_MARK")?;
                }
                b'2' => {
                    let v = self.top(at, "DUP")?;
                    self.push(v)?;
                }
                b'N' => self.push(Val::None)?,
                0x88 => self.push(Val::Bool(true))?,
                0x89 => self.push(Val::Bool(false))?,
                b'K' => {
                    let b = self.src.byte("BININT1")?;
                    self.push(Val::Int(b as i64))?
                }
                b'M' => {
                    let b = self.src.array::<2>("BININT2")?;
                    self.push(Val::Int(u16::from_le_bytes(b) as i64))?
                }
                b'J' => {
                    let b = self.src.array::<4>("BININT")?;
                    self.push(Val::Int(i32::from_le_bytes(b) as i64))?
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a { self.src.byte("LONG1")? as i64 } else { i32::from_le_bytes(self.src.array("LONG4")?) as i64 };
                    if n < 0 || n as usize > MAX_LONG_BYTES {
                        return Err(bad(at, format!("an int of {n} bytes (mmnpy reads up to {MAX_LONG_BYTES})")));
                    }
                    let bytes = self.src.read_vec(n as u64, "an int")?;
                    let v = long(&mut self.arena, bytes)?;
                    self.push(v)?;
                }
                b'G' => {
                    let b = self.src.array::<8>("BINFLOAT")?;
                    self.push(Val::Float(f64::from_be_bytes(b)))?
                }
                b'I' => {
                    let line = self.src.line("INT")?;
                    let v = match line.as_str() {
                        "00" => Val::Bool(false),
                        "01" => Val::Bool(true),
                        t => Val::Int(
                            t.parse::<i64>().map_err(|_| bad(at, format!("INT '{}' is not an int mmnpy reads", t.chars().take(40).collect::<String>())))?,
                        ),
                    };
                    self.push(v)?;
                }
                b'L' => {
                    let v = self.text_int(at, "LONG")?;
                    self.push(Val::Int(v))?;
                }
                b'F' => {
                    let line = self.src.line("FLOAT")?;
                    let v = line.trim().parse::<f64>().map_err(|_| bad(at, "FLOAT is not a number"))?;
                    self.push(Val::Float(v))?;
                }
                b'X' | 0x8c | 0x8d => {
                    let n = match op {
                        b'X' => u32::from_le_bytes(self.src.array("BINUNICODE")?) as u64,
                        0x8c => self.src.byte("SHORT_BINUNICODE")? as u64,
                        _ => u64::from_le_bytes(self.src.array("BINUNICODE8")?),
                    };
                    let bytes = self.src.read_vec(n, "a str")?;
                    let s = utf8(bytes, at)?;
                    self.add(Node::Str(s))?;
                }
                b'T' | b'U' => {
                    let n = if op == b'T' { i32::from_le_bytes(self.src.array("BINSTRING")?) as i64 } else { self.src.byte("SHORT_BINSTRING")? as i64 };
                    if n < 0 {
                        return Err(bad(at, "a str of negative length"));
                    }
                    let bytes = self.src.read_vec(n as u64, "a str")?;
                    if !bytes.is_ascii() {
                        return Err(bad(at, "a Python 2 str with non-ASCII bytes (Python 3 and joblib refuse it too)"));
                    }
                    self.add(Node::Str(utf8(bytes, at)?))?;
                }
                b'B' | b'C' | 0x8e | 0x96 => {
                    let n = match op {
                        b'B' => u32::from_le_bytes(self.src.array("BINBYTES")?) as u64,
                        b'C' => self.src.byte("SHORT_BINBYTES")? as u64,
                        _ => u64::from_le_bytes(self.src.array("BINBYTES8")?),
                    };
                    let bytes = self.src.read_vec(n, "a bytes")?;
                    self.add(if op == 0x96 { Node::ByteArray(bytes) } else { Node::Bytes(bytes) })?;
                }
                b']' => self.add(Node::List(Vec::new()))?,
                b'}' => self.add(Node::Dict(Vec::new()))?,
                b')' => self.add(Node::Tuple(Vec::new()))?,
                0x8f => self.add(Node::Set(Vec::new()))?,
                b'l' => {
                    let items = self.pop_mark(at, "LIST")?;
                    self.add(Node::List(items))?;
                }
                b't' => {
                    let items = self.pop_mark(at, "TUPLE")?;
                    self.add(Node::Tuple(items))?;
                }
                0x91 => {
                    let items = self.pop_mark(at, "FROZENSET")?;
                    self.add(Node::FrozenSet(items))?;
                }
                b'd' => {
                    let items = self.pop_mark(at, "DICT")?;
                    if items.len() % 2 != 0 {
                        return Err(bad(at, "DICT with an odd number of items"));
                    }
                    self.add(Node::Dict(items.chunks_exact(2).map(|p| (p[0], p[1])).collect()))?;
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < self.floor() + n {
                        return Err(bad(at, format!("TUPLE{n} with fewer than {n} values above the last mark")));
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.add(Node::Tuple(items))?;
                }
                b'a' => {
                    let v = self.pop(at, "APPEND")?;
                    match self.container(at, "APPEND")? {
                        Node::List(l) => l.push(v),
                        n => return Err(bad(at, format!("APPEND onto {}", n.describe()))),
                    }
                }
                b'e' => {
                    let items = self.pop_mark(at, "APPENDS")?;
                    match self.container(at, "APPENDS")? {
                        Node::List(l) => l.extend(items),
                        n => return Err(bad(at, format!("APPENDS onto {}", n.describe()))),
                    }
                }
                b's' => {
                    let v = self.pop(at, "SETITEM")?;
                    let k = self.pop(at, "SETITEM")?;
                    match self.container(at, "SETITEM")? {
                        Node::Dict(d) => d.push((k, v)),
                        n => return Err(bad(at, format!("SETITEM onto {}", n.describe()))),
                    }
                }
                b'u' => {
                    let items = self.pop_mark(at, "SETITEMS")?;
                    if items.len() % 2 != 0 {
                        return Err(bad(at, "SETITEMS with an odd number of items"));
                    }
                    match self.container(at, "SETITEMS")? {
                        Node::Dict(d) => d.extend(items.chunks_exact(2).map(|p| (p[0], p[1]))),
                        n => return Err(bad(at, format!("SETITEMS onto {}", n.describe()))),
                    }
                }
                0x90 => {
                    let items = self.pop_mark(at, "ADDITEMS")?;
                    match self.container(at, "ADDITEMS")? {
                        Node::Set(s) => s.extend(items),
                        n => return Err(bad(at, format!("ADDITEMS onto {}", n.describe()))),
                    }
                }
                b'q' => {
                    let k = self.src.byte("BINPUT")? as u32;
                    self.memo_put(k, at)?;
                }
                b'r' => {
                    let k = u32::from_le_bytes(self.src.array("LONG_BINPUT")?);
                    self.memo_put(k, at)?;
                }
                b'p' => {
                    let k = self.text_int(at, "PUT")?;
                    let k = u32::try_from(k).map_err(|_| bad(at, format!("memo key {k}")))?;
                    self.memo_put(k, at)?;
                }
                0x94 => {
                    let k = u32::try_from(self.memo.len()).map_err(|_| bad(at, "memo full"))?;
                    self.memo_put(k, at)?;
                }
                b'h' => {
                    let k = self.src.byte("BINGET")? as u64;
                    self.memo_get(k, at)?;
                }
                b'j' => {
                    let k = u32::from_le_bytes(self.src.array("LONG_BINGET")?) as u64;
                    self.memo_get(k, at)?;
                }
                b'g' => {
                    let k = self.text_int(at, "GET")?;
                    self.memo_get(u64::try_from(k).unwrap_or(u64::MAX), at)?;
                }
                b'c' => {
                    let module = self.src.line("GLOBAL")?;
                    let name = self.src.line("GLOBAL")?;
                    let g = Global::lookup(&module, &name, at)?;
                    self.add(Node::Global(g))?;
                }
                0x93 => {
                    let name = self.pop(at, "STACK_GLOBAL")?;
                    let module = self.pop(at, "STACK_GLOBAL")?;
                    let (Some(m), Some(n)) = (self.arena.str(module), self.arena.str(name)) else {
                        return Err(bad(at, "STACK_GLOBAL of values that are not str"));
                    };
                    let g = Global::lookup(m, n, at)?;
                    self.add(Node::Global(g))?;
                }
                b'R' => {
                    let args = self.pop(at, "REDUCE")?;
                    let callable = self.pop(at, "REDUCE")?;
                    let v = globals::reduce(&mut self.arena, callable, args, at)?;
                    self.push(v)?;
                }
                0x81 => {
                    let args = self.pop(at, "NEWOBJ")?;
                    let class = self.pop(at, "NEWOBJ")?;
                    let v = globals::newobj(&mut self.arena, class, args, at)?;
                    self.push(v)?;
                }
                0x92 => {
                    let kwargs = self.pop(at, "NEWOBJ_EX")?;
                    if !matches!(self.arena.node(kwargs), Some(Node::Dict(d)) if d.is_empty()) {
                        return Err(bad(at, "NEWOBJ_EX with keyword arguments"));
                    }
                    let args = self.pop(at, "NEWOBJ_EX")?;
                    let class = self.pop(at, "NEWOBJ_EX")?;
                    let v = globals::newobj(&mut self.arena, class, args, at)?;
                    self.push(v)?;
                }
                b'b' => self.build(at)?,
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => self.src.byte("EXT1")? as u32,
                        0x83 => u16::from_le_bytes(self.src.array("EXT2")?) as u32,
                        _ => u32::from_le_bytes(self.src.array("EXT4")?),
                    };
                    return Err(globals::refused(&format!("extension code {code} of copyreg's registry"), at));
                }
                b'i' => {
                    let module = self.src.line("INST")?;
                    let name = self.src.line("INST")?;
                    return Err(globals::refused(&format!("{module}.{name}"), at));
                }
                b'o' => return Err(bad(at, "OBJ (protocol 1 instances of arbitrary classes)")),
                b'P' | b'Q' => return Err(bad(at, "a persistent id (PERSID / BINPERSID): joblib files have none")),
                0x97 | 0x98 => return Err(bad(at, "an out-of-band buffer (NEXT_BUFFER / READONLY_BUFFER): joblib files have none")),
                b'S' | b'V' => return Err(bad(at, "a protocol 0 quoted string (STRING / UNICODE), which mmnpy does not read")),
                _ => return Err(bad(at, format!("unknown opcode 0x{op:02x}"))),
            }
        }
    }

    fn build(&mut self, at: u64) -> Result<()> {
        let state = self.pop(at, "BUILD")?;
        let target = self.top(at, "BUILD")?;
        let Val::Ref(id) = target else {
            return Err(bad(at, format!("BUILD of {}", self.arena.describe(target))));
        };
        // A dtype (which may hold a large record) is built in place, not copied.
        if matches!(self.arena.nodes[id as usize], Node::Dtype(_)) {
            return globals::build_dtype(&mut self.arena, target, state, at);
        }
        match self.arena.nodes[id as usize].clone() {
            Node::Object(class) => {
                self.arena.nodes[id as usize] = Node::Spent(class);
                let v = self.builder.build(class, state, &mut self.arena, &mut self.src)?;
                let top = self.stack.len() - 1;
                self.stack[top] = v;
            }
            Node::Reconstruct => {
                let v = globals::build_reconstructed(&mut self.arena, state, at)?;
                let top = self.stack.len() - 1;
                self.stack[top] = v;
            }
            // OrderedDict's and set's state is None when they have no attributes.
            Node::Dict(_) | Node::Set(_) if state == Val::None => {}
            n => return Err(bad(at, format!("BUILD of {}", n.describe()))),
        }
        Ok(())
    }
}

/// A [`Build`] for plain pickles: no class may be built.
pub struct NoObjects;

impl Build for NoObjects {
    fn build(&mut self, class: Global, _state: Val, _arena: &mut Arena, src: &mut Source) -> Result<Val> {
        Err(bad(src.pos(), format!("BUILD of a {} object outside a joblib file", class.name())))
    }
}
