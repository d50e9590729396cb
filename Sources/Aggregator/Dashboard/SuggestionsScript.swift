/// The suggestions page's script, served at `/suggestions/app.js` (the page allows no other script). Plain
/// JavaScript: no framework, no build step. The token typed in is kept for the browser tab only (sessionStorage) and
/// sent as `Authorization: Bearer …`, never in a URL. An officer (admin token) filters, triages, reviews, records
/// feedback and marks outstanding suggestions; a department (its token) sees its items and answers those it leads.
/// A refused step shows the aggregator's reason and changes nothing.
enum SuggestionsScript {
    static let source = #"""
        "use strict";
        const T = {
          zh: { title:"意见建议办理", other:"English", actor:"经办人", signOut:"退出", tokenLabel:"请输入管理员或部门的令牌",
                signIn:"进入", venue:"会场", department:"部门", status:"状态", overdueOnly:"只看逾期", reportHTML:"办理情况报告",
                reportCSV:"导出 CSV", listTitle:"意见建议", item:"意见建议", triageTitle:"审核分办", decision:"处理方式",
                lead:"主办部门", due:"办理期限", duplicateOf:"与哪一件重复", reason:"不予受理的理由", co:"协办部门",
                forwardTo:"转阅部门", save:"保存", reviewTitle:"审核答复", note:"退回说明（退回时必填）", accept:"采纳，办结",
                sendBack:"退回重办", feedbackTitle:"群众反馈", saveFeedback:"记录反馈", answerTitle:"答复", sendAnswer:"提交答复",
                history:"办理记录", all:"全部", id:"编号", topic:"主题", departments:"涉及部门", text:"内容", handling:"承办 / 期限",
                session:"场次", box:"票箱", contact:"联系方式（本人同意回访）", answer:"答复", answeredBy:"答复人", feedback:"群众反馈",
                outstandingMark:"优秀建议", markOutstanding:"标为优秀建议", unmarkOutstanding:"取消优秀建议", yes:"是",
                voided:"会场已更正作废（记录 {seq}），只可查看", overdue:"已逾期", summary:"共 {n} 件 · 待分办 {new} · 办理中 {open} · 逾期 {late}",
                deptSummary:"共 {n} 件 · 待本部门答复 {mine}", office:"中心办公室", deptOf:"部门：{d}", saved:"已保存",
                needActor:"请先在页面顶部填写经办人姓名", needToken:"请输入令牌", observer:"观察员令牌不能办理意见建议：请使用管理员或部门令牌",
                badToken:"令牌无效或已撤销", network:"无法连接汇总服务器，请检查网络后重试", none:"没有符合条件的意见建议",
                refused:"未保存：", forbidden:"无权查看或办理此件：", notFound:"没有这一件：", invalid:"输入不完整：",
                coHandling:"本部门协办：答复由主办部门 {d} 提交",
                decisions:{ assign:"转办（指定主办、协办部门和期限）", forward:"转阅（送有关部门阅知）", duplicate:"重复件", inadmissible:"不予受理" },
                statuses:{ new:"待分办", forwarded:"转阅", assigned:"办理中", answered:"已答复待审核", closed:"已办结",
                           duplicate:"重复件", inadmissible:"不予受理" },
                actions:{ triage:"分办", answer:"答复", accept:"采纳办结", "return":"退回重办", feedback:"群众反馈", outstanding:"优秀建议标记" },
                keys:{ decision:"处理方式", lead:"主办", co:"协办", due:"期限", departments:"转阅部门", of:"重复于", reason:"理由",
                       answer:"答复", department:"部门", note:"说明", feedback:"反馈", outstanding:"优秀建议" },
                values:{ assign:"转办", forward:"转阅", duplicate:"重复件", inadmissible:"不予受理", yes:"是", no:"否" } },
          en: { title:"Suggestions", other:"中文", actor:"Officer", signOut:"Sign out", tokenLabel:"Enter an administrator's or a department's token",
                signIn:"Open", venue:"Venue", department:"Department", status:"Status", overdueOnly:"Overdue only", reportHTML:"Handling report",
                reportCSV:"Export CSV", listTitle:"Suggestions", item:"Suggestion", triageTitle:"Triage", decision:"Decision",
                lead:"Lead department", due:"Due", duplicateOf:"Duplicate of", reason:"Why not admissible", co:"Co-handling",
                forwardTo:"Pass on to", save:"Save", reviewTitle:"Review the answer", note:"Note (required to send back)", accept:"Accept and close",
                sendBack:"Send back", feedbackTitle:"Citizen's feedback", saveFeedback:"Record feedback", answerTitle:"Answer", sendAnswer:"Send answer",
                history:"Handling", all:"All", id:"Id", topic:"Topic", departments:"Departments", text:"Text", handling:"Lead / due",
                session:"Session", box:"Box", contact:"Contact (consented to a call back)", answer:"Answer", answeredBy:"Answered by", feedback:"Feedback",
                outstandingMark:"Outstanding", markOutstanding:"Mark outstanding", unmarkOutstanding:"Remove outstanding mark", yes:"yes",
                voided:"Voided by the venue's correction (record {seq}): read only", overdue:"overdue", summary:"{n} in all · {new} to triage · {open} in hand · {late} overdue",
                deptSummary:"{n} in all · {mine} waiting for this department's answer", office:"Central office", deptOf:"Department: {d}", saved:"Saved",
                needActor:"Type your name as officer at the top of the page first", needToken:"Enter a token", observer:"An observer's token cannot handle suggestions: use an administrator's or a department's",
                badToken:"This token is unknown or revoked", network:"Cannot reach the aggregator: check the network and try again", none:"No suggestion matches",
                refused:"Not saved: ", forbidden:"Not yours to see or handle: ", notFound:"No such suggestion: ", invalid:"Incomplete: ",
                coHandling:"This department co-handles it: the lead department, {d}, answers",
                decisions:{ assign:"Assign (lead, co-handlers, due date)", forward:"Pass on for reading", duplicate:"Duplicate", inadmissible:"Not admissible" },
                statuses:{ new:"to triage", forwarded:"passed on", assigned:"in hand", answered:"answered, to review", closed:"closed",
                           duplicate:"duplicate", inadmissible:"not admissible" },
                actions:{ triage:"triage", answer:"answer", accept:"accepted", "return":"sent back", feedback:"feedback", outstanding:"outstanding mark" },
                keys:{ decision:"decision", lead:"lead", co:"co-handling", due:"due", departments:"passed on to", of:"duplicate of", reason:"reason",
                       answer:"answer", department:"department", note:"note", feedback:"feedback", outstanding:"outstanding" },
                values:{ assign:"assign", forward:"pass on", duplicate:"duplicate", inadmissible:"not admissible", yes:"yes", no:"no" } } };

        let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
        let token = sessionStorage.getItem("suggestions.token") || "";
        let who = null, items = [], selected = null, current = null;
        const $ = (id) => document.getElementById(id);
        const t = (key) => T[lang][key];
        const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] === undefined ? "" : String(values[k]));
        const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&":"&amp;", "<":"&lt;", ">":"&gt;", '"':"&quot;", "'":"&#39;" }[c]));
        const isOffice = () => who && who.role === "admin";
        const deptName = (id) => { const d = who && who.event.departments.find((x) => x.id === id); return d ? d.name : id; };
        const venueName = (id) => { const v = who && who.event.venues.find((x) => x.id === id); return v ? v.name : id; };
        const topicName = (id) => { const x = who && who.event.topics.find((y) => y.id === id); return x ? x.label : (id || ""); };
        // An item is named `venue/seq`, as in commands and URLs.
        const named = (item) => Object.assign(item, { id: item.venue + "/" + item.seq });
        const overdue = (item) => !!item.due && (item.status === "assigned" || item.status === "answered") && item.due < who.today;

        async function api(method, path, body) {
          const headers = { "Authorization": "Bearer " + token };
          if (body !== undefined) headers["Content-Type"] = "application/json";
          let response;
          try { response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }); }
          catch (e) { return { ok:false, status:0, error:{ code:"network", message:String(e) } }; }
          let json = null;
          try { json = await response.json(); } catch (e) { json = null; }
          if (response.ok) return { ok:true, status:response.status, body:json };
          return { ok:false, status:response.status, error:(json && json.error) || { code:"http_" + response.status, message:"HTTP " + response.status } };
        }
        function errorText(error) {
          if (error.code === "network") return t("network");
          const prefix = { suggestion_refused:"refused", forbidden:"forbidden", not_found:"notFound", invalid_body:"invalid", bad_request:"invalid" }[error.code];
          return (prefix ? t(prefix) : error.code + ": ") + error.message;
        }

        function labels() {
          document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
          document.querySelectorAll("[data-t]").forEach((e) => { e.textContent = t(e.dataset.t); });
          $("lang").textContent = t("other");
          document.title = t("title") + (who ? " · " + (lang === "en" && who.event.title_en ? who.event.title_en : who.event.title) : "");
        }

        // Nothing of the last person's items stays on the page: the detail, its contact, the drafts.
        function clearDetail() {
          current = null; selects += 1;
          for (const id of ["d-id", "d-status", "d-text", "d-facts", "d-events", "result"]) $(id).textContent = "";
          for (const id of ["a-text", "fb-text", "r-note", "t-reason", "t-due"]) $(id).value = "";
          for (const id of ["triage", "review", "feedback", "answer", "outstanding"]) $(id).hidden = true;
          $("detail").hidden = true;
        }
        function showSignIn(message) {
          who = null; items = []; selected = null;
          clearDetail();
          delete $("detail").dataset.id; delete $("detail").dataset.status;
          $("signin").hidden = false; $("office").hidden = true; $("detail").hidden = true; $("signout").hidden = true;
          $("actor-label").hidden = true; $("who").textContent = "";
          $("list").tBodies[0].innerHTML = ""; $("list").tHead.innerHTML = ""; $("summary").textContent = "";
          $("signin-error").textContent = message || "";
          labels();
          $("token").focus();
        }

        async function signIn() {
          const answer = await api("GET", "/v1/whoami");
          if (!answer.ok) {
            sessionStorage.removeItem("suggestions.token"); token = "";
            showSignIn(answer.status === 401 ? t("badToken") : errorText(answer.error));
            return;
          }
          if (answer.body.role === "observer") { sessionStorage.removeItem("suggestions.token"); token = ""; showSignIn(t("observer")); return; }
          who = answer.body; whoAt = Date.now();
          sessionStorage.setItem("suggestions.token", token);
          $("signin").hidden = true; $("signout").hidden = false;
          $("office").hidden = !isOffice(); $("actor-label").hidden = false;
          $("actor").value = localStorage.getItem("suggestions.actor") || "";
          fillFilters();
          labels();
          await load();
        }

        function options(select, pairs, value) {
          select.innerHTML = pairs.map(([v, n]) => `<option value="${esc(v)}"${v === value ? " selected" : ""}>${esc(n)}</option>`).join("");
        }
        function fillFilters() {
          if (!who) return;
          const keep = (id) => $(id).value;
          options($("f-venue"), [["", t("all")]].concat(who.event.venues.map((v) => [v.id, v.name])), keep("f-venue"));
          options($("f-department"), [["", t("all")]].concat(who.event.departments.map((d) => [d.id, d.id + " " + d.name])), keep("f-department"));
          options($("f-topic"), [["", t("all")]].concat(who.event.topics.map((x) => [x.id, x.label])), keep("f-topic"));
          options($("f-status"), [["", t("all")]].concat(Object.entries(T[lang].statuses)), keep("f-status"));
        }

        // Filters changed quickly (arrow keys on a list) send several loads: only the last one's answer is shown.
        let loads = 0, whoAt = 0;
        async function load() {
          const mine = ++loads;
          // The aggregator's date (what is overdue), asked again every ten minutes: a page left open overnight moves on.
          if (Date.now() - whoAt > 600000) {
            const again = await api("GET", "/v1/whoami");
            if (again.ok && who) { who.today = again.body.today; whoAt = Date.now(); }
          }
          let path = "/v1/department/suggestions";
          if (isOffice()) {
            const q = new URLSearchParams();
            for (const [key, id] of [["venue", "f-venue"], ["department", "f-department"], ["topic", "f-topic"], ["status", "f-status"]]) if ($(id).value) q.set(key, $(id).value);
            if ($("f-overdue").checked) q.set("overdue", "1");
            path = "/v1/suggestions" + (q.toString() ? "?" + q : "");
          }
          const answer = await api("GET", path);
          if (mine !== loads) return;
          if (!answer.ok) { if (answer.status === 401) { showSignIn(t("badToken")); return; } $("summary").textContent = errorText(answer.error); return; }
          items = answer.body.map(named);
          renderList();
        }

        function renderList() {
          const L = T[lang];
          $("who").textContent = isOffice() ? t("office") : fill(t("deptOf"), { d: who.department + " " + deptName(who.department) });
          $("summary").textContent = isOffice()
            ? fill(t("summary"), { n: items.length, new: items.filter((i) => i.status === "new").length,
                open: items.filter((i) => i.status === "assigned" || i.status === "answered").length, late: items.filter(overdue).length })
            : fill(t("deptSummary"), { n: items.length, mine: items.filter((i) => i.lead === who.department && i.status === "assigned").length });
          $("list").tHead.innerHTML = `<tr><th>${L.id}</th><th>${L.venue}</th><th class="hide-narrow">${L.topic}</th><th>${L.status}</th><th class="hide-narrow">${L.handling}</th><th>${L.text}</th></tr>`;
          $("list").tBodies[0].innerHTML = items.length === 0 ? `<tr><td colspan="6" class="muted">${L.none}</td></tr>` : items.map((i) => {
            const handling = i.lead ? esc(deptName(i.lead)) + (i.due ? " · " + esc(i.due) : "") : esc(i.forwardedTo.map(deptName).join("、"));
            return `<tr tabindex="0" data-id="${esc(i.id)}" data-status="${esc(i.status)}" class="${overdue(i) ? "overdue" : ""}" aria-selected="${i.id === selected}">`
              + `<td>${esc(i.id)}${i.outstanding ? " ★" : ""}</td><td>${esc(venueName(i.venue))}</td><td class="hide-narrow">${esc(topicName(i.topic))}</td>`
              + `<td><span class="status" data-status="${esc(i.status)}">${esc(L.statuses[i.status])}</span>${overdue(i) ? " " + L.overdue : ""}</td>`
              + `<td class="hide-narrow">${handling}</td><td>${esc(i.text.length > 40 ? i.text.slice(0, 40) + "…" : i.text)}</td></tr>`;
          }).join("");
        }

        // Only the last item asked for is shown (a late answer, or one from before a sign-out, is dropped).
        let selects = 0;
        async function select(id) {
          selected = id;
          const mine = ++selects;
          delete $("detail").dataset.id; delete $("detail").dataset.status;
          const base = isOffice() ? "/v1/suggestions/" : "/v1/department/suggestions/";
          const answer = await api("GET", base + id);
          if (mine !== selects) return;
          if (!answer.ok) {
            clearDetail(); selects = mine; $("detail").hidden = false;
            $("result").className = "error"; $("result").textContent = errorText(answer.error); return;
          }
          $("result").textContent = ""; $("result").className = "";
          if (current && current.id !== id) for (const field of ["a-text", "fb-text", "r-note", "t-reason"]) $(field).value = "";
          current = named(answer.body);
          renderList();
          renderDetail();
          $("detail").hidden = false;
        }

        function checks(container, name, chosen) {
          container.innerHTML = who.event.departments.map((d) =>
            `<label><input type="checkbox" name="${name}" value="${esc(d.id)}"${chosen.includes(d.id) ? " checked" : ""}> ${esc(d.id)} ${esc(d.name)}</label>`).join("");
        }
        function checked(name) { return [...document.querySelectorAll(`input[name=${name}]:checked`)].map((e) => e.value); }

        function renderDetail() {
          const L = T[lang], i = current;
          if (!i) { $("detail").hidden = true; return; }
          $("detail").dataset.id = i.id; $("detail").dataset.status = i.status;
          $("d-id").textContent = i.id;
          $("d-status").textContent = L.statuses[i.status] + (overdue(i) ? " · " + L.overdue : "");
          $("d-status").dataset.status = i.status;
          $("d-text").textContent = i.text;
          const facts = [[L.venue, venueName(i.venue)], [L.session, i.session], [L.box, i.box], [L.topic, topicName(i.topic)],
            [L.departments, i.departments.map((d) => d + " " + deptName(d)).join("、")]];
          if (i.contact) facts.push([L.contact, i.contact]);
          if (i.lead) facts.push([L.lead, i.lead + " " + deptName(i.lead)]);
          if (i.coHandlers.length) facts.push([L.co, i.coHandlers.map(deptName).join("、")]);
          if (i.forwardedTo.length) facts.push([L.forwardTo, i.forwardedTo.map(deptName).join("、")]);
          if (i.due) facts.push([L.due, i.due]);
          if (i.duplicateOf) facts.push([L.duplicateOf, i.duplicateOf]);
          if (i.answer) facts.push([L.answer, i.answer], [L.answeredBy, i.answeredBy || ""]);
          if (i.feedback) facts.push([L.feedback, i.feedback]);
          if (i.outstanding) facts.push([L.outstandingMark, L.yes]);
          if (i.voidedBy) facts.push(["!", fill(L.voided, { seq: i.voidedBy })]);
          $("d-facts").innerHTML = facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
          $("d-events").innerHTML = i.events.map((e) => {
            const detail = Object.entries(e.detail).filter(([, v]) => v !== "")
              .map(([k, v]) => `${L.keys[k] || k}：${k === "decision" || k === "outstanding" ? (L.values[v] || v) : v}`).join(" · ");
            return `<li data-action="${esc(e.action)}">${esc(e.at)} · ${esc(L.actions[e.action] || e.action)} · ${esc(e.actor)}${detail ? " · " + esc(detail) : ""}</li>`;
          }).join("");
          const open = !i.voidedBy;
          const office = isOffice();
          $("triage").hidden = !(office && open && (i.status === "new" || i.status === "assigned"));
          $("review").hidden = !(office && open && i.status === "answered");
          $("feedback").hidden = !(office && i.status === "closed");
          $("answer").hidden = !(!office && open && i.lead === who.department && i.status === "assigned");
          const outstanding = $("outstanding");
          outstanding.hidden = !(office && open && i.status !== "duplicate" && i.status !== "inadmissible");
          outstanding.textContent = i.outstanding ? L.unmarkOutstanding : L.markOutstanding;
          if (!office && i.lead !== who.department && i.status === "assigned") {
            $("result").className = "muted"; $("result").textContent = fill(L.coHandling, { d: deptName(i.lead) });
          }
          if (!$("triage").hidden) {
            const decision = $("t-decision").value || "assign";
            options($("t-decision"), Object.entries(L.decisions), decision);
            options($("t-lead"), who.event.departments.map((d) => [d.id, d.id + " " + d.name]), i.lead || i.departments[0] || "");
            $("t-due").value = i.due || "";
            checks($("t-co"), "co", i.coHandlers.length ? i.coHandlers : i.departments.filter((d) => d !== (i.lead || i.departments[0])));
            checks($("t-forward"), "forward", i.departments);
            options($("t-of"), items.filter((x) => x.id !== i.id && x.status !== "duplicate" && x.status !== "inadmissible").map((x) => [x.id, x.id + " " + x.text.slice(0, 20)]), "");
            showDecision();
          }
        }
        function showDecision() {
          const decision = $("t-decision").value;
          document.querySelectorAll("#triage [data-for]").forEach((e) => { e.hidden = e.dataset.for !== decision; });
        }

        async function act(path, body) {
          if (!current) return false;
          const out = $("result");
          const actor = $("actor").value.trim();
          if (!actor) { out.className = "error"; out.dataset.code = "actor"; out.textContent = t("needActor"); $("actor").focus(); return false; }
          localStorage.setItem("suggestions.actor", actor);
          const answer = await api("POST", path, Object.assign({}, body, { by: actor }));
          out.className = answer.ok ? "ok" : "error";
          out.dataset.code = answer.ok ? "ok" : answer.error.code;
          out.textContent = answer.ok ? t("saved") : errorText(answer.error);
          if (answer.ok) { current = named(answer.body); await load(); renderDetail(); }
          return answer.ok;
        }
        const base = () => (isOffice() ? "/v1/suggestions/" : "/v1/department/suggestions/") + current.id;

        $("triage").addEventListener("submit", (e) => {
          e.preventDefault();
          const decision = $("t-decision").value;
          const body = { decision };
          if (decision === "assign") Object.assign(body, { lead: $("t-lead").value, co: checked("co"), due: $("t-due").value });
          if (decision === "forward") body.departments = checked("forward");
          if (decision === "duplicate") body.of = $("t-of").value;
          if (decision === "inadmissible") body.reason = $("t-reason").value;
          act(base() + "/triage", body);
        });
        $("t-decision").addEventListener("change", showDecision);
        $("r-accept").addEventListener("click", () => act(base() + "/review", { accept:true }));
        $("r-return").addEventListener("click", () => act(base() + "/review", { accept:false, note: $("r-note").value.trim() || undefined }));
        $("feedback").addEventListener("submit", (e) => { e.preventDefault(); act(base() + "/feedback", { text: $("fb-text").value }); });
        $("answer").addEventListener("submit", async (e) => { e.preventDefault(); if (await act(base() + "/answer", { text: $("a-text").value })) $("a-text").value = ""; });
        $("outstanding").addEventListener("click", () => act(base() + "/outstanding", { outstanding: !current.outstanding }));

        $("list").addEventListener("click", (e) => { const row = e.target.closest("tr[data-id]"); if (row) select(row.dataset.id); });
        $("list").addEventListener("keydown", (e) => {
          const row = e.target.closest("tr[data-id]");
          if (!row) return;
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(row.dataset.id); }
          if (e.key === "ArrowDown" && row.nextElementSibling) { e.preventDefault(); row.nextElementSibling.focus(); }
          if (e.key === "ArrowUp" && row.previousElementSibling) { e.preventDefault(); row.previousElementSibling.focus(); }
        });
        for (const id of ["f-venue", "f-department", "f-topic", "f-status", "f-overdue"]) $(id).addEventListener("change", load);

        async function report(format) {
          const response = await fetch(`/v1/suggestions/report?format=${format}&lang=${lang}`, { headers: { "Authorization": "Bearer " + token } });
          if (!response.ok) { $("summary").textContent = errorText({ code:"http_" + response.status, message:"HTTP " + response.status }); return; }
          const url = URL.createObjectURL(await response.blob());
          const link = document.createElement("a");
          link.href = url;
          if (format === "csv") link.download = "suggestions-report.csv"; else link.target = "_blank";
          document.body.appendChild(link); link.click(); link.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60000);
        }
        $("report-html").addEventListener("click", () => report("html"));
        $("report-csv").addEventListener("click", () => report("csv"));

        $("signin").addEventListener("submit", (e) => {
          e.preventDefault();
          token = $("token").value.trim();
          $("token").value = "";
          if (!token) { $("signin-error").textContent = t("needToken"); return; }
          signIn();
        });
        $("signout").addEventListener("click", () => { sessionStorage.removeItem("suggestions.token"); token = ""; showSignIn(""); });
        $("lang").addEventListener("click", () => {
          lang = lang === "zh" ? "en" : "zh";
          labels();
          if (who) { fillFilters(); renderList(); if (current) renderDetail(); }
        });

        labels();
        if (token) signIn(); else showSignIn("");
        """#
}
