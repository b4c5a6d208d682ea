public import Gateway
import Synchronization

/// The chunks of a routed streaming call, as they arrive; the router reads what passed through to settle the call.
public struct RoutedStream: AsyncSequence, Sendable {
    /// A chunk.
    public typealias Element = ChatCompletionChunk

    struct Progress: Sendable {
        var usage: Usage?
        /// Text bytes received over the whole stream, before and after any usage chunk.
        var bytes = 0
        var chunks = 0
        /// Two usage chunks reported different counts.
        var conflictingUsage = false
    }

    final class Tracker: Sendable {
        let state = Mutex(Progress())
    }

    private let base: ChatCompletionStream
    private let tracker = Tracker()

    init(_ base: ChatCompletionStream) { self.base = base }

    var progress: Progress { tracker.state.withLock { $0 } }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: ChatCompletionStream.AsyncIterator
        let tracker: Tracker

        /// The next chunk, or `nil` at the end.
        public mutating func next() async throws -> ChatCompletionChunk? {
            guard let chunk = try await base.next() else { return nil }
            tracker.state.withLock { p in
                p.chunks += 1
                if let u = chunk.usage {
                    if let old = p.usage, old != u { p.conflictingUsage = true }
                    p.usage = u
                }
                for c in chunk.choices {
                    p.bytes &+= (c.delta.content?.utf8.count ?? 0) &+ (c.delta.reasoningContent?.utf8.count ?? 0)
                    for t in c.delta.toolCalls ?? [] { p.bytes &+= (t.function?.name?.utf8.count ?? 0) &+ (t.function?.arguments?.utf8.count ?? 0) }
                }
            }
            return chunk
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: base.makeAsyncIterator(), tracker: tracker) }
}
