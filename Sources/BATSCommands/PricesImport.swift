import ArgumentParser

extension BATSCommand.Prices {
    /// `bats prices import`: prices from another project's price list, set against the catalog.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import prices from a community price map (LiteLLM's), showing what would change.",
            subcommands: [Litellm.self])
    }
}
