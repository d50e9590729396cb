/// The phone ballot box's script (`/vote/app.js`): reads the code, shows the ballot, a summary, and the receipt. It
/// remembers the marks and the submission's id in the tab (`sessionStorage`), so that a reload keeps the choices and a
/// resend is recognised; and each code's receipt on the phone (`localStorage`), so that reopening the slip shows it.
enum VoteScript {
    static let source = #"""
        "use strict";
        (() => {
        const T = {
          zh: { title:"手机评议", other:"English", loading:"正在加载…", codeLabel:"请输入纸条上的投票码", codeGo:"打开选票",
                howTo:"请为每个部门选择一项评价，全部选完后点击页面底部的“检查并提交”。", review:"检查并提交",
                summaryTitle:"请核对您的评议", summaryNote:"提交后不能修改。一个投票码只能提交一次。", submit:"确认提交",
                back:"返回修改", doneTitle:"您的评议已记录", receiptLabel:"回执码（可在结果公布后到公布页面核对您的选票已被计入）：",
                doneNote:"回执码不透露您的评议内容。请记下或截图保存。", progress:"已评 {n} / {total} 个部门",
                missing:"还有 {n} 个部门未评价，已用红框标出", sending:"正在提交…", again:"这张选票此前已经提交并记录，只计一次。",
                head:"{session} · 票箱 {box}",
                errors:{ code_malformed:"这不是投票码：投票码是 16 位字母和数字，如 ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"本会场没有这个投票码，请核对纸条上的投票码", code_used:"这个投票码已经投过票：一码一票",
                         other_box:"这个投票码不属于本场次或票箱，请用纸条上的二维码重新打开", box_not_open:"投票箱尚未开启，请等待主持人宣布开始投票",
                         box_closed:"投票箱已关闭：本次评议未被计入", marks_missing:"还有部门未评价", unknown_mark:"选票内容无效，请刷新页面后重试",
                         rate_limited:"输错投票码次数过多，请稍后再试", bad_request:"请求无效，请刷新页面后重试",
                         network:"网络连接失败，请稍后再点一次（您的选择已保留，不会重复计票）", internal_error:"投票服务出错，请联系工作人员",
                         form_sent:"这个投票码已提交过这种表单：每种表单只能提交一次", bad_form:"表单内容无效" },
                moreTitle:"其他表单（自愿填写）", moreNote:"问卷不记名，与您的选票分开保存，无法相互对应。每种表单每个投票码可提交一次。",
                survey:"填写社情民意调查问卷", discipline:"填写纪律情况调查表", suggestion:"提出意见建议", sent:"（已提交）",
                surveyHow:"每题选择一项，可以不答。", sgText:"您的意见建议", sgNumbers:"身份证号、电话号码会被自动遮盖；如希望回访，请填在下面的联系方式中。",
                sgDepartments:"涉及部门（可选）", sgTopic:"主题（可选）", sgContact:"联系方式（可不填）", sgConsent:"我同意有关部门就此建议与我联系",
                sgNone:"（不选）", formSend:"提交", formBack:"返回", noAnswer:"请至少回答一题", noText:"请填写意见建议内容",
                noConsent:"填写了联系方式，请勾选同意联系；不希望联系请删去联系方式", formDone:"已提交，谢谢！" },
          en: { title:"Evaluate on your phone", other:"中文", loading:"Loading…", codeLabel:"Type the voting code on your slip", codeGo:"Open the ballot",
                howTo:"Choose one rating for every department, then tap “Review and submit” at the bottom of the page.", review:"Review and submit",
                summaryTitle:"Check your ballot", summaryNote:"It cannot be changed once submitted. A code submits once.", submit:"Submit",
                back:"Back to the ballot", doneTitle:"Your ballot was recorded", receiptLabel:"Receipt (once results are published, check on the published list that your ballot was counted):",
                doneNote:"The receipt does not reveal your ratings. Write it down or take a screenshot.", progress:"{n} of {total} departments rated",
                missing:"{n} department(s) not rated yet: marked in red", sending:"Submitting…", again:"This ballot was submitted and recorded before: it counts once.",
                head:"{session} · box {box}",
                errors:{ code_malformed:"This is not a voting code: a code is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"No such voting code at this venue: check the code on your slip", code_used:"This code has voted already: one code, one ballot",
                         other_box:"This code is for another session or box: open the page again from your slip's QR code", box_not_open:"The ballot box is not open yet: wait for the call to vote",
                         box_closed:"The ballot box was closed: this ballot was not counted", marks_missing:"Some departments are not rated yet", unknown_mark:"The ballot is not valid: reload the page and try again",
                         rate_limited:"Too many wrong codes: try again later", bad_request:"Not a valid request: reload the page and try again",
                         network:"No connection: tap again in a moment (your choices are kept; it will not count twice)", internal_error:"The ballot box failed: ask a clerk",
                         form_sent:"This code has sent this form already: each form once", bad_form:"The form is not valid" },
                moreTitle:"Other forms (if you wish)", moreNote:"Surveys are anonymous and kept apart from your ballot: the two cannot be matched. Each form once per code.",
                survey:"Fill in the opinion survey", discipline:"Fill in the discipline survey", suggestion:"Make a suggestion", sent:" (sent)",
                surveyHow:"Choose one answer per question, or none.", sgText:"Your suggestion", sgNumbers:"ID-card and telephone numbers are masked; to be called back, give a contact below.",
                sgDepartments:"Departments (optional)", sgTopic:"Topic (optional)", sgContact:"Contact (optional)", sgConsent:"I agree to be contacted about this suggestion",
                sgNone:"(none)", formSend:"Send", formBack:"Back", noAnswer:"Answer at least one question", noText:"Write your suggestion",
                noConsent:"You gave a contact: tick the consent, or remove the contact", formDone:"Sent, thank you!" },
        };
        const $ = (id) => document.getElementById(id);
        const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&":"&amp;", "<":"&lt;", ">":"&gt;", '"':"&quot;", "'":"&#39;" })[c]);
        const fill = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => esc(v[k] ?? ""));
        const store = (area) => { try { return window[area]; } catch (e) { return null; } };
        const tab = store("sessionStorage"), phone = store("localStorage");
        const get = (area, key) => { try { return area ? area.getItem(key) : null; } catch (e) { return null; } };
        const put = (area, key, value) => { try { if (area) area.setItem(key, value); } catch (e) { /* private mode */ } };
        let lang = get(phone, "vote-lang") === "en" ? "en" : "zh";
        let code = null, ballot = null, marks = {}, sending = false;
        const t = (key) => T[lang][key];
        const canon = (c) => c.toUpperCase().replace(/[^0-9A-Z]/g, "");

        function translate() {
          document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
          for (const el of document.querySelectorAll("[data-t]")) el.textContent = t(el.dataset.t);
          $("lang").textContent = t("other");
          if (ballot) { renderBallot(); if (!$("summary").hidden) renderSummary(); }
          if (forms) { renderMore(); renderForm(); }
          const shown = $("message").dataset.code;
          if (shown && !$("message").hidden) say(shown, $("message").dataset.kind);
        }
        function only(id) { for (const s of ["loading", "code-form", "ballot", "summary", "done", "more", "form"]) $(s).hidden = s !== id; }
        function say(codeOrKey, kind) {
          const el = $("message");
          if (!codeOrKey) { el.hidden = true; el.dataset.code = ""; return; }
          el.hidden = false; el.dataset.code = codeOrKey; el.dataset.kind = kind || "bad";
          el.textContent = T[lang].errors[codeOrKey] || t(codeOrKey) || codeOrKey;
        }
        async function call(path, body) {
          try {
            const response = await fetch(path, { method:"POST", headers:{ "Content-Type":"application/json" }, body: JSON.stringify(body), cache:"no-store" });
            let data = {};
            try { data = await response.json(); } catch (e) { data = { error:{ code:"internal_error" } }; }
            return { ok: response.ok, body: data };
          } catch (e) {
            return { ok:false, body:{ error:{ code:"network" } } };
          }
        }
        function showDone(receipt, again) {
          only("done");
          $("receipt").textContent = receipt;
          $("done-note").textContent = again ? t("again") : "";
          loadForms();
        }

        // ---- The other forms (issue #17): sent with the same code, sealed apart from the ballot -------------
        let forms = null, formKind = null, formAnswers = {}, formSending = false;
        // A new slip in the same tab starts with empty forms: nothing of the last person's stays.
        function resetForms() {
          forms = null; formKind = null; formAnswers = {};
          for (const id of ["sg-text", "sg-contact"]) $(id).value = "";
          $("sg-consent").checked = false; $("sg-topic").value = "";
          for (const box of document.querySelectorAll("#sg-departments input")) box.checked = false;
          $("form-error").textContent = ""; $("more").hidden = true;
        }
        async function loadForms() {
          const answer = await call("/vote/api/forms", { code });
          forms = answer.ok ? answer.body : null;
          renderMore();
        }
        function kinds() {
          if (!forms) return [];
          return ["survey", "discipline"].filter((k) => forms.surveys[k] && forms.surveys[k].length).concat(forms.suggestion ? ["suggestion"] : []);
        }
        function renderMore() {
          const list = kinds();
          $("more").hidden = !list.length || $("done").hidden;
          $("more-buttons").innerHTML = list.map((k) => {
            const sent = forms.sent.includes(k);
            return `<button type="button" class="plain" data-kind="${k}" data-sent="${sent}"${sent ? " disabled" : ""}>${esc(t(k))}${sent ? esc(t("sent")) : ""}</button>`;
          }).join("");
        }
        $("more-buttons").addEventListener("click", (e) => {
          const button = e.target.closest("button[data-kind]");
          if (!button || button.disabled) return;
          formKind = button.dataset.kind;
          try { formAnswers = JSON.parse(get(tab, "form:" + formKind + ":" + canon(code)) || "{}"); } catch (e) { formAnswers = {}; }
          $("form-error").textContent = "";
          renderForm(); only("form"); window.scrollTo(0, 0);
        });
        function optionLabel(o) { return lang === "en" && o.label_en ? o.label_en : o.label; }
        function renderForm() {
          if (!formKind || !forms) return;
          $("form-title").textContent = t(formKind);
          const questions = formKind === "suggestion" ? [] : forms.surveys[formKind];
          $("form-how").textContent = formKind === "suggestion" ? "" : t("surveyHow");
          $("suggestion-fields").hidden = formKind !== "suggestion";
          $("form-rows").innerHTML = questions.map((q) =>
            `<fieldset class="dept" data-key="${esc(q.key)}"><legend>${esc(lang === "en" && q.text_en ? q.text_en : q.text)}${q.department ? "：" + esc(q.department) : ""}</legend><div class="marks">`
            + q.options.map((o) => `<button type="button" data-option="${esc(o.id)}" aria-pressed="${formAnswers[q.key] === o.id}">${esc(optionLabel(o))}</button>`).join("")
            + `</div></fieldset>`).join("");
          if (formKind === "suggestion") {
            const chosen = new Set([...document.querySelectorAll("#sg-departments input:checked")].map((x) => x.value));
            $("sg-departments").innerHTML = forms.departments.map((d) => `<label><input type="checkbox" value="${esc(d.id)}"> ${esc(d.name)}</label>`).join("");
            for (const box of document.querySelectorAll("#sg-departments input")) box.checked = chosen.has(box.value);
            const topic = $("sg-topic").value;
            $("sg-topic").innerHTML = `<option value="">${esc(t("sgNone"))}</option>` + forms.topics.map((x) => `<option value="${esc(x.id)}">${esc(x.name)}</option>`).join("");
            $("sg-topic").value = topic;
          }
        }
        $("form-rows").addEventListener("click", (e) => {
          const button = e.target.closest("button[data-option]");
          if (!button) return;
          const row = button.closest("fieldset");
          $("form-error").textContent = "";
          // Tapping the chosen answer again takes it back: a question may stay unanswered.
          if (formAnswers[row.dataset.key] === button.dataset.option) delete formAnswers[row.dataset.key];
          else formAnswers[row.dataset.key] = button.dataset.option;
          for (const b of row.querySelectorAll("button")) b.setAttribute("aria-pressed", String(formAnswers[row.dataset.key] === b.dataset.option));
          put(tab, "form:" + formKind + ":" + canon(code), JSON.stringify(formAnswers));
        });
        for (const id of ["sg-text", "sg-contact", "sg-consent"]) $(id).addEventListener("input", () => { $("form-error").textContent = ""; });
        $("form-back").addEventListener("click", () => { only("done"); renderMore(); });
        $("form-send").addEventListener("click", async () => {
          if (formSending || !formKind) return;
          const body = { code, session: forms.session, box: forms.box, kind: formKind };
          if (formKind === "suggestion") {
            body.text = $("sg-text").value.trim();
            if (!body.text) { $("form-error").textContent = t("noText"); return; }
            body.departments = [...document.querySelectorAll("#sg-departments input:checked")].map((x) => x.value);
            if ($("sg-topic").value) body.topic = $("sg-topic").value;
            if ($("sg-contact").value.trim()) {
              if (!$("sg-consent").checked) { $("form-error").textContent = t("noConsent"); return; }
              body.contact = $("sg-contact").value.trim(); body.consent = true;
            }
          } else {
            if (!Object.keys(formAnswers).length) { $("form-error").textContent = t("noAnswer"); return; }
            body.answers = formAnswers;
          }
          // One id per form on this tab: a resend is the same submission, and counts once.
          const key = "form-submission:" + formKind + ":" + canon(code);
          let submission = get(tab, key);
          if (!submission) {
            const bytes = new Uint8Array(16); crypto.getRandomValues(bytes);
            submission = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
            put(tab, key, submission);
          }
          body.submission = submission;
          formSending = true; $("form-send").disabled = true;
          const answer = await call("/vote/api/form", body);
          formSending = false; $("form-send").disabled = false;
          if (!answer.ok) {
            const error = answer.body.error || { code:"internal_error" };
            $("form-error").textContent = (T[lang].errors[error.code] || error.code) + (error.code === "bad_form" && error.message ? "：" + error.message : "");
            $("form-error").dataset.code = error.code;
            return;
          }
          forms.sent.push(formKind);
          if (formKind === "suggestion") {
            for (const id of ["sg-text", "sg-contact"]) $(id).value = "";
            $("sg-consent").checked = false;
          }
          $("done-note").textContent = t("formDone");
          only("done"); renderMore(); window.scrollTo(0, 0);
        });
        async function open(typed) {
          only("loading");
          const answer = await call("/vote/api/open", { code: typed });
          if (!answer.ok) {
            const error = answer.body.error ? answer.body.error.code : "internal_error";
            const kept = get(phone, "receipt:" + canon(typed));
            if (error === "code_used" && kept) { code = typed; say(null); showDone(kept, true); return; }
            say(error); only("code-form"); $("code").value = typed; return;
          }
          code = typed; ballot = answer.body; say(null);
          put(tab, "code", code);
          try { marks = JSON.parse(get(tab, "marks:" + canon(code)) || "{}"); } catch (e) { marks = {}; }
          renderBallot(); only("ballot");
        }
        function label(mark) { return lang === "zh" ? mark.zh : mark.en; }
        function renderProgress() {
          const n = ballot.departments.filter((d) => marks[d.id]).length;
          $("progress").textContent = fill(t("progress"), { n, total: ballot.departments.length });
        }
        function renderBallot() {
          $("ballot-head").innerHTML = `<strong>${esc(ballot.venue)}</strong><br>` + fill(t("head"), { session: ballot.session_name, box: ballot.box });
          $("rows").innerHTML = ballot.departments.map((d) =>
            `<fieldset class="dept" data-dept="${esc(d.id)}"><legend>${esc(d.name)}</legend><div class="marks">`
            + ballot.marks.map((m) => `<button type="button" data-mark="${esc(m.id)}" aria-pressed="${marks[d.id] === m.id}">${esc(label(m))}</button>`).join("")
            + `</div></fieldset>`).join("");
          renderProgress();
        }
        $("rows").addEventListener("click", (e) => {
          const button = e.target.closest("button[data-mark]");
          if (!button) return;
          const row = button.closest("fieldset");
          marks[row.dataset.dept] = button.dataset.mark;
          row.dataset.missing = "false";
          for (const b of row.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
          put(tab, "marks:" + canon(code), JSON.stringify(marks));
          renderProgress();
        });
        function renderSummary() {
          const byId = Object.fromEntries(ballot.marks.map((m) => [m.id, m]));
          $("summary-table").innerHTML = ballot.departments.map((d) =>
            `<tr data-dept="${esc(d.id)}"><td>${esc(d.name)}</td><th>${esc(label(byId[marks[d.id]]))}</th></tr>`).join("");
        }
        $("review").addEventListener("click", () => {
          const missing = ballot.departments.filter((d) => !marks[d.id]);
          for (const row of document.querySelectorAll("fieldset.dept")) row.dataset.missing = String(!marks[row.dataset.dept]);
          if (missing.length) {
            $("review-note").textContent = fill(t("missing"), { n: missing.length });
            document.querySelector(`fieldset[data-dept="${CSS.escape(missing[0].id)}"]`).scrollIntoView({ block:"center" });
            return;
          }
          $("review-note").textContent = ""; say(null); renderSummary(); only("summary"); window.scrollTo(0, 0);
        });
        $("back").addEventListener("click", () => { only("ballot"); });
        $("submit").addEventListener("click", async () => {
          if (sending) return;
          sending = true; $("submit").disabled = true; $("back").disabled = true;
          $("submit").textContent = t("sending");
          // One id per ballot on this tab: a resend (double tap, lost answer, reload) is the same submission.
          let submission = get(tab, "submission:" + canon(code));
          if (!submission) {
            const bytes = new Uint8Array(16); crypto.getRandomValues(bytes);
            submission = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
            put(tab, "submission:" + canon(code), submission);
          }
          const answer = await call("/vote/api/cast", { code, session: ballot.session, box: ballot.box, marks, submission });
          sending = false; $("submit").disabled = false; $("back").disabled = false; $("submit").textContent = t("submit");
          const error = answer.body.error ? answer.body.error.code : null;
          const receipt = answer.ok ? answer.body.receipt : (error === "code_used" ? answer.body.receipt : null);
          if (receipt) {
            put(phone, "receipt:" + canon(code), receipt);
            say(null); showDone(receipt, !answer.ok); return;
          }
          say(error || "internal_error");
          // The box closed under this phone: nothing more to do here, and the message says so.
          if (error === "box_closed") only("");
          else if (error === "code_used" || error === "other_box") only("code-form");
        });
        $("code-form").addEventListener("submit", (e) => {
          e.preventDefault();
          const typed = $("code").value.trim();
          if (typed) open(typed);
        });
        $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; put(phone, "vote-lang", lang); translate(); });

        // The code from the slip's QR code (#c=…), taken out of the address bar; else the one this tab had; else typed.
        function codeFromAddress() {
          const found = /[#&]c=([^&]+)/.exec(location.hash);
          if (!found) return false;
          put(tab, "code", decodeURIComponent(found[1]));
          history.replaceState(null, "", location.pathname);
          return true;
        }
        codeFromAddress();
        translate();
        const start = get(tab, "code");
        if (start) open(start); else { only("code-form"); $("code").focus(); }
        // Another slip scanned into the same tab changes only the fragment: start again with its code.
        window.addEventListener("hashchange", () => {
          if (!codeFromAddress() || sending) return;
          ballot = null; marks = {}; say(null); $("code").value = ""; resetForms(); open(get(tab, "code"));
        });
        })();
        """#
}
