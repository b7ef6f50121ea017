//! The machine a program believes it runs on: everything the kernel would take from the
//! running system (the time, the CPU, the current task, random numbers, kernel memory, the
//! routing table), as deterministic values a test sets, and what the program leaves behind
//! that is not in a map (`bpf_trace_printk` lines, the redirect it chose).

use std::collections::BTreeMap;

/// Where `bpf_redirect` or `bpf_redirect_map` sent the packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// `bpf_redirect(ifindex, flags)`.
    Ifindex {
        /// The target interface.
        ifindex: u32,
        /// The flags (`BPF_F_INGRESS`).
        flags: u64,
    },
    /// `bpf_redirect_map(map, key, flags)` found `key` in a devmap, cpumap or xskmap.
    Map {
        /// The map's name (or `#N` when it has none).
        map: String,
        /// The key.
        key: u32,
        /// The flags.
        flags: u64,
    },
}

/// A network interface `bpf_fib_lookup`, `xdp_md.ingress_ifindex` and the devmaps know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Its index.
    pub ifindex: u32,
    /// Its MAC address.
    pub mac: [u8; 6],
    /// Its MTU.
    pub mtu: u32,
    /// Its number of receive queues.
    pub rx_queues: u32,
}

/// A route of the table `bpf_fib_lookup` consults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The destination network (4 bytes for IPv4, 16 for IPv6, network byte order).
    pub dst: Vec<u8>,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The interface out.
    pub ifindex: u32,
    /// The next hop (empty: the destination is on the link).
    pub gateway: Vec<u8>,
}

/// A neighbour (ARP or NDP) entry: an address's MAC on an interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbour {
    /// The interface.
    pub ifindex: u32,
    /// The address (4 or 16 bytes, network byte order).
    pub addr: Vec<u8>,
    /// Its MAC address.
    pub mac: [u8; 6],
}

/// The host a program runs on. Every value is deterministic: a test that sets nothing gets the
/// same results on every machine.
#[derive(Clone, Debug)]
pub struct Host {
    /// The number of CPUs: of values of a per-cpu map, of perf buffers. Set it before maps
    /// are created.
    pub cpus: u32,
    /// `bpf_get_smp_processor_id`, and which value of a per-cpu map the program sees.
    pub cpu: u32,
    /// `bpf_get_current_pid_tgid`: `tgid << 32 | pid`.
    pub pid_tgid: u64,
    /// `bpf_get_current_uid_gid`: `gid << 32 | uid`.
    pub uid_gid: u64,
    /// `bpf_get_current_comm`: the task's name (up to 15 bytes).
    pub comm: String,
    /// `bpf_ktime_get_ns` (`CLOCK_MONOTONIC`) now.
    pub ktime_ns: u64,
    /// Added to the clock after every read of it (0: time stands still).
    pub clock_step_ns: u64,
    /// `bpf_ktime_get_boot_ns` minus `bpf_ktime_get_ns` (time spent suspended).
    pub boot_offset_ns: u64,
    /// The kernel's `HZ`, for `bpf_jiffies64` (jiffies = ktime * HZ / 1e9).
    pub hz: u64,
    /// The state of `bpf_get_prandom_u32`'s generator.
    pub prandom_state: u64,
    /// `bpf_get_numa_node_id`.
    pub numa_node: u32,
    /// The seed of the flow hash `bpf_get_hash_recalc` computes (the kernel's is random per
    /// boot).
    pub flow_hash_seed: u32,
    /// Kernel memory `bpf_probe_read_kernel` can read: start address to bytes.
    pub kernel_memory: BTreeMap<u64, Vec<u8>>,
    /// User memory `bpf_probe_read_user` can read: start address to bytes.
    pub user_memory: BTreeMap<u64, Vec<u8>>,
    /// The network interfaces (by default the loopback device, ifindex 1).
    pub interfaces: Vec<Interface>,
    /// The routes `bpf_fib_lookup` looks up.
    pub routes: Vec<Route>,
    /// The neighbour table `bpf_fib_lookup` resolves next hops with.
    pub neighbours: Vec<Neighbour>,
    /// What `bpf_trace_printk` printed, one entry per call.
    pub trace: Vec<String>,
    /// The last redirect a program chose in the current run.
    pub redirect: Option<Redirect>,
}

impl Default for Host {
    fn default() -> Self {
        Host {
            cpus: 1,
            cpu: 0,
            pid_tgid: (1000 << 32) | 1000,
            uid_gid: 0,
            comm: "bpfkit-test".to_string(),
            ktime_ns: 1_000_000_000,
            clock_step_ns: 0,
            boot_offset_ns: 0,
            hz: 250,
            prandom_state: 0x2545_f491_4f6c_dd1d,
            numa_node: 0,
            flow_hash_seed: 0,
            kernel_memory: BTreeMap::new(),
            user_memory: BTreeMap::new(),
            interfaces: vec![Interface {
                ifindex: 1,
                mac: [0; 6],
                mtu: 65536,
                rx_queues: 1,
            }],
            routes: Vec::new(),
            neighbours: Vec::new(),
            trace: Vec::new(),
            redirect: None,
        }
    }
}

impl Host {
    /// Reads the monotonic clock, then advances it by [`Host::clock_step_ns`].
    pub fn ktime(&mut self) -> u64 {
        let now = self.ktime_ns;
        self.ktime_ns = self.ktime_ns.wrapping_add(self.clock_step_ns);
        now
    }

    /// The next value of the pseudo-random generator (xorshift64*).
    pub fn prandom_u32(&mut self) -> u32 {
        let mut x = self.prandom_state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.prandom_state = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// The interface with index `ifindex`.
    pub fn interface(&self, ifindex: u32) -> Option<&Interface> {
        self.interfaces.iter().find(|i| i.ifindex == ifindex)
    }

    /// Bytes `addr..addr + len` of a memory table, if one entry holds them all.
    pub(crate) fn probe(table: &BTreeMap<u64, Vec<u8>>, addr: u64, len: usize) -> Option<&[u8]> {
        let (&start, bytes) = table.range(..=addr).next_back()?;
        let from = usize::try_from(addr - start).ok()?;
        bytes.get(from..from.checked_add(len)?)
    }

    /// Bytes from `addr` up to the end of the table entry holding it.
    pub(crate) fn probe_tail(table: &BTreeMap<u64, Vec<u8>>, addr: u64) -> Option<&[u8]> {
        let (&start, bytes) = table.range(..=addr).next_back()?;
        bytes.get(usize::try_from(addr - start).ok()?..)
    }
}
