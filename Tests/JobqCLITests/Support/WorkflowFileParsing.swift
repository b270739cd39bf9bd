@testable import JobqCLI
import JobqCore
import Testing

/// Parsing a workflow file's text in-process (no Redis), for the file format tests.
protocol WorkflowFileParsing {}

extension WorkflowFileParsing {
    func parse(_ text: String, name: String = "flow.yaml") throws -> WorkflowFile {
        try WorkflowFile.parse(Array(text.utf8), name: name)
    }

    /// The error the file is refused with, or `nil` when it parses.
    func failure(_ text: String, name: String = "flow.yaml") -> JobqError? {
        do {
            _ = try parse(text, name: name)
            return nil
        } catch let error as JobqError {
            return error
        } catch {
            return JobqError(.internalError, "\(error)")
        }
    }

    /// Expects `text` to be refused with `code`, a message containing `message`, at `place`
    /// (`flow.yaml:4:14:`, or a prefix of it).
    func expectRefused(_ text: String, code: JobqError.Code, message: String, place: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = failure(text)
        #expect(error?.code == code, "\(text): \(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.message.contains(message) == true, "\(text): \(error?.message ?? "")", sourceLocation: sourceLocation)
        #expect(error?.message.hasPrefix(place) == true, "the place \(place): \(error?.message ?? "")", sourceLocation: sourceLocation)
    }
}
