/// A strict RFC 4180 CSV reader over bytes in memory: fields separated by commas, records by `\n` or `\r\n`; a field
/// may be quoted, and a quoted field may hold commas, newlines and doubled quotes (`""` for `"`).
///
/// Each record carries the 1-based line on which it starts, for error messages. Errors (a quote inside an unquoted
/// field, text after a closing quote, a quoted field never closed) are ``ReplayError``s with code
/// ``ReplayError/Code/malformedLine`` naming the file and the line. A UTF-8 BOM is skipped; a final newline is
/// optional; blank lines between records are skipped.
struct CSVReader {
    /// One record: its fields and the line it starts on.
    struct Record {
        /// The fields, decoded (quotes removed, `""` turned into `"`).
        var fields: [String]
        /// The 1-based line on which the record starts.
        var line: Int
    }

    private let bytes: [UInt8]
    private let file: String
    private var i = 0
    private var line = 1

    /// Creates a reader.
    /// - Parameters:
    ///   - bytes: The CSV document.
    ///   - file: The name used in error messages.
    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
    }

    /// Reads the next record, or `nil` at the end of the document.
    /// - Throws: ``ReplayError`` for a malformed record.
    mutating func next() throws(ReplayError) -> Record? {
        // Skip blank lines.
        while i < bytes.count, bytes[i] == 0x0A || (bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) {
            i += bytes[i] == 0x0D ? 2 : 1
            line += 1
        }
        guard i < bytes.count else { return nil }
        let start = line
        var fields: [String] = []
        while true {
            let (field, end) = try readField(recordLine: start)
            fields.append(field)
            switch end {
            case .comma: continue
            case .endOfRecord: return Record(fields: fields, line: start)
            }
        }
    }

    private enum FieldEnd { case comma, endOfRecord }

    /// Reads one field and the separator after it (consumed).
    private mutating func readField(recordLine: Int) throws(ReplayError) -> (String, FieldEnd) {
        if i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
            let opened = line
            i += 1
            var out: [UInt8] = []
            while true {
                guard i < bytes.count else {
                    throw ReplayError(
                        .malformedLine, "a quoted field opened on this line is never closed (unterminated quote)", file: file,
                        line: opened)
                }
                let c = bytes[i]
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "\"") {
                        out.append(c)
                        i += 2
                        continue
                    }
                    i += 1
                    break
                }
                if c == 0x0A { line += 1 }
                out.append(c)
                i += 1
            }
            let field = String(decoding: out, as: UTF8.self)
            guard let end = consumeSeparator() else {
                throw ReplayError(
                    .malformedLine, "unexpected text after a closing quote (a quote inside a field must be doubled)",
                    file: file, line: line)
            }
            return (field, end)
        }
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: ",") || c == 0x0A || (c == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A) { break }
            if c == UInt8(ascii: "\"") {
                throw ReplayError(
                    .malformedLine, "a quote inside an unquoted field (quote the whole field and double the quote)",
                    file: file, line: line)
            }
            i += 1
        }
        let field = String(decoding: bytes[start..<i], as: UTF8.self)
        // Cannot fail: the loop stopped at a separator or at the end.
        return (field, consumeSeparator() ?? .endOfRecord)
    }

    /// Consumes a comma, a line end or nothing at the end of input; `nil` if something else follows.
    private mutating func consumeSeparator() -> FieldEnd? {
        guard i < bytes.count else { return .endOfRecord }
        switch bytes[i] {
        case UInt8(ascii: ","):
            i += 1
            return .comma
        case 0x0A:
            i += 1
            line += 1
            return .endOfRecord
        case 0x0D where i + 1 < bytes.count && bytes[i + 1] == 0x0A:
            i += 2
            line += 1
            return .endOfRecord
        default:
            return nil
        }
    }
}
