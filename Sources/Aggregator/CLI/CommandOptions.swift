import ArgumentParser
import Crypto
import DaemonSupport
import Foundation
import Logging
import Shared
import Synchronization

/// The `--data-dir` every command takes.
struct AggregatorDataOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The aggregator's data directory.") var path: String

    init() {}

    init(path: String) { self.path = path }

    /// Opens the database; only `serve` passes `create` (every other command refuses a directory that holds
    /// no aggregator database: a mistyped --data-dir must not become a second, empty aggregator).
    func open(create: Bool = false) throws -> AggregatorDatabase {
        try refuseIfMoved()
        if create {
            try FileManager.default.createDirectory(
                at: URL(filePath: path), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } else {
            try requireDatabase()
        }
        let database = try AggregatorDatabase(path: databasePath, create: create)
        // Sealed by `aggregator migrate` (its marker lost): refused the same.
        if try database.isSealed() {
            throw AggregatorError(
                "the event of \(path) was moved to PostgreSQL (aggregator migrate; its database is sealed): serve it and "
                    + "run commands with --database; nothing was done")
        }
        return database
    }

    /// The database file in the data directory.
    var databasePath: String { URL(filePath: path).appending(path: "aggregator.sqlite").path }

    /// Written by `aggregator migrate` once the directory's event is in PostgreSQL: its address (without password).
    var movedMarkerPath: String { URL(filePath: path).appending(path: "moved-to-postgres").path }

    /// Refuses a data directory whose event was moved to PostgreSQL: serving it, or writing to it, would split the
    /// venues' records between two stores.
    func refuseIfMoved() throws {
        guard let address = try? String(contentsOfFile: movedMarkerPath, encoding: .utf8) else { return }
        throw AggregatorError(
            "the event of \(path) was moved to \(address.trimmingCharacters(in: .whitespacesAndNewlines)) "
                + "(aggregator migrate): serve it and run commands with --database; nothing was done")
    }

    /// Refuses a data directory that holds no aggregator database, naming it.
    func requireDatabase() throws {
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw AggregatorError(
                "\(path) holds no aggregator database (no \(databasePath)): check --data-dir; nothing "
                    + "was done. `aggregator init --data-dir \(path) --event FILE` creates one")
        }
    }

    /// The database and the event it serves.
    func openWithEvent() throws -> (AggregatorDatabase, LoadedEvent) {
        let database = try open()
        guard let event = try database.installedEvent() else {
            throw AggregatorError(
                "no event installed in \(path) yet; run `aggregator init --data-dir \(path) --event FILE` first")
        }
        return (database, event)
    }
}

/// Where the commands that work on either store find it (issue #20): `--data-dir DIR` (one aggregator's SQLite file)
/// or `--database URL` (the PostgreSQL database several aggregators share), exactly one of them.
struct StoreOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The aggregator's data directory.") var path: String?
    @Option(
        name: .customLong("database"),
        help: ArgumentHelp(
            "Or the PostgreSQL database the aggregators share (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE).",
            valueName: "url"))
    var url: String?

    func validate() throws {
        guard (path == nil) != (url == nil) else {
            throw ValidationError("give --data-dir DIR or --database URL (one of them)")
        }
    }

    /// The option as given, to repeat in a hint (the database's address without its password).
    var `where`: String {
        if let path { return "--data-dir \(path)" }
        return "--database " + ((try? PostgresLocation(url: url ?? "").description) ?? "URL")
    }

    /// The store: a data directory that holds an aggregator database, or a PostgreSQL database that holds an event (a
    /// mistyped --data-dir or --database must not become a second, empty aggregator).
    func open() throws -> any AggregatorStore {
        if let path { return try AggregatorDataOption(path: path).open() }
        let store = try PostgresStore(url: url ?? "", migrate: false)
        guard try store.installedEvent() != nil else {
            throw AggregatorError(
                "the database \(store.location) holds no event yet: start `aggregator serve --database` on it once "
                    + "first; nothing was done")
        }
        return store
    }

    /// The aggregator's signing key: the data directory's, or on a shared database the file every replica is given.
    func key(_ identity: IdentityKeyOption) throws -> Curve25519.Signing.PrivateKey {
        if let path { return try identity.key(dataDirectory: path) }
        guard identity.file != nil else {
            throw AggregatorError(
                "--database needs --identity-key FILE: the key file every aggregator sharing the database signs with; "
                    + "nothing was done")
        }
        return try identity.key(dataDirectory: "")
    }

    /// The store and the event it serves.
    func openWithEvent() throws -> (any AggregatorStore, LoadedEvent) {
        if let path { return try AggregatorDataOption(path: path).openWithEvent() }
        let store = try open()
        // `open` refuses a database without an event.
        guard let event = try store.installedEvent() else { throw AggregatorError("no event is installed") }
        return (store, event)
    }

    /// The store, once `venue` is known to be one of its event's venues.
    func openForVenue(_ venue: String) throws -> any AggregatorStore {
        let store = try open()
        guard let event = try store.installedEvent(), event.definition.venue(venue) != nil else {
            let event = try store.installedEvent()
            throw AggregatorError(
                "venue \"\(venue)\" is not in event \(event?.definition.id ?? "?"); its venues are: "
                    + (event?.definition.venues.map(\.id).joined(separator: ", ") ?? "") + ". Nothing was done")
        }
        return store
    }
}

/// `--identity-key FILE`: the aggregator's signing key (it signs receipts, heads and outside tallies; the nodes hold its
/// public key). Without it, `DIR/aggregator.key`, created on first use. Several aggregators serving one event (replicas,
/// issue #20) are given the same file, so that they sign as one aggregator: a file named here is never created, and is
/// refused when others may read it.
struct IdentityKeyOption: ParsableArguments {
    @Option(
        name: .customLong("identity-key"),
        help:
            "The aggregator's signing key file (default: DIR/aggregator.key, created if missing; a file given here must exist, mode 0600)."
    )
    var file: String?

    func key(dataDirectory: String) throws -> Curve25519.Signing.PrivateKey {
        guard let file else {
            return try KeyFile.loadOrCreate(at: URL(filePath: dataDirectory).appending(path: "aggregator.key"))
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file) else {
            throw AggregatorError(
                "no identity key at \(file): give the key file of the aggregator the nodes know (its "
                    + "DIR/aggregator.key, copied with mode 0600); nothing was done")
        }
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw AggregatorError(
                "the identity key \(file) may be read by others (mode \(String(mode, radix: 8))): chmod 600 it; "
                    + "nothing was done")
        }
        do {
            return try KeyFile.loadOrCreate(at: URL(filePath: file))
        } catch {
            throw AggregatorError("\(file) does not hold an aggregator's identity key; nothing was done")
        }
    }
}

/// `--role` of `aggregator tokens add`: observer or admin.
extension Role: ExpressibleByArgument {}

/// Prints rows as an aligned table for people.
func printTable(header: [String], rows: [[String]]) {
    func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + ($1.properties.isEmojiPresentation || $1.value >= 0x1100 ? 2 : 1) }
    }
    var widths = header.map(width)
    for row in rows { for (index, field) in row.enumerated() { widths[index] = max(widths[index], width(field)) } }
    for row in [header] + rows {
        print(
            row.enumerated().map { index, field in
                field + String(repeating: " ", count: widths[index] - width(field))
            }.joined(separator: "  "))
    }
}

/// Asks before something that cannot be undone: with `yes`, goes ahead; on a terminal, asks y/N; without a
/// terminal (a script) refuses, so that nothing irreversible happens by accident.
func confirm(_ action: String, yes: Bool) throws {
    if yes { return }
    guard isatty(STDIN_FILENO) == 1 else {
        throw AggregatorError(
            "not confirmed: this would \(action), which cannot be undone. There is no terminal to ask "
                + "on: add --yes to go ahead")
    }
    FileHandle.standardError.write(Data("\(action)? This cannot be undone. [y/N] ".utf8))
    let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    guard answer == "y" || answer == "yes" else {
        throw AggregatorError("not confirmed: nothing was revoked")
    }
}
