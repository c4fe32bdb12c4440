//! Reads file ranges into page-aligned buffers and feeds them to a hasher,
//! refusing files that are not what the walk saw or that change meanwhile.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};

use crate::error::HashError;
use crate::progress::Progress;
use crate::walk::{special_kind, FileEntry, Snapshot};

const PAGE: usize = 4096;

/// A reusable heap buffer whose usable part starts on a page boundary:
/// copying from the page cache into a misaligned buffer is several times
/// slower. Each hashing thread owns one, so memory use is the number of
/// threads times the read size, whatever the size of the model.
pub(crate) struct Buffer {
    storage: Vec<u8>,
    offset: usize,
    min_len: usize,
}

impl Buffer {
    /// An empty buffer that allocates at least `min_len` bytes on first use.
    pub(crate) fn new(min_len: usize) -> Self {
        Buffer {
            storage: Vec::new(),
            offset: 0,
            min_len,
        }
    }

    /// `len` bytes starting on a page boundary.
    fn get(&mut self, len: usize) -> &mut [u8] {
        if self.storage.len() < self.offset + len {
            let cap = len.max(self.min_len);
            self.storage = vec![0u8; cap + PAGE];
            self.offset = self.storage.as_ptr().align_offset(PAGE).min(PAGE);
        }
        &mut self.storage[self.offset..self.offset + len]
    }
}

fn changed(entry: &FileEntry, detail: impl Into<String>) -> HashError {
    HashError::FileChanged {
        path: entry.fs_path.clone(),
        detail: detail.into(),
    }
}

fn compare(entry: &FileEntry, now: &Snapshot) -> Result<(), HashError> {
    let was = &entry.snapshot;
    if (now.dev, now.ino) != (was.dev, was.ino) {
        return Err(changed(entry, "it was replaced by another file"));
    }
    if now.size != was.size {
        return Err(changed(
            entry,
            format!("size was {} bytes, now {}", was.size, now.size),
        ));
    }
    if (now.mtime, now.mtime_nsec) != (was.mtime, was.mtime_nsec) {
        return Err(changed(entry, "its modification time changed"));
    }
    // Catches a rewrite whose modification time was set back afterwards.
    if (now.ctime, now.ctime_nsec) != (was.ctime, was.ctime_nsec) {
        return Err(changed(entry, "its status change time changed"));
    }
    Ok(())
}

/// Opens the file without following a final symlink (unless the walk followed
/// one there) and without blocking on a FIFO, then checks that the opened file
/// is the regular file the walk saw.
pub(crate) fn open_checked(entry: &FileEntry) -> Result<File, HashError> {
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
    if !entry.via_symlink {
        flags |= libc::O_NOFOLLOW;
    }
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(&entry.fs_path)
    {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(changed(entry, "it was replaced by a symbolic link"))
        }
        // Opening a socket, or a device with no driver behind it, for
        // reading: the file was replaced after the walk. Say which it is.
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            let meta = if entry.via_symlink {
                fs::metadata(&entry.fs_path)
            } else {
                fs::symlink_metadata(&entry.fs_path)
            };
            return Err(HashError::SpecialFile {
                path: entry.fs_path.clone(),
                kind: meta.map_or("special file", |m| special_kind(&m.file_type())),
            });
        }
        Err(e) => return Err(HashError::io(&entry.fs_path, e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| HashError::io(&entry.fs_path, e))?;
    if !meta.file_type().is_file() {
        return Err(HashError::SpecialFile {
            path: entry.fs_path.clone(),
            kind: "non-regular file (it was replaced after it was listed)",
        });
    }
    compare(entry, &Snapshot::of(&meta))?;
    Ok(file)
}

/// Reads into `buf` from `offset` until it holds at least `min` bytes (or is
/// full), or the file ends; returns the number of bytes read. At least one
/// read is made, so with `min` one short of the buffer's length a single
/// read both fetches the wanted bytes and checks that nothing follows them.
fn read_at_least(file: &File, buf: &mut [u8], min: usize, offset: u64) -> io::Result<usize> {
    let mut done = 0;
    loop {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => return Ok(done),
            Ok(n) => {
                done += n;
                if done >= min || done == buf.len() {
                    return Ok(done);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// A range at least this long may be read by a thread of its own, ahead of
/// the hashing ([`read_pipelined`]).
pub(crate) const PIPELINE_MIN: u64 = 32 << 20;

/// How many read buffers a pipelined range uses: one being hashed, one
/// being filled, the others ready.
const PIPELINE_BUFFERS: usize = 4;

/// The piece size of a pipelined read: the hashing reads it from memory
/// anyway (another core filled it), so larger pieces cost nothing there and
/// give the storage longer requests.
const PIPELINE_PIECE: usize = 4 << 20;

/// Reads one piece at `pos` of at most `read_size` bytes into `buf` with the
/// end-of-file probe of [`read_range`]; returns how many bytes are wanted.
fn read_piece(
    entry: &FileEntry,
    file: &File,
    (pos, end): (u64, u64),
    read_size: usize,
    buf: &mut Buffer,
) -> Result<usize, HashError> {
    let want = usize::try_from(end - pos)
        .unwrap_or(usize::MAX)
        .min(read_size);
    let probe = usize::from(pos + want as u64 == entry.snapshot.size);
    let slice = buf.get(want + probe);
    let n = read_at_least(file, slice, want, pos).map_err(|e| HashError::io(&entry.fs_path, e))?;
    if n < want {
        return Err(changed(entry, "it became shorter while being read"));
    }
    if n > want {
        return Err(changed(entry, "it grew while being read"));
    }
    Ok(want)
}

/// [`read_range`] for a long range: a scoped thread reads the pieces into
/// a few buffers while this thread hashes them, so that reading from
/// storage (a cold page cache) overlaps hashing instead of alternating with
/// it. Stops both as soon as either fails or hashing is cancelled.
fn read_pipelined(
    entry: &FileEntry,
    file: &File,
    (start, end): (u64, u64),
    read_size: usize,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), HashError> {
    use std::sync::mpsc;
    let read_size = read_size.max(PIPELINE_PIECE);
    std::thread::scope(|scope| {
        let (full_tx, full_rx) = mpsc::sync_channel::<(Buffer, usize)>(PIPELINE_BUFFERS - 1);
        let (empty_tx, empty_rx) = mpsc::channel::<Buffer>();
        for _ in 0..PIPELINE_BUFFERS {
            let _ = empty_tx.send(Buffer::new(read_size + 1));
        }
        let reader = scope.spawn(move || -> Result<(), HashError> {
            let mut pos = start;
            while pos < end {
                let Ok(mut buf) = empty_rx.recv() else {
                    return Ok(()); // the hashing stopped
                };
                let want = read_piece(entry, file, (pos, end), read_size, &mut buf)?;
                pos += want as u64;
                if full_tx.send((buf, want)).is_err() {
                    return Ok(());
                }
            }
            Ok(())
        });
        let mut outcome = Ok(());
        for (mut buf, want) in full_rx.iter() {
            sink(&buf.get(want)[..want]);
            progress.advance(want as u64);
            if progress.cancelled() {
                outcome = Err(HashError::Cancelled);
                break;
            }
            let _ = empty_tx.send(buf);
        }
        drop(full_rx);
        drop(empty_tx);
        let read = match reader.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        // A read error ends the pieces early: report it rather than a
        // silently short hash.
        read.and(outcome)
    })
}

/// Feeds bytes `[start, end)` of the file to `sink`, in pieces of at most
/// `read_size` bytes (with `pipeline`, a range of [`PIPELINE_MIN`] bytes or
/// more is read ahead by a thread of its own). Fails if the file is not exactly as the walk saw it,
/// before or after, or if a range that reaches the end of the file is not
/// followed by end of file.
///
/// The read that reaches the end of the file asks for one byte more than the
/// walk saw: receiving it means the file grew, and a regular file returns
/// fewer bytes than asked only at its end, so getting exactly the wanted
/// bytes is the end-of-file check (the fstat afterwards confirms the size).
/// System calls for a small file: open, fstat, one read, fstat, close.
pub(crate) fn read_range(
    entry: &FileEntry,
    (start, end): (u64, u64),
    read_size: usize,
    pipeline: bool,
    buf: &mut Buffer,
    progress: &dyn Progress,
    sink: &mut dyn FnMut(&[u8]),
) -> Result<(), HashError> {
    let file = open_checked(entry)?;
    let size = entry.snapshot.size;
    let io_err = |e| HashError::io(&entry.fs_path, e);
    if pipeline && end - start >= PIPELINE_MIN {
        read_pipelined(entry, &file, (start, end), read_size, progress, sink)?;
        let meta = file.metadata().map_err(io_err)?;
        return compare(entry, &Snapshot::of(&meta));
    }
    let mut pos = start;
    loop {
        let want = usize::try_from(end - pos)
            .unwrap_or(usize::MAX)
            .min(read_size);
        // Reading up to the end of the file: ask for one byte more, which
        // must not come.
        let probe = usize::from(pos + want as u64 == size);
        let slice = buf.get(want + probe);
        let n = read_at_least(&file, slice, want, pos).map_err(io_err)?;
        if n < want {
            return Err(changed(entry, "it became shorter while being read"));
        }
        if n > want {
            return Err(changed(entry, "it grew while being read"));
        }
        if want > 0 {
            sink(&slice[..want]);
            progress.advance(want as u64);
        }
        if progress.cancelled() {
            return Err(HashError::Cancelled);
        }
        pos += want as u64;
        if pos >= end {
            break;
        }
    }
    let meta = file.metadata().map_err(io_err)?;
    compare(entry, &Snapshot::of(&meta))
}
