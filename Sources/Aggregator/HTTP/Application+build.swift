import Hummingbird
import Logging
import ServiceLifecycle
import Shared

/// The aggregator's routes, each declared by its controller in a group that carries who may call it
/// (`Access`). Pass `declared` to learn every route and its rule (`RouteAccessTests`).
public func buildRouter(
    intake: BatchIntake, settings: AggregatorSettings, hub: DashboardHub,
    metrics: IngestMetrics, declared: ((_ routes: [DeclaredRoute]) -> Void)? = nil
)
    -> Router<TallyRequestContext>
{
    let router = Router(context: TallyRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    if let limit = settings.rateLimit {
        router.add(middleware: RateLimitMiddleware(limit: limit, trustedProxies: settings.trustedProxies))
    }
    let routes = AccessRoutes(router: router, database: intake.database)
    HealthController(database: intake.database, metrics: metrics).addRoutes(to: routes)
    IngestController(intake: intake, maxBodyBytes: settings.maxBodyBytes, hub: hub, metrics: metrics)
        .addRoutes(to: routes)
    NodeReadController(intake: intake).addRoutes(to: routes)
    AdminController(intake: intake, hub: hub).addRoutes(to: routes)
    ResultsController(intake: intake).addRoutes(to: routes)
    SuggestionsController(intake: intake).addRoutes(to: routes)
    ReceiptsController(intake: intake).addRoutes(to: routes)
    DashboardController(intake: intake, hub: hub).addRoutes(to: routes)
    declared?(routes.declared)
    return router
}

/// The routes an aggregator on the shared PostgreSQL store serves (issue #20; docs/scale.md): what nodes call
/// (batches, heartbeats, enrolments, their reads), health, readiness and metrics, and everything the central office
/// uses (the admin API, totals, reconciliation, results, suggestions, receipts, the dashboard and its stream): the same
/// routes as `buildRouter`'s. `hub` is told of changes through `publisher` (`PostgresChangeFeed`: those made through
/// every aggregator).
public func buildSharedRouter<Store: AggregatorStore>(
    intake: Intake<Store>, settings: AggregatorSettings, hub: DashboardHub, publisher: any ChangePublisher,
    metrics: IngestMetrics, declared: ((_ routes: [DeclaredRoute]) -> Void)? = nil
) -> Router<TallyRequestContext> {
    let router = Router(context: TallyRequestContext.self)
    router.add(middleware: ErrorBodyMiddleware())
    if let limit = settings.rateLimit {
        // On a shared store the buckets are shared too: a client is limited across every aggregator.
        router.add(
            middleware: RateLimitMiddleware(
                limit: limit, trustedProxies: settings.trustedProxies, shared: intake.database as? any RateBuckets))
    }
    let routes = AccessRoutes(router: router, database: intake.database)
    HealthController(database: intake.database, metrics: metrics).addRoutes(to: routes)
    IngestController(intake: intake, maxBodyBytes: settings.maxBodyBytes, hub: publisher, metrics: metrics)
        .addRoutes(to: routes)
    NodeReadController(intake: intake).addRoutes(to: routes)
    AdminController(intake: intake, hub: publisher).addRoutes(to: routes)
    ResultsController(intake: intake).addRoutes(to: routes)
    SuggestionsController(intake: intake).addRoutes(to: routes)
    ReceiptsController(intake: intake).addRoutes(to: routes)
    DashboardController(intake: intake, hub: hub).addRoutes(to: routes)
    declared?(routes.declared)
    return router
}

/// The aggregator's HTTP application on the shared PostgreSQL store (`buildSharedRouter`), with its dashboards told
/// of every aggregator's changes (`PostgresChangeFeed`).
public func buildSharedApplication(
    intake: Intake<PostgresStore>, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    metrics: IngestMetrics = IngestMetrics(), connections: ConnectionLimiter? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limiter =
        connections
        ?? ConnectionLimiter(limits: settings.connectionLimits, trustedProxies: settings.trustedProxies)
    let hub = DashboardHub(database: intake.database, logger: logger)
    let feed = PostgresChangeFeed(store: intake.database, hub: hub, logger: logger)
    // A report a reader stopped waiting for (it was given the previous one) is sent to the dashboards when done.
    intake.database.reports.onBuilt { hub.publish() }
    return Application(
        router: buildSharedRouter(intake: intake, settings: settings, hub: hub, publisher: feed, metrics: metrics),
        server: try server(settings, connections: limiter, logger: logger),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services + [hub, feed],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// The aggregator's HTTP application; `onServerRunning` is told the port actually bound. `connections`
/// counts the open connections (the watchdog's self-check reads it); by default one made from `settings`.
public func buildApplication(
    intake: BatchIntake, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    metrics: IngestMetrics = IngestMetrics(), connections: ConnectionLimiter? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let hub = DashboardHub(database: intake.database, logger: logger)
    // A report a reader stopped waiting for (it was given the previous one) is sent to the dashboards when done.
    intake.database.reports.onBuilt { hub.publish() }
    let limiter =
        connections
        ?? ConnectionLimiter(
            limits: settings.connectionLimits,
            trustedProxies: settings.trustedProxies)
    return Application(
        router: buildRouter(intake: intake, settings: settings, hub: hub, metrics: metrics),
        server: try server(settings, connections: limiter, logger: logger),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services + [hub],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}
