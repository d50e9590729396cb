/// A `Duration` as the older clock APIs take it (`Thread.sleep`, `DispatchTime`).
extension Duration {
    /// In seconds, as a `TimeInterval`.
    public var timeInterval: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }

    /// In whole nanoseconds, capped at a day so that the conversion cannot overflow.
    public var cappedNanoseconds: Int {
        let bounded = min(self, .seconds(86_400))
        return Int(bounded.components.seconds * 1_000_000_000 + bounded.components.attoseconds / 1_000_000_000)
    }
}
