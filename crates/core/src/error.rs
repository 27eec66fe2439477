//! Errors of mmnpy: one enum of kinds, each with a stable code (`ERR_MMNPY_...`)
//! that the JavaScript layer exposes as `error.code`, and a message that names
//! the file and the problem.

use std::fmt;
use std::io;
use std::path::Path;

/// What went wrong. The code of each kind is part of the public API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file does not start with the `.npy` magic string.
    BadMagic,
    /// The `.npy` format version is not 1.0, 2.0 or 3.0.
    BadVersion,
    /// The header is not the strict literal dict the format prescribes.
    BadHeader,
    /// The shape is invalid: a dimension or the total size overflows 64 bits.
    BadShape,
    /// The dtype is valid NumPy but not one mmnpy maps (structured, string, object, ...).
    UnsupportedDtype,
    /// The file is shorter than its header (or the requested shape) says.
    Truncated,
    /// The operating system refused an operation (open, map, write, rename, ...).
    Io,
    /// An argument is out of its domain (bad mode, shape, dtype spelling, ...).
    InvalidArgument,
    /// The array was closed; its memory is no longer mapped.
    Closed,
    /// A write was attempted on a read-only array.
    ReadOnly,
    /// An index is out of range.
    OutOfRange,
    /// The runtime refuses external buffers (e.g. Electron's V8 memory cage).
    NoExternalBuffers,
    /// The kernel will not reserve the memory a mapping or copy needs (strict
    /// overcommit accounting, a memory limit); the message says what to do instead.
    NoMemory,
    /// A zip archive (`.npz`) is malformed: no or a truncated central directory,
    /// offsets or sizes outside the file, headers that disagree, overlapping members,
    /// a member that inflates past its declared size.
    BadZip,
    /// A zip member's CRC-32 differs from the one its headers record.
    Checksum,
    /// A valid zip feature mmnpy does not read: encryption, a compression method
    /// other than stored and deflate, archives split over several disks.
    UnsupportedZip,
    /// The mode is valid but not for this kind of file (`'r+'` on an `.npz`).
    UnsupportedMode,
    /// No member of that name in the archive.
    NotFound,
    /// A sparse matrix's parts disagree: `indptr` not starting at 0, decreasing or not
    /// ending at the number of stored values, an index out of range, lengths that differ.
    BadSparse,
    /// A pickle stream (a joblib file) is malformed: an unknown or misplaced opcode, a
    /// length past the end, a memo reference out of range, a limit of the restricted
    /// machine exceeded (stack, memo, objects).
    BadPickle,
    /// A pickle names a global (class or function) outside mmnpy's whitelist: loading it
    /// would run code (`os.system`, a pandas DataFrame, a scikit-learn model, ...).
    UnsafePickle,
    /// A compressed file whose compressor mmnpy does not read.
    UnsupportedCompression,
    /// An HDF5 file is malformed: a bad signature or version, an address or size past
    /// the end of the file, a cycle in its B-trees, object headers or groups, a chunk
    /// that inflates past its size, a checksum that does not match.
    BadHdf5,
    /// An HDF5 dataset uses a filter mmnpy does not decode (lzf, szip, scale-offset, ...).
    UnsupportedFilter,
    /// A dataset cannot be mapped zero-copy (chunked, filtered, compact, or its data
    /// offset does not suit its dtype); the message says why.
    NotMappable,
    /// What is being created exists already: a file opened `'w-'`, a group or dataset
    /// name in an HDF5 group.
    Exists,
}

impl ErrorKind {
    /// The stable code, exposed to JavaScript as `error.code`.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::BadMagic => "ERR_MMNPY_BAD_MAGIC",
            ErrorKind::BadVersion => "ERR_MMNPY_BAD_VERSION",
            ErrorKind::BadHeader => "ERR_MMNPY_BAD_HEADER",
            ErrorKind::BadShape => "ERR_MMNPY_BAD_SHAPE",
            ErrorKind::UnsupportedDtype => "ERR_MMNPY_UNSUPPORTED_DTYPE",
            ErrorKind::Truncated => "ERR_MMNPY_TRUNCATED",
            ErrorKind::Io => "ERR_MMNPY_IO",
            ErrorKind::InvalidArgument => "ERR_MMNPY_INVALID_ARG",
            ErrorKind::Closed => "ERR_MMNPY_CLOSED",
            ErrorKind::ReadOnly => "ERR_MMNPY_READONLY",
            ErrorKind::OutOfRange => "ERR_MMNPY_OUT_OF_RANGE",
            ErrorKind::NoExternalBuffers => "ERR_MMNPY_NO_EXTERNAL_BUFFERS",
            ErrorKind::NoMemory => "ERR_MMNPY_NO_MEMORY",
            ErrorKind::BadZip => "ERR_MMNPY_BAD_ZIP",
            ErrorKind::Checksum => "ERR_MMNPY_CHECKSUM",
            ErrorKind::UnsupportedZip => "ERR_MMNPY_UNSUPPORTED_ZIP",
            ErrorKind::UnsupportedMode => "ERR_MMNPY_UNSUPPORTED_MODE",
            ErrorKind::NotFound => "ERR_MMNPY_NOT_FOUND",
            ErrorKind::BadSparse => "ERR_MMNPY_BAD_SPARSE",
            ErrorKind::BadPickle => "ERR_MMNPY_BAD_PICKLE",
            ErrorKind::UnsafePickle => "ERR_MMNPY_UNSAFE_PICKLE",
            ErrorKind::UnsupportedCompression => "ERR_MMNPY_UNSUPPORTED_COMPRESSION",
            ErrorKind::BadHdf5 => "ERR_MMNPY_BAD_HDF5",
            ErrorKind::UnsupportedFilter => "ERR_MMNPY_UNSUPPORTED_FILTER",
            ErrorKind::NotMappable => "ERR_MMNPY_NOT_MAPPABLE",
            ErrorKind::Exists => "ERR_MMNPY_EXISTS",
        }
    }
}

/// An mmnpy error: a kind, a message, and the file it concerns (when there is one).
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    path: Option<String>,
    os_code: Option<String>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), path: None, os_code: None }
    }

    /// An OS error, with what was being done (`"cannot open"`).
    pub fn io(doing: &str, err: &io::Error) -> Self {
        let os_code = errno_name(err);
        let mut e = Error::new(ErrorKind::Io, format!("{doing}: {err}"));
        e.os_code = os_code;
        e
    }

    /// Names the file the error concerns (the first call wins).
    pub fn at(mut self, path: &Path) -> Self {
        if self.path.is_none() {
            self.path = Some(path.display().to_string());
        }
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    /// The message without the file name.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The errno name (`ENOENT`) of an OS error, when known.
    pub fn os_code(&self) -> Option<&str> {
        self.os_code.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p, self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand constructors used across the crate.
pub(crate) fn err<T>(kind: ErrorKind, message: impl Into<String>) -> Result<T> {
    Err(Error::new(kind, message))
}

fn errno_name(err: &io::Error) -> Option<String> {
    use io::ErrorKind as K;
    let name = match err.kind() {
        K::NotFound => "ENOENT",
        K::PermissionDenied => "EACCES",
        K::AlreadyExists => "EEXIST",
        K::InvalidInput => "EINVAL",
        K::IsADirectory => "EISDIR",
        K::NotADirectory => "ENOTDIR",
        K::OutOfMemory => "ENOMEM",
        K::StorageFull => "ENOSPC",
        K::ReadOnlyFilesystem => "EROFS",
        K::FileTooLarge => "EFBIG",
        _ => return err.raw_os_error().map(|c| format!("E{c}")),
    };
    Some(name.to_string())
}
