public import Hummingbird
public import NIOCore

/// The request context of `bats serve`: Hummingbird's core context and the peer's address (to tell loopback callers).
public struct ServerRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's context storage.
    public var coreContext: CoreRequestContextStorage
    /// The connected peer.
    public let remoteAddress: SocketAddress?
    /// Completes when the connection closes: a stream stops its upstream call then, without waiting for a write to fail.
    let connectionClosed: EventLoopFuture<Void>

    /// Creates the context of one request.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        connectionClosed = source.channel.closeFuture
    }

    /// Whether the peer is on this machine (127.0.0.0/8 or ::1).
    var fromLoopback: Bool {
        guard let ip = remoteAddress?.ipAddress else { return false }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}
