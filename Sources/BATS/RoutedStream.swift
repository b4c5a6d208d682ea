public import Gateway
public import ModelSelection
import SpendLedger
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

    /// The reservation a stream runs under: known before the first chunk, so a server can send it as headers.
    public struct Route: Sendable, Hashable {
        /// The request id shared by every attempt.
        public var requestID: String
        /// The model that is streaming.
        public var model: ModelID
        /// The tier the call runs at.
        public var tier: Complexity
        /// Why that model.
        public var reason: SelectionReason
        /// The reserved estimate.
        public var estimate: MicroDollars
        /// Which reservation of the call this is (1 for the first; more after provider failures).
        public var attempt: Int
        /// The budget scopes the call counts in, by name.
        public var scopes: [String]
        /// For a downgrade for budget: the window that had too little room for a better model.
        public var boundBy: BudgetSnapshot.Binding?
    }

    private let base: ChatCompletionStream
    private let tracker = Tracker()
    /// The reservation this stream runs under.
    public let route: Route

    init(_ base: ChatCompletionStream, route: Route) {
        self.base = base
        self.route = route
    }

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
