// `import BATS` is the one import an embedding app needs: the modules whose types appear in the router's API (and in
// the README's embedding example) are re-exported here, so `ModelSelector`, `SQLiteLedger`, `ChatRequest` and
// `GatewayClient` need no import of their own. Dependencies outside this package are not re-exported whole; only
// swift-log's `Logger`, which every routed call takes.

@_exported public import ModelSelection
@_exported public import SpendLedger
@_exported public import Gateway
@_exported public import GatewayHTTP
@_exported public import struct Logging.Logger
