//! Batched UDP send: one `sendmmsg(2)` call per burst of datagrams (a video frame fans
//! out as dozens of packets to many subscribers). Other platforms send one by one.
// FFI: sendmmsg and the raw mmsghdr/iovec/sockaddr buffers it reads.
#![allow(unsafe_code)]

use std::io;
use std::net::SocketAddr;

/// Up to this many datagrams per syscall.
pub const BATCH: usize = 64;

/// Reusable buffers for one `sendmmsg` call at a time.
pub struct SendBatch {
    #[cfg(target_os = "linux")]
    addrs: Vec<libc::sockaddr_storage>,
    #[cfg(target_os = "linux")]
    iovs: Vec<libc::iovec>,
    #[cfg(target_os = "linux")]
    hdrs: Vec<libc::mmsghdr>,
}

impl Default for SendBatch {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "linux")]
fn to_storage(a: &SocketAddr, out: &mut libc::sockaddr_storage) -> libc::socklen_t {
    // SAFETY: sockaddr_storage is large enough and suitably aligned for both families.
    unsafe {
        match a {
            SocketAddr::V4(v4) => {
                let p = (out as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                *p = libc::sockaddr_in {
                    sin_family: libc::AF_INET as libc::sa_family_t,
                    sin_port: v4.port().to_be(),
                    sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
                    sin_zero: [0; 8],
                };
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t
            }
            SocketAddr::V6(v6) => {
                let p = (out as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                *p = libc::sockaddr_in6 {
                    sin6_family: libc::AF_INET6 as libc::sa_family_t,
                    sin6_port: v6.port().to_be(),
                    sin6_flowinfo: v6.flowinfo(),
                    sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                    sin6_scope_id: v6.scope_id(),
                };
                std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t
            }
        }
    }
}

impl SendBatch {
    pub fn new() -> Self {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: all-zero is a valid value for these plain C structs.
            let zero_addr: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
            let zero_hdr: libc::mmsghdr = unsafe { std::mem::zeroed() };
            SendBatch {
                addrs: vec![zero_addr; BATCH],
                iovs: vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH],
                hdrs: vec![zero_hdr; BATCH],
            }
        }
        #[cfg(not(target_os = "linux"))]
        SendBatch {}
    }

    /// Send `msgs` (payload, destination) on the non-blocking socket `sock`. Returns how
    /// many were accepted by the kernel (a prefix of `msgs`); `WouldBlock` if none.
    #[cfg(target_os = "linux")]
    pub fn send(&mut self, sock: &impl std::os::fd::AsRawFd, msgs: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
        let n = msgs.len().min(BATCH);
        if n == 0 {
            return Ok(0);
        }
        for (i, (data, dest)) in msgs[..n].iter().enumerate() {
            let len = to_storage(dest, &mut self.addrs[i]);
            self.iovs[i] = libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = len;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: the first `n` headers point at buffers that outlive this call
        // (`msgs` borrows them) and at our own address/iovec arrays.
        let r =
            unsafe { libc::sendmmsg(sock.as_raw_fd(), self.hdrs.as_mut_ptr(), n as libc::c_uint, libc::MSG_DONTWAIT) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(r as usize)
    }

    #[cfg(not(target_os = "linux"))]
    pub fn send(&mut self, sock: &std::net::UdpSocket, msgs: &[(&[u8], SocketAddr)]) -> io::Result<usize> {
        let mut sent = 0;
        for (data, dest) in msgs {
            match sock.send_to(data, dest) {
                Ok(_) => sent += 1,
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn sends_a_batch_to_several_destinations() {
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.set_nonblocking(true).unwrap();
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let (pa, pb) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut batch = SendBatch::new();
        let msgs: Vec<(&[u8], SocketAddr)> = vec![(b"one", pa), (b"two", pb), (b"three", pa)];
        assert_eq!(batch.send(&tx, &msgs).unwrap(), 3);
        let mut buf = [0u8; 16];
        let (n, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], tx.local_addr().unwrap()));
        let n = a.recv_from(&mut buf).unwrap().0;
        assert_eq!(&buf[..n], b"three");
        let n = b.recv_from(&mut buf).unwrap().0;
        assert_eq!(&buf[..n], b"two");
        let v6 = std::net::UdpSocket::bind("[::1]:0");
        if let Ok(v6) = v6 {
            let tx6 = std::net::UdpSocket::bind("[::1]:0").unwrap();
            let msgs: Vec<(&[u8], SocketAddr)> = vec![(b"six", v6.local_addr().unwrap())];
            assert_eq!(batch.send(&tx6, &msgs).unwrap(), 1);
            let n = v6.recv_from(&mut buf).unwrap().0;
            assert_eq!(&buf[..n], b"six");
        }
    }
}
