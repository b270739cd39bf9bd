@testable import JobqCLI
import JobqCore

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
}
