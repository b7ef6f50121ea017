//! Attaching loaded programs, each the way its program type and section call for, and
//! [`Attachment`]: the attached program as an owned value that detaches on drop.
//!
//! | program | how |
//! |---|---|
//! | XDP | a `BPF_XDP` link on an interface |
//! | tc (`SCHED_CLS`) | a tcx link (6.6+); without tcx, the `clsact` qdisc and a `bpf` filter |
//! | socket filter | `SO_ATTACH_BPF` on a socket |
//! | raw_tp | `BPF_RAW_TRACEPOINT_OPEN` |
//! | tracepoint | the tracepoint's perf event (id from tracefs), linked (`BPF_PERF_EVENT`) |
//! | kprobe/kretprobe | a perf event of the kprobe PMU; `kprobe.multi` sections a kprobe_multi link |
//! | uprobe/uretprobe | a perf event of the uprobe PMU at a function's file offset |
//! | fentry/fexit/fmod_ret, tp_btf, lsm, iter | a link to the BTF target given at load |
//! | cgroup programs | a link on the cgroup directory |
//! | perf_event | a cpu-clock sampling event on each online cpu |
//! | others (sk_msg, sk_lookup, flow_dissector, ...) | a link on a given file descriptor |

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use bpfkit_sys::netlink::{self, TcDirection, TcFilter};
use bpfkit_sys::{AttachType, Errno, Link, LinkCreate, LinkTarget, PerfEvent, ProgType};

use crate::error::LoadError;
use crate::object::LoadedProgram;

/// Where to attach a program.
#[derive(Clone, Debug)]
pub enum AttachPoint<'a> {
    /// What the program's section names (`kprobe/do_unlinkat`, `tracepoint/syscalls/...`,
    /// `raw_tp/sched_switch`), or the BTF target it was loaded with (fentry, lsm, tp_btf).
    Section,
    /// A network interface (XDP, tc), by name; tc programs attach in the direction their
    /// section says, else on ingress.
    Interface(&'a str),
    /// A network interface by index.
    Ifindex(u32),
    /// A tc program on an interface in a given direction.
    Tc {
        /// The interface.
        ifindex: u32,
        /// The direction.
        direction: TcDirection,
        /// Use the `clsact` qdisc and a `bpf` filter even where tcx exists.
        legacy: bool,
    },
    /// A kernel function (kprobe/kretprobe programs).
    Kprobe {
        /// The function.
        function: &'a str,
        /// Byte offset into it.
        offset: u64,
    },
    /// A tracepoint.
    Tracepoint {
        /// Its category (`syscalls`).
        category: &'a str,
        /// Its name (`sys_enter_openat`).
        name: &'a str,
    },
    /// A raw tracepoint by name.
    RawTracepoint(&'a str),
    /// A function of an ELF file (uprobe/uretprobe programs).
    Uprobe {
        /// The executable or library.
        binary: &'a Path,
        /// The function's symbol.
        symbol: &'a str,
        /// The process to probe, or every process.
        pid: Option<i32>,
    },
    /// A cgroup (v2) directory.
    Cgroup(&'a Path),
    /// A socket (socket filters).
    Socket(BorrowedFd<'a>),
    /// Sampling at `freq` Hz on every online cpu (perf_event programs).
    Sampling {
        /// Samples per second per cpu.
        freq: u64,
    },
    /// Any other file descriptor, linked with the program's expected attach type.
    Fd(BorrowedFd<'a>),
}

/// How an [`Attachment`] holds its hook.
#[derive(Debug)]
enum Hook {
    /// A BPF link: closing it detaches.
    Link(Link),
    /// Perf events with the program attached, each through a link or `SET_BPF`: closing them
    /// detaches.
    PerfEvents(Vec<(PerfEvent, Option<Link>)>),
    /// A tc filter, deleted on drop.
    Tc(TcFilter),
    /// A socket's filter, removed on drop.
    Socket(OwnedFd),
}

/// An attached program: dropping it detaches the program (a pinned link stays attached until
/// its pin is removed).
#[derive(Debug)]
pub struct Attachment {
    hook: Hook,
    /// How it was attached, for messages (`xdp link on ifindex 3`, `kprobe do_unlinkat`).
    pub description: String,
}

impl Attachment {
    /// The BPF link, for attachments made through one.
    pub fn link(&self) -> Option<&Link> {
        match &self.hook {
            Hook::Link(link) => Some(link),
            Hook::PerfEvents(events) if events.len() == 1 => events[0].1.as_ref(),
            _ => None,
        }
    }

    /// Pins the attachment's link at `path`: the program then stays attached after the
    /// attachment is dropped, until the pin is removed. Only links can be pinned.
    pub fn pin(&self, path: impl AsRef<Path>) -> Result<(), LoadError> {
        let link = self.link().ok_or_else(|| {
            LoadError::Invalid(format!(
                "{}: not a BPF link, cannot be pinned",
                self.description
            ))
        })?;
        link.pin(path)
            .map_err(|source| attach_error(&self.description, source))
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        // Links and perf events detach when their descriptors close; the others are undone.
        match &self.hook {
            Hook::Tc(filter) => {
                let _ = netlink::tc_detach(filter);
            }
            Hook::Socket(fd) => {
                let _ = bpfkit_sys::detach_socket_filter(fd.as_fd());
            }
            Hook::Link(_) | Hook::PerfEvents(_) => {}
        }
    }
}

fn attach_error(what: &str, source: bpfkit_sys::Error) -> LoadError {
    LoadError::Attach {
        what: what.to_string(),
        source,
    }
}

impl LoadedProgram {
    /// Attaches the program at `point`.
    ///
    /// ```no_run
    /// use bpfkit_loader::{AttachPoint, ObjectSpec};
    /// let loaded = ObjectSpec::open_file("xdp.o")?.load()?;
    /// let attached = loaded.program("xdp_parse")?.attach(AttachPoint::Interface("eth0"))?;
    /// // ... until `attached` is dropped.
    /// # Ok::<(), bpfkit_loader::LoadError>(())
    /// ```
    pub fn attach(&self, point: AttachPoint<'_>) -> Result<Attachment, LoadError> {
        let prog = self.program.as_fd();
        let section = self.section.as_str();
        let kind = section.split('/').next().unwrap_or("");
        let expected = self.image.expected_attach_type;
        match (self.image.prog_type, point) {
            (ProgType::XDP, AttachPoint::Interface(name)) => {
                let ifindex = interface(name)?;
                self.attach(AttachPoint::Ifindex(ifindex))
            }
            (ProgType::XDP, AttachPoint::Ifindex(ifindex)) => link(
                LinkCreate::new(prog, AttachType::XDP).target(LinkTarget::Ifindex(ifindex)),
                format!("xdp link on ifindex {ifindex}"),
            ),
            (ProgType::SCHED_CLS, AttachPoint::Interface(name)) => {
                let ifindex = interface(name)?;
                self.attach(AttachPoint::Ifindex(ifindex))
            }
            (ProgType::SCHED_CLS, AttachPoint::Ifindex(ifindex)) => {
                let direction = match expected {
                    Some(AttachType::TCX_EGRESS) => TcDirection::Egress,
                    _ if section.ends_with("/egress") => TcDirection::Egress,
                    _ => TcDirection::Ingress,
                };
                self.attach(AttachPoint::Tc {
                    ifindex,
                    direction,
                    legacy: false,
                })
            }
            (
                ProgType::SCHED_CLS,
                AttachPoint::Tc {
                    ifindex,
                    direction,
                    legacy,
                },
            ) => self.attach_tc(ifindex, direction, legacy),
            (ProgType::SOCKET_FILTER, AttachPoint::Socket(socket)) => {
                bpfkit_sys::attach_socket_filter(socket, prog)
                    .map_err(|e| attach_error("socket filter", e))?;
                let fd = bpfkit_sys::dup(socket).map_err(|e| attach_error("socket filter", e))?;
                Ok(Attachment {
                    hook: Hook::Socket(fd),
                    description: format!("socket filter on fd {}", socket.as_raw_fd()),
                })
            }
            (ProgType::RAW_TRACEPOINT | ProgType::RAW_TRACEPOINT_WRITABLE, point) => {
                let name = match point {
                    AttachPoint::RawTracepoint(name) => name.to_string(),
                    AttachPoint::Section => self.section_target()?,
                    other => return Err(self.unsupported(&other)),
                };
                let description = format!("raw tracepoint {name}");
                let link = Link::raw_tracepoint(prog, Some(&name))
                    .map_err(|e| attach_error(&description, e))?;
                Ok(Attachment {
                    hook: Hook::Link(link),
                    description,
                })
            }
            (ProgType::TRACEPOINT, point) => {
                let (category, name) = match point {
                    AttachPoint::Tracepoint { category, name } => {
                        (category.to_string(), name.to_string())
                    }
                    AttachPoint::Section => {
                        let target = self.section_target()?;
                        let (c, n) = target.split_once('/').ok_or_else(|| {
                            LoadError::Invalid(format!(
                                "program '{}': tracepoint `{target}` is not CATEGORY/NAME",
                                self.name
                            ))
                        })?;
                        (c.to_string(), n.to_string())
                    }
                    other => return Err(self.unsupported(&other)),
                };
                let description = format!("tracepoint {category}/{name}");
                let id = bpfkit_sys::tracefs::tracepoint_id(&category, &name)
                    .map_err(|e| attach_error(&description, e))?;
                let event = PerfEvent::tracepoint(id).map_err(|e| attach_error(&description, e))?;
                perf_attachment(prog, vec![event], description)
            }
            (ProgType::KPROBE, point)
                if kind.starts_with("kprobe.multi") || kind.starts_with("kretprobe.multi") =>
            {
                let pattern = match point {
                    AttachPoint::Kprobe { function, .. } => function.to_string(),
                    AttachPoint::Section => self.section_target()?,
                    other => return Err(self.unsupported(&other)),
                };
                let description = format!("{kind} {pattern}");
                let create = LinkCreate::new(prog, AttachType::TRACE_KPROBE_MULTI)
                    .kprobe_multi(&[pattern.as_str()], kind.starts_with("kretprobe"))
                    .map_err(|e| attach_error(&description, e))?;
                link(create, description)
            }
            (ProgType::KPROBE, point) if kind.starts_with('u') => {
                let retprobe = kind.starts_with("uretprobe");
                let (binary, symbol, pid) = match point {
                    AttachPoint::Uprobe {
                        binary,
                        symbol,
                        pid,
                    } => (binary.to_path_buf(), symbol.to_string(), pid),
                    AttachPoint::Section => {
                        let target = self.section_target()?;
                        let (binary, symbol) = target.rsplit_once(':').ok_or_else(|| {
                            LoadError::Invalid(format!(
                                "program '{}': uprobe target `{target}` is not BINARY:FUNCTION",
                                self.name
                            ))
                        })?;
                        (PathBuf::from(binary), symbol.to_string(), None)
                    }
                    other => return Err(self.unsupported(&other)),
                };
                let offset = crate::uprobe::symbol_offset(&binary, &symbol)?;
                let description = format!(
                    "{} {}:{symbol} (offset {offset:#x})",
                    if retprobe { "uretprobe" } else { "uprobe" },
                    binary.display()
                );
                let event = PerfEvent::uprobe(&binary, offset, retprobe, pid.unwrap_or(-1))
                    .map_err(|e| attach_error(&description, e))?;
                perf_attachment(prog, vec![event], description)
            }
            (ProgType::KPROBE, point) => {
                let retprobe = kind.starts_with("kretprobe") || kind.starts_with("kretsyscall");
                let (function, offset) = match point {
                    AttachPoint::Kprobe { function, offset } => (function.to_string(), offset),
                    AttachPoint::Section => (self.section_target()?, 0),
                    other => return Err(self.unsupported(&other)),
                };
                let description = format!(
                    "{} {function}+{offset}",
                    if retprobe { "kretprobe" } else { "kprobe" }
                );
                let event = PerfEvent::kprobe(&function, offset, retprobe)
                    .map_err(|e| attach_error(&description, e))?;
                perf_attachment(prog, vec![event], description)
            }
            (ProgType::PERF_EVENT, AttachPoint::Sampling { freq }) => {
                let description = format!("perf_event sampling at {freq} Hz on every cpu");
                let cpus = bpfkit_sys::online_cpus().map_err(|e| attach_error(&description, e))?;
                let events = cpus
                    .into_iter()
                    .map(|cpu| {
                        PerfEvent::software(bpfkit_sys::perf_event::sw::CPU_CLOCK, freq, cpu)
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| attach_error(&description, e))?;
                perf_attachment(prog, events, description)
            }
            (ProgType::TRACING | ProgType::LSM | ProgType::EXT, AttachPoint::Section) => {
                let attach = expected.unwrap_or(AttachType(0));
                link(
                    LinkCreate::new(prog, attach),
                    format!(
                        "{attach:#} link to {}",
                        self.image.attach_target.as_deref().unwrap_or("?")
                    ),
                )
            }
            (t, AttachPoint::Cgroup(path)) if is_cgroup(t) => {
                let description = format!("{} on cgroup {}", self.section, path.display());
                let dir = std::fs::File::open(path).map_err(|e| LoadError::Read {
                    path: path.display().to_string(),
                    source: e,
                })?;
                let attach = expected.ok_or_else(|| {
                    LoadError::Invalid(format!(
                        "program '{}': section '{section}' names no cgroup attach type",
                        self.name
                    ))
                })?;
                link(
                    LinkCreate::new(prog, attach).target(LinkTarget::Fd(dir.as_fd())),
                    description,
                )
            }
            (_, AttachPoint::Fd(fd)) => {
                let attach = expected.ok_or_else(|| {
                    LoadError::Invalid(format!(
                        "program '{}': section '{section}' names no attach type",
                        self.name
                    ))
                })?;
                link(
                    LinkCreate::new(prog, attach).target(LinkTarget::Fd(fd)),
                    format!("{attach:#} link on fd {}", fd.as_raw_fd()),
                )
            }
            (_, other) => Err(self.unsupported(&other)),
        }
    }

    /// A tc program through tcx, or the clsact qdisc where tcx is missing (or `legacy`).
    fn attach_tc(
        &self,
        ifindex: u32,
        direction: TcDirection,
        legacy: bool,
    ) -> Result<Attachment, LoadError> {
        let prog = self.program.as_fd();
        let way = match direction {
            TcDirection::Ingress => "ingress",
            TcDirection::Egress => "egress",
        };
        if !legacy {
            let attach = match direction {
                TcDirection::Ingress => AttachType::TCX_INGRESS,
                TcDirection::Egress => AttachType::TCX_EGRESS,
            };
            let description = format!("tcx {way} link on ifindex {ifindex}");
            match LinkCreate::new(prog, attach)
                .target(LinkTarget::Ifindex(ifindex))
                .create()
            {
                Ok(l) => {
                    return Ok(Attachment {
                        hook: Hook::Link(l),
                        description,
                    });
                }
                // A kernel before 6.6 does not know the attach type: fall back to clsact.
                Err(e) if e.errno() != Some(Errno(libc::EINVAL)) => {
                    return Err(attach_error(&description, e));
                }
                Err(_) => {}
            }
        }
        let description = format!("tc {way} bpf filter (clsact) on ifindex {ifindex}");
        netlink::tc_clsact_create(ifindex).map_err(|e| attach_error(&description, e))?;
        let filter = netlink::tc_attach(ifindex, direction, prog, &self.name, 1, 1)
            .map_err(|e| attach_error(&description, e))?;
        Ok(Attachment {
            hook: Hook::Tc(filter),
            description,
        })
    }

    /// The attach target the section names (`kprobe/do_unlinkat` → `do_unlinkat`).
    fn section_target(&self) -> Result<String, LoadError> {
        self.image.attach_target.clone().ok_or_else(|| {
            LoadError::Invalid(format!(
                "program '{}': section '{}' names no attach target; give one",
                self.name, self.section
            ))
        })
    }

    fn unsupported(&self, point: &AttachPoint<'_>) -> LoadError {
        LoadError::Invalid(format!(
            "program '{}' ({}, section '{}') cannot be attached to {point:?}",
            self.name, self.image.prog_type, self.section
        ))
    }
}

fn is_cgroup(t: ProgType) -> bool {
    matches!(
        t,
        ProgType::CGROUP_SKB
            | ProgType::CGROUP_SOCK
            | ProgType::CGROUP_SOCK_ADDR
            | ProgType::CGROUP_SOCKOPT
            | ProgType::CGROUP_SYSCTL
            | ProgType::CGROUP_DEVICE
            | ProgType::SOCK_OPS
            | ProgType::LSM
    )
}

fn interface(name: &str) -> Result<u32, LoadError> {
    netlink::ifindex(name).map_err(|e| attach_error(&format!("interface {name}"), e))
}

fn link(create: LinkCreate<'_>, description: String) -> Result<Attachment, LoadError> {
    let link = create.create().map_err(|e| attach_error(&description, e))?;
    Ok(Attachment {
        hook: Hook::Link(link),
        description,
    })
}

/// Attaches `prog` to each perf event: through a `BPF_PERF_EVENT` link (5.15+), else with
/// `PERF_EVENT_IOC_SET_BPF`.
fn perf_attachment(
    prog: BorrowedFd<'_>,
    events: Vec<PerfEvent>,
    description: String,
) -> Result<Attachment, LoadError> {
    let mut attached = Vec::with_capacity(events.len());
    for event in events {
        let link = LinkCreate::new(prog, AttachType::PERF_EVENT)
            .target(LinkTarget::Fd(event.as_fd()))
            .create();
        match link {
            Ok(link) => attached.push((event, Some(link))),
            Err(e) if e.errno() == Some(Errno(libc::EINVAL)) => {
                event
                    .set_bpf(prog)
                    .map_err(|e| attach_error(&description, e))?;
                attached.push((event, None));
            }
            Err(e) => return Err(attach_error(&description, e)),
        }
    }
    Ok(Attachment {
        hook: Hook::PerfEvents(attached),
        description,
    })
}
