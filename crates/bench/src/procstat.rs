//! Reading a process's CPU time and RSS, and UDP socket drop counters, from /proc
//! (Linux). Everything returns `None` where /proc is not available.

use std::collections::HashSet;

/// utime + stime of a process in seconds (`/proc/PID/stat` fields 14 and 15).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|t| t as f64 / clock_ticks())
}

/// CPU seconds of one of our own threads (kernel thread id).
pub fn thread_cpu_seconds(tid: i32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    parse_cpu_ticks(&stat).map(|t| t as f64 / clock_ticks())
}

/// CPU seconds of every thread of a process: (tid, name, seconds).
pub fn threads_cpu_seconds(pid: u32) -> Vec<(u32, String, f64)> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let tck = clock_ticks();
    dir.flatten()
        .filter_map(|e| {
            let tid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let name = stat[stat.find('(')? + 1..stat.rfind(')')?].to_string();
            Some((tid, name, parse_cpu_ticks(&stat)? as f64 / tck))
        })
        .collect()
}

/// The thread that used the most CPU between two [`threads_cpu_seconds`] samples:
/// (name, seconds).
pub fn busiest_thread(a: &[(u32, String, f64)], b: &[(u32, String, f64)]) -> Option<(String, f64)> {
    b.iter()
        .map(|(tid, name, t1)| {
            let t0 = a.iter().find(|x| x.0 == *tid).map_or(0.0, |x| x.2);
            (name.clone(), t1 - t0)
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))
}

/// CPU seconds each thread used between two samples, busiest first (name, seconds).
pub fn thread_deltas(a: &[(u32, String, f64)], b: &[(u32, String, f64)]) -> Vec<(String, f64)> {
    let mut v: Vec<(String, f64)> = b
        .iter()
        .map(|(tid, name, t1)| {
            let t0 = a.iter().find(|x| x.0 == *tid).map_or(0.0, |x| x.2);
            (name.clone(), t1 - t0)
        })
        .collect();
    v.sort_by(|x, y| y.1.total_cmp(&x.1));
    v
}

/// Our own process's CPU seconds.
pub fn own_cpu_seconds() -> Option<f64> {
    cpu_seconds(std::process::id())
}

#[allow(unsafe_code)] // sysconf
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// utime + stime in clock ticks from the text of `/proc/PID/stat`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    // After ')': field 3 (state) is index 0, so utime (14) is index 11.
    let utime: u64 = f.nth(11)?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Busy CPU seconds of the whole machine (all cores) from `/proc/stat`, and the
/// number of cores.
pub fn machine_busy_seconds() -> Option<(f64, usize)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let (busy, cores) = parse_machine_busy(&stat)?;
    Some((busy as f64 / clock_ticks(), cores))
}

/// (busy ticks, cores) from the text of `/proc/stat`: user+nice+system+irq+softirq+steal.
pub fn parse_machine_busy(stat: &str) -> Option<(u64, usize)> {
    let cpu = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = cpu.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let busy =
        v.first()? + v.get(1)? + v.get(2)? + v.get(5).unwrap_or(&0) + v.get(6).unwrap_or(&0) + v.get(7).unwrap_or(&0);
    let cores = stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count();
    Some((busy, cores.max(1)))
}

/// VmRSS of a process in bytes.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_rss(&status)
}

pub fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Sum of the kernel's receive-drop counters of the UDP sockets bound to `ports`
/// (`/proc/net/udp` and `udp6`, last column): datagrams the client side lost
/// because its socket buffers were full.
pub fn udp_drops(ports: &HashSet<u16>) -> Option<u64> {
    let mut total = None;
    for f in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(text) = std::fs::read_to_string(f) {
            *total.get_or_insert(0) += parse_udp_drops(&text, ports);
        }
    }
    total
}

pub fn parse_udp_drops(text: &str, ports: &HashSet<u16>) -> u64 {
    sum_drops(text, |cols| {
        let port = u16::from_str_radix(cols.get(1)?.rsplit(':').next()?, 16).ok()?;
        Some(ports.contains(&port))
    })
}

/// Receive drops of the UDP sockets a process holds open (found through its fd
/// table's socket inodes): datagrams the server lost because it read too slowly.
pub fn process_udp_drops(pid: u32) -> Option<u64> {
    let mut inodes = HashSet::new();
    for e in std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if let Ok(target) = std::fs::read_link(e.path()) {
            let t = target.to_string_lossy();
            if let Some(n) = t.strip_prefix("socket:[").and_then(|r| r.strip_suffix(']')) {
                inodes.extend(n.parse::<u64>().ok());
            }
        }
    }
    let mut total = 0;
    for f in ["/proc/net/udp", "/proc/net/udp6"] {
        if let Ok(text) = std::fs::read_to_string(f) {
            total += parse_udp_drops_by_inode(&text, &inodes);
        }
    }
    Some(total)
}

pub fn parse_udp_drops_by_inode(text: &str, inodes: &HashSet<u64>) -> u64 {
    sum_drops(text, |cols| Some(inodes.contains(&cols.get(9)?.parse::<u64>().ok()?)))
}

/// Sum the last column (drops) of the `/proc/net/udp` rows `pick` selects.
fn sum_drops(text: &str, pick: impl Fn(&[&str]) -> Option<bool>) -> u64 {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            if !pick(&cols)? {
                return None;
            }
            cols.last()?.parse::<u64>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat() {
        let s = "1234 (my (odd) name) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0 100 1000 200";
        assert_eq!(parse_cpu_ticks(s), Some(300));
        assert!(own_cpu_seconds().is_some());
    }

    #[test]
    fn finds_the_busiest_thread() {
        let a = vec![(1, "main".to_string(), 1.0), (2, "worker".to_string(), 2.0)];
        let b = vec![(1, "main".to_string(), 1.5), (2, "worker".to_string(), 4.0), (3, "new".to_string(), 0.5)];
        assert_eq!(busiest_thread(&a, &b), Some(("worker".to_string(), 2.0)));
        let d = thread_deltas(&a, &b);
        assert_eq!(d.first(), Some(&("worker".to_string(), 2.0)));
        assert_eq!(d.len(), b.len());
        assert!(!threads_cpu_seconds(std::process::id()).is_empty());
    }

    #[test]
    fn parses_status() {
        assert_eq!(parse_vm_rss("Name:\tx\nVmRSS:\t  2048 kB\n"), Some(2048 * 1024));
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
    }

    #[test]
    fn parses_machine_busy() {
        let t = "cpu  100 5 50 1000 7 3 2 1 0 0\ncpu0 50 2 25 500 3 1 1 0 0 0\ncpu1 50 3 25 500 4 2 1 1 0 0\n";
        assert_eq!(parse_machine_busy(t), Some((161, 2)));
        assert!(machine_busy_seconds().is_some());
    }

    #[test]
    fn parses_net_udp() {
        let t = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                 1: 0100007F:1F91 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 11 2 0000 7\n\
                 2: 0100007F:1F92 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 12 2 0000 5\n";
        let ports: HashSet<u16> = [0x1f91].into_iter().collect();
        assert_eq!(parse_udp_drops(t, &ports), 7);
        let inodes: HashSet<u64> = [12].into_iter().collect();
        assert_eq!(parse_udp_drops_by_inode(t, &inodes), 5);
        let inodes: HashSet<u64> = [11, 12].into_iter().collect();
        assert_eq!(parse_udp_drops_by_inode(t, &inodes), 12);
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(process_udp_drops(std::process::id()), Some(0));
        drop(s);
    }
}
