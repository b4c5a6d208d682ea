public import Foundation

/// LiteLLM's community price map (`model_prices_and_context_window.json`), read for the prices BATS's catalog holds.
///
/// The map is a JSON object of entries keyed by LiteLLM model id (`deepseek-chat`, `mistral/mistral-medium-2505`).
/// Prices there are US dollars per token (or per image, per request); they are converted exactly, with `Decimal`
/// parsed from each number's literal text, into this catalog's micro-dollars per million tokens. No `Double` is
/// involved: `1.875e-05` $/token is exactly 18.75 $/M.
///
/// The fields it maps (see ``mappedFields``) are checked in every entry: a value that is not a number, or is
/// negative, is an error naming the entry. Every other price-like field (`*cost*`, tiered `*_above_*` prices) is kept
/// in ``Entry/unknownFields`` for the import to report; nothing is guessed. The documentation entry `sample_spec` is
/// skipped.
public struct LiteLLMPriceMap: Sendable {
    /// One entry's prices, converted to the catalog's units.
    public struct Entry: Sendable, Hashable {
        /// The entry's key in the map.
        public var key: String
        /// `input_cost_per_token`, per million tokens.
        public var input: MicroDollars?
        /// `output_cost_per_token`, per million tokens.
        public var output: MicroDollars?
        /// `cache_read_input_token_cost` (or DeepSeek's `input_cost_per_token_cache_hit`), per million tokens.
        public var cachedInput: MicroDollars?
        /// `cache_creation_input_token_cost`, per million tokens.
        public var cacheWrite: MicroDollars?
        /// `output_cost_per_image` (or `input_cost_per_image` on an `image_generation` entry), per image.
        public var perImage: MicroDollars?
        /// `input_cost_per_request`, per call.
        public var perRequest: MicroDollars?
        /// Price-like fields the importer does not map (batch, tiered, audio, per-pixel prices…), sorted.
        public var unknownFields: [String]
        /// Mapped fields whose value cannot be used as it is, with why (more than 6 decimals of $/M, two fields
        /// that disagree), sorted by field.
        public var unusableFields: [String: String]

        /// Creates an entry with converted prices.
        /// - Parameters:
        ///   - key: The entry's key.
        ///   - input: Input price per million tokens.
        ///   - output: Output price per million tokens.
        ///   - cachedInput: Cache-read price per million tokens.
        ///   - cacheWrite: Cache-write price per million tokens.
        ///   - perImage: Price per generated image.
        ///   - perRequest: Fee per call.
        ///   - unknownFields: Price-like fields not mapped.
        ///   - unusableFields: Mapped fields that cannot be used, with why.
        public init(
            key: String, input: MicroDollars? = nil, output: MicroDollars? = nil, cachedInput: MicroDollars? = nil,
            cacheWrite: MicroDollars? = nil, perImage: MicroDollars? = nil, perRequest: MicroDollars? = nil,
            unknownFields: [String] = [], unusableFields: [String: String] = [:]
        ) {
            self.key = key
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
            self.cacheWrite = cacheWrite
            self.perImage = perImage
            self.perRequest = perRequest
            self.unknownFields = unknownFields
            self.unusableFields = unusableFields
        }

        /// Whether the entry has any price the importer maps.
        public var hasPrices: Bool {
            input != nil || output != nil || cachedInput != nil || cacheWrite != nil || perImage != nil || perRequest != nil
        }
    }

    /// The LiteLLM fields this importer understands, with the catalog field each one sets.
    public static let mappedFields: [(litellm: String, catalog: String)] = [
        ("input_cost_per_token", "input_per_mtok"),
        ("output_cost_per_token", "output_per_mtok"),
        ("cache_read_input_token_cost", "cached_input_per_mtok"),
        ("input_cost_per_token_cache_hit", "cached_input_per_mtok"),
        ("cache_creation_input_token_cost", "cache_write_per_mtok"),
        ("output_cost_per_image", "per_image"),
        ("input_cost_per_image", "per_image (image_generation entries only)"),
        ("input_cost_per_request", "per_request"),
    ]

    /// The entries by key (without `sample_spec`).
    public var entries: [String: Entry]

    /// Creates a map from converted entries.
    /// - Parameter entries: The entries by key.
    public init(entries: [String: Entry]) { self.entries = entries }

    /// Reads a price map from a file.
    /// - Parameters:
    ///   - url: The JSON file.
    ///   - sourceName: How errors name the file; defaults to its path.
    /// - Returns: The map.
    /// - Throws: ``PriceImportError`` naming the entry at fault.
    public static func load(contentsOf url: URL, sourceName: String? = nil) throws(PriceImportError) -> LiteLLMPriceMap {
        let source = sourceName ?? url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .malformedMap(source: source, key: "", message: "cannot read file (\(error.localizedDescription))")
        }
        return try decode(data, source: source)
    }

    /// Decodes a price map from JSON bytes.
    /// - Parameters:
    ///   - data: The JSON document.
    ///   - source: How errors name the document.
    /// - Returns: The map.
    /// - Throws: ``PriceImportError`` when the document is not a JSON object, an entry is not an object, or a mapped
    ///   price is not a non-negative number; the error names the entry.
    public static func decode(_ data: Data, source: String) throws(PriceImportError) -> LiteLLMPriceMap {
        let root: LiteLLMValue
        do { root = try JSONDecoder().decode(LiteLLMValue.self, from: data) } catch let DecodingError.typeMismatch(_, context)
            where context.codingPath.count > 1
        {
            // Only a number beyond `Double`'s range (`1e400`) fails every alternative of `LiteLLMValue`.
            let path = context.codingPath.map(\.stringValue)
            throw .invalidPrice(source: source, key: path[0], message: "\(path.dropFirst().joined(separator: ".")) is a number out of range")
        } catch {
            var detail = ""
            if case DecodingError.dataCorrupted(let context) = error { detail = " (\(context.debugDescription))" }
            throw .malformedMap(source: source, key: "", message: "not valid JSON\(detail)")
        }
        guard case .object(let object) = root else {
            throw .malformedMap(source: source, key: "", message: "the top level must be a JSON object of model entries, not \(root.typeName)")
        }
        var entries: [String: Entry] = [:]
        for (key, value) in object where key != "sample_spec" {
            guard case .object(let fields) = value else {
                throw .malformedMap(source: source, key: key, message: "must be an object, not \(value.typeName)")
            }
            entries[key] = try entry(key, fields, source: source)
        }
        return LiteLLMPriceMap(entries: entries)
    }

    // MARK: - Conversion

    private static func entry(_ key: String, _ fields: [String: LiteLLMValue], source: String) throws(PriceImportError) -> Entry {
        var unusable: [String: String] = [:]
        func price(_ field: String, scale: Decimal) throws(PriceImportError) -> MicroDollars? {
            guard let value = fields[field] else { return nil }
            let perToken: Decimal
            switch value {
            case .number(let d): perToken = d
            case .unrepresentableNumber:
                throw .invalidPrice(source: source, key: key, message: "\(field) is out of range")
            default:
                throw .invalidPrice(source: source, key: key, message: "\(field) must be a number, not \(value.typeName)")
            }
            if perToken < 0 {
                throw .invalidPrice(source: source, key: key, message: "\(field) must not be negative (\(perToken))")
            }
            guard let amount = MicroDollars(parsing: "\(perToken * scale)") else {
                unusable[field] = "\(perToken) is not a whole number of micro-dollars (\(perToken * scale) $\(scale == 1 ? "" : "/M"))"
                return nil
            }
            return amount
        }
        let million = Decimal(1_000_000)
        var isImageGeneration = false
        if case .string("image_generation")? = fields["mode"] { isImageGeneration = true }
        var e = Entry(key: key, unknownFields: [], unusableFields: [:])
        e.input = try price("input_cost_per_token", scale: million)
        e.output = try price("output_cost_per_token", scale: million)
        e.cacheWrite = try price("cache_creation_input_token_cost", scale: million)
        e.perRequest = try price("input_cost_per_request", scale: 1)
        let cacheRead = try price("cache_read_input_token_cost", scale: million)
        let cacheHit = try price("input_cost_per_token_cache_hit", scale: million)
        if let cacheRead, let cacheHit, cacheRead != cacheHit {
            unusable["cache_read_input_token_cost"] = "disagrees with input_cost_per_token_cache_hit (\(cacheRead.decimalString) vs \(cacheHit.decimalString) $/M)"
        } else {
            e.cachedInput = cacheRead ?? cacheHit
        }
        let outputImage = try price("output_cost_per_image", scale: 1)
        // On an image-generation entry LiteLLM prices each generated image as `input_cost_per_image`; on a chat entry
        // it is an image sent in, which providers bill as prompt tokens: reported, not mapped.
        var inputImage: MicroDollars?
        if isImageGeneration { inputImage = try price("input_cost_per_image", scale: 1) }
        if let outputImage, let inputImage, outputImage != inputImage {
            unusable["output_cost_per_image"] = "disagrees with input_cost_per_image (\(outputImage.decimalString) vs \(inputImage.decimalString) $)"
        } else {
            e.perImage = outputImage ?? inputImage
        }
        var mapped = Set(mappedFields.map(\.litellm))
        if !isImageGeneration { mapped.remove("input_cost_per_image") }
        e.unknownFields = fields.keys.filter { !mapped.contains($0) && isPriceLike($0) }.sorted()
        e.unusableFields = unusable
        return e
    }

    /// Whether a field name is a price LiteLLM documents: `*cost*` (`*_cost_per_*`, `*_token_cost`) or a tiered
    /// `*_above_*` price.
    static func isPriceLike(_ field: String) -> Bool {
        field.contains("cost") || field.contains("_above_")
    }
}
