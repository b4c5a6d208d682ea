// MARK: - Gates

extension ScriptedResponse {
    /// A one-shot signal a test opens, for explicit handshakes instead of timed pauses.
    ///
    /// In a response, ``ScriptedResponse/Step/wait(_:)`` stops writing until the gate opens (or the connection
    /// closes), and ``ScriptedResponse/gateBeforeHead`` holds the head back. A test can also ``wait()`` on a gate
    /// that the code under test opens, such as a stream consumer signalling its first chunk.
    ///
    /// ```swift
    /// let gate = ScriptedResponse.Gate()
    /// server.enqueue(.sse(transcript, closeAfterBytes: 700).inserting(.wait(gate), afterBytes: firstEventEnd))
    /// for try await chunk in try await client.stream(request) {
    ///     gate.open()   // the close is sent only once the first chunk has arrived
    /// }
    /// ```
    public final class Gate: Sendable, Hashable, CustomStringConvertible {
        struct State: Sendable {
            var isOpen = false
            var actions: [@Sendable () -> Void] = []
        }

        private let state = WaitableState(State())

        /// Creates a closed gate.
        public init() {}

        /// Opens the gate (once; opening it again does nothing), releasing everything waiting on it.
        public func open() {
            let actions = state.withLock { s -> [@Sendable () -> Void] in
                guard !s.isOpen else { return [] }
                s.isOpen = true
                defer { s.actions = [] }
                return s.actions
            }
            for action in actions { action() }
        }

        /// Whether the gate is open.
        public var isOpen: Bool { state.withLock { $0.isOpen } }

        /// Suspends until the gate opens (returns at once if it is open, or when the task is cancelled).
        public func wait() async {
            await state.wait { $0.isOpen }
        }

        /// Runs `action` when the gate opens: at once, on this thread, if it is open already.
        func whenOpen(_ action: @escaping @Sendable () -> Void) {
            let now = state.withLock { s -> Bool in
                if s.isOpen { return true }
                s.actions.append(action)
                return false
            }
            if now { action() }
        }

        /// Whether two gates are the same object.
        public static func == (a: Gate, b: Gate) -> Bool { a === b }

        /// Hashes the gate's identity.
        public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }

        /// `Gate(open)` or `Gate(closed)`.
        public var description: String { isOpen ? "Gate(open)" : "Gate(closed)" }
    }
}
