//! Loopback ports taken without a race. A server in this process binds port 0 and keeps its
//! listener; a program that must bind its port itself (Postfix's `smtp-sink`) gets a port that
//! stays reserved while it starts, instead of one found free, closed and hoped to stay free.

use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, Socket, Type};

/// A loopback TCP port held by a socket that is bound but never listens.
///
/// Nothing can take the port while this lives: the kernel never hands it out for a bind to port
/// 0, and an explicit bind is refused unless it sets `SO_REUSEADDR` as this socket does (on
/// Linux, sockets that both set it may share a port as long as neither listens). So a program
/// told to listen on it, with `SO_REUSEADDR` as servers set it, can; anyone else cannot. And
/// since nothing listens, a connection to it is refused: a closed port that stays closed.
pub(crate) struct ReservedPort {
    socket: Socket,
    port: u16,
}

impl ReservedPort {
    pub(crate) fn new() -> ReservedPort {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a TCP socket");
        socket
            .set_reuse_address(true)
            .expect("SO_REUSEADDR on the reserving socket");
        socket
            .bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
            .expect("bind a loopback port");
        let port = socket
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("the reserved port")
            .port();
        ReservedPort { socket, port }
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl std::fmt::Debug for ReservedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReservedPort")
            .field("port", &self.port)
            .field("socket", &self.socket)
            .finish()
    }
}
