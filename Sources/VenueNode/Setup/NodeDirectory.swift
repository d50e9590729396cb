import Crypto
import Foundation
import Shared

/// A venue node's data directory: `node.json` (configuration), `node.key` (Ed25519 private key,
/// mode 0600), `event.json` (a copy of the event file) and `node.sqlite` (the records).
public struct NodeDirectory: Sendable {
    public struct Configuration: Codable, Sendable {
        public var venue: String
        public var nodeID: String
        public var aggregatorURL: String
        public var eventID: String
        public var createdAt: String
        /// The aggregator's public key (base64): its receipts are verified and kept.
        public var aggregatorKey: String?
        /// For an https aggregator: a CA bundle (PEM) to trust instead of the system's.
        public var caFile: String?
        /// For an https aggregator: its public key pin, `sha256//BASE64` (libcurl's PINNEDPUBLICKEY).
        public var pinnedPublicKey: String?
        /// Other aggregators serving the same event from one database (replicas, issue #20), tried in order when the
        /// one in use cannot be reached.
        public var aggregatorReplicas: [String]?

        /// The aggregator's URL, then its replicas'.
        public var aggregatorURLs: [String] { [aggregatorURL] + (aggregatorReplicas ?? []) }

        enum CodingKeys: String, CodingKey {
            case aggregatorReplicas = "aggregator_replicas"
            case venue
            case nodeID = "node_id"
            case aggregatorURL = "aggregator_url"
            case eventID = "event_id"
            case createdAt = "created_at"
            case aggregatorKey = "aggregator_key"
            case caFile = "ca_file"
            case pinnedPublicKey = "pinned_public_key"
        }
    }

    /// What `init` records about how to reach the aggregator.
    public struct AggregatorAccess: Sendable {
        public var url: String
        public var key: String?
        public var caFile: String?
        public var pinnedPublicKey: String?
        /// Replicas of the aggregator (the same event, the same identity key), tried when it cannot be reached.
        public var replicas: [String]

        public init(
            url: String, key: String? = nil, caFile: String? = nil, pinnedPublicKey: String? = nil,
            replicas: [String] = []
        ) {
            self.url = url
            self.key = key
            self.caFile = caFile
            self.pinnedPublicKey = pinnedPublicKey
            self.replicas = replicas
        }
    }

    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    public let url: URL
    public let configuration: Configuration
    public let event: LoadedEvent
    public let key: Curve25519.Signing.PrivateKey

    public var databasePath: String { url.appending(path: "node.sqlite").path }

    /// Creates a data directory for `venue`, with a new key pair. Refuses a directory that already holds a node.
    public static func create(
        at url: URL, eventFile: URL, venue: String, aggregatorURL: String,
        aggregatorKey: String? = nil
    ) throws -> NodeDirectory {
        try create(
            at: url, eventFile: eventFile, venue: venue,
            aggregator: AggregatorAccess(url: aggregatorURL, key: aggregatorKey))
    }

    /// Creates a data directory for `venue`, with a new key pair. Refuses a directory that already holds a node.
    public static func create(
        at url: URL, eventFile: URL, venue: String,
        aggregator: AggregatorAccess
    ) throws -> NodeDirectory {
        let aggregatorURL = aggregator.url
        let aggregatorKey = aggregator.key
        if let caFile = aggregator.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw SetupError(description: "--ca-file \(caFile) cannot be read")
        }
        if let pin = aggregator.pinnedPublicKey, !Self.isPin(pin) {
            throw SetupError(
                description: "--pin-public-key must be sha256//BASE64 (44 characters of base64); found "
                    + "\"\(pin)\" (docs/security.md shows how to compute it)")
        }
        if aggregator.caFile != nil || aggregator.pinnedPublicKey != nil,
            !aggregatorURL.lowercased().hasPrefix("https://")
        {
            throw SetupError(description: "--ca-file and --pin-public-key need an https:// aggregator URL")
        }
        if let aggregatorKey, NodeIdentity.publicKey(base64: aggregatorKey) == nil {
            throw SetupError(
                description: "--aggregator-key \"\(aggregatorKey)\" is not an Ed25519 public key "
                    + "(print it with: aggregator identity --data-dir DIR)")
        }
        let event = try EventDefinition.load(contentsOf: eventFile)
        guard let venueDefinition = event.definition.venue(venue) else {
            throw SetupError(
                description: "venue \"\(venue)\" is not in event \(event.definition.id); its venues are: "
                    + event.definition.venues.map(\.id).joined(separator: ", "))
        }
        _ = venueDefinition
        for candidate in [aggregatorURL] + aggregator.replicas {
            guard let parsed = URL(string: candidate), parsed.scheme == "http" || parsed.scheme == "https",
                parsed.host != nil
            else {
                throw SetupError(description: "aggregator URL \"\(candidate)\" must look like http://HOST:PORT")
            }
            if aggregator.caFile != nil || aggregator.pinnedPublicKey != nil, parsed.scheme != "https" {
                throw SetupError(description: "--ca-file and --pin-public-key need https:// aggregator URLs")
            }
        }
        let trimmed = { (url: String) in url.hasSuffix("/") ? String(url.dropLast()) : url }
        let replicas = aggregator.replicas.map(trimmed)
        guard Set([trimmed(aggregatorURL)] + replicas).count == replicas.count + 1 else {
            throw SetupError(description: "an aggregator URL is given twice (--aggregator and --replica)")
        }
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: url.appending(path: "node.json").path) {
            throw SetupError(description: "\(url.path) already holds a venue node; use another --data-dir")
        }
        try fileManager.createDirectory(
            at: url, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let key = Curve25519.Signing.PrivateKey()
        let keyURL = url.appending(path: "node.key")
        guard
            fileManager.createFile(
                atPath: keyURL.path, contents: Data(key.rawRepresentation.base64EncodedString().utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw SetupError(description: "cannot write \(keyURL.path)")
        }
        try Data(contentsOf: eventFile).write(to: url.appending(path: "event.json"), options: .atomic)
        let configuration = Configuration(
            venue: venue, nodeID: NodeIdentity.nodeID(for: key.publicKey),
            aggregatorURL: aggregatorURL.hasSuffix("/") ? String(aggregatorURL.dropLast()) : aggregatorURL,
            eventID: event.definition.id, createdAt: Date().formatted(.iso8601), aggregatorKey: aggregatorKey,
            caFile: aggregator.caFile.map { URL(filePath: $0).standardizedFileURL.path },
            pinnedPublicKey: aggregator.pinnedPublicKey, aggregatorReplicas: replicas.isEmpty ? nil : replicas)
        // node.json last: its presence means the directory is complete.
        try write(configuration, to: url)
        return try open(at: url)
    }

    private static func write(_ configuration: Configuration, to url: URL) throws {
        try JSONCoding.data(configuration, .pretty).write(to: url.appending(path: "node.json"), options: .atomic)
    }

    /// Records the aggregator's public key (learnt at enrolment) in node.json; returns the directory reopened.
    public func recordingAggregatorKey(_ key: String) throws -> NodeDirectory {
        var configuration = configuration
        configuration.aggregatorKey = key
        try Self.write(configuration, to: url)
        return try Self.open(at: url)
    }

    static func isPin(_ pin: String) -> Bool {
        pin.split(separator: ";").allSatisfy { part in
            part.hasPrefix("sha256//") && Data(base64Encoded: String(part.dropFirst("sha256//".count)))?.count == 32
        }
    }

    /// An HTTP client that trusts what node.json says about the aggregator's TLS.
    public func httpClient(connectTimeout: Int = 5, totalTimeout: Int = 30) -> CurlHTTPClient {
        CurlHTTPClient(
            connectTimeout: connectTimeout, totalTimeout: totalTimeout, caFile: configuration.caFile,
            pinnedPublicKey: configuration.pinnedPublicKey)
    }

    /// Opens an existing data directory.
    public static func open(at url: URL) throws -> NodeDirectory {
        let configURL = url.appending(path: "node.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw SetupError(
                description: "\(url.path) is not a venue node data directory (no node.json); "
                    + "create one with: venue-node init --data-dir \(url.path) --event FILE --venue VENUE --aggregator URL"
            )
        }
        let configuration = try JSONDecoder().decode(Configuration.self, from: Data(contentsOf: configURL))
        let event = try EventDefinition.load(contentsOf: url.appending(path: "event.json"))
        let keyText = try String(contentsOf: url.appending(path: "node.key"), encoding: .utf8)
        guard let keyData = Data(base64Encoded: keyText.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: keyData)
        else {
            throw SetupError(
                description: "\(url.appending(path: "node.key").path) does not hold an Ed25519 private key")
        }
        return NodeDirectory(url: url, configuration: configuration, event: event, key: key)
    }

    /// The public key as base64 of its raw bytes (what `aggregator nodes add --public-key` takes).
    public var publicKeyBase64: String { key.publicKey.rawRepresentation.base64EncodedString() }
}

extension NodeDirectory {
    /// The check-in desk of this venue, with the roster in force.
    public func checkinDesk(_ database: NodeDatabase) throws -> CheckinDesk {
        CheckinDesk(
            event: event.definition, venue: configuration.venue, roster: try database.roster(),
            keyer: { try PersonKeyer.fromEnvironment() })
    }
}
