/// The version of this build: reported in heartbeats, printed by `venue-node --version` and
/// `aggregator --version`. The one place it is written; bump it when a release ends.
public let sanminVersion = "0.2.0"
