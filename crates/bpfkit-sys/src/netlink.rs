//! Traffic control through rtnetlink, for kernels without tcx (before 6.6): the `clsact`
//! qdisc and `bpf` filters in direct-action mode, as `tc filter add dev DEV ingress bpf da`
//! and libbpf's `bpf_tc_hook_create`/`bpf_tc_attach` do.

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::error::{Errno, Error, Result};

const RTM_NEWQDISC: u16 = 36;
const RTM_NEWTFILTER: u16 = 44;
const RTM_DELTFILTER: u16 = 45;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
const TCA_KIND: u16 = 1;
const TCA_OPTIONS: u16 = 2;
const TCA_BPF_FD: u16 = 6;
const TCA_BPF_NAME: u16 = 7;
const TCA_BPF_FLAGS: u16 = 8;
const TCA_BPF_FLAG_ACT_DIRECT: u32 = 1;
const TC_H_CLSACT: u32 = 0xffff_fff1;
const TC_H_MIN_INGRESS: u32 = 0xfff2;
const TC_H_MIN_EGRESS: u32 = 0xfff3;
const ETH_P_ALL: u16 = 0x0003;

/// Which way a tc program sees packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcDirection {
    /// Received packets.
    Ingress,
    /// Sent packets.
    Egress,
}

/// A `bpf` filter attached with [`tc_attach`]: enough to delete it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcFilter {
    /// The interface.
    pub ifindex: u32,
    /// The direction.
    pub direction: TcDirection,
    /// Its priority.
    pub priority: u16,
    /// Its handle.
    pub handle: u32,
}

struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

impl Netlink {
    fn open() -> Result<Netlink> {
        // SAFETY: socket(2) with constant arguments returns a new descriptor or -1.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(Error::os("socket(AF_NETLINK)", ""));
        }
        // SAFETY: a new descriptor nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let one: libc::c_int = 1;
        // SAFETY: NETLINK_EXT_ACK reads an int of the size given.
        unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_NETLINK,
                libc::NETLINK_EXT_ACK,
                (&raw const one).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(Netlink { fd, seq: 1 })
    }

    /// Sends a request with a `struct tcmsg` and attributes; waits for the kernel's ack.
    fn request(
        &mut self,
        kind: u16,
        flags: u16,
        tcmsg: &[u8; 20],
        attrs: &[u8],
        what: &str,
    ) -> Result<()> {
        self.seq += 1;
        let len = 16 + tcmsg.len() + attrs.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&kind.to_ne_bytes());
        msg.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        msg.extend_from_slice(&self.seq.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(tcmsg);
        msg.extend_from_slice(attrs);
        // SAFETY: `msg` is readable for its length; the netlink socket sends to the kernel.
        let sent = unsafe { libc::send(self.fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) };
        if sent < 0 {
            return Err(Error::os("send(netlink)", what));
        }
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: `buf` is writable for its length.
            let n =
                unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                return Err(Error::os("recv(netlink)", what));
            }
            let mut off = 0usize;
            let n = n as usize;
            while off + 16 <= n {
                let msg_len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
                let msg_type = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
                let seq = u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap());
                if msg_len < 16 || off + msg_len > n {
                    break;
                }
                if msg_type == NLMSG_ERROR && seq == self.seq && msg_len >= 20 {
                    let error = i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap());
                    if error == 0 {
                        return Ok(());
                    }
                    return Err(Error::Os {
                        call: "rtnetlink",
                        context: what.to_string(),
                        errno: Errno(-error),
                    });
                }
                off += msg_len.next_multiple_of(4);
            }
        }
    }
}

/// `struct tcmsg`: family, ifindex, handle, parent, info.
fn tcmsg(ifindex: u32, handle: u32, parent: u32, info: u32) -> [u8; 20] {
    let mut m = [0u8; 20];
    m[0] = libc::AF_UNSPEC as u8;
    m[4..8].copy_from_slice(&(ifindex as i32).to_ne_bytes());
    m[8..12].copy_from_slice(&handle.to_ne_bytes());
    m[12..16].copy_from_slice(&parent.to_ne_bytes());
    m[16..20].copy_from_slice(&info.to_ne_bytes());
    m
}

/// Appends a netlink attribute.
fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let len = 4 + payload.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// Adds the `clsact` qdisc to interface `ifindex`; `Ok(false)` if it was there already.
pub fn tc_clsact_create(ifindex: u32) -> Result<bool> {
    let mut nl = Netlink::open()?;
    let mut attrs = Vec::new();
    attr(&mut attrs, TCA_KIND, b"clsact\0");
    let msg = tcmsg(ifindex, TC_H_CLSACT & 0xffff_0000, TC_H_CLSACT, 0);
    match nl.request(
        RTM_NEWQDISC,
        NLM_F_CREATE | NLM_F_EXCL,
        &msg,
        &attrs,
        "add clsact qdisc",
    ) {
        Ok(()) => Ok(true),
        Err(e) if e.errno() == Some(Errno(libc::EEXIST)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Attaches `prog` as a direct-action `bpf` filter named `name` on `ifindex` in `direction`,
/// with `priority` (1 or more) and `handle` (1 or more).
pub fn tc_attach(
    ifindex: u32,
    direction: TcDirection,
    prog: BorrowedFd<'_>,
    name: &str,
    priority: u16,
    handle: u32,
) -> Result<TcFilter> {
    let mut nl = Netlink::open()?;
    let mut options = Vec::new();
    attr(
        &mut options,
        TCA_BPF_FD,
        &(prog.as_raw_fd() as u32).to_ne_bytes(),
    );
    let mut c_name = name.as_bytes().to_vec();
    c_name.push(0);
    attr(&mut options, TCA_BPF_NAME, &c_name);
    attr(
        &mut options,
        TCA_BPF_FLAGS,
        &TCA_BPF_FLAG_ACT_DIRECT.to_ne_bytes(),
    );
    let mut attrs = Vec::new();
    attr(&mut attrs, TCA_KIND, b"bpf\0");
    // TCA_OPTIONS is a nested attribute.
    attr(&mut attrs, TCA_OPTIONS | (1 << 15), &options);
    let info = (u32::from(priority) << 16) | u32::from(ETH_P_ALL.to_be());
    let msg = tcmsg(ifindex, handle, parent(direction), info);
    nl.request(
        RTM_NEWTFILTER,
        NLM_F_CREATE | NLM_F_EXCL,
        &msg,
        &attrs,
        "add bpf filter",
    )?;
    Ok(TcFilter {
        ifindex,
        direction,
        priority,
        handle,
    })
}

/// Deletes a filter [`tc_attach`] added.
pub fn tc_detach(filter: &TcFilter) -> Result<()> {
    let mut nl = Netlink::open()?;
    let info = (u32::from(filter.priority) << 16) | u32::from(ETH_P_ALL.to_be());
    let mut attrs = Vec::new();
    attr(&mut attrs, TCA_KIND, b"bpf\0");
    let msg = tcmsg(
        filter.ifindex,
        filter.handle,
        parent(filter.direction),
        info,
    );
    nl.request(RTM_DELTFILTER, 0, &msg, &attrs, "delete bpf filter")
}

fn parent(direction: TcDirection) -> u32 {
    let minor = match direction {
        TcDirection::Ingress => TC_H_MIN_INGRESS,
        TcDirection::Egress => TC_H_MIN_EGRESS,
    };
    (TC_H_CLSACT & 0xffff_0000) | minor
}

/// The index of network interface `name` (`if_nametoindex`), in the calling thread's network
/// namespace.
pub fn ifindex(name: &str) -> Result<u32> {
    let c = std::ffi::CString::new(name)
        .map_err(|_| Error::InvalidArgument(format!("interface `{name}` contains a NUL byte")))?;
    // SAFETY: `c` is a NUL-terminated string alive for the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if index == 0 {
        return Err(Error::os("if_nametoindex", name));
    }
    Ok(index)
}
