//! tracefs: tracepoint ids and the trace pipe where `bpf_printk` writes.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Errno, Error, Result};

/// Where tracefs is mounted: `/sys/kernel/tracing`, or `/sys/kernel/debug/tracing` on older
/// systems; `None` when neither is (mount it with `mount -t tracefs nodev /sys/kernel/tracing`).
pub fn root() -> Option<PathBuf> {
    ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.join("events").is_dir())
}

fn require_root() -> Result<PathBuf> {
    root().ok_or_else(|| Error::Os {
        call: "tracefs",
        context: "tracefs is not mounted at /sys/kernel/tracing or /sys/kernel/debug/tracing"
            .into(),
        errno: Errno(libc::ENOENT),
    })
}

/// The id of tracepoint `category/name` (`events/CATEGORY/NAME/id`).
pub fn tracepoint_id(category: &str, name: &str) -> Result<u64> {
    if [category, name]
        .iter()
        .any(|s| s.is_empty() || s.contains('/') || *s == "..")
    {
        return Err(Error::InvalidArgument(format!(
            "`{category}/{name}` is not a tracepoint name"
        )));
    }
    let path = require_root()?
        .join("events")
        .join(category)
        .join(name)
        .join("id");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io("read", path.display().to_string(), &e))?;
    text.trim().parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "{}: `{}` is not an id",
            path.display(),
            text.trim()
        ))
    })
}

/// The trace pipe (`trace_pipe`): the lines `bpf_printk` and `bpf_trace_printk` write, read
/// as they come (each line is consumed by whoever reads it first).
#[derive(Debug)]
pub struct TracePipe {
    file: std::fs::File,
    buf: Vec<u8>,
}

impl TracePipe {
    /// Opens `trace_pipe`, non-blocking.
    pub fn open() -> Result<TracePipe> {
        let path = require_root()?.join("trace_pipe");
        TracePipe::open_path(&path)
    }

    fn open_path(path: &Path) -> Result<TracePipe> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| Error::io("open", path.display().to_string(), &e))?;
        Ok(TracePipe {
            file,
            buf: Vec::new(),
        })
    }

    /// The complete lines available now (none if nothing was written).
    pub fn read_lines(&mut self) -> Result<Vec<String>> {
        let mut chunk = [0u8; 4096];
        loop {
            match self.file.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("read", "trace_pipe", &e)),
            }
        }
        let mut lines = Vec::new();
        while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=end).collect();
            lines.push(String::from_utf8_lossy(&line[..end]).into_owned());
        }
        Ok(lines)
    }
}

impl std::os::fd::AsFd for TracePipe {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.file.as_fd()
    }
}
