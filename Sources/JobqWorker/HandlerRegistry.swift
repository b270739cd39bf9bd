import Jobq
import JobqCore

/// Handlers by name: what a worker can run.
///
/// Register Swift closures whose input and output are `Codable` (JSON on the wire); the worker
/// decodes the payload, calls the closure, and stores the encoded output as the task's result.
///
/// ```swift
/// var registry = HandlerRegistry()
/// registry.register("resize") { (input: ResizeInput, context: HandlerContext) async throws -> ResizeOutput in
///     context.progress(percent: 50)
///     return try await resize(input)
/// }
/// ```
///
/// A payload that does not decode fails the task for good (reason `bad_payload`); a task naming
/// a handler that is not registered fails for good too (reason `unknown_handler`). Handlers may
/// run more than once for one task (at-least-once delivery), so make them idempotent.
public struct HandlerRegistry: Sendable {
    private var handlers: [String: AnyHandler] = [:]
    /// Handlers that take their tasks in batches (``register(batch:max:wait:key:_:)``).
    private var batchHandlers: [String: AnyBatchHandler] = [:]

    public init() {}

    /// The registered names, sorted.
    public var names: [String] { Set(handlers.keys).union(batchHandlers.keys).sorted() }

    /// Whether `name` is registered.
    public func contains(_ name: String) -> Bool { handlers[name] != nil || batchHandlers[name] != nil }

    /// Registers `handler` under `name`, replacing any handler registered under it before.
    ///
    /// `name` must match the name grammar `[A-Za-z0-9._-]{1,128}` (checked when the worker is
    /// created). The closure runs in its own Swift `Task`, cancelled when the task is cancelled,
    /// times out, or the worker shuts down past its grace period.
    public mutating func register<Input: Decodable & SendableMetatype, Output: Encodable & SendableMetatype>(
        _ name: String,
        _ handler: @escaping @Sendable (Input, HandlerContext) async throws -> Output
    ) {
        batchHandlers[name] = nil
        handlers[name] = AnyHandler(name: name) { payload, context in
            let input: Input
            do throws(JobqError) {
                input = try PayloadCoding.decode(Input.self, from: payload)
            } catch {
                throw PayloadDecodingFailure(message: "payload does not decode as \(Input.self): \(error.message)")
            }
            let output = try await handler(input, context)
            do throws(JobqError) {
                return try PayloadCoding.encode(output)
            } catch {
                throw HandlerError.permanent("result of type \(Output.self) does not encode as JSON: \(error.message)", reason: "bad_result")
            }
        }
    }

    /// Registers a handler with no result (stored as `null`).
    public mutating func register<Input: Decodable & SendableMetatype>(
        _ name: String,
        _ handler: @escaping @Sendable (Input, HandlerContext) async throws -> Void
    ) {
        register(name) { (input: Input, context: HandlerContext) async throws -> JSONNull in
            try await handler(input, context)
            return JSONNull()
        }
    }

    /// Registers a handler that takes the payload's JSON bytes and returns the result's JSON bytes
    /// unchanged (no decoding): for proxies, command runners and pass-through handlers.
    ///
    /// The returned bytes must be one JSON value; empty means `null`.
    public mutating func register(
        _ name: String,
        raw handler: @escaping @Sendable (_ payload: [UInt8], _ context: HandlerContext) async throws -> [UInt8]
    ) {
        batchHandlers[name] = nil
        handlers[name] = AnyHandler(name: name) { payload, context in
            let result = try await handler(payload, context)
            return result.isEmpty ? Array("null".utf8) : result
        }
    }

    /// Adds every handler of `other`, replacing same-named ones.
    public mutating func merge(_ other: HandlerRegistry) {
        for name in other.handlers.keys { batchHandlers[name] = nil }
        for name in other.batchHandlers.keys { handlers[name] = nil }
        handlers.merge(other.handlers) { _, new in new }
        batchHandlers.merge(other.batchHandlers) { _, new in new }
    }

    func handler(named name: String) -> AnyHandler? { handlers[name] }

    func batchHandler(named name: String) -> AnyBatchHandler? { batchHandlers[name] }

    /// Registers a type-erased batch handler, replacing any handler registered under its name.
    mutating func set(batch handler: AnyBatchHandler) {
        handlers[handler.name] = nil
        batchHandlers[handler.name] = handler
    }

    /// Throws `invalid_name` for the first registered name outside the grammar, `invalid_option`
    /// for batch settings out of range.
    func validate() throws(JobqError) {
        for name in names { try Validation.check(name: name, as: .handler) }
        for handler in batchHandlers.values.sorted(by: { $0.name < $1.name }) { try handler.settings.validate(handler: handler.name) }
    }
}

/// A registered handler with its types erased: payload bytes in, result bytes out.
struct AnyHandler: Sendable {
    let name: String
    let body: @Sendable (_ payload: [UInt8], _ context: HandlerContext) async throws -> [UInt8]
}

/// The payload could not be decoded as the handler's input: a permanent failure (`bad_payload`).
struct PayloadDecodingFailure: Error, Sendable {
    let message: String
}
