/// The dashboard page: plain HTML, CSS and a small script, served by the aggregator (no build step).
/// It opens `/v1/events` (Server-Sent Events) and redraws from each state it receives; the browser's
/// EventSource reconnects by itself and sends `Last-Event-ID`. Chinese by default; `?lang=en` or the
/// button switches to English.
enum DashboardPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>三民活动计票</title>
        <style>
        :root { --fg:#10202a; --muted:#5b6b75; --bg:#f4f6f8; --card:#fff; --ok:#1a7f37; --bad:#c62828; --bar:#1565c0; --warn:#b26a00; }
        * { box-sizing: border-box; }
        body { margin:0; font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;
               background:var(--bg); color:var(--fg); font-size:clamp(15px, 1.25vw, 24px); }
        header { display:flex; flex-wrap:wrap; align-items:center; gap:.6em 1.2em; padding:.6em 1em; background:#0d3b66; color:#fff; }
        header h1 { font-size:1.35em; margin:0; flex:1 1 20em; }
        header .meta { font-size:.75em; opacity:.85; }
        button { font:inherit; font-size:.8em; padding:.25em .8em; border-radius:.4em; border:1px solid #fff; background:transparent; color:#fff; cursor:pointer; }
        #status { font-size:.75em; padding:.15em .6em; border-radius:1em; background:var(--bad); }
        #status.live { background:var(--ok); }
        main { padding:1em; display:grid; gap:1em; }
        section h2 { font-size:1.1em; margin:.2em 0 .5em; }
        .cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(16em, 1fr)); gap:.8em; }
        .card { background:var(--card); border-radius:.6em; padding:.7em .9em; box-shadow:0 1px 3px rgba(0,0,0,.12); }
        .big { font-size:2em; font-weight:700; }
        .muted { color:var(--muted); font-size:.8em; }
        .bar { height:.7em; background:#dde3e8; border-radius:.35em; overflow:hidden; margin:.2em 0 .4em; }
        .bar > span { display:block; height:100%; background:var(--bar); }
        .badge { font-size:.7em; padding:.1em .5em; border-radius:1em; color:#fff; }
        .online { background:var(--ok); } .offline { background:var(--bad); }
        .findings { color:var(--warn); font-weight:600; }
        .breach { color:var(--warn); font-weight:600; font-size:.75em; }
        .cat { display:grid; grid-template-columns:1fr 4.5em; gap:0 .5em; font-size:.72em; align-items:center; }
        table { width:100%; border-collapse:collapse; background:var(--card); font-size:.9em; }
        th, td { padding:.3em .5em; border-bottom:1px solid #e3e7ea; text-align:right; white-space:nowrap; }
        th:nth-child(2), td:nth-child(2) { text-align:left; white-space:normal; }
        .scroll { overflow-x:auto; max-width:100%; }
        .joint { font-size:.72em; color:var(--muted); }
        .notice { background:#fff8e1; border:1px solid #ffe082; padding:.8em; border-radius:.5em; }
        select { font:inherit; font-size:.8em; }
        @media (max-width: 40em) { .big { font-size:1.5em; } main { padding:.5em; } .cards { grid-template-columns:1fr; }
          header h1 { flex-basis:100%; } }
        </style>
        </head>
        <body>
        <header>
          <h1 id="title">三民活动计票</h1>
          <span class="meta" id="generated"></span>
          <span id="status">连接中断，正在重连</span>
          <label class="meta"><span data-t="session">场次</span> <select id="session"></select></label>
          <button id="lang" type="button">English</button>
        </header>
        <main>
          <section><h2 data-t="totals">全场合计</h2><div class="cards" id="totals"></div></section>
          <section><h2 data-t="venues">各会场</h2><div class="cards" id="venues"></div></section>
          <section><h2 data-t="results">各部门评议情况</h2><div id="results"></div></section>
          <p class="muted"><span data-t="updates">更新次数</span>: <span id="updates">0</span> ·
             <span data-t="digest">输入摘要</span>: <code id="digest"></code></p>
        </main>
        <script>
        "use strict";
        const T = {
          zh: { totals:"全场合计", venues:"各会场", results:"各部门评议情况", updates:"更新次数", digest:"输入摘要",
                session:"场次", all:"全部场次", checkedIn:"签到", quota:"名额", rate:"到位率", valid:"有效票", blank:"空白票",
                spoiled:"废票", online:"在线", offline:"离线", lastContact:"最近联系", pending:"待传记录", findings:"待核问题", breaches:"纪律调查反映问题：{s}，{n} 份",
                issued:"发放", returned:"回收", entered:"录入", walkIns:"名单外", reserves:"其中备选", joint:"联合名额", rank:"名次", department:"部门",
                satisfaction:"满意率", score:"得分", hidden:"评议结果保密，待管理员发布后显示。", never:"从未联系",
                live:"实时", disconnected:"连接中断，正在重连", generated:"更新于", other:"English" },
          en: { totals:"Event totals", venues:"Venues", results:"Results by department", updates:"Updates", digest:"Input digest",
                session:"Session", all:"All sessions", checkedIn:"Checked in", quota:"Quota", rate:"Rate", valid:"Valid",
                blank:"Blank", spoiled:"Spoiled", online:"online", offline:"offline", lastContact:"Last contact",
                pending:"Pending records", findings:"Open findings", breaches:"Discipline survey reports a breach: {s}, {n} form(s)", issued:"Issued", returned:"Returned", entered:"Entered",
                walkIns:"Walk-ins", reserves:"of them reserves", joint:"Joint quota", rank:"Rank", department:"Department", satisfaction:"Satisfaction", score:"Score",
                hidden:"Results are confidential until an administrator releases them.", never:"never",
                live:"live", disconnected:"disconnected, reconnecting", generated:"Updated", other:"中文" }
        };
        const params = new URLSearchParams(location.search);
        let lang = params.get("lang") || localStorage.getItem("sanmin.lang") || "zh";
        if (!T[lang]) lang = "zh";
        let state = null, updates = 0, chosenSession = "", connected = false;
        const $ = id => document.getElementById(id);
        const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;"}[c]));
        const pct = (a, b) => b > 0 ? Math.min(100, a * 100 / b) : 0;
        const label = l => lang === "zh" ? l.zh : l.en;
        // Times in the page's language: 18:54:57 on the Chinese page, 6:54:57 PM on the English one.
        const time = iso => new Date(iso).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-US");
        function bar(a, b) { return `<div class="bar"><span style="width:${pct(a, b).toFixed(1)}%"></span></div>`; }

        function render() {
          const t = T[lang];
          document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
          document.querySelectorAll("[data-t]").forEach(e => { e.textContent = t[e.dataset.t]; });
          $("lang").textContent = t.other;
          $("status").textContent = connected ? t.live : t.disconnected;
          $("status").className = connected ? "live" : "";
          if (!state) return;
          $("title").textContent = lang === "zh" ? state.title : (state.title_en || state.title);
          document.title = $("title").textContent;
          $("generated").textContent = `${t.generated} ${time(state.generated_at)}`;
          $("digest").textContent = state.input_digest.slice(0, 16) + "…";
          const select = $("session");
          const sessionName = s => s.id === label(s) ? s.id : `${s.id} ${label(s)}`;
          const options = [["", t.all]].concat(state.sessions.map(s => [s.id, sessionName(s)]));
          select.innerHTML = options.map(([v, n]) => `<option value="${esc(v)}"${v === chosenSession ? " selected" : ""}>${esc(n)}</option>`).join("");

          $("totals").innerHTML = state.totals.map(x => {
            const name = x.session ? sessionName(state.sessions.find(s => s.id === x.session) || {id:x.session,zh:x.session,en:x.session}) : t.all;
            const attrs = x.session ? `data-session="${esc(x.session)}"` : `id="overall" data-total-checked-in="${x.checked_in}" data-total-valid="${x.valid}"`;
            return `<div class="card" ${attrs}><div class="muted">${esc(name)}</div>
              <div class="big">${x.checked_in}<span class="muted"> / ${x.quota}</span></div>${bar(x.checked_in, x.quota)}
              <div class="muted">${t.valid} ${x.valid} · ${t.blank} ${x.blank} · ${t.spoiled} ${x.spoiled}</div></div>`;
          }).join("");

          $("venues").innerHTML = state.venues.map(v => {
            const sessions = v.sessions.filter(s => !chosenSession || s.session === chosenSession);
            const sum = k => sessions.reduce((a, s) => a + s[k], 0);
            const cats = chosenSession ? (sessions[0] ? sessions[0].categories : []) : [];
            const catName = id => label(state.categories.find(c => c.id === id) || {zh:id,en:id});
            return `<div class="card" data-venue="${esc(v.id)}" data-checked-in="${sum("checked_in")}">
              <div><strong>${esc(v.name)}</strong> <span class="badge ${v.online ? "online" : "offline"}">${v.online ? t.online : t.offline}</span></div>
              <div class="muted">${t.lastContact}: ${v.last_contact ? time(v.last_contact) : t.never}
                · ${t.pending}: ${v.pending ?? "-"}${v.findings ? ` · <span class="findings">${t.findings}: ${v.findings}</span>` : ""}</div>
              ${(v.breaches || []).filter(b => !chosenSession || b.session === chosenSession).map(b => `<div class="breach" data-breach="${esc(b.session)}" data-count="${b.count}">${esc(t.breaches.replace("{s}", b.session).replace("{n}", b.count))}</div>`).join("")}
              <div>${t.checkedIn} <strong>${sum("checked_in")}</strong> / ${sum("quota")} (${pct(sum("checked_in"), sum("quota")).toFixed(1)}%)
                ${sum("reserves") ? ` · ${t.reserves} ${sum("reserves")}` : ""}${sum("walk_ins") ? ` · ${t.walkIns} ${sum("walk_ins")}` : ""}</div>${bar(sum("checked_in"), sum("quota"))}
              <div class="muted">${t.issued} ${sum("issued")} · ${t.returned} ${sum("returned")} · ${t.entered} ${sum("entered")}</div>
              ${(chosenSession && sessions[0] ? sessions[0].joint : []).map(j => `<div class="joint" data-joint="${esc(j.id)}">${t.joint} ${esc(j.name || j.id)}: ${j.filled} / ${j.quota} (${Object.keys(j.contributions).sort().map(k => esc((state.venues.find(x => x.id === k) || {name:k}).name) + " " + j.contributions[k]).join(", ")})</div>`).join("")}
              ${cats.map(c => `<div class="cat"><div>${esc(catName(c.category))}${bar(c.checked_in, c.quota)}</div><div>${c.checked_in}/${c.quota}</div></div>`).join("")}
            </div>`;
          }).join("");

          if (!state.results_visible) {
            $("results").innerHTML = `<div class="notice" id="results-hidden">${t.hidden}</div>`;
          } else {
            const head = `<tr><th>${t.rank}</th><th>${t.department}</th>${state.marks.map(m => `<th>${esc(label(m))}</th>`).join("")}
              <th>${t.valid}</th><th>${t.satisfaction}</th><th>${t.score}</th></tr>`;
            const rows = state.departments.map(d => `<tr data-department="${esc(d.department)}"><td>${d.rank ?? "-"}</td>
              <td>${esc(d.department)} ${esc(d.name)}</td>${state.marks.map(m => `<td>${d.counts[m.id] || 0}</td>`).join("")}
              <td>${d.valid}</td><td>${d.satisfaction_rate == null ? "-" : d.satisfaction_rate.toFixed(2) + "%"}</td>
              <td>${d.score == null ? "-" : d.score.toFixed(2)}</td></tr>`).join("");
            $("results").innerHTML = `<div class="scroll"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>`;
          }
        }

        $("lang").addEventListener("click", () => {
          lang = lang === "zh" ? "en" : "zh";
          localStorage.setItem("sanmin.lang", lang);
          render();
        });
        $("session").addEventListener("change", e => { chosenSession = e.target.value; render(); });

        const token = params.get("token");
        let opened = 0, wait = 2000;
        function listen() {
          const source = new EventSource("/v1/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
          source.addEventListener("state", e => {
            state = JSON.parse(e.data);
            updates += 1;
            $("updates").textContent = updates;
            render();
          });
          // How many times the stream was opened (reconnections after the first), for whoever inspects the page.
          source.onopen = () => {
            connected = true;
            opened += 1;
            wait = 2000;
            document.body.dataset.streamOpened = opened;
            render();
          };
          source.onerror = () => {
            connected = false;
            render();
            // The browser reconnects by itself (after the server's retry: 2 s), unless the answer was not a stream
            // (a proxy's 502 while no aggregator behind it answered, or a token refused): then a new stream, 2 s
            // later, then waiting twice as long each time up to 30 s until one opens.
            if (source.readyState === EventSource.CLOSED) {
              setTimeout(listen, wait);
              wait = Math.min(wait * 2, 30000);
            }
          };
        }
        listen();
        render();
        </script>
        </body>
        </html>
        """#
}
