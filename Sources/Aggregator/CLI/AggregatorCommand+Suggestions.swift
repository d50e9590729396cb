import ArgumentParser
import DaemonSupport
import Foundation
import Shared

extension AggregatorCommand {
    struct Suggestions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The central office's handling of suggestions: list, triage, answers, review, feedback.",
            discussion: """
                Every step is appended with who and when; nothing is edited. A suggestion is named VENUE/SEQ.
                  aggregator suggestions list --data-dir DIR [--venue V] [--department D] [--topic T] [--status S] [--overdue]
                  aggregator suggestions triage --data-dir DIR east/12 --assign D01 --co D02 --due 2026-12-31 --by 王芳
                  aggregator suggestions triage --data-dir DIR east/13 --forward D03 --by 王芳
                  aggregator suggestions triage --data-dir DIR east/14 --duplicate-of east/12 --by 王芳
                  aggregator suggestions triage --data-dir DIR east/15 --inadmissible "不属于建议" --by 王芳
                  aggregator suggestions answer --data-dir DIR east/12 --department D01 --text "…" --by 李强
                  aggregator suggestions review --data-dir DIR east/12 --accept --by 王芳
                  aggregator suggestions review --data-dir DIR east/12 --send-back "请补充办理时限" --by 王芳
                  aggregator suggestions feedback --data-dir DIR east/12 --text "满意" --by 王芳
                  aggregator suggestions outstanding --data-dir DIR east/12 --by 王芳
                  aggregator suggestions report --data-dir DIR [--html report.html | --csv] [--lang en]
                Departments answer through their own token as well (docs/forms.md).
                """,
            subcommands: [
                List.self, Show.self, Triage.self, Answer.self, Review.self, Feedback.self, Outstanding.self,
                Report.self,
            ])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List suggestions from every venue.")
            @OptionGroup var data: StoreOption
            @Option(help: "Only this venue's.") var venue: String?
            @Option(help: "Only those concerning or assigned to this department.") var department: String?
            @Option(help: "Only those of this topic.") var topic: String?
            @Option(
                help: "Only those of this status (new, forwarded, assigned, answered, closed, duplicate, inadmissible)."
            )
            var status: String?
            @Flag(help: "Only those past their due date and not done.") var overdue = false
            @Flag(help: "As JSON.") var json = false

            func run() throws {
                if let status, SuggestionItem.Status(rawValue: status) == nil {
                    throw ValidationError(
                        "--status is one of "
                            + SuggestionItem.Status.allCases.map(\.rawValue).joined(separator: ", "))
                }
                let today = String(Date().formatted(.iso8601).prefix(10))
                let filter = SuggestionFilter(
                    venue: venue, department: department, topic: topic,
                    status: status.flatMap(SuggestionItem.Status.init(rawValue:)), overdue: overdue)
                let items = try data.open().suggestions().filter { filter.matches($0, today: today) }
                if json {
                    print(String(decoding: try JSONCoding.data(items, .pretty), as: UTF8.self))
                    return
                }
                if items.isEmpty {
                    print("no suggestion")
                    return
                }
                printTable(
                    header: ["id", "session", "status", "lead", "due", "departments", "text"],
                    rows: items.map { item in
                        [
                            item.id, item.session,
                            item.status.rawValue + (item.isOverdue(today: today) ? " (overdue)" : "")
                                + (item.outstanding ? " ★" : ""),
                            item.lead ?? "", item.due ?? "", item.departments.joined(separator: ","),
                            String(item.text.prefix(40)),
                        ]
                    })
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "One suggestion with its whole history (JSON).")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String

            func run() throws {
                print(String(decoding: try JSONCoding.data(try data.open().suggestion(id), .pretty), as: UTF8.self))
            }
        }

        struct Triage: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Triage a new suggestion: assign it (转办), forward it (转阅), a duplicate, or inadmissible.")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String
            @Option(help: "转办: the lead department.") var assign: String?
            @Option(help: "转办: a co-handling department (repeat for several).") var co: [String] = []
            @Option(help: "转办: the answer is due by this day (YYYY-MM-DD).") var due: String?
            @Option(help: "转阅: a department it is passed on to (repeat for several; none: for the office's reading).")
            var forward: [String] = []
            @Flag(help: "转阅 to nobody in particular.") var forwardOnly = false
            @Option(help: "The same as this suggestion (VENUE/SEQ).") var duplicateOf: String?
            @Option(help: "Not admissible, with the reason.") var inadmissible: String?
            @Option(help: "Who decides.") var by: String

            func run() throws {
                let choices = [assign != nil, !forward.isEmpty || forwardOnly, duplicateOf != nil, inadmissible != nil]
                guard choices.filter({ $0 }).count == 1 else {
                    throw ValidationError(
                        "give one of --assign (with --due), --forward (or --forward-only), --duplicate-of, --inadmissible"
                    )
                }
                let triage: SuggestionTriage
                if let assign {
                    guard let due else { throw ValidationError("--assign needs --due YYYY-MM-DD") }
                    triage = .assign(lead: assign, coHandlers: co, due: due)
                } else if let duplicateOf {
                    triage = .duplicate(of: duplicateOf)
                } else if let inadmissible {
                    triage = .inadmissible(reason: inadmissible)
                } else {
                    triage = .forward(departments: forward)
                }
                let (database, event) = try data.openWithEvent()
                try database.triageSuggestion(id, triage, by: by, event: event.definition)
                print("suggestion \(id): \(try database.suggestion(id).status.rawValue)")
            }
        }

        struct Answer: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record the lead department's answer to a suggestion assigned to it.")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String
            @Option(help: "The answering department (the lead).") var department: String
            @Option(help: "The answer.") var text: String
            @Option(help: "Who answers.") var by: String

            func run() throws {
                let database = try data.open()
                try database.answerSuggestion(id, department: department, answer: text, by: by)
                print("suggestion \(id): answered, waiting for the officer's review")
            }
        }

        struct Review: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Accept a department's answer (the suggestion is closed) or send it back with a note.")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String
            @Flag(help: "Accept the answer.") var accept = false
            @Option(help: "Send the answer back, saying why.") var sendBack: String?
            @Option(help: "Who reviews.") var by: String

            func run() throws {
                guard accept != (sendBack != nil) else { throw ValidationError("give --accept or --send-back NOTE") }
                let database = try data.open()
                try database.reviewSuggestion(id, accept: accept, note: sendBack, by: by)
                print("suggestion \(id): \(try database.suggestion(id).status.rawValue)")
            }
        }

        struct Feedback: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Record the citizen's feedback on the answer of a closed suggestion.")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String
            @Option(help: "What the citizen said.") var text: String
            @Option(help: "Who records it.") var by: String

            func run() throws {
                try data.open().recordSuggestionFeedback(id, feedback: text, by: by)
                print("suggestion \(id): feedback recorded")
            }
        }

        struct Outstanding: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Mark a suggestion outstanding (优秀建议), or with --remove take the mark away.")
            @OptionGroup var data: StoreOption
            @Argument(help: "VENUE/SEQ") var id: String
            @Flag(help: "Take the mark away.") var remove = false
            @Option(help: "Who decides.") var by: String

            func run() throws {
                try data.open().markSuggestionOutstanding(id, !remove, by: by)
                print("suggestion \(id): \(remove ? "no longer" : "marked") outstanding")
            }
        }
    }
}

extension AggregatorCommand.Suggestions {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The 会场征集意见建议办理情况报告: counts by venue, lead department and topic, and every item.",
            discussion: """
                Terminal tables by default (Chinese; --lang en for English), --html FILE (printable), or --csv (one row
                per suggestion with its answer, UTF-8 with BOM). Contacts are never in it.
                """)
        @OptionGroup var data: StoreOption
        @Option(help: "Write a printable HTML page to this file.") var html: String?
        @Flag(help: "One CSV row per suggestion.") var csv = false
        @Option(help: "The report's language.") var lang = LanguageArgument(.zh)

        func run() throws {
            let (database, event) = try data.openWithEvent()
            let report = SuggestionReport(items: try database.suggestions(), event: event.definition)
            if let html {
                try report.html(event: event.definition, language: lang.language)
                    .write(toFile: html, atomically: true, encoding: .utf8)
                print("wrote \(html) (\(report.items.count) suggestion(s))")
            } else if csv {
                print(report.csv(), terminator: "")
            } else {
                print(report.terminal(event: event.definition, language: lang.language))
            }
        }
    }
}
