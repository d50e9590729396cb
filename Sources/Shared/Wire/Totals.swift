import Foundation

/// Totals as `GET /v1/totals` returns them (and the CSV exports print).
public struct Totals: Codable, Sendable, Equatable {
    public struct Tally: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var department: String
        public var mark: String
        public var count: Int

        public init(venue: String, session: String, department: String, mark: String, count: Int) {
            self.venue = venue
            self.session = session
            self.department = department
            self.mark = mark
            self.count = count
        }
    }

    public struct Attendance: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var category: String
        public var checkedIn: Int

        public init(venue: String, session: String, category: String, checkedIn: Int) {
            self.venue = venue
            self.session = session
            self.category = category
            self.checkedIn = checkedIn
        }

        enum CodingKeys: String, CodingKey {
            case venue, session, category
            case checkedIn = "checked_in"
        }
    }

    public struct Box: Codable, Sendable, Equatable, Hashable {
        public var venue: String
        public var session: String
        public var box: String
        /// Opening and closing records in effect (normally 1 each).
        public var opened: Int
        public var closed: Int
        public var issued: Int
        public var returned: Int
        public var valid: Int
        public var blank: Int
        public var spoiled: Int

        public init(
            venue: String, session: String, box: String, opened: Int = 1, closed: Int = 1, issued: Int,
            returned: Int, valid: Int, blank: Int, spoiled: Int
        ) {
            self.venue = venue
            self.session = session
            self.box = box
            self.opened = opened
            self.closed = closed
            self.issued = issued
            self.returned = returned
            self.valid = valid
            self.blank = blank
            self.spoiled = spoiled
        }
    }

    public var event: String
    public var tallies: [Tally]
    public var attendance: [Attendance]
    public var boxes: [Box]

    public init(event: String, tallies: [Tally], attendance: [Attendance], boxes: [Box]) {
        self.event = event
        self.tallies = tallies
        self.attendance = attendance
        self.boxes = boxes
    }
}
