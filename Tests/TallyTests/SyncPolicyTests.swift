import Foundation
import Testing

@testable import VenueNode

@Suite struct SyncPolicyTests {
    @Test func backoffGrowsExponentiallyWithJitterAndStaysUnderTheCap() {
        let cap = Duration.seconds(60)
        for failures in 1...40 {
            for _ in 0..<50 {
                let delay = SyncService.backoff(failures: failures, cap: cap)
                let base = min(Duration.seconds(1) * (1 << min(failures - 1, 20)), cap)
                #expect(delay >= base * 0.5 && delay <= base, "failures \(failures): \(delay)")
                #expect(delay >= .milliseconds(500), "never a busy loop")
            }
        }
    }

    @Test func batchesShrinkAfterTimeoutsAndGrowBack() {
        var size = AdaptiveBatchSize(maximum: 500)
        for expected in [250, 125, 62, 31, 15, 7, 3, 1, 1] {
            size.timedOut()
            #expect(size.current == expected)
        }
        for expected in [2, 4, 8, 16, 32, 64, 128, 256, 500, 500] {
            size.succeeded()
            #expect(size.current == expected)
        }
    }
}
