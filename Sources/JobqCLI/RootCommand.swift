import ArgumentParser

/// `jobq`: the terminal interface to a jobq installation.
@main
struct RootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobq",
        abstract: "Submit, watch and manage tasks and workflows of a jobq task queue (Redis).",
        discussion: """
            jobq keeps tasks in Redis; jobq-worker processes run them. A task may depend on \
            others; a set of tasks with dependencies is a workflow (a DAG), written as a YAML or \
            JSON file.

            CONNECTION (options of every command that talks to Redis)
              --redis URL        redis://[user:pw@]host[:port][/db] or unix:///path
                                 (env JOBQ_REDIS_URL; default redis://127.0.0.1:6379)
              --namespace NAME   an independent installation (env JOBQ_NAMESPACE)
              --password-file F  the Redis password (or env JOBQ_REDIS_PASSWORD)

            QUICK START
              jobq dev                       # a private redis-server; prints its URL
              export JOBQ_REDIS_URL=unix:///tmp/jobq-dev-…/redis.sock
              jobq-worker --enable-test-handlers &     # runs jobq.echo, jobq.sleep…
              jobq submit jobq.echo --payload '{"hello":"world"}'
              run=$(jobq submit -f examples/demo-workflow.yaml)   # a new run: demo-01J…
              jobq watch "$run"              # live tree; exit code = outcome
              jobq status "$run"             # "RUNNING  3D + 1R + 2P = 6" and a table
              jobq runs                      # every run, newest first

            Every read command takes --json (stable snake_case field names). Colours \
            only on a terminal, never when NO_COLOR is set. Errors go to stderr with a \
            stable code in brackets, e.g. [not_found].

            EXIT CODES
            \(ExitStatus.helpTable)

            Run `jobq help COMMAND` for a command's options and examples; docs/cli.md \
            and docs/workflow-files.md are the reference.
            """,
        version: "0.1.0",
        subcommands: [
            SubmitCommand.self,
            RunsCommand.self,
            StatusCommand.self,
            ListCommand.self,
            WaitCommand.self,
            WatchCommand.self,
            EventsCommand.self,
            DebriefCommand.self,
            LogsCommand.self,
            ResultCommand.self,
            CancelCommand.self,
            RetryCommand.self,
            RerunCommand.self,
            GraphCommand.self,
            StatsCommand.self,
            QueuesCommand.self,
            CoordinatorCommand.self,
            WorkersCommand.self,
            PauseCommand.self,
            ResumeCommand.self,
            SignalCommand.self,
            AnswerCommand.self,
            ScheduleCommand.self,
            SchedulesCommand.self,
            LimitsCommand.self,
            PurgeCommand.self,
            DoctorCommand.self,
            DashboardCommand.self,
            DevCommand.self,
        ]
    )
}
