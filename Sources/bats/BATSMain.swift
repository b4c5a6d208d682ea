import BATSCommands

@main
extension BATSCommand {}
