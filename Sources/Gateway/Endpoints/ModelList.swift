/// The reply of `GET /models`: the models a gateway offers.
public struct ModelList: Sendable, Hashable, Decodable {
    /// One model as the gateway describes it.
    public struct Model: Sendable, Hashable, Decodable {
        /// The gateway's model id (what goes in a request's `model`).
        public var id: String
        /// The owner or provider, where reported.
        public var ownedBy: String?
        /// Unix seconds, where reported.
        public var created: Int?

        /// Creates a model entry.
        public init(id: String, ownedBy: String? = nil, created: Int? = nil) {
            self.id = id
            self.ownedBy = ownedBy
            self.created = created
        }

        enum CodingKeys: String, CodingKey {
            case id, created
            case ownedBy = "owned_by"
        }

        /// Decodes an entry: `id` is required, the rest may be missing.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            ownedBy = try? c.decodeIfPresent(String.self, forKey: .ownedBy)
            created = try? c.decodeIfPresent(Int.self, forKey: .created)
        }
    }

    /// The models.
    public var data: [Model]

    /// Creates a list.
    public init(data: [Model]) { self.data = data }

    /// The model ids.
    public var ids: [String] { data.map(\.id) }
}
