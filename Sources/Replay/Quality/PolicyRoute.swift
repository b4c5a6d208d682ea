public import ModelSelection

/// What a replay does with one task under a ``QualityPolicy``: the calls to make and how their answers combine.
public enum PolicyRoute: Sendable, Hashable {
    /// Route by the tier map, with downgrades for budget and fallbacks on failure (today's routing).
    case routed
    /// One call on this model; the budget refuses the task rather than move it to another model.
    case model(ModelID)
    /// The steps in order, cheapest first: a step's answer is kept when `accepts` says its (simulated) verifier
    /// accepts it, else the next step is tried; the last step's answer is always kept. `accepts` has one verdict per
    /// step. A step the budget refuses ends the cascade with the answer so far (none: the task is refused).
    case cascade(steps: [ModelID], accepts: [Bool])
    /// Every member is called (seats in this order); the majority of the answering members' grades wins, a tie going
    /// to the first answering seat. A seat the budget refuses is left out; no seat at all refuses the task.
    case council([ModelID])
}
