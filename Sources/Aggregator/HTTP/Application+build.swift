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

/// The routes an aggregator on the shared PostgreSQL store serves today (issue #20; docs/scale.md): what nodes call
/// (batches, heartbeats, enrolments, their reads), health, readiness and metrics. The pages, totals and reports
/// need the rest of the store on PostgreSQL and are not served here yet.
public func buildNodeRouter<Store: AggregatorStore>(
    intake: Intake<Store>, settings: AggregatorSettings, metrics: IngestMetrics,
    declared: ((_ routes: [DeclaredRoute]) -> Void)? = nil
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
    IngestController(intake: intake, maxBodyBytes: settings.maxBodyBytes, hub: NoReaders(), metrics: metrics)
        .addRoutes(to: routes)
    NodeReadController(intake: intake).addRoutes(to: routes)
    declared?(routes.declared)
    return router
}

/// The aggregator's HTTP application on the shared PostgreSQL store (`buildNodeRouter`).
public func buildNodeApplication<Store: AggregatorStore>(
    intake: Intake<Store>, settings: AggregatorSettings, logger: Logger, services: [any Service] = [],
    metrics: IngestMetrics = IngestMetrics(), connections: ConnectionLimiter? = nil,
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limiter =
        connections
        ?? ConnectionLimiter(limits: settings.connectionLimits, trustedProxies: settings.trustedProxies)
    return Application(
        router: buildNodeRouter(intake: intake, settings: settings, metrics: metrics),
        server: try server(settings, connections: limiter, logger: logger),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "sanmin-aggregator"),
        services: services,
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
