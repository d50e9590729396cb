/// The suggestions page (issue #17), `/suggestions`: the officer's list, triage and review, and a department's own
/// list and answers, on one page that shows what the token presented may see. Plain HTML and CSS inside the binary,
/// with its script at `/suggestions/app.js` (`SuggestionsScript`); the page itself holds no data, so it is served to
/// anyone, and every figure on it comes from the token-checked API. Chinese by default; `?lang=en` or the button
/// switches to English.
enum SuggestionsPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>意见建议办理</title>
        <style>
        :root { --fg:#10202a; --muted:#5b6b75; --bg:#f4f6f8; --card:#fff; --bad:#b71c1c; --good:#1b5e20; --accent:#0d3b66;
                --warn:#8d5a00; }
        * { box-sizing: border-box; }
        body { margin:0; font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;
               background:var(--bg); color:var(--fg); font-size:clamp(15px, 1.2vw, 22px); }
        header { display:flex; flex-wrap:wrap; align-items:center; gap:.3em .8em; padding:.5em .9em; background:var(--accent);
                 color:#fff; }
        header h1 { font-size:1.2em; margin:0; flex:1 1 14em; }
        header button { font:inherit; font-size:.8em; margin:0; border-color:#fff; background:transparent; padding:.2em .7em; }
        header input { font-size:.8em; width:8em; }
        main { max-width:72em; margin:1em auto; padding:0 .8em; display:grid; gap:1em; }
        .card { background:var(--card); border-radius:.6em; padding:.8em 1em; box-shadow:0 1px 3px rgba(0,0,0,.12); }
        label { display:block; margin:.3em 0 .2em; }
        input, select, textarea { font:inherit; padding:.3em .45em; border:2px solid #9aa8b2; border-radius:.4em; max-width:100%; }
        textarea { width:100%; min-height:5em; }
        button { font:inherit; padding:.3em 1em; border-radius:.4em; border:2px solid var(--accent); background:var(--accent);
                 color:#fff; cursor:pointer; margin-top:.4em; }
        button.secondary { background:#fff; color:var(--accent); }
        :focus-visible { outline:4px solid #f9a825; outline-offset:2px; }
        .row { display:flex; flex-wrap:wrap; gap:.6em; align-items:flex-end; }
        .row > div { flex:1 1 9em; }
        .checks label { display:inline-block; margin-right:.8em; }
        .muted { color:var(--muted); font-size:.85em; }
        .error { color:var(--bad); font-weight:600; min-height:1.3em; }
        .ok { color:var(--good); font-weight:600; }
        table { border-collapse:collapse; width:100%; font-size:.88em; }
        th, td { text-align:left; padding:.3em .4em; border-bottom:1px solid #e0e6ea; vertical-align:top; }
        tbody tr { cursor:pointer; }
        tbody tr:hover, tbody tr[aria-selected="true"] { background:#e3f2fd; }
        tr.overdue td { color:var(--bad); }
        .status { white-space:nowrap; font-size:.8em; padding:.05em .5em; border-radius:1em; background:#dde4ea; }
        .status[data-status="new"] { background:#fff3cd; }
        .status[data-status="assigned"], .status[data-status="answered"] { background:#d7ebff; }
        .status[data-status="closed"] { background:#c8e6c9; }
        .text { white-space:pre-wrap; background:#f7f9fa; border-left:4px solid #9aa8b2; padding:.5em .7em; }
        dl { display:grid; grid-template-columns:max-content 1fr; gap:.2em .8em; margin:.4em 0; }
        dt { color:var(--muted); }
        dd { margin:0; }
        ol.events { padding-left:1.4em; font-size:.85em; }
        [hidden] { display:none !important; }
        @media (max-width: 40em) { main { padding:0 .4em; } .hide-narrow { display:none; } }
        @media print { header, #filters, #actions { display:none; } }
        </style>
        </head>
        <body>
        <header>
          <h1 id="title" data-t="title">意见建议办理</h1>
          <span id="who"></span>
          <label id="actor-label" hidden><span data-t="actor">经办人</span> <input id="actor" autocomplete="name"></label>
          <button id="lang" type="button">English</button>
          <button id="signout" type="button" hidden data-t="signOut">退出</button>
        </header>
        <main>
          <form id="signin" class="card" autocomplete="off" hidden>
            <label for="token" data-t="tokenLabel">请输入管理员或部门的令牌</label>
            <input id="token" type="password" spellcheck="false" style="width:100%">
            <p id="signin-error" class="error" role="alert"></p>
            <button type="submit" data-t="signIn">进入</button>
          </form>

          <section id="office" hidden>
            <form id="filters" class="card row" autocomplete="off">
              <div><label for="f-venue" data-t="venue">会场</label><select id="f-venue"></select></div>
              <div><label for="f-department" data-t="department">部门</label><select id="f-department"></select></div>
              <div><label for="f-topic" data-t="topic">主题</label><select id="f-topic"></select></div>
              <div><label for="f-status" data-t="status">状态</label><select id="f-status"></select></div>
              <div><label><input id="f-overdue" type="checkbox"> <span data-t="overdueOnly">只看逾期</span></label></div>
              <div><button type="button" id="report-html" class="secondary" data-t="reportHTML">办理情况报告</button>
                   <button type="button" id="report-csv" class="secondary" data-t="reportCSV">导出 CSV</button></div>
            </form>
          </section>

          <section class="card">
            <h2 id="list-title" data-t="listTitle">意见建议</h2>
            <p id="summary" class="muted"></p>
            <table id="list"><thead></thead><tbody></tbody></table>
          </section>

          <section id="detail" class="card" hidden>
            <h2><span data-t="item">意见建议</span> <span id="d-id"></span> <span id="d-status" class="status"></span></h2>
            <div id="d-text" class="text"></div>
            <dl id="d-facts"></dl>
            <div id="actions">
              <form id="triage" autocomplete="off" hidden>
                <h3 data-t="triageTitle">审核分办</h3>
                <div class="row">
                  <div><label for="t-decision" data-t="decision">处理方式</label><select id="t-decision"></select></div>
                  <div data-for="assign"><label for="t-lead" data-t="lead">主办部门</label><select id="t-lead"></select></div>
                  <div data-for="assign"><label for="t-due" data-t="due">办理期限</label><input id="t-due" placeholder="2026-12-31" inputmode="numeric" size="10"></div>
                  <div data-for="duplicate"><label for="t-of" data-t="duplicateOf">与哪一件重复</label><select id="t-of"></select></div>
                  <div data-for="inadmissible"><label for="t-reason" data-t="reason">不予受理的理由</label><input id="t-reason"></div>
                </div>
                <div data-for="assign" class="checks"><span data-t="co">协办部门</span>：<span id="t-co"></span></div>
                <div data-for="forward" class="checks"><span data-t="forwardTo">转阅部门</span>：<span id="t-forward"></span></div>
                <button type="submit" data-t="save">保存</button>
              </form>
              <form id="review" autocomplete="off" hidden>
                <h3 data-t="reviewTitle">审核答复</h3>
                <label for="r-note" data-t="note">退回说明（退回时必填）</label><input id="r-note" style="width:100%">
                <button type="button" id="r-accept" data-t="accept">采纳，办结</button>
                <button type="button" id="r-return" class="secondary" data-t="sendBack">退回重办</button>
              </form>
              <form id="feedback" autocomplete="off" hidden>
                <h3 data-t="feedbackTitle">群众反馈</h3>
                <textarea id="fb-text"></textarea>
                <button type="submit" data-t="saveFeedback">记录反馈</button>
              </form>
              <form id="answer" autocomplete="off" hidden>
                <h3 data-t="answerTitle">答复</h3>
                <textarea id="a-text"></textarea>
                <button type="submit" data-t="sendAnswer">提交答复</button>
              </form>
              <button type="button" id="outstanding" class="secondary" hidden></button>
            </div>
            <p id="result" role="status" aria-live="polite"></p>
            <h3 data-t="history">办理记录</h3>
            <ol id="d-events" class="events"></ol>
          </section>
        </main>
        <script src="/suggestions/app.js"></script>
        </body>
        </html>
        """#
}
