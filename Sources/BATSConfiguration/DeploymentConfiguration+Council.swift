public import ModelSelection

extension DeploymentConfiguration {
    /// One entry of `councils:`: a council as the file defines it, served by `bats serve` as `bats/council/<name>`.
    ///
    /// Plain values, checked against the file's catalog as it is read; the router's `Council` is built from them by
    /// the command that serves it (this module does not depend on the router).
    ///
    /// ```yaml
    /// councils:
    ///   trade:
    ///     tier: reasoning
    ///     members: [deepseek-r1, kimi-k2]
    ///     aggregation: majority          # or {first-agreement: 2}, or {judge: claude-opus}
    ///     minimum_members: 2
    ///     extractor: json:decision       # text, final-number, choice-letter or json:PATH
    /// ```
    public struct Council: Sendable, Hashable {
        /// One seat, as the router's `Council.Member`.
        public enum Member: Sendable, Hashable, CustomStringConvertible {
            /// This catalog chat model (`- deepseek-r1`, or `- model: deepseek-r1`).
            case model(ModelID)
            /// The first model of this tier's chain not already seated (`- tier: reasoning`).
            case tier(Complexity)

            /// `model:ID` or `tier:NAME`, as the router writes a member.
            public var description: String {
                switch self {
                case .model(let m): "model:\(m)"
                case .tier(let t): "tier:\(t)"
                }
            }
        }

        /// How the members' answers are combined, as the router's `Council.Aggregation`.
        public enum Aggregation: Sendable, Hashable, CustomStringConvertible {
            /// `majority`: the answer most members gave.
            case majority
            /// `first-agreement: K`: the first answer `K` members agree on (the rest are cancelled).
            case firstAgreement(Int)
            /// `judge: MODEL`: this catalog chat model picks one answer.
            case judge(ModelID)

            /// `majority`, `first-agreement:K` or `judge:MODEL`.
            public var description: String {
                switch self {
                case .majority: "majority"
                case .firstAgreement(let k): "first-agreement:\(k)"
                case .judge(let m): "judge:\(m)"
                }
            }
        }

        /// The extractor names a council may use (`json:PATH` is ``jsonExtractorPrefix`` and a dotted path).
        public static let extractorNames = ["text", "final-number", "choice-letter"]
        /// The prefix of a JSON-field extractor's name (`json:decision`).
        public static let jsonExtractorPrefix = "json:"

        /// The council's name: its key under `councils`, the `<name>` of `bats/council/<name>`.
        public var name: String
        /// The tier a call runs at when the request names none (no `X-BATS-Tier`, no `X-BATS-Task`); `nil` for `simple`.
        public var tier: Complexity?
        /// The task kinds this answers for (`task_kinds`): a request for `bats/task/<kind>` (or `bats/auto` with
        /// `X-BATS-Task: <kind>`) runs it. A kind belongs to one council or cascade at most.
        public var taskKinds: [String] = []
        /// The seats, in order (at least one).
        public var members: [Member]
        /// How answers are combined.
        public var aggregation: Aggregation
        /// The fewest seats worth convening when not all fit the budget; `nil` for all of them.
        public var minimumMembers: Int?
        /// How a reply becomes the answer voted on: `text`, `final-number`, `choice-letter` or `json:PATH`.
        public var extractor: String
        /// A judge's completion cap in tokens (`judge_max_output_tokens`); `nil` for the router's default.
        public var judgeMaxOutputTokens: Int?

        /// Creates a council definition.
        /// - Parameters:
        ///   - name: Its name.
        ///   - tier: The default tier, or `nil`.
        ///   - members: The seats.
        ///   - aggregation: How answers are combined (default: majority).
        ///   - minimumMembers: The fewest worth convening, or `nil` for all.
        ///   - extractor: The extractor's name (default: `text`).
        ///   - judgeMaxOutputTokens: A judge's completion cap, or `nil`.
        public init(
            name: String, tier: Complexity? = nil, members: [Member] = [], aggregation: Aggregation = .majority, minimumMembers: Int? = nil,
            extractor: String = "text", judgeMaxOutputTokens: Int? = nil
        ) {
            self.name = name
            self.tier = tier
            self.members = members
            self.aggregation = aggregation
            self.minimumMembers = minimumMembers
            self.extractor = extractor
            self.judgeMaxOutputTokens = judgeMaxOutputTokens
        }
    }
}
