import NIOCore

/// Closes a connection as soon as the client closes its side.
///
/// Hummingbird allows half-closed connections, so a client that goes away (its FIN) is otherwise noticed only when a
/// write fails: a streamed reply whose upstream is silent (a reasoning model before its first token) would hold its
/// upstream call and reservation until the upstream's next chunk or timeout. Like Go's `net/http`, which cancels a
/// request's context when the client's side reaches EOF, the server treats that EOF as the client leaving: it closes
/// the connection, and a stream in flight cancels its call (``ServerHandlers/streamChat``). Clients that half-close and
/// still wait for a reply are not served; the OpenAI SDKs, curl and browsers do not do that.
final class PeerClosedHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
