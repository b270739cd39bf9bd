import ArgumentParser
import JobqCore

/// `--state pending` etc., case-insensitive.
extension TaskState: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }
}

/// `jobq runs --state failed`, case-insensitive.
extension RunState: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(rawValue: argument.uppercased())
    }

    public static var allValueStrings: [String] { allCases.map { $0.rawValue.lowercased() } }
}
