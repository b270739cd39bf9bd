import ArgumentParser
import JobqCore

/// `--actor NAME` of the commands that act (cancel, retry, pause, resume, signal, answer): who
/// asked, recorded as the `by` of the event lines the action writes (`jobq events`). Without it,
/// `$USER@host`.
struct ActorOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Who asks, recorded in the event stream (jobq events). (default: $USER@host)", valueName: "name"))
    var actor: String?

    /// The name to record.
    var name: String { actor ?? ActorName.local }
}
