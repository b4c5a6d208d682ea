public import Foundation

/// Writes tasks as native JSONL with a canonical form, so identical tasks always give identical bytes.
///
/// Each line is one JSON object with keys in a fixed order — `ts`, `id`, `task`, `complexity`,
/// `input_tokens`, `cached_input_tokens`, `output_tokens`, `max_output_tokens`, `tags`, `outcomes` — absent optional
/// fields left out, tags and outcome labels sorted by name (byte order; each label as
/// `{"correct":…,"output_tokens":…}`), integers in plain decimal and `ts` in RFC 3339 UTC (see
/// ``WorkloadTask/timestampString``). Strings escape only `"`, `\` and control characters; lines end with `\n`.
public struct WorkloadWriter: Sendable {
    /// Bytes buffered before each write to the file.
    public var bufferSize: Int

    /// Creates a writer.
    /// - Parameter bufferSize: Bytes buffered before each write (default 1 MiB).
    public init(bufferSize: Int = 1 << 20) {
        self.bufferSize = bufferSize
    }

    // MARK: - Encoding

    /// The canonical JSONL line for a task, without the trailing newline.
    /// - Parameter task: The task.
    /// - Returns: One JSON object.
    public static func line(for task: WorkloadTask) -> String {
        var out: [UInt8] = []
        encode(task, into: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical JSONL line for a task, with its trailing newline, to a byte buffer.
    /// - Parameters:
    ///   - task: The task.
    ///   - out: The buffer to append to.
    public static func encode(_ task: WorkloadTask, into out: inout [UInt8]) {
        out.append(contentsOf: #"{"ts":""#.utf8)
        Timestamp.append(task.epochNanoseconds, to: &out)
        out.append(UInt8(ascii: "\""))
        if let id = task.id {
            out.append(contentsOf: #","id":"#.utf8)
            appendString(id, to: &out)
        }
        if let name = task.task {
            out.append(contentsOf: #","task":"#.utf8)
            appendString(name, to: &out)
        }
        if let complexity = task.complexity {
            out.append(contentsOf: #","complexity":""#.utf8)
            out.append(contentsOf: complexity.rawValue.utf8)
            out.append(UInt8(ascii: "\""))
        }
        out.append(contentsOf: #","input_tokens":"#.utf8)
        out.append(contentsOf: String(task.inputTokens).utf8)
        if let cached = task.cachedInputTokens {
            out.append(contentsOf: #","cached_input_tokens":"#.utf8)
            out.append(contentsOf: String(cached).utf8)
        }
        out.append(contentsOf: #","output_tokens":"#.utf8)
        out.append(contentsOf: String(task.outputTokens).utf8)
        if let maxOutput = task.maxOutputTokens {
            out.append(contentsOf: #","max_output_tokens":"#.utf8)
            out.append(contentsOf: String(maxOutput).utf8)
        }
        if !task.tags.isEmpty {
            out.append(contentsOf: #","tags":{"#.utf8)
            let keys = task.tags.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (n, key) in keys.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                appendString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendString(task.tags[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        if !task.outcomes.isEmpty {
            out.append(contentsOf: #","outcomes":{"#.utf8)
            let labels = task.outcomes.sorted { $0.key.rawValue.utf8.lexicographicallyPrecedes($1.key.rawValue.utf8) }
            for (n, (model, label)) in labels.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                appendString(model.rawValue, to: &out)
                out.append(contentsOf: label.correct ? #":{"correct":true"#.utf8 : #":{"correct":false"#.utf8)
                if let tokens = label.outputTokens {
                    out.append(contentsOf: #","output_tokens":"#.utf8)
                    out.append(contentsOf: String(tokens).utf8)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "}\n".utf8)
    }

    private static func appendString(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(c >> 4)])
                out.append(hex[Int(c & 0xF)])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The canonical JSONL document for tasks (one line each).
    /// - Parameter tasks: The tasks, in the order to write them.
    /// - Returns: The bytes of the document.
    public static func data(for tasks: some Sequence<WorkloadTask>) -> Data {
        var out: [UInt8] = []
        for task in tasks { encode(task, into: &out) }
        return Data(out)
    }

    // MARK: - Files

    /// Streams tasks to a file, replacing it, with flat memory.
    /// - Parameters:
    ///   - tasks: The tasks, in the order to write them (may be lazy).
    ///   - url: The destination file.
    /// - Returns: The number of tasks written.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/io`` when the file cannot be written.
    @discardableResult
    public func write(_ tasks: some Sequence<WorkloadTask>, to url: URL) throws(ReplayError) -> Int {
        let handle = try Self.create(url)
        defer { try? handle.close() }
        return try write(tasks, to: handle, name: url.lastPathComponent)
    }

    /// Streams tasks to an open file handle (for example standard output).
    /// - Parameters:
    ///   - tasks: The tasks, in the order to write them (may be lazy).
    ///   - handle: Where to write.
    ///   - name: The name used in error messages.
    /// - Returns: The number of tasks written.
    /// - Throws: ``ReplayError`` with code ``ReplayError/Code/io`` when writing fails.
    @discardableResult
    public func write(
        _ tasks: some Sequence<WorkloadTask>, to handle: FileHandle, name: String = "output"
    ) throws(ReplayError) -> Int {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(bufferSize + 4096)
        var count = 0
        for task in tasks {
            Self.encode(task, into: &buffer)
            count += 1
            if buffer.count >= bufferSize { try Self.flush(&buffer, handle, name) }
        }
        try Self.flush(&buffer, handle, name)
        return count
    }

    /// Streams tasks from an asynchronous source (such as an importer or a reader) to a file, replacing it.
    /// - Parameters:
    ///   - tasks: The tasks, in the order to write them.
    ///   - url: The destination file.
    /// - Returns: The number of tasks written.
    /// - Throws: ``ReplayError`` from the source, or with code ``ReplayError/Code/io`` when writing fails.
    @discardableResult
    public func write<S: AsyncSequence<WorkloadTask, ReplayError>>(
        _ tasks: S, to url: URL
    ) async throws(ReplayError) -> Int {
        let handle = try Self.create(url)
        defer { try? handle.close() }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(bufferSize + 4096)
        var count = 0
        var iterator = tasks.makeAsyncIterator()
        while let task = try await iterator.next(isolation: nil) {
            Self.encode(task, into: &buffer)
            count += 1
            if buffer.count >= bufferSize { try Self.flush(&buffer, handle, url.lastPathComponent) }
        }
        try Self.flush(&buffer, handle, url.lastPathComponent)
        return count
    }

    private static func create(_ url: URL) throws(ReplayError) -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw ReplayError(.io, "cannot create file", file: url.lastPathComponent)
        }
        do {
            return try FileHandle(forWritingTo: url)
        } catch {
            throw ReplayError(.io, "cannot open for writing: \(error.localizedDescription)", file: url.lastPathComponent)
        }
    }

    private static func flush(_ buffer: inout [UInt8], _ handle: FileHandle, _ name: String) throws(ReplayError) {
        guard !buffer.isEmpty else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw ReplayError(.io, "write failed: \(error.localizedDescription)", file: name)
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
