import Shared

/// What a batch changes in the totals, summed before anything is written. A usual ballot adds one to its box's
/// row of marks by position (see `BallotLayout`), so no counter is built or hashed per department and record;
/// everything else is summed by counter. `counters` gives the same sums as adding every record's delta by
/// counter would.
struct BatchDelta {
    let layout: BallotLayout
    private var byCounter: [Counter: Int] = [:]
    /// Usual ballots per box: how many, and per department position and mark, how many marks.
    private var rows: [BoxKey: Row] = [:]

    private struct BoxKey: Hashable {
        var session: String
        var box: String
    }

    private struct Row {
        var ballots = 0
        var marks: [Int]

        mutating func add(_ indices: [UInt8], width: Int) {
            ballots += 1
            marks.withUnsafeMutableBufferPointer { counts in
                for (position, mark) in indices.enumerated() { counts[position * width + Int(mark)] += 1 }
            }
        }
    }

    init(layout: BallotLayout) {
        self.layout = layout
    }

    /// Adds a counter's change.
    mutating func add(_ value: Int, to counter: Counter) {
        byCounter[counter, default: 0] += value
    }

    /// Adds what a record taken in does (`marks`: the usual ballot's mark indices, when it is one).
    mutating func add(_ effect: Ledger.Effect, usualMarks marks: [UInt8]?) {
        switch effect {
        case .none:
            break
        case .adds(.ballot(let ballot)) where marks != nil:
            let width = layout.marks.count
            rows[
                BoxKey(session: ballot.session, box: ballot.box),
                default: Row(marks: Array(repeating: 0, count: marks!.count * width))
            ].add(marks!, width: width)
        case .adds(let payload):
            for (counter, value) in payload.contribution { byCounter[counter, default: 0] += value }
        case .changes(let delta):
            for (counter, value) in delta { byCounter[counter, default: 0] += value }
        }
    }

    /// Every counter that changes, with its change (none zero).
    var counters: [Counter: Int] {
        var result = byCounter
        for (key, row) in rows {
            guard let departments = layout.ballot(session: key.session)?.departments else { continue }
            result[.ballots(session: key.session, box: key.box, status: .valid), default: 0] += row.ballots
            let width = layout.marks.count
            for (position, department) in departments.enumerated() {
                for (index, mark) in layout.marks.enumerated() {
                    let count = row.marks[position * width + index]
                    guard count != 0 else { continue }
                    result[.mark(session: key.session, department: department, mark: mark), default: 0] += count
                    result[
                        .boxMark(session: key.session, box: key.box, department: department, mark: mark), default: 0] +=
                        count
                }
            }
        }
        return result.filter { $0.value != 0 }
    }
}
