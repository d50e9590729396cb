import ArgumentParser
import Logging
import Shared
import Synchronization

// Options both commands (`venue-node`, `aggregator`) take, spelled the same way.

/// `--log-level`, on the commands that log (to standard error, one line a message).
public struct LoggingOptions: ParsableArguments {
    public init() {}

    @Option(help: "The least severe log messages written to standard error.")
    public var logLevel = LogLevelArgument(.info)

    /// A logger labelled `label` at `--log-level`. The first call in a process bootstraps the logging system.
    public func logger(_ label: String) -> Logger {
        LogBootstrap.once(level: logLevel.level)
        var logger = Logger(label: label)
        logger.logLevel = logLevel.level
        return logger
    }
}

/// swift-log's levels, spelled as they are (trace … critical).
public struct LogLevelArgument: ExpressibleByArgument, Sendable {
    public var level: Logger.Level

    public init(_ level: Logger.Level) { self.level = level }

    public init?(argument: String) {
        guard let level = Logger.Level(rawValue: argument) else { return nil }
        self.level = level
    }

    public var defaultValueDescription: String { level.rawValue }
    public static var allValueStrings: [String] { Logger.Level.allCases.map(\.rawValue) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}

/// Bootstraps swift-log once per process (a second `LoggingSystem.bootstrap` traps): every logger then writes
/// to standard error through `StreamLogHandler`, at the level of the first command that asked.
public enum LogBootstrap {
    private static let done = Mutex(false)

    public static func once(level: Logger.Level) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}

/// `--lang`: the language of a report (`ReportLanguage` is in Shared, which does not know ArgumentParser).
public struct LanguageArgument: ExpressibleByArgument, Sendable {
    public var language: ReportLanguage

    public init(_ language: ReportLanguage) { self.language = language }

    public init?(argument: String) {
        guard let language = ReportLanguage(rawValue: argument) else { return nil }
        self.language = language
    }

    public var defaultValueDescription: String { language.rawValue }
    public static var allValueStrings: [String] { ReportLanguage.allCases.map(\.rawValue) }
    public static var defaultCompletionKind: CompletionKind { .list(allValueStrings) }
}
