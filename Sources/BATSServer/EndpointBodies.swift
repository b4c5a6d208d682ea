import Foundation
import Gateway

/// A `POST /v1/embeddings` body: `model`, `input` (a string or an array of strings), `dimensions`,
/// `encoding_format` (`float` or `base64`: the upstream is always asked for floats, and base64 is made here, as the
/// official SDKs expect: little-endian float32), `user`.
struct EmbeddingsBody: Decodable {
    var model: String
    var request: EmbeddingsRequest
    var base64: Bool

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        model = try c.decode(String.self, forKey: AnyKey("model"))
        let input: EmbeddingsRequest.Input
        if let s = try? c.decode(String.self, forKey: AnyKey("input")) {
            input = .text(s)
        } else if let a = try? c.decode([String].self, forKey: AnyKey("input")) {
            guard !a.isEmpty else { throw OpenAIError.invalidRequest("input must not be empty", param: "input") }
            input = .batch(a)
        } else if c.contains(AnyKey("input")) {
            throw OpenAIError.invalidRequest("input must be a string or an array of strings (token arrays are not supported)", param: "input")
        } else {
            throw OpenAIError.invalidRequest("missing required parameter 'input'", param: "input")
        }
        var r = EmbeddingsRequest(model: model, input: input)
        r.dimensions = try c.decodeIfPresent(Int.self, forKey: AnyKey("dimensions"))
        r.user = try c.decodeIfPresent(String.self, forKey: AnyKey("user"))
        let format = try c.decodeIfPresent(String.self, forKey: AnyKey("encoding_format")) ?? "float"
        guard ["float", "base64"].contains(format) else {
            throw OpenAIError.invalidRequest("encoding_format must be float or base64", param: "encoding_format")
        }
        base64 = format == "base64"
        request = r
    }
}

/// A `POST /v1/images/generations` body: `model`, `prompt`, `n` (1…10), `size`, `quality`, `response_format`, `user`.
struct ImagesBody: Decodable {
    var model: String
    var request: ImageGenerationRequest

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        model = try c.decodeIfPresent(String.self, forKey: AnyKey("model")) ?? ""
        let prompt = try c.decode(String.self, forKey: AnyKey("prompt"))
        let n = try c.decodeIfPresent(Int.self, forKey: AnyKey("n"))
        if let n, !(1...10).contains(n) { throw OpenAIError.invalidRequest("n must be between 1 and 10", param: "n") }
        request = ImageGenerationRequest(
            model: model, prompt: prompt, n: n, size: try c.decodeIfPresent(String.self, forKey: AnyKey("size")),
            quality: try c.decodeIfPresent(String.self, forKey: AnyKey("quality")),
            responseFormat: try c.decodeIfPresent(String.self, forKey: AnyKey("response_format")),
            user: try c.decodeIfPresent(String.self, forKey: AnyKey("user")))
    }
}
