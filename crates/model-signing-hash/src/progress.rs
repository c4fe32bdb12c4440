/// Receives progress reports from the engine. Called from many threads.
///
/// The library never draws anything itself: a command-line front end
/// implements this with a progress bar, a service might export metrics.
pub trait Progress: Sync {
    /// Hashing is about to start: `total_bytes` in `total_items` files or shards.
    fn start(&self, total_bytes: u64, total_items: usize) {
        let _ = (total_bytes, total_items);
    }
    /// `bytes` more bytes were hashed.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }
    /// One more file or shard is done.
    fn item_done(&self) {}
    /// Hashing ended (successfully or not).
    fn finish(&self) {}
    /// Whether to stop: asked after every read (at most a few MiB per
    /// thread), so hashing ends soon after this turns true, with
    /// [`HashError::Cancelled`](crate::HashError::Cancelled).
    fn cancelled(&self) -> bool {
        false
    }
}

/// A [`Progress`] that ignores every report.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
