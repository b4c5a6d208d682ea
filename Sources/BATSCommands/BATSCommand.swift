public import ArgumentParser

/// The `bats` command: budget-aware routing of LLM calls, replay of recorded workloads, and spend audits.
public struct BATSCommand: AsyncParsableCommand {
    /// The command's name, summary and subcommands.
    public static let configuration = CommandConfiguration(
        commandName: "bats",
        abstract: "Budget-aware routing of LLM calls: replay workloads, audit spend, inspect budgets and models.",
        version: "0.1.0",
        subcommands: [Replay.self, Audit.self, Budget.self, Models.self, Complete.self, Serve.self, Keys.self, Workload.self, Simulate.self, Config.self, Alerts.self, LedgerCommand.self, Prices.self])

    /// Creates the command (used by the argument parser).
    public init() {}
}
