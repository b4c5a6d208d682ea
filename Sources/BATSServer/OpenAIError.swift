import Foundation
public import Gateway
public import HTTPTypes
import Hummingbird
import NIOCore

/// An error reply in the OpenAI wire shape, `{"error": {"message", "type", "param", "code", …}}`, with its HTTP status.
///
/// The official SDKs map the status to their error classes: 400 `BadRequestError`, 401 `AuthenticationError`,
/// 404 `NotFoundError`, 413 and others `APIStatusError`, 429 `RateLimitError` (a budget refusal, `type`
/// `budget_exceeded`), 5xx `InternalServerError`.
public struct OpenAIError: Error, Sendable, CustomStringConvertible {
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// A human-readable message (never a key or a prompt).
    public var message: String
    /// `invalid_request_error`, `authentication_error`, `budget_exceeded`, `upstream_error`, `server_error`, ….
    public var type: String
    /// The request field at fault, such as `messages[0].content`.
    public var param: String?
    /// A machine-readable code.
    public var code: String?
    /// Further fields of the `error` object (a budget refusal's window, scope and amounts).
    public var fields: [String: JSONValue] = [:]
    /// Further response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields = [:]

    /// Creates an error.
    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// `message (type, HTTP status)`.
    public var description: String { "\(message) (\(type), HTTP \(status.code))" }

    /// 400 `invalid_request_error`.
    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 413: the body is larger than the server accepts.
    public static func tooLarge(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .contentTooLarge, message: "the request body is larger than this server accepts (\(limit) bytes)",
            type: "invalid_request_error", code: "request_too_large")
    }

    /// 401: a missing or unknown caller key.
    public static func unauthorized(_ message: String) -> OpenAIError {
        var e = OpenAIError(status: .unauthorized, message: message, type: "invalid_request_error", code: "invalid_api_key")
        e.headers[.wwwAuthenticate] = "Bearer"
        return e
    }

    /// 404 `model_not_found`.
    public static func modelNotFound(_ model: String, known: String) -> OpenAIError {
        OpenAIError(
            status: .notFound, message: "The model `\(model)` does not exist or cannot be routed here. \(known)",
            type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    /// The reply: the JSON body and the headers.
    func response(requestID: String?) -> Response {
        var error: [String: JSONValue] = [
            "message": .string(message), "type": .string(type), "param": param.map(JSONValue.string) ?? .null,
            "code": code.map(JSONValue.string) ?? .null,
        ]
        for (k, v) in fields { error[k] = v }
        var h = headers
        h[.contentType] = "application/json"
        if let requestID { h[ServerHeaders.requestID] = requestID }
        let body = WireJSON.encode(JSONValue.object(["error": .object(error)]))
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The `error` object as one SSE `data:` frame, for a failure after a stream began.
    var sseFrame: [UInt8] {
        var error: [String: JSONValue] = ["message": .string(message), "type": .string(type), "code": code.map(JSONValue.string) ?? .null]
        for (k, v) in fields { error[k] = v }
        return Array("data: ".utf8) + WireJSON.encode(JSONValue.object(["error": .object(error)])) + Array("\n\n".utf8)
    }
}
