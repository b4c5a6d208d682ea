import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with an input file that a command found before using it: printed as one line (`Error: …`) without the
/// usage text, exit status 1.
///
/// Flag values that are wrong in themselves stay `ValidationError`s (usage text, exit status 64); a file that is
/// missing or of the wrong kind is a fact about the machine, not about how the command was typed.
struct CommandError: Error, CustomStringConvertible {
    /// The one-line message, naming the path and what is wrong.
    var description: String

    init(_ description: String) { self.description = description }
}

// MARK: - Input files

/// Checks paths given on the command line before a library opens them.
enum InputFile {
    /// What a path is, after following symbolic links.
    enum Kind: Equatable {
        case missing
        case regular(size: Int64)
        case directory
        case other(String)
        case unreadable(String)
    }

    /// Looks at `path` (following symbolic links).
    static func kind(of path: String) -> Kind {
        var st = stat()
        guard stat(path, &st) == 0 else {
            let e = errno
            return e == ENOENT || e == ENOTDIR ? .missing : .unreadable(String(cString: strerror(e)))
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return .regular(size: Int64(st.st_size))
        case S_IFDIR: return .directory
        case S_IFCHR: return .other("a character device")
        case S_IFBLK: return .other("a block device")
        case S_IFIFO: return .other("a named pipe")
        case S_IFSOCK: return .other("a socket")
        default: return .other("not a regular file")
        }
    }

    /// ` (a symbolic link to TARGET)` when `path` is a symbolic link, else empty.
    private static func via(_ path: String) -> String {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return "" }
        return " (a symbolic link to \(target))"
    }

    /// For commands that read a ledger (audit, audit verify, budget, replay --from-ledger): the ledger must exist and
    /// be a non-empty regular file. Opening a missing or empty file would create a new, empty ledger instead.
    /// - Throws: ``CommandError`` naming the path and what is wrong.
    static func checkExistingLedger(_ path: String) throws(CommandError) {
        switch kind(of: path) {
        case .regular(let size) where size > 0: return
        case .regular: throw CommandError("ledger '\(path)'\(via(path)) is an empty file, not a BATS ledger")
        case .missing: throw CommandError("no ledger at '\(path)'\(via(path))")
        case .directory: throw CommandError("ledger '\(path)'\(via(path)) is a directory, not a ledger file")
        case .other(let what): throw CommandError("ledger '\(path)'\(via(path)) is \(what), not a ledger file")
        case .unreadable(let why): throw CommandError("cannot use ledger '\(path)': \(why)")
        }
    }

    /// For commands that create or append to a ledger (replay --ledger, complete, simulate): a missing path is fine
    /// (the ledger is created), anything but a regular file is not.
    /// - Throws: ``CommandError`` naming the path and what is wrong.
    static func checkWritableLedger(_ path: String) throws(CommandError) {
        switch kind(of: path) {
        case .missing, .regular: return
        case .directory: throw CommandError("ledger '\(path)'\(via(path)) is a directory, not a ledger file")
        case .other(let what): throw CommandError("ledger '\(path)'\(via(path)) is \(what), not a ledger file")
        case .unreadable(let why): throw CommandError("cannot use ledger '\(path)': \(why)")
        }
    }

    /// For an input file (a workload, a trace, a price catalog): it must exist and not be a directory. It may be
    /// empty, or a pipe or device (`<(generate)`, `/dev/stdin`); the reader then reports what it finds.
    /// - Parameters:
    ///   - path: The path.
    ///   - what: What the file is, for the message (`workload`, `trace`, `price catalog`).
    /// - Throws: ``CommandError`` naming the path and what is wrong.
    static func checkReadable(_ path: String, what: String) throws(CommandError) {
        switch kind(of: path) {
        case .regular, .other: return
        case .missing: throw CommandError("no \(what) file at '\(path)'\(via(path))")
        case .directory: throw CommandError("\(what) '\(path)'\(via(path)) is a directory, not a file")
        case .unreadable(let why): throw CommandError("cannot read \(what) '\(path)': \(why)")
        }
    }
}
