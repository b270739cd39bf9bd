import ArgumentParser
import Jobq
import JobqCore

/// `jobq schedule add|pause|resume|remove|trigger`; `jobq schedules` lists them.
struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Add, pause, resume, remove or trigger a schedule (list them with: jobq schedules).",
        discussion: """
            A schedule submits a workflow file or one task as a new run at cron times or every \
            interval; any worker or `jobq coordinator` fires it, one run per tick.

              jobq schedule add nightly --cron "0 2 * * *" --tz Europe/Paris -f flow.yaml
              jobq schedule pause nightly
              jobq schedule resume nightly      # from the next tick after now
              jobq schedule trigger nightly     # a run now, outside the ticks
              jobq schedule remove nightly      # its runs stay
            """,
        subcommands: [ScheduleAddCommand.self, Pause.self, Resume.self, Remove.self, Trigger.self]
    )

    /// The argument and options every one-name subcommand takes.
    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The schedule's name.", valueName: "name"))
        var name: String
        @OptionGroup var output: OutputOptions
        @OptionGroup(title: "Connection") var connection: ConnectionOptions

        /// Runs `act` and prints its line (text) or `{"schedule": NAME, key: value}` (JSON).
        func run(_ key: String, _ act: @escaping @Sendable (JobqClient) async throws -> (JSONValue, String)) async throws {
            try await CommandRunner.run(connection, json: output.json) { client in
                let (value, text) = try await act(client)
                Console.out(output.json ? JSONValue.object([("schedule", .string(name)), (key, value)]).rendered() : text)
                return .ok
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a schedule's ticks (the record stays).")
        @OptionGroup var target: Target
        func run() async throws {
            let name = target.name
            try await target.run("paused") { client in
                let changed = try await client.pauseSchedule(name)
                return (.bool(true), "schedule \(name): paused\(changed ? "" : " already") (resume with: jobq schedule resume \(name))")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fire a paused schedule again, from its next tick after now.")
        @OptionGroup var target: Target
        func run() async throws {
            let name = target.name
            try await target.run("paused") { client in
                let changed = try await client.resumeSchedule(name)
                return (.bool(false), "schedule \(name): \(changed ? "resumed" : "was not paused")")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a schedule (the runs it started stay).")
        @OptionGroup var target: Target
        func run() async throws {
            let name = target.name
            try await target.run("removed") { client in
                try await client.removeSchedule(name)
                return (.bool(true), "schedule \(name): removed")
            }
        }
    }

    struct Trigger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start the schedule's run now, outside its ticks; prints the run id.")
        @OptionGroup var target: Target
        func run() async throws {
            try await target.run("run") { client in
                let run = try await client.triggerSchedule(target.name)
                return (.string(run.id), run.id)
            }
        }
    }
}
