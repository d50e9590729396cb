/// The desk page's script, served at `/desk/app.js` (the page allows no other script). Plain JavaScript for current
/// Chromium and Firefox: no framework, no build step, nothing fetched from elsewhere. Everything is done with keys:
/// Alt+1…Alt+6 change screens; the check-in field always has focus on its screen; keying is one key per mark.
enum DeskScript {
    static let source = #"""
        "use strict";
        const T = {
          zh: { title:"三民活动 · 会场服务台", loading:"正在加载…", codeLabel:"请输入负责人给您的登录码", signIn:"登录",
                signOut:"退出登录", other:"English", tabCheckin:"签到", tabBoxes:"票箱", tabKeying:"计票录入",
                tabUpload:"上传文件", tabRecords:"记录与更正", tabReconcile:"核对", tabForms:"表单录入",
                formsKind:"表单", formSurvey:"社情民意调查问卷", formDiscipline:"纪律情况调查表", formSuggestion:"意见建议征集表",
                formsBox:"哪个票箱（须已封箱并清点表单）", formsLegend:"本题按键：{options} · <kbd>0</kbd> 未作答 · <kbd>⌫</kbd> 撤销 · <kbd>Enter</kbd> 保存本份",
                formsProgress:"{kind}：已录入 {e} / 回收 {r}", formSaved:"已保存（记录 {seq}），请录入下一份", formIncomplete:"还有问题未录入：{q}（未作答请按 0）",
                formsDone:"本票箱的这种表单已全部录入", formsNotCounted:"封箱时没有清点这种表单：请负责人在“记录与更正”（Alt+5）更正封箱记录，写上份数",
                noAnswer:"未作答", sgText:"意见建议内容（照原文录入；身份证号、电话号码保存前自动遮盖）", sgDepartments:"涉及部门",
                sgTopic:"主题", sgContact:"联系方式（可不填）", sgConsent:"本人同意回访", sgSave:"保存（Ctrl+Enter）", sgNone:"（未选）",
                masked:"；内容中的身份证号、电话号码已遮盖", formsCol:"表单 已录/回收", closeSurveys:"其中问卷（份）",
                closeSuggestions:"意见建议表（份）", closeDiscipline:"纪律调查表（份）", closeFormsOnly:"只装问卷、意见建议表（没有选票）",
                kindForms:"问卷和意见建议表", formShort:{ survey:"问卷", discipline:"纪律", suggestion:"建议" },
                scanLabel:"扫描代表证，或输入代表编号、身份证号，按回车", walkinCategory:"名单外人员的代表类别",
                attendanceTitle:"到会情况（按代表类别）", category:"代表类别", quota:"名额", checkedIn:"已签到",
                total:"合计", boxId:"票箱编号", openBox:"开箱", issued:"发放票数", returned:"回收票数", closeBox:"封箱",
                ballots:"已录入", state:"状态", opened:"已开箱", closed:"已封箱", notOpened:"未开箱", print:"打印开箱/封箱记录",
                phoneCol:"手机票箱：投票码 / 已投", unusedLabel:"退回未发放的码",
                phoneProposal:"手机票箱：已印投票码 {p} 个，已投 {c} 票（即回收数）。清点退回的未发放纸条，填入张数：发放数 = {p} − 退回数。封箱时，已投的选票打乱顺序后记入。",
                savedPhone:"已保存（记录 {seq}），{ballots} 张手机选票已打乱顺序记入",
                proposal:"建议发放数 {n}：本场签到 {c} 人，减去本场其他票箱已发放 {o}",
                confirmAgain:"数字不一致。核对无误后再按一次回车保存。", saved:"已保存（记录 {seq}）",
                keyingBox:"录入哪个票箱（须已封箱）", startKeying:"开始录入", paper:"选票", resolving:"（负责人裁定）",
                paperJump:"跳到第几张（回车确定）",
                legend:"按键：{marks} · <kbd>0</kbd> 空白票 · <kbd>.</kbd> 废票 · <kbd>⌫</kbd> 撤销 · <kbd>Enter</kbd> 保存 · <kbd>/</kbd> 换张 · <kbd>R</kbd> 裁定（负责人）",
                progress:"一致 {a} / 已录 {k} / 回收 {r} · 本人已录 {y}{v}", voidedNote:" · 已作废 {n} 张（{list}）",
                firstPass:"第 {p} 张已保存，等待另一位工作人员复录", agreed:"第 {p} 张两次录入一致，已计入（记录 {seq}）",
                mismatch:"第 {p} 张两次录入不一致，请负责人核对原票裁定", resolvedMsg:"第 {p} 张已由负责人裁定（记录 {seq}）",
                incomplete:"还有部门未录入：{d}", noPaper:"本票箱已全部录入", blank:"空白票", spoiled:"废票",
                disputes:"待裁定", disputeLine:"第 {p} 张：", uploadKind:"文件内容", kindCheckins:"签到", kindBallots:"选票",
                uploadFile:"扫描仪导出的 CSV 文件", upload:"上传", uploaded:"已导入 {n} 条（导入记录 {seq}）", chooseFile:"请选择文件",
                correctTitle:"更正一条记录（仅负责人）", correctTarget:"记录号", correctReason:"更正原因（必填）",
                correctIssued:"新的发放数（封箱记录）", correctReturned:"新的回收数（封箱记录）",
                correctSurveys:"新的问卷份数（封箱记录）", correctSuggestions:"新的意见建议表份数", correctDiscipline:"新的纪律调查表份数", correctSave:"保存更正",
                recordsTitle:"最近的记录", seq:"记录号", kind:"类型", summary:"内容", savedAt:"时间", correctedBy:"已被更正",
                reconcileTitle:"本会场核对", severity:"级别", detail:"说明", expected:"应为", actual:"实为", noFindings:"没有发现问题",
                standby:"备机 {node}：{state}", standbyCaughtUp:"已同步", standbyBehind:"落后 {n} 条", standbyNever:"尚未连接",
                online:"在线 · 待传 {n}", offline:"离线 · 待传 {n}（数据保存在本机，恢复网络后自动上传）",
                lastReceipt:"最近回执：至记录 {seq}",
                roles:{ desk:"签到", count:"计票", lead:"负责人" },
                sev:{ error:"错误", warning:"警告", info:"提示" },
                reasons:{ not_on_roster:"不在名单内", other_venue:"不是本会场的代表", other_session:"不是本场次的代表",
                          other_category:"代表类别不符", other_person:"身份证与代表不符", bad_id_number:"身份证号无效",
                          walkin_incomplete:"名单外人员：需要身份证号和代表类别", no_roster:"尚未导入名单，需选择代表类别",
                          already_checked_in:"已经签到过", no_open_place:"备选代表：名额已满，只能替补缺席代表", invalid:"输入无效", unknown_session:"场次无效",
                          welcome:"签到成功", reserve:"签到成功（备选代表，替补缺席代表）", walkin:"名单外人员，已记为现场报名" },
                earlier:"已于 {at} 由 {clerk} 签到（记录 {seq}）", commandLine:"命令行/导入",
                warn:{ issued_vs_returned:"发放与回收数量不一致", returned_vs_checked_in:"回收票数与签到人数不一致" },
                errors:{ code_malformed:"这不是登录码：登录码为16位字母和数字，如 ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"没有这个登录码，请核对，或向负责人索取新码",
                         code_used:"此登录码已使用过（每个码只能登录一次），请向负责人索取新码",
                         code_expired:"此登录码已过期，请向负责人索取新码",
                         code_replaced:"已为您发放了更新的登录码，请使用新码",
                         clerk_revoked:"此工作人员已被撤销，无法登录",
                         rate_limited:"错误次数过多，请 {s} 秒后再试",
                         signed_out:"登录已失效，请重新登录", csrf:"请刷新页面后重试", role:"您的角色不能进行此操作",
                         not_lead:"只有负责人可以进行此操作", reason_required:"请填写更正原因",
                         box_opened_twice:"该票箱已开过箱", box_closed_twice:"该票箱已封过箱",
                         ballot_box_not_closed:"票箱尚未封箱", box_not_closed:"票箱尚未封箱，封箱后才能录入",
                         ballots_over_returned:"录入票数已达回收数", paper_out_of_range:"没有这一张（超出回收数）",
                         paper_done:"这一张已计入", already_keyed:"这一张您已录过，复录须由另一位工作人员进行",
                         paper_disputed:"这一张两次录入不一致，等待负责人裁定", not_disputed:"这一张没有待裁定的差异",
                         paper_voided:"这一张的选票记录已被更正作废，不再录入", box_has_imported_ballots:"该票箱已有导入的选票：同一票箱只能录入或导入，不能两者兼有",
                         box_is_keyed:"该票箱正在服务台录入：同一票箱只能录入或导入，不能两者兼有",
                         box_is_phone:"这是手机票箱：选票由手机投出，没有纸质选票可录入", box_has_paper:"该票箱已有纸质选票",
                         bad_paper:"选票内容不完整或无效", bad_file:"文件有误，未导入任何记录",
                         already_imported:"这些行已导入过，未重复导入", bad_correction:"无法更正该记录",
                         unknown_box:"没有这个票箱", invalid:"输入无效", bad_request:"输入无效",
                         form_box_not_closed:"票箱尚未封箱：封箱并清点表单后才能录入", forms_over_returned:"录入份数已达封箱时清点的份数",
                         no_consent:"填写联系方式须本人同意回访：请勾选，或不填联系方式",
                         network:"无法连接会场节点，请检查网络后重试" } },
          en: { title:"Sanmin · venue desk", loading:"Loading…", codeLabel:"Enter the sign-in code the lead gave you", signIn:"Sign in",
                signOut:"Sign out", other:"中文", tabCheckin:"Check-in", tabBoxes:"Boxes", tabKeying:"Keying",
                tabUpload:"Upload", tabRecords:"Records", tabReconcile:"Reconciliation", tabForms:"Forms",
                formsKind:"Form", formSurvey:"Opinion survey", formDiscipline:"Discipline survey", formSuggestion:"Suggestion form",
                formsBox:"Box (closed, its forms counted)", formsLegend:"Keys for this question: {options} · <kbd>0</kbd> not answered · <kbd>⌫</kbd> undo · <kbd>Enter</kbd> save this form",
                formsProgress:"{kind}: entered {e} / returned {r}", formSaved:"Saved (record {seq}); enter the next one", formIncomplete:"Questions not keyed yet: {q} (0 for not answered)",
                formsDone:"Every form of this kind in the box is entered", formsNotCounted:"The box's closing did not count this form: the lead corrects the closing with the number (Records, Alt+5)",
                noAnswer:"not answered", sgText:"The suggestion, as written (ID-card and telephone numbers are masked before saving)", sgDepartments:"Departments",
                sgTopic:"Topic", sgContact:"Contact (optional)", sgConsent:"Consents to a call back", sgSave:"Save (Ctrl+Enter)", sgNone:"(none)",
                masked:"; ID-card and telephone numbers in the text were masked", formsCol:"Forms entered/returned", closeSurveys:"Survey forms in it",
                closeSuggestions:"Suggestion forms", closeDiscipline:"Discipline forms", closeFormsOnly:"Surveys and suggestions only (no ballots)",
                kindForms:"surveys and suggestions", formShort:{ survey:"survey", discipline:"discipline", suggestion:"suggestion" },
                scanLabel:"Scan the card, or type a roster id or an ID-card number, then Enter", walkinCategory:"Category of the walk-in",
                attendanceTitle:"Attendance by category", category:"Category", quota:"Quota", checkedIn:"Checked in",
                total:"Total", boxId:"Box", openBox:"Open box", issued:"Issued", returned:"Returned", closeBox:"Close box",
                ballots:"Entered", state:"State", opened:"open", closed:"closed", notOpened:"not opened", print:"Print box record",
                phoneCol:"Phone box: codes / cast", unusedLabel:"Unused slips counted back",
                phoneProposal:"Phone box: {p} voting codes printed, {c} ballots cast (its returned). Count the slips not handed out and type how many: issued = {p} − unused. Closing appends the cast ballots in a shuffled order.",
                savedPhone:"Saved (record {seq}); {ballots} phone ballots appended, shuffled",
                proposal:"Proposed issued {n}: {c} checked in for the session, less {o} issued by its other boxes",
                confirmAgain:"The numbers disagree. Check them, then press Enter again to save.", saved:"Saved (record {seq})",
                keyingBox:"Box to key (must be closed)", startKeying:"Start keying", paper:"Paper", resolving:"(lead decides)",
                paperJump:"Go to paper number (Enter)",
                legend:"Keys: {marks} · <kbd>0</kbd> blank · <kbd>.</kbd> spoiled · <kbd>⌫</kbd> undo · <kbd>Enter</kbd> save · <kbd>/</kbd> other paper · <kbd>R</kbd> decide (lead)",
                progress:"agreed {a} / keyed {k} / returned {r} · keyed by you {y}{v}", voidedNote:" · voided {n} ({list})",
                firstPass:"Paper {p} saved; another clerk keys it again", agreed:"Paper {p}: both passes agree, counted (record {seq})",
                mismatch:"Paper {p}: the passes differ; the lead looks at the paper and decides", resolvedMsg:"Paper {p} decided by the lead (record {seq})",
                incomplete:"Departments not keyed yet: {d}", noPaper:"Every paper of this box is keyed", blank:"blank", spoiled:"spoiled",
                disputes:"To decide", disputeLine:"Paper {p}: ", uploadKind:"The file holds", kindCheckins:"check-ins", kindBallots:"ballots",
                uploadFile:"CSV file exported by the scanner", upload:"Upload", uploaded:"Imported {n} record(s) (import record {seq})", chooseFile:"Choose a file",
                correctTitle:"Correct a record (lead only)", correctTarget:"Record", correctReason:"Reason (required)",
                correctIssued:"New issued (box closing)", correctReturned:"New returned (box closing)",
                correctSurveys:"New survey forms (box closing)", correctSuggestions:"New suggestion forms", correctDiscipline:"New discipline forms", correctSave:"Save correction",
                recordsTitle:"Latest records", seq:"Record", kind:"Kind", summary:"What", savedAt:"Saved", correctedBy:"Corrected by",
                reconcileTitle:"This venue's reconciliation", severity:"Severity", detail:"Detail", expected:"Expected", actual:"Found", noFindings:"Nothing found",
                standby:"Standby {node}: {state}", standbyCaughtUp:"caught up", standbyBehind:"{n} behind", standbyNever:"not connected yet",
                online:"Online · {n} pending", offline:"Offline · {n} pending (kept on this computer, sent when the network returns)",
                lastReceipt:"Last receipt: up to record {seq}",
                roles:{ desk:"desk", count:"count", lead:"lead" },
                sev:{ error:"error", warning:"warning", info:"info" },
                reasons:{ not_on_roster:"Not on the roster", other_venue:"On another venue's roster", other_session:"Not on the roster for this session",
                          other_category:"Category does not match the roster", other_person:"ID card is not this representative's", bad_id_number:"Not a valid ID-card number",
                          walkin_incomplete:"Walk-in: needs an ID-card number and a category", no_roster:"No roster imported: choose a category",
                          already_checked_in:"Already checked in", no_open_place:"Reserve: every place is filled; a reserve only replaces an absentee", invalid:"Not valid", unknown_session:"Unknown session",
                          welcome:"Checked in", reserve:"Checked in (a reserve, in an absentee's place)", walkin:"Not on the roster: recorded as a walk-in" },
                earlier:"checked in at {at} by {clerk} (record {seq})", commandLine:"command line / import",
                warn:{ issued_vs_returned:"Issued and returned differ", returned_vs_checked_in:"Returned differs from the number checked in" },
                errors:{ code_malformed:"This is not a sign-in code: a code is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"No such sign-in code: check it, or ask the lead for a new one",
                         code_used:"This code was used already (a code signs in once): ask the lead for a new one",
                         code_expired:"This code has expired: ask the lead for a new one",
                         code_replaced:"A newer code was issued for you: sign in with that one",
                         clerk_revoked:"This clerk was revoked and cannot sign in",
                         rate_limited:"Too many wrong codes: try again in {s} seconds",
                         signed_out:"Your session ended: sign in again", csrf:"Reload the page and try again",
                         role:"Your role may not do this", not_lead:"Only the lead may do this", reason_required:"Give the reason for the correction",
                         box_opened_twice:"This box was opened already", box_closed_twice:"This box was closed already",
                         ballot_box_not_closed:"The box is not closed", box_not_closed:"The box is not closed: key its papers once it is",
                         ballots_over_returned:"The box holds as many ballots as it returned", paper_out_of_range:"No such paper (beyond the number returned)",
                         paper_done:"This paper is counted already", already_keyed:"You keyed this paper already: the second pass is another clerk's",
                         paper_disputed:"This paper's passes differ: the lead decides", not_disputed:"This paper has no difference to decide",
                         paper_voided:"This paper's ballot was voided by a correction: it is not keyed again", box_has_imported_ballots:"This box holds imported ballots: a box is either keyed or imported, never both",
                         box_is_keyed:"This box is keyed at the desk: a box is either keyed or imported, never both",
                         box_is_phone:"This is a phone box: its ballots were cast on phones, it has no papers to key", box_has_paper:"This box holds paper ballots",
                         bad_paper:"The paper is incomplete or not valid", bad_file:"The file has an error: nothing was imported",
                         already_imported:"These rows were imported before: nothing was imported again", bad_correction:"This record cannot be corrected",
                         unknown_box:"No such box", invalid:"Not valid", bad_request:"Not valid",
                         form_box_not_closed:"The box is not closed: close it, counting its forms, then enter them", forms_over_returned:"As many forms are entered as its closing counted",
                         no_consent:"A contact is kept only with consent to a call back: tick it, or leave the contact out",
                         network:"Cannot reach the venue node: check the network and try again" } } };

        let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
        let me = null, event = null, overview = null, tab = "checkin";
        let session = localStorage.getItem("desk.session") || null;
        let lastError = null;
        const $ = (id) => document.getElementById(id);
        const t = (key) => T[lang][key];
        const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] === undefined ? "" : String(values[k]));
        const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&":"&amp;", "<":"&lt;", ">":"&gt;", '"':"&quot;", "'":"&#39;" }[c]));
        const clock = (iso) => { if (!iso) return "?"; const d = new Date(iso); return isNaN(d) ? iso : d.toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB", { hour12:false }); };
        const errorText = (error) => error ? fill((T[lang].errors[error.code] || error.message || error.code), { s: error.wait || "" })
          + (error.message && T[lang].errors[error.code] && lang === "zh" ? "" : "") : "";
        const detail = (error) => error && error.message && T[lang].errors[error.code] ? " — " + error.message : "";

        async function api(method, path, body, contentType) {
          const headers = {};
          if (method !== "GET") headers["X-CSRF-Token"] = me ? me.csrf_token : "";
          let payload;
          if (body !== undefined) {
            if (contentType) { headers["Content-Type"] = contentType; payload = body; }
            else { headers["Content-Type"] = "application/json"; payload = JSON.stringify(body); }
          }
          let response;
          try { response = await fetch(path, { method, credentials:"same-origin", headers, body: payload }); }
          catch (e) { return { ok:false, status:0, body:{ error:{ code:"network", message:String(e) } } }; }
          let json = null;
          try { json = response.status === 204 ? {} : await response.json(); } catch (e) { json = { error:{ code:"network", message:"HTTP " + response.status } }; }
          if (response.status === 401 && json && json.error && json.error.code === "signed_out" && me) { lastError = json.error; show(null); }
          if (json && json.error && response.headers.get("Retry-After")) json.error.wait = response.headers.get("Retry-After");
          return { ok: response.ok, status: response.status, body: json };
        }

        function sessionInfo() { return event ? event.sessions.find((s) => s.id === session) : null; }
        function markLabel(id) { const m = event.marks.find((x) => x.id === id); return m ? (lang === "zh" ? m.label_zh : m.label_en) : id; }
        function categoryName(id) { const c = event && event.categories.find((x) => x.id === id); return c ? c.name : id; }

        // ---- Rendering -------------------------------------------------------------------------------
        function render() {
          const L = T[lang];
          document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
          document.title = L.title;
          for (const el of document.querySelectorAll("[data-t]")) if (L[el.dataset.t] !== undefined) el.textContent = L[el.dataset.t];
          $("lang").textContent = L.other;
          $("who").textContent = me ? me.clerk.name + " · " + (L.roles[me.clerk.role] || me.clerk.role) : "";
          $("error").textContent = lastError ? errorText(lastError) : "";
          if (event) {
            $("venue-name").textContent = event.venue.name;
            const select = $("session");
            if (select.options.length !== event.sessions.length) {
              select.innerHTML = event.sessions.map((s) => `<option value="${esc(s.id)}">${esc(s.name)}</option>`).join("");
            }
            select.value = session;
            $("walkin-category").innerHTML = event.categories.map((c) => `<option value="${esc(c.id)}">${esc(c.name)}</option>`).join("");
          }
          for (const button of document.querySelectorAll("nav button")) button.setAttribute("aria-selected", String(button.dataset.tab === tab));
          for (const section of document.querySelectorAll("section.tab")) section.hidden = !me || section.id !== "tab-" + tab;
          $("correct-form").hidden = !(me && me.clerk.role === "lead");
          renderOverview();
          renderKeying();
          renderAnswer();
          renderForms();
        }

        function renderOverview() {
          if (!overview || !event) return;
          const L = T[lang];
          const sync = $("sync");
          sync.hidden = false;
          sync.dataset.online = String(overview.sync.online);
          sync.dataset.pending = String(overview.sync.pending);
          sync.textContent = fill(overview.sync.online ? L.online : L.offline, { n: overview.sync.pending });
          sync.title = overview.sync.last_receipt_seq ? fill(L.lastReceipt, { seq: overview.sync.last_receipt_seq }) : "";
          // Whether each standby laptop holds everything (issue #15).
          const standbys = (overview.standbys || []).map((b) => fill(L.standby, { node: b.node,
            state: b.held_seq == null ? L.standbyNever : b.behind === 0 ? L.standbyCaughtUp : fill(L.standbyBehind, { n: b.behind }) }));
          $("standby").hidden = !standbys.length;
          $("standby").textContent = standbys.join(" · ");
          $("standby").dataset.behind = String((overview.standbys || []).reduce((a, b) => a + (b.behind ?? 0), 0));
          const info = sessionInfo();
          const counts = (overview.attendance[session] || {});
          const quotas = info ? info.quotas : {};
          const categories = Object.keys(Object.assign({}, quotas, counts)).sort();
          let totalQuota = 0, totalIn = 0;
          const rows = categories.map((c) => {
            const q = quotas[c] || 0, n = counts[c] || 0;
            totalQuota += q; totalIn += n;
            return `<tr class="${n < q ? "short" : ""}" data-category="${esc(c)}"><td>${esc(categoryName(c))}</td><td class="num">${q}</td><td class="num">${n}</td></tr>`;
          });
          $("attendance").innerHTML = `<tr><th>${L.category}</th><th class="num">${L.quota}</th><th class="num">${L.checkedIn}</th></tr>`
            + rows.join("") + `<tr id="attendance-total" data-checked-in="${totalIn}" data-quota="${totalQuota}"><th>${L.total}</th><th class="num">${totalQuota}</th><th class="num">${totalIn}</th></tr>`;
          const boxes = overview.boxes.filter((b) => b.session === session);
          $("boxes").innerHTML = `<tr><th>${L.boxId}</th><th>${L.state}</th><th class="num">${L.issued}</th><th class="num">${L.returned}</th><th class="num">${L.ballots}</th><th class="num">${L.phoneCol}</th><th>${L.formsCol}</th><th></th></tr>`
            + boxes.map((b) => `<tr data-box="${esc(b.box)}" data-state="${b.closed_seq ? "closed" : (b.opened_seq ? "open" : "new")}"><td>${esc(b.box)}</td><td>${b.closed_seq ? L.closed : (b.opened_seq ? L.opened : L.notOpened)}</td>`
              + `<td class="num">${b.issued ?? ""}</td><td class="num">${b.returned ?? ""}</td><td class="num">${b.ballots}</td>`
              + `<td class="num" data-phone="${b.printed ?? ""}">${b.printed != null ? b.printed + " / " + b.cast : ""}</td>`
              + `<td data-forms="${esc(Object.keys(b.forms || {}).sort().map((k) => k + "=" + ((b.forms_entered || {})[k] || 0) + "/" + b.forms[k]).join(" "))}">`
              + Object.keys(b.forms || {}).sort().map((k) => esc(L.formShort[k] || k) + " " + ((b.forms_entered || {})[k] || 0) + "/" + b.forms[k]).join(" · ") + `</td>`
              + `<td><a href="/desk/box-record?session=${encodeURIComponent(b.session)}&box=${encodeURIComponent(b.box)}&lang=${lang}" target="_blank">${L.print}</a></td></tr>`).join("");
          renderProposal();
        }

        function proposal(boxId) {
          const info = overview ? (overview.attendance[session] || {}) : {};
          const checkedIn = Object.values(info).reduce((a, b) => a + b, 0);
          const others = (overview ? overview.boxes : []).filter((b) => b.session === session && b.box !== boxId && b.closed_seq)
            .reduce((a, b) => a + (b.issued || 0), 0);
          return { n: Math.max(0, checkedIn - others), c: checkedIn, o: others };
        }

        // A phone box (voting codes printed for it): the clerk types the unused slips; returned is the ballots cast.
        function phoneBox(boxId) {
          return (overview ? overview.boxes : []).find((b) => b.session === session && b.box === boxId && b.printed != null);
        }
        function renderProposal() {
          const box = $("close-box").value.trim();
          const phone = box ? phoneBox(box) : null;
          const issuedLabel = document.querySelector('label[for="close-issued"]');
          issuedLabel.dataset.t = phone ? "unusedLabel" : "issued";
          issuedLabel.textContent = t(issuedLabel.dataset.t);
          $("close-returned").readOnly = !!phone;
          if (phone) {
            $("close-returned").value = String(phone.cast);
            $("close-proposal").textContent = fill(t("phoneProposal"), { p: phone.printed, c: phone.cast });
            return;
          }
          const formsOnly = $("close-forms-only").checked;
          $("close-issued").disabled = formsOnly; $("close-returned").disabled = formsOnly;
          if (formsOnly) { $("close-issued").value = ""; $("close-returned").value = ""; }
          if (!box || formsOnly) { $("close-proposal").textContent = ""; return; }
          const p = proposal(box);
          $("close-proposal").textContent = fill(t("proposal"), p);
          if (!closeEdited) $("close-issued").value = String(p.n);
        }

        // ---- Sign-in ---------------------------------------------------------------------------------
        function show(session_) {
          me = session_;
          $("loading").hidden = true;
          $("signin").hidden = !!me;
          $("tabs").hidden = !me;
          $("signout").hidden = !me;
          $("session").hidden = !me;
          // A new clerk starts afresh: nothing of the last one's screens stays.
          keying = null; keyingStatus = null; answer = null; tab = "checkin"; formsEntry = null; formsStatus = null;
          for (const form of document.querySelectorAll("main form:not(#signin)")) form.reset();
          for (const id of ["close-warnings", "close-proposal", "upload-result", "correct-result"]) $(id).textContent = "";
          $("boxes-result").hidden = true;
          if (!me) { $("sync").hidden = true; event = null; overview = null; }
          render();
          if (!me) { $("code").focus(); return; }
          lastError = null;
          loadEvent();
        }

        async function loadEvent() {
          const answer = await api("GET", "/desk/api/event");
          if (!answer.ok) return;
          event = answer.body;
          if (!event.sessions.some((s) => s.id === session)) session = event.sessions[0] ? event.sessions[0].id : null;
          await refresh();
          // The clerk may have moved to another screen meanwhile: show it, and take focus only if nothing has it.
          render();
          if (!document.activeElement || document.activeElement === document.body) focusTab();
        }

        async function refresh() {
          if (!me) return;
          const answer = await api("GET", "/desk/api/overview");
          if (answer.ok) { overview = answer.body; renderOverview(); renderFormsProgress(); }
        }
        setInterval(refresh, 2000);

        $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; render(); focusTab(); });
        $("session").addEventListener("change", () => { session = $("session").value; localStorage.setItem("desk.session", session); keying = null; formsEntry = null; formsStatus = null; render(); });

        $("signin").addEventListener("submit", async (e) => {
          e.preventDefault();
          lastError = null;
          const answer = await api("POST", "/desk/api/sign-in", { code: $("code").value });
          if (answer.ok) { $("code").value = ""; show(answer.body); return; }
          lastError = answer.body.error;
          render();
          $("code").select();
        });

        $("signout").addEventListener("click", async () => {
          await api("POST", "/desk/api/sign-out");
          lastError = null;
          show(null);
        });

        // ---- Screens ---------------------------------------------------------------------------------
        const tabs = ["checkin", "boxes", "keying", "upload", "records", "reconcile", "forms"];
        function selectTab(name) {
          tab = name;
          render();
          if (name === "records") loadRecords();
          if (name === "reconcile") loadFindings();
          if (name === "keying" && keying) loadProgress();
          if (name === "forms") renderForms();
          focusTab();
        }
        function focusTab() {
          if (!me) return;
          const target = { checkin:"scan", boxes:"open-box", keying: keying ? "keying-pad" : "keying-box", upload:"upload-kind",
                           records: me.clerk.role === "lead" ? "correct-target" : null, reconcile:null,
                           forms: !formsEntry ? "forms-kind" : formsEntry.kind === "suggestion" ? "sg-text" : "survey-pad" }[tab];
          if (target) $(target).focus();
        }
        for (const button of document.querySelectorAll("nav button")) button.addEventListener("click", () => selectTab(button.dataset.tab));
        document.addEventListener("keydown", (e) => {
          if (me && e.altKey && !e.ctrlKey && e.key >= "1" && e.key <= "7") { e.preventDefault(); selectTab(tabs[Number(e.key) - 1]); }
          if (me && e.altKey && !e.ctrlKey && e.key === "0") { e.preventDefault(); $("signout").click(); }
        });

        // ---- Check-in --------------------------------------------------------------------------------
        let answer = null;
        function renderAnswer() {
          const box = $("answer");
          if (!answer) { box.dataset.state = "none"; box.innerHTML = ""; return; }
          const L = T[lang];
          box.dataset.state = answer.admitted ? "ok" : "bad";
          box.dataset.reason = answer.admitted ? (answer.walkin ? "walkin" : answer.reserve ? "reserve" : "welcome") : answer.error.code;
          const who = [answer.rep, answer.name, answer.category ? categoryName(answer.category) : null].filter(Boolean).map(esc).join(" · ");
          let line = L.reasons[box.dataset.reason] || errorText(answer.error);
          let small = who;
          if (answer.earlier) small += (small ? " — " : "") + esc(fill(L.earlier, { at: clock(answer.earlier.at), clerk: answer.earlier.clerk || L.commandLine, seq: answer.earlier.seq }));
          else if (!answer.admitted && answer.error.message) small += (small ? " — " : "") + esc(answer.error.message);
          box.innerHTML = esc(line) + (small ? `<small>${small}</small>` : "");
        }
        $("checkin-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const scanned = $("scan").value.trim();
          $("scan").value = "";
          if (!scanned) return;
          const body = { session, scanned };
          if (!$("walkin").hidden) body.category = $("walkin-category").value;
          const result = await api("POST", "/desk/api/checkin", body);
          answer = result.body && result.body.error && result.body.admitted === undefined
            ? { admitted:false, error: result.body.error } : result.body;
          $("walkin").hidden = !(event && (answer.error && (answer.error.code === "walkin_incomplete" || answer.error.code === "no_roster")));
          renderAnswer();
          refresh();
          $("scan").focus();
        });
        // The scan field keeps focus on its screen: a scanner types into it whatever was clicked last.
        $("scan").addEventListener("blur", () => setTimeout(() => {
          if (tab === "checkin" && me && (document.activeElement === document.body || !document.activeElement)) $("scan").focus();
        }, 0));

        // ---- Boxes -----------------------------------------------------------------------------------
        let closeEdited = false, pendingConfirm = null;
        function boxMessage(html, warn) { const el = $("boxes-result"); el.hidden = false; el.className = "card " + (warn ? "error" : "ok"); el.innerHTML = html; }
        $("open-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const box = $("open-box").value.trim();
          if (!box) return;
          const result = await api("POST", "/desk/api/boxes/open", { session, box });
          if (result.ok) { boxMessage(esc(fill(t("saved"), result.body))); $("open-box").value = ""; }
          else boxMessage(esc(errorText(result.body.error)) + esc(detail(result.body.error)), true);
          await refresh();
          $("open-box").focus();
        });
        $("close-box").addEventListener("input", () => { closeEdited = false; pendingConfirm = null; $("close-warnings").textContent = ""; renderProposal(); });
        $("close-issued").addEventListener("input", () => { closeEdited = true; pendingConfirm = null; $("close-warnings").textContent = ""; });
        // Once the clerk has been in the field, the number is theirs: a refresh never rewrites it under them.
        $("close-issued").addEventListener("focus", () => { closeEdited = true; });
        $("close-returned").addEventListener("input", () => { pendingConfirm = null; $("close-warnings").textContent = ""; });
        $("close-forms-only").addEventListener("change", () => { pendingConfirm = null; $("close-warnings").textContent = ""; renderProposal(); });
        $("close-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const box = $("close-box").value.trim();
          const issued = Number($("close-issued").value), returned = Number($("close-returned").value);
          // The other forms counted in it (issue #17): only the kinds typed in.
          const forms = {};
          let formsBad = false;
          for (const [kind, id] of [["survey", "close-surveys"], ["suggestion", "close-suggestions"], ["discipline", "close-discipline"]]) {
            const text = $(id).value.trim();
            if (text === "") continue;
            if (!/^[0-9]+$/.test(text)) formsBad = true; else forms[kind] = Number(text);
          }
          // A box of forms only (the entrance box) is closed with its forms counted, and no ballot numbers.
          const formsOnly = $("close-forms-only").checked;
          if (!box || formsBad || formsOnly && Object.keys(forms).length === 0 || !formsOnly && ($("close-issued").value.trim() === "" || $("close-returned").value.trim() === "" || !Number.isInteger(issued) || !Number.isInteger(returned))) {
            $("close-warnings").textContent = T[lang].errors.bad_request; return;
          }
          const key = box + "/" + issued + "/" + returned + "/" + JSON.stringify(forms);
          const request = formsOnly ? { session, box } : phoneBox(box) ? { session, box, unused: issued, returned } : { session, box, issued, returned };
          if (Object.keys(forms).length) request.forms = forms;
          request.confirm = pendingConfirm === key;
          const result = await api("POST", "/desk/api/boxes/close", request);
          if (result.ok) {
            boxMessage(esc(fill(t(result.body.ballots ? "savedPhone" : "saved"), result.body)));
            for (const id of ["close-box", "close-issued", "close-returned", "close-surveys", "close-suggestions", "close-discipline"]) $(id).value = "";
            $("close-forms-only").checked = false;
            closeEdited = false; pendingConfirm = null; $("close-warnings").textContent = ""; $("close-proposal").textContent = "";
            await refresh();
            $("close-box").focus();
            return;
          }
          if (result.body.error && result.body.error.code === "needs_confirmation") {
            pendingConfirm = key;
            $("close-warnings").innerHTML = result.body.warnings.map((w) => {
              const [code, text] = [w.split(":")[0], w.slice(w.indexOf(":") + 1)];
              return `<div data-warning="${esc(code)}">${esc(T[lang].warn[code] || code)}：${esc(text)}</div>`;
            }).join("") + `<div>${esc(t("confirmAgain"))}</div>`;
            return;
          }
          $("close-warnings").textContent = errorText(result.body.error) + detail(result.body.error);
        });

        // ---- Keying ----------------------------------------------------------------------------------
        // keying: { box, progress, paper, marks: {dept: mark}, order: [dept…], status: "valid"|"blank"|"spoiled"|null, resolve: bool }
        let keying = null, keyingStatus = null;
        function departments() { const info = sessionInfo(); return info ? info.departments : []; }
        function renderKeying() {
          const pad = $("keying-pad");
          pad.hidden = !keying;
          if (!keying || !event || !keying.progress) {
            // Nothing of another box, or of the last clerk, stays on the screen while this one loads.
            for (const id of ["disputes", "keying-rows", "keying-progress", "keying-status"]) $(id).textContent = "";
            for (const key of ["agreed", "keyed", "returned", "outcome"]) { delete $("keying-progress").dataset[key]; delete $("keying-status").dataset[key]; }
            $("paper-no").textContent = "-";
            if (!keying || !event) return;
          }
          const L = T[lang];
          const p = keying.progress;
          $("paper-no").textContent = keying.paper ?? "-";
          $("resolve-label").hidden = !keying.resolve;
          const progress = $("keying-progress");
          const voided = p && p.voided && p.voided.length ? fill(L.voidedNote, { n: p.voided.length, list: p.voided.join(", ") }) : "";
          progress.textContent = p ? fill(L.progress, { a: p.agreed, k: p.keyed, r: p.returned ?? "-", y: p.keyed_by_you, v: voided }) : "";
          if (p) { progress.dataset.agreed = p.agreed; progress.dataset.keyed = p.keyed; progress.dataset.returned = p.returned ?? ""; }
          $("keying-legend").innerHTML = fill(L.legend, { marks: event.marks.map((m, i) => `<kbd>${i + 1}</kbd> ${esc(lang === "zh" ? m.label_zh : m.label_en)}`).join(" · ") });
          const dispute = keying.resolve && p ? p.disputes.find((d) => d.paper === keying.paper) : null;
          const current = keying.status === "valid" || keying.status === null ? keying.order.length : -1;
          $("keying-rows").innerHTML = departments().map((d, i) => {
            const mark = keying.marks[d.id];
            let diff = "";
            if (dispute) {
              const seen = dispute.passes.map((pass) => pass.reading.status === "valid" ? pass.reading.marks[d.id] : pass.reading.status);
              if (seen[0] !== seen[1]) diff = `<span class="diff"> ${dispute.passes.map((pass, k) => esc(pass.clerk) + "=" + esc(seen[k] ? (seen[k] === "blank" || seen[k] === "spoiled" ? L[seen[k]] : markLabel(seen[k])) : "-")).join(" / ")}</span>`;
            }
            return `<li data-department="${esc(d.id)}" class="${i === current && keying.status !== "blank" && keying.status !== "spoiled" ? "current" : ""}">${esc(d.name)}${diff}<span class="mark">${mark ? esc(markLabel(mark)) : ""}</span></li>`;
          }).join("");
          if (keying.status === "blank" || keying.status === "spoiled") $("keying-rows").insertAdjacentHTML("afterbegin", `<p class="warnings" id="paper-state">${esc(L[keying.status])}</p>`);
          const st = $("keying-status");
          st.dataset.outcome = keyingStatus ? keyingStatus.outcome : "";
          st.textContent = keyingStatus ? keyingStatus.text() : "";
          $("disputes").innerHTML = p && p.disputes.length
            ? `<h3>${L.disputes}</h3>` + p.disputes.map((d) => `<div data-dispute="${d.paper}">${esc(fill(L.disputeLine, { p: d.paper }))}${d.passes.map((pass) => esc(pass.clerk)).join(" / ")}</div>`).join("")
            : "";
        }
        function resetPaper(paper) { keying.paper = paper; keying.marks = {}; keying.order = []; keying.status = null; }
        // Keys pressed while the box's progress loads or a paper is saved wait, in order: nothing a clerk types is lost.
        let loading = 0;
        const queuedKeys = [];
        async function loadProgress() {
          loading += 1;
          let result;
          try { result = await api("GET", `/desk/api/keying?session=${encodeURIComponent(session)}&box=${encodeURIComponent(keying.box)}`); }
          finally { loading -= 1; }
          if (!keying) return;
          if (!result.ok) { keyingStatus = { outcome:"refused", text: () => errorText(result.body.error) }; renderKeying(); return; }
          keying.progress = result.body;
          if (!keying.resolve && (keying.paper === null || keying.order.length === 0 && keying.status === null)) {
            resetPaper(result.body.next_paper);
            if (keying.paper === null && !keyingStatus) keyingStatus = { outcome:"done", text: () => t("noPaper") };
          }
          renderKeying();
          if (!saving && !loading) for (const key of queuedKeys.splice(0)) await handleKey(key);
        }
        $("keying-box-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const box = $("keying-box").value.trim();
          if (!box) return;
          keying = { box, progress:null, paper:null, marks:{}, order:[], status:null, resolve:false };
          keyingStatus = null;
          renderKeying();
          $("keying-pad").focus();
          await loadProgress();
          if (keying.progress && keying.progress.returned === null) {
            keyingStatus = { outcome:"refused", text: () => T[lang].errors.box_not_closed };
            keying.paper = null;
          }
          renderKeying();
          $("keying-pad").focus();
        });
        let saving = false;
        async function savePaper() {
          if (keying.paper === null) return;
          const depts = departments();
          if (keying.status === null || keying.status === "valid") {
            const missing = depts.filter((d) => !keying.marks[d.id]).map((d) => d.name);
            if (missing.length) { keyingStatus = { outcome:"refused", text: () => fill(t("incomplete"), { d: missing.join("、") }) }; renderKeying(); return; }
          }
          const status = keying.status || "valid";
          const body = { session, box: keying.box, paper: keying.paper, status, marks: status === "valid" ? keying.marks : {} };
          const paper = keying.paper;
          saving = true;
          let result;
          try { result = await api("POST", keying.resolve ? "/desk/api/keying/resolve" : "/desk/api/keying", body); }
          finally { saving = false; }
          if (result.ok) {
            const a = result.body;
            const key = { first_pass:"firstPass", agreed:"agreed", mismatch:"mismatch", resolved:"resolvedMsg" }[a.outcome];
            keyingStatus = { outcome: a.outcome, text: () => fill(t(key), { p: a.paper, seq: a.ballot_seq }) };
            keying.resolve = false;
            resetPaper(null);
            await loadProgress();
            refresh();
          } else {
            keyingStatus = { outcome:"refused", text: () => errorText(result.body.error) + detail(result.body.error) };
            renderKeying();
          }
          void paper;
          const waiting = queuedKeys.splice(0);
          for (const key of waiting) await handleKey(key);
        }
        /// One key of the keying pad; true when it was the pad's.
        async function handleKey(key) {
          if (!keying) return false;
          if (saving || loading) { queuedKeys.push(key); return true; }
          const marks = event.marks;
          const depts = departments();
          const untouched = keying.order.length === 0 && keying.status === null;
          if (key === "/") { $("paper-jump-row").hidden = false; $("paper-jump").value = ""; $("paper-jump").focus(); return true; }
          if (key === "r" || key === "R") {
            // Only on a paper not begun: R never throws away what was keyed.
            const p = keying.progress;
            if (me.clerk.role === "lead" && p && p.disputes.length && untouched) {
              keying.resolve = true; resetPaper(p.disputes[0].paper); keyingStatus = null; renderKeying();
            }
            return true;
          }
          if (keying.paper === null) return false;
          if (key === "Enter") { await savePaper(); return true; }
          if (key === "Backspace") {
            if (keying.status === "blank" || keying.status === "spoiled") keying.status = null;
            else if (keying.order.length) { delete keying.marks[keying.order.pop()]; if (!keying.order.length) keying.status = null; }
            keyingStatus = null; renderKeying(); return true;
          }
          if (key === "0" && keying.order.length === 0) { keying.status = "blank"; keyingStatus = null; renderKeying(); return true; }
          if ((key === "." || key === "x" || key === "X") && keying.order.length === 0) { keying.status = "spoiled"; keyingStatus = null; renderKeying(); return true; }
          const index = Number(key) - 1;
          if (/^[1-9]$/.test(key) && index < marks.length && (keying.status === null || keying.status === "valid") && keying.order.length < depts.length) {
            const dept = depts[keying.order.length].id;
            keying.marks[dept] = marks[index].id; keying.order.push(dept); keying.status = "valid";
            keyingStatus = null; renderKeying();
            return true;
          }
          return false;
        }
        const padKeys = new Set(["/", "r", "R", "Enter", "Backspace", "0", ".", "x", "X", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
        $("keying-pad").addEventListener("keydown", (e) => {
          if (!keying || e.altKey || e.ctrlKey || e.metaKey || !padKeys.has(e.key)) return;
          e.preventDefault();
          handleKey(e.key);
        });
        $("paper-jump").addEventListener("keydown", (e) => {
          if (e.key === "Enter") {
            e.preventDefault();
            const n = Number($("paper-jump").value);
            if (Number.isInteger(n) && n >= 1) { keying.resolve = false; resetPaper(n); keyingStatus = null; }
            $("paper-jump-row").hidden = true; renderKeying(); $("keying-pad").focus();
          } else if (e.key === "Escape") { $("paper-jump-row").hidden = true; $("keying-pad").focus(); }
        });

        // ---- Forms: surveys keyed one key per answer, suggestions typed (issue #17) --------------------
        // formsEntry: { kind, box, answers: {key: option|null}, index } — index: the question being keyed.
        let formsEntry = null, formsStatus = null, formsSaving = false;
        const formsQueue = [];
        function formQuestions() { const info = sessionInfo(); return formsEntry && info && info.forms[formsEntry.kind] || []; }
        function formsBoxInfo() { return formsEntry && overview ? overview.boxes.find((b) => b.session === session && b.box === formsEntry.box) : null; }
        function formsProgressText() {
          const b = formsBoxInfo(), L = T[lang];
          if (!formsEntry) return "";
          const kindName = L[{ survey:"formSurvey", discipline:"formDiscipline", suggestion:"formSuggestion" }[formsEntry.kind]];
          return fill(L.formsProgress, { kind: kindName, e: b && b.forms_entered ? (b.forms_entered[formsEntry.kind] || 0) : 0,
                                          r: b && b.forms && b.forms[formsEntry.kind] !== undefined ? b.forms[formsEntry.kind] : "-" });
        }
        // The progress alone (the page asks for the overview every few seconds: nothing the clerk is in is redrawn).
        function renderFormsProgress() {
          if (!formsEntry) return;
          const b = formsBoxInfo();
          for (const id of ["forms-progress", "suggestion-progress"]) {
            $(id).textContent = formsProgressText();
            $(id).dataset.entered = b && b.forms_entered ? (b.forms_entered[formsEntry.kind] || 0) : 0;
          }
        }
        function renderForms() {
          const L = T[lang];
          const survey = formsEntry && formsEntry.kind !== "suggestion";
          $("survey-pad").hidden = !survey;
          $("suggestion-form").hidden = !(formsEntry && formsEntry.kind === "suggestion");
          if (!formsEntry || !event) return;
          renderFormsProgress();
          const status = $(survey ? "forms-status" : "suggestion-status");
          status.dataset.outcome = formsStatus ? formsStatus.outcome : "";
          status.textContent = formsStatus ? formsStatus.text() : "";
          if (!survey) {
            const chosen = new Set([...document.querySelectorAll("#sg-departments input:checked")].map((e) => e.value));
            // What the clerk chose stays chosen (as the state of the fields, not their defaults: a reset clears it).
            $("sg-departments").innerHTML = event.departments.map((d) => `<label><input type="checkbox" value="${esc(d.id)}"> ${esc(d.name)}</label>`).join("");
            for (const box of document.querySelectorAll("#sg-departments input")) box.checked = chosen.has(box.value);
            const topic = $("sg-topic").value;
            $("sg-topic").innerHTML = `<option value="">${esc(L.sgNone)}</option>` + event.topics.map((x) => `<option value="${esc(x.id)}">${esc(x.name)}</option>`).join("");
            $("sg-topic").value = topic;
            return;
          }
          const questions = formQuestions();
          const current = questions[formsEntry.index];
          const label = (o) => lang === "en" && o.label_en ? o.label_en : o.label;
          $("survey-legend").innerHTML = current ? fill(L.formsLegend, { options: current.options.map((o, i) => `<kbd>${i + 1}</kbd> ${esc(label(o))}`).join(" · ") }) : "";
          $("survey-rows").innerHTML = questions.map((q, i) => {
            const given = formsEntry.answers[q.key];
            const option = given ? q.options.find((o) => o.id === given) : null;
            const text = (lang === "en" && q.text_en ? q.text_en : q.text) + (q.department ? "：" + q.department : "");
            const mark = i < formsEntry.index ? (option ? label(option) : L.noAnswer) : "";
            return `<li data-key="${esc(q.key)}" data-answer="${esc(given || "")}" class="${i === formsEntry.index ? "current" : ""}">${esc(text)}<span class="mark">${esc(mark)}</span></li>`;
          }).join("");
        }
        $("forms-box-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const box = $("forms-box").value.trim();
          if (!box) return;
          formsEntry = { kind: $("forms-kind").value, box, answers: {}, index: 0 };
          formsStatus = null;
          await refresh();
          const b = formsBoxInfo();
          if (!b || !b.closed_seq) formsStatus = { outcome:"refused", text: () => T[lang].errors.form_box_not_closed };
          else if (!b.forms || b.forms[formsEntry.kind] === undefined) formsStatus = { outcome:"refused", text: () => t("formsNotCounted") };
          renderForms();
          focusTab();
        });
        async function saveForm(body) {
          const result = await api("POST", "/desk/api/forms", Object.assign({ session, box: formsEntry.box, kind: formsEntry.kind }, body));
          if (result.ok) formsStatus = { outcome:"saved", text: () => fill(t("formSaved"), result.body) + (result.body.masked ? t("masked") : "") };
          else formsStatus = { outcome:"refused", text: () => errorText(result.body.error) + detail(result.body.error) };
          return result.ok;
        }
        async function surveyKey(key) {
          if (!formsEntry || formsEntry.kind === "suggestion") return;
          if (formsSaving) { formsQueue.push(key); return; }
          const questions = formQuestions();
          const current = questions[formsEntry.index];
          if (key === "Enter") {
            const missing = questions.slice(formsEntry.index).map((q) => q.key);
            if (missing.length) { formsStatus = { outcome:"refused", text: () => fill(t("formIncomplete"), { q: missing.join("、") }) }; renderForms(); return; }
            const answers = {};
            for (const [k, v] of Object.entries(formsEntry.answers)) if (v) answers[k] = v;
            // Keys typed while the form is saved wait, in order, until the next form is ready: none lands on this one.
            formsSaving = true;
            try {
              if (await saveForm({ answers })) { formsEntry.answers = {}; formsEntry.index = 0; }
              await refresh();
            } finally { formsSaving = false; }
            renderForms();
            while (formsQueue.length && !formsSaving) await surveyKey(formsQueue.shift());
            return;
          }
          if (key === "Backspace") {
            if (formsEntry.index > 0) { formsEntry.index -= 1; delete formsEntry.answers[questions[formsEntry.index].key]; }
          } else if (key === "0" && current) {
            formsEntry.answers[current.key] = null; formsEntry.index += 1;
          } else if (/^[1-9]$/.test(key) && current && Number(key) <= current.options.length) {
            formsEntry.answers[current.key] = current.options[Number(key) - 1].id; formsEntry.index += 1;
          } else return;
          formsStatus = null;
          renderForms();
        }
        $("survey-pad").addEventListener("keydown", (e) => {
          if (e.altKey || e.ctrlKey || e.metaKey || !(e.key === "Enter" || e.key === "Backspace" || /^[0-9]$/.test(e.key))) return;
          e.preventDefault();
          surveyKey(e.key);
        });
        $("suggestion-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          if (formsSaving) return;
          formsSaving = true;
          try { await saveSuggestion(); } finally { formsSaving = false; }
        });
        async function saveSuggestion() {
          const body = { text: $("sg-text").value, departments: [...document.querySelectorAll("#sg-departments input:checked")].map((x) => x.value) };
          if ($("sg-topic").value) body.topic = $("sg-topic").value;
          if ($("sg-contact").value.trim()) body.contact = $("sg-contact").value.trim();
          if ($("sg-consent").checked) body.consent = true;
          if (await saveForm(body)) {
            $("suggestion-form").reset();
          }
          await refresh();
          renderForms();
          $("sg-text").focus();
        }
        $("sg-text").addEventListener("keydown", (e) => {
          if (e.key === "Enter" && e.ctrlKey) { e.preventDefault(); $("suggestion-form").requestSubmit(); }
        });

        // ---- Upload ----------------------------------------------------------------------------------
        $("upload-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const file = $("upload-file").files[0];
          const out = $("upload-result");
          if (!file) { out.className = "error"; out.textContent = t("chooseFile"); return; }
          const kind = $("upload-kind").value;
          const result = await api("POST", `/desk/api/import?form=${kind}&file=${encodeURIComponent(file.name)}`, await file.arrayBuffer(), "text/csv");
          out.className = result.ok ? "ok" : "error";
          out.dataset.code = result.ok ? "ok" : result.body.error.code;
          out.textContent = result.ok ? fill(t("uploaded"), { n: result.body.records, seq: result.body.import_seq })
                                      : errorText(result.body.error) + detail(result.body.error);
          refresh();
        });

        // ---- Records and corrections -----------------------------------------------------------------
        async function loadRecords() {
          const result = await api("GET", "/desk/api/records?limit=40");
          if (!result.ok) return;
          const L = T[lang];
          $("records").innerHTML = `<tr><th class="num">${L.seq}</th><th>${L.kind}</th><th>${L.summary}</th><th>${L.savedAt}</th><th>${L.correctedBy}</th></tr>`
            + result.body.map((r) => `<tr data-seq="${r.seq}"><td class="num">${r.seq}</td><td>${esc(r.kind)}</td><td>${esc(r.summary)}</td><td>${esc(clock(r.saved_at))}</td><td>${r.corrected_by ?? ""}</td></tr>`).join("");
        }
        $("correct-form").addEventListener("submit", async (e) => {
          e.preventDefault();
          const out = $("correct-result");
          const body = { target: Number($("correct-target").value), reason: $("correct-reason").value };
          if ($("correct-issued").value.trim() !== "") body.issued = Number($("correct-issued").value);
          if ($("correct-returned").value.trim() !== "") body.returned = Number($("correct-returned").value);
          for (const [kind, id] of [["survey", "correct-surveys"], ["suggestion", "correct-suggestions"], ["discipline", "correct-discipline"]]) {
            if ($(id).value.trim() !== "") body.forms = Object.assign(body.forms || {}, { [kind]: Number($(id).value) });
          }
          const result = await api("POST", "/desk/api/corrections", body);
          out.className = result.ok ? "ok" : "error";
          out.dataset.code = result.ok ? "ok" : result.body.error.code;
          out.textContent = result.ok ? fill(t("saved"), result.body) : errorText(result.body.error) + detail(result.body.error);
          if (result.ok) for (const id of ["correct-target", "correct-reason", "correct-issued", "correct-returned", "correct-surveys", "correct-suggestions", "correct-discipline"]) $(id).value = "";
          loadRecords(); refresh();
          $("correct-target").focus();
        });

        // ---- Reconciliation --------------------------------------------------------------------------
        async function loadFindings() {
          const result = await api("GET", "/desk/api/reconciliation");
          if (!result.ok) return;
          const L = T[lang];
          const rows = result.body.findings.filter((f) => !(f.kind === "attendance_vs_quota" && f.severity === "info"));
          $("findings").innerHTML = rows.length === 0 ? `<p class="ok">${L.noFindings}</p>`
            : `<table><tr><th>${L.severity}</th><th>${L.kind}</th><th>${L.boxId}</th><th class="num">${L.expected}</th><th class="num">${L.actual}</th><th>${L.detail}</th></tr>`
              + rows.map((f) => `<tr data-kind="${esc(f.kind)}"><td>${esc(L.sev[f.severity])}</td><td>${esc(lang === "zh" ? f.label_zh : f.label_en)}</td><td>${esc(f.box)}</td><td class="num">${f.expected ?? ""}</td><td class="num">${f.actual ?? ""}</td><td>${esc(lang === "zh" ? f.message_zh : f.message)}</td></tr>`).join("") + "</table>";
        }

        (async () => {
          try {
            const response = await fetch("/desk/api/me", { credentials:"same-origin" });
            show(response.ok ? await response.json() : null);
          } catch (e) { lastError = { code: "network", message: String(e) }; show(null); }
        })();
        """#
}
