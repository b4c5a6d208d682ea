import ModelSelection
import SpendLedger

/// A council resolved against the catalog: who sits in each seat, what each reservation asks for, and how each seat's
/// routing machine is made.
struct CouncilPlan: Sendable {
    let name: String
    let seats: [ModelID]
    let judge: ModelID?
    let profiles: [TaskProfile]
    let group: GroupReservation
    let tier: Complexity
    let extractor: AnswerExtractor
    let requestID: String
    let taskKind: String?
    let tags: [String: String]
    let tierByRule: Bool
    let callerKey: String?
    let configuration: RoutingStateMachine.Configuration
    var notes: [String] = []

    var critical: Bool { tier == .critical }

    init(council: Council, call: Router.Call, selector: ModelSelector, configuration: RoutingStateMachine.Configuration) throws {
        let base = call.profile
        let fail = { (detail: String) in
            RoutingError(kind: .invalidTask, requestID: call.requestID, tier: base.complexity, attempts: [], detail: "council '\(council.name)': \(detail)")
        }
        guard call.task.model == nil else { throw fail("a council routes by kind or tier; it cannot be given a fixed model") }
        guard !council.members.isEmpty else { throw fail("has no seats") }
        let catalog = selector.catalog
        func chatModel(_ id: ModelID, _ what: String) throws -> ModelID {
            guard let m = catalog.model(id), m.kind == .chat else { throw fail("\(what) '\(id)' is not a chat model of the catalog") }
            return m.id
        }
        var seats: [ModelID] = []
        for member in council.members {
            if base.complexity == .critical {
                // Critical rules: every seat is the pinned model, never refused, never another model.
                seats.append(selector.criticalModel)
                continue
            }
            switch member {
            case .model(let id): seats.append(try chatModel(id, "seat"))
            case .tier(let t):
                let chain = selector.chain(for: t)
                seats.append(chain.first(where: { !seats.contains($0) }) ?? chain[0])
            }
        }
        var judge: ModelID?
        if case .judge(let m) = council.aggregation {
            judge = base.complexity == .critical ? selector.criticalModel : try chatModel(m, "judge")
        }
        var profiles = seats.map { m in
            var p = base
            p.model = base.complexity == .critical ? nil : m
            return p
        }
        if let judge {
            // The judge reads the question and every seat's answer: its prompt is bounded by their completion caps.
            var input = base.inputTokens
            for (p, m) in zip(profiles, seats) {
                let cap = catalog.model(m).map { selector.outputCap(for: p, on: $0) } ?? 0
                input = input.addingReportingOverflow(cap).overflow ? Int.max / 2 : input + cap
            }
            input = min(Int.max / 2, input + 256)
            profiles.append(
                TaskProfile(
                    kind: base.kind, complexity: base.complexity, inputTokens: input, maxOutputTokens: council.judgeMaxOutputTokens,
                    model: base.complexity == .critical ? nil : judge))
        }
        self.name = council.name
        self.seats = seats
        self.judge = judge
        self.profiles = profiles
        self.tier = base.complexity
        self.extractor = council.extractor
        self.requestID = call.requestID
        self.taskKind = call.task.kind
        self.tierByRule = call.tierByRule
        self.callerKey = call.task.callerKey
        self.configuration = configuration
        var tags = call.task.tags
        tags[GroupTag.group] = call.requestID
        tags[GroupTag.council] = council.name
        self.tags = tags
        let requests = profiles.indices.map { i in
            ReservationRequest(
                requestID: Self.seatID(call.requestID, i, judge: i == seats.count), attempt: 1, taskKind: call.task.kind,
                tags: Self.tags(tags, role: i == seats.count ? "judge" : "member-\(i + 1)"), callDeadline: configuration.callDeadline,
                tier: base.complexity, callerKey: call.task.callerKey)
        }
        self.group = GroupReservation(
            requests: requests, minimum: council.minimumMembers, mandatory: judge == nil ? [] : [seats.count])
    }

    /// Each reservation's pure selection: its own profile against the budget the ones before it left.
    func chooser(_ selector: ModelSelector) -> @Sendable (Int, BudgetSnapshot) -> Selection {
        let profiles = self.profiles
        return { i, snapshot in selector.select(profiles[i], budget: snapshot) }
    }

    /// The routing machine of seat `i` on `model` (the judge's when `i` is the seat count).
    func machine(seat i: Int, model: ModelID, selector: ModelSelector) -> RoutingStateMachine {
        var p = profiles[i]
        if !critical { p.model = model }
        let judge = i == seats.count
        return RoutingStateMachine(
            selector: selector, plan: .chat(p), requestID: Self.seatID(requestID, i, judge: judge), taskKind: taskKind,
            tags: Self.tags(tags, role: judge ? "judge" : "member-\(i + 1)"), tierByRule: tierByRule, callerKey: callerKey,
            configuration: configuration)
    }

    /// The next model for a seat whose model failed: down the tier's chain from it, skipping seated and tried models.
    /// A critical seat has none (its machine retries the pinned model).
    func fallback(after model: ModelID, tried: Set<ModelID>, selector: ModelSelector) -> ModelID? {
        guard !critical else { return nil }
        let chain = selector.chain(for: tier)
        let rest = chain.firstIndex(of: model).map { Array(chain[($0 + 1)...]) } ?? chain
        return rest.first { !tried.contains($0) }
    }

    static func seatID(_ requestID: String, _ i: Int, judge: Bool) -> String {
        judge ? "\(requestID)/judge" : "\(requestID)/member-\(i + 1)"
    }

    static func tags(_ tags: [String: String], role: String) -> [String: String] {
        var t = tags
        t[GroupTag.role] = role
        return t
    }
}
