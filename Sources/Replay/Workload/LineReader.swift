import Foundation

/// Reads a file (or bytes in memory) line by line in fixed-size blocks, so memory stays flat in the file's length.
///
/// Lines end with `\n`; a trailing `\r` is dropped, and so is a UTF-8 byte-order mark at the very start.
final class LineReader {
    private let handle: FileHandle?
    private var buffer: [UInt8]
    private var start = 0
    private var eof: Bool
    private let blockSize: Int
    /// The 1-based number of the line last returned.
    private(set) var lineNumber = 0

    /// Opens a file for reading.
    init(url: URL, blockSize: Int, fileName: String) throws(ReplayError) {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw ReplayError(.io, "cannot open for reading: \(error.localizedDescription)", file: fileName)
        }
        buffer = []
        buffer.reserveCapacity(blockSize * 2)
        eof = false
        self.blockSize = max(blockSize, 4096)
    }

    /// Reads lines from bytes in memory.
    init(bytes: [UInt8]) {
        handle = nil
        buffer = bytes
        eof = true
        blockSize = 0
    }

    deinit { try? handle?.close() }

    /// Calls `body` with the next line's bytes (without its terminator), or returns `nil` at the end.
    func nextLine<R>(_ body: (UnsafeBufferPointer<UInt8>) throws(ReplayError) -> R) throws(ReplayError) -> R? {
        while true {
            let found: Int? = buffer.withUnsafeBufferPointer { buf in
                guard start < buf.count, let base = buf.baseAddress else { return nil }
                guard let p = memchr(base + start, Int32(UInt8(ascii: "\n")), buf.count - start) else { return nil }
                return base.distance(to: p.assumingMemoryBound(to: UInt8.self))
            }
            if let newline = found {
                let range = start..<newline
                start = newline + 1
                return try emit(range, body)
            }
            if eof {
                guard start < buffer.count else { return nil }
                let range = start..<buffer.count
                start = buffer.count
                return try emit(range, body)
            }
            try refill()
        }
    }

    private func emit<R>(
        _ range: Range<Int>, _ body: (UnsafeBufferPointer<UInt8>) throws(ReplayError) -> R
    ) throws(ReplayError) -> R {
        lineNumber += 1
        let isFirst = lineNumber == 1
        return try buffer.withUnsafeBufferPointer { (buf) throws(ReplayError) -> R in
            var lower = range.lowerBound
            var upper = range.upperBound
            if isFirst, upper - lower >= 3, buf[lower] == 0xEF, buf[lower + 1] == 0xBB, buf[lower + 2] == 0xBF {
                lower += 3
            }
            if upper > lower, buf[upper - 1] == UInt8(ascii: "\r") { upper -= 1 }
            return try body(UnsafeBufferPointer(rebasing: buf[lower..<upper]))
        }
    }

    private func refill() throws(ReplayError) {
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let data: Data?
        do {
            data = try handle?.read(upToCount: blockSize)
        } catch {
            throw ReplayError(.io, "read failed: \(error.localizedDescription)")
        }
        guard let data, !data.isEmpty else {
            eof = true
            return
        }
        buffer.append(contentsOf: data)
    }
}
