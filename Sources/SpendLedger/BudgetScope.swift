public import ModelSelection

/// A budget for the calls that belong to one scope: a tag value, a task kind, a tier or a caller key, or a scope
/// nested in another (a tag value inside a key). It sits under the global budget: a non-critical call must fit both.
///
/// A scope is named by its path, outermost first, written `key:team-a/tag:agent=scanner`. A call belongs to a scope
/// when it matches every step of the path.
public struct BudgetScope: Sendable, Hashable, Codable {
    /// One step of a scope's path.
    public enum Matcher: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
        /// Calls tagged `key=value` (`tag:agent=scanner`).
        case tag(key: String, value: String)
        /// Calls of a task kind (`kind:execute_trade`).
        case taskKind(String)
        /// Calls of a tier (`tier:simple`).
        case tier(Complexity)
        /// Calls made with a caller key, by its name, never its secret (`key:team-a`).
        case callerKey(String)

        /// The step as written in a scope's name.
        public var description: String {
            switch self {
            case .tag(let k, let v): "tag:\(k)=\(v)"
            case .taskKind(let k): "kind:\(k)"
            case .tier(let t): "tier:\(t.rawValue)"
            case .callerKey(let k): "key:\(k)"
            }
        }

        /// Parses `tag:K=V`, `kind:K`, `tier:T` or `key:K`.
        /// - Throws: ``LedgerError`` (`invalidConfiguration`) naming the step.
        public init(parsing text: String) throws {
            func bad(_ why: String) -> LedgerError {
                LedgerError(kind: .invalidConfiguration, message: "scope step '\(text)': \(why)")
            }
            guard let colon = text.firstIndex(of: ":") else { throw bad("expected tag:KEY=VALUE, kind:KIND, tier:TIER or key:NAME") }
            let kind = text[..<colon], rest = String(text[text.index(after: colon)...])
            guard !rest.isEmpty, !rest.contains("/") else { throw bad("the value is empty or contains '/'") }
            switch kind {
            case "tag":
                guard let eq = rest.firstIndex(of: "="), eq != rest.startIndex, rest.index(after: eq) != rest.endIndex else {
                    throw bad("a tag step is tag:KEY=VALUE")
                }
                self = .tag(key: String(rest[..<eq]), value: String(rest[rest.index(after: eq)...]))
            case "kind": self = .taskKind(rest)
            case "tier":
                guard let t = Complexity(rawValue: rest) else {
                    throw bad("unknown tier '\(rest)' (one of \(Complexity.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                self = .tier(t)
            case "key": self = .callerKey(rest)
            default: throw bad("unknown kind '\(kind)' (tag, kind, tier or key)")
            }
        }

        /// Whether a call matches this step.
        public func matches(_ call: ScopedCall) -> Bool {
            switch self {
            case .tag(let k, let v): call.tags[k] == v
            case .taskKind(let k): call.taskKind == k
            case .tier(let t): call.tier == t
            case .callerKey(let k): call.callerKey == k
            }
        }

        /// Orders steps by their names.
        public static func < (lhs: Matcher, rhs: Matcher) -> Bool { lhs.description < rhs.description }
    }

    /// The path, outermost first; never empty.
    public var path: [Matcher]
    /// The limit for one calendar day, or `nil` for none.
    public var daily: MicroDollars?
    /// The limit for one calendar month, or `nil` for none.
    public var monthly: MicroDollars?
    /// Alert thresholds on this scope's windows.
    public var alerts: [BudgetAlertThreshold]

    /// The scope's name: its path, `key:team-a/tag:agent=scanner`.
    public var name: String { path.map(\.description).joined(separator: "/") }

    /// Creates a scope.
    public init(_ path: [Matcher], daily: MicroDollars? = nil, monthly: MicroDollars? = nil, alerts: [BudgetAlertThreshold] = []) {
        self.path = path
        self.daily = daily
        self.monthly = monthly
        self.alerts = alerts
    }

    /// Creates a scope from its name (`key:team-a/tag:agent=scanner`).
    /// - Throws: ``LedgerError`` (`invalidConfiguration`) naming the step that does not parse.
    public init(name: String, daily: MicroDollars? = nil, monthly: MicroDollars? = nil, alerts: [BudgetAlertThreshold] = []) throws {
        guard !name.isEmpty else { throw LedgerError(kind: .invalidConfiguration, message: "a scope needs a name such as tag:agent=scanner") }
        self.init(try name.split(separator: "/", omittingEmptySubsequences: false).map { try Matcher(parsing: String($0)) },
                  daily: daily, monthly: monthly, alerts: alerts)
    }

    /// Whether a call belongs to the scope (it matches every step).
    public func contains(_ call: ScopedCall) -> Bool { path.allSatisfy { $0.matches(call) } }

    /// Checks that the path is not empty, names each step once, and that no limit is negative.
    /// - Throws: ``LedgerError`` (`invalidConfiguration`).
    public func validate() throws {
        guard !path.isEmpty else { throw LedgerError(kind: .invalidConfiguration, message: "a scope needs at least one step") }
        if Set(path).count != path.count { throw LedgerError(kind: .invalidConfiguration, message: "scope \(name) repeats a step") }
        for (what, v) in [("daily", daily), ("monthly", monthly)] {
            if let v, v < .zero { throw LedgerError(kind: .invalidConfiguration, message: "scope \(name): the \(what) limit must not be negative (\(v))") }
        }
        for a in alerts { try a.validate(in: "scope \(name)") }
    }
}

/// What the ledger knows of a call when it decides which scopes it belongs to.
public struct ScopedCall: Sendable, Hashable {
    /// The call's tags.
    public var tags: [String: String]
    /// Its task kind, if any.
    public var taskKind: String?
    /// Its tier, if known before selection.
    public var tier: Complexity?
    /// The name of the caller key it came with, if any.
    public var callerKey: String?

    /// Creates a call description.
    public init(tags: [String: String] = [:], taskKind: String? = nil, tier: Complexity? = nil, callerKey: String? = nil) {
        self.tags = tags
        self.taskKind = taskKind
        self.tier = tier
        self.callerKey = callerKey
    }
}

/// A share of a window's limit at which an alert fires, once per window: 50%, 80%, 100%.
///
/// It fires when the window's committed spend (settled plus held reservations, what the fit check counts) reaches
/// the share.
public struct BudgetAlertThreshold: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    /// A calendar window.
    public enum Period: String, Sendable, Hashable, Codable, CaseIterable {
        /// The day window.
        case day
        /// The month window.
        case month
    }

    /// The window it watches.
    public var period: Period
    /// The share of the limit, in parts per million (500,000 is 50%); above 0 and at most 10,000,000 (1000%).
    public var partsPerMillion: Int64

    /// Creates a threshold.
    public init(_ period: Period, partsPerMillion: Int64) {
        self.period = period
        self.partsPerMillion = partsPerMillion
    }

    /// A threshold at a whole percentage.
    public static func percent(_ p: Int64, of period: Period) -> BudgetAlertThreshold { .init(period, partsPerMillion: p * 10_000) }

    /// `day 80%`.
    public var description: String { "\(period.rawValue) \(Self.percentText(partsPerMillion))%" }

    /// A share in parts per million as a percentage, exactly: `50`, `12.5`.
    public static func percentText(_ partsPerMillion: Int64) -> String {
        let whole = partsPerMillion / 10_000, frac = partsPerMillion % 10_000
        guard frac != 0 else { return String(whole) }
        var digits = String(String(frac.magnitude + 10_000).dropFirst())
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(whole).\(digits)"
    }

    /// Checks the share.
    func validate(in owner: String) throws {
        guard partsPerMillion > 0, partsPerMillion <= 10_000_000 else {
            throw LedgerError(kind: .invalidConfiguration, message: "\(owner): an alert threshold must be above 0% and at most 1000% (\(description))")
        }
    }

    /// Orders by period, then share.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.period.rawValue, lhs.partsPerMillion) < (rhs.period.rawValue, rhs.partsPerMillion)
    }
}
