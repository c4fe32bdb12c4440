//! Reads file ranges into page-aligned buffers and feeds them to a hasher,
//! refusing files that are not what the walk saw or that change meanwhile.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::sync::Mutex;

use crate::algorithm::{HashAlgorithm, Hasher};
use crate::error::HashError;
use crate::progress::Progress;
use crate::walk::{FileEntry, Snapshot};

const PAGE: usize = 4096;
/// Read size for SHA-256 and BLAKE2b: large enough to amortize system calls,
/// small enough to stay in the L2 cache.
const STREAM_CHUNK: usize = 1 << 20;
/// Read size for BLAKE3, whose multithreaded update wants large inputs.
const BLAKE3_CHUNK: usize = 8 << 20;
/// Buffers kept for reuse between files.
const POOL_LIMIT: usize = 64;

/// A heap buffer whose usable part starts on a page boundary. Copying from the
/// page cache into a misaligned buffer is several times slower.
struct AlignedBuf {
    storage: Vec<u8>,
    offset: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> Self {
        let storage = vec![0u8; len + PAGE];
        let offset = storage.as_ptr().align_offset(PAGE).min(PAGE);
        AlignedBuf {
            storage,
            offset,
            len,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.storage[self.offset..self.offset + self.len]
    }
}

static POOL: Mutex<Vec<AlignedBuf>> = Mutex::new(Vec::new());

/// Takes a buffer of at least `len` bytes from the pool, or allocates one.
fn take_buf(len: usize) -> AlignedBuf {
    if let Ok(mut pool) = POOL.lock() {
        if let Some(i) = pool.iter().position(|b| b.len >= len) {
            return pool.swap_remove(i);
        }
    }
    AlignedBuf::new(len)
}

fn give_buf(buf: AlignedBuf) {
    // Only full-size buffers are worth keeping; small ones are cheap to make.
    if buf.len < STREAM_CHUNK {
        return;
    }
    if let Ok(mut pool) = POOL.lock() {
        if pool.len() < POOL_LIMIT {
            pool.push(buf);
        }
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
    Ok(())
}

/// Opens the file without following a final symlink (unless the walk followed
/// one there) and without blocking on a FIFO, then checks that the opened file
/// is the regular file the walk saw.
fn open_checked(entry: &FileEntry) -> Result<File, HashError> {
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
        Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
            return Err(HashError::SpecialFile {
                path: entry.fs_path.clone(),
                kind: "socket",
            })
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

/// Fills `buf` from `offset`, returning fewer bytes only at end of file.
fn read_full(file: &File, buf: &mut [u8], mut offset: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset) {
            Ok(0) => break,
            Ok(n) => {
                done += n;
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Hashes bytes `[start, end)` of the file, or the whole file when `range` is
/// `None`. Fails if the file is not exactly as the walk saw it, before or after.
pub(crate) fn hash_entry(
    entry: &FileEntry,
    range: Option<(u64, u64)>,
    algorithm: HashAlgorithm,
    progress: &dyn Progress,
) -> Result<Vec<u8>, HashError> {
    let file = open_checked(entry)?;
    let size = entry.snapshot.size;
    let (start, end) = range.unwrap_or((0, size));
    let io_err = |e| HashError::io(&entry.fs_path, e);

    let mut hasher = Hasher::new(algorithm);
    let total = end - start;
    let chunk = if algorithm == HashAlgorithm::Blake3 {
        BLAKE3_CHUNK
    } else {
        STREAM_CHUNK
    };
    let buf_len = usize::try_from(total).unwrap_or(usize::MAX).clamp(1, chunk);

    if algorithm == HashAlgorithm::Blake3 && total > chunk as u64 {
        // Read the next chunk while the thread pool hashes the current one.
        let mut cur = take_buf(buf_len);
        let mut next = take_buf(buf_len);
        let mut pos = start;
        let mut cur_len =
            read_full(&file, &mut cur.as_mut_slice()[..buf_len], pos).map_err(io_err)?;
        if cur_len < buf_len {
            return Err(changed(entry, "it became shorter while being read"));
        }
        pos += cur_len as u64;
        loop {
            let want = usize::try_from(end - pos)
                .unwrap_or(usize::MAX)
                .min(buf_len);
            let (read_result, ()) = rayon::join(
                || read_full(&file, &mut next.as_mut_slice()[..want], pos),
                || hasher.update(&cur.as_mut_slice()[..cur_len]),
            );
            progress.advance(cur_len as u64);
            if want == 0 {
                break;
            }
            let n = read_result.map_err(io_err)?;
            if n < want {
                return Err(changed(entry, "it became shorter while being read"));
            }
            pos += n as u64;
            std::mem::swap(&mut cur, &mut next);
            cur_len = n;
        }
        give_buf(cur);
        give_buf(next);
    } else {
        let mut buf = take_buf(buf_len);
        let mut pos = start;
        while pos < end {
            let want = usize::try_from(end - pos)
                .unwrap_or(usize::MAX)
                .min(buf_len);
            let slice = &mut buf.as_mut_slice()[..want];
            let n = read_full(&file, slice, pos).map_err(io_err)?;
            if n < want {
                return Err(changed(entry, "it became shorter while being read"));
            }
            hasher.update(&slice[..n]);
            progress.advance(n as u64);
            pos += n as u64;
        }
        give_buf(buf);
    }

    if end == size {
        let mut probe = [0u8; 1];
        if read_full(&file, &mut probe, end).map_err(io_err)? != 0 {
            return Err(changed(entry, "it grew while being read"));
        }
    }
    let meta = file.metadata().map_err(io_err)?;
    compare(entry, &Snapshot::of(&meta))?;
    Ok(hasher.finalize())
}
