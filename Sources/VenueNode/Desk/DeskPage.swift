/// The desk page: plain HTML and CSS inside the binary (no CDN, no build step), with its script at `/desk/app.js`
/// (`DeskScript`). Sign-in, then seven screens a clerk moves between with Alt+1…Alt+7: check-in, boxes, keying,
/// upload, records and corrections, reconciliation, and the other forms (surveys and suggestions, issue #17). Chinese by default; `?lang=en` or the button switches to English.
enum DeskPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>三民活动 · 会场服务台</title>
        <style>
        :root { --fg:#10202a; --muted:#5b6b75; --bg:#f4f6f8; --card:#fff; --bad:#b71c1c; --good:#1b5e20; --accent:#0d3b66;
                --warn:#8d5a00; }
        * { box-sizing: border-box; }
        body { margin:0; font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;
               background:var(--bg); color:var(--fg); font-size:clamp(16px, 1.45vw, 26px); }
        header { display:flex; flex-wrap:wrap; align-items:center; gap:.3em .8em; padding:.4em .8em; background:var(--accent);
                 color:#fff; }
        header h1 { font-size:1.15em; margin:0; flex:1 1 12em; }
        header select, header button { font:inherit; font-size:.8em; }
        header button { margin:0; border-color:#fff; background:transparent; padding:.2em .7em; }
        #sync { font-size:.8em; padding:.15em .6em; border-radius:1em; background:#2e7d32; white-space:nowrap; }
        #sync[data-online="false"] { background:#c62828; }
        #standby { font-size:.8em; padding:.15em .6em; border-radius:1em; background:#2e7d32; white-space:nowrap; }
        #standby:not([data-behind="0"]) { background:#b26a00; }
        nav { display:flex; flex-wrap:wrap; gap:.3em; padding:.4em .8em; background:#dde4ea; }
        nav button { margin:0; background:#fff; color:var(--accent); font-size:.85em; padding:.25em .8em; }
        nav button[aria-selected="true"] { background:var(--accent); color:#fff; }
        nav kbd { font-size:.7em; opacity:.7; margin-left:.3em; }
        main { max-width:64em; margin:1em auto; padding:0 .8em; }
        .card { background:var(--card); border-radius:.6em; padding:.8em 1em; box-shadow:0 1px 3px rgba(0,0,0,.12);
                margin-bottom:1em; }
        label { display:block; margin:.3em 0 .2em; }
        textarea { font:inherit; width:100%; padding:.3em .45em; border:2px solid #9aa8b2; border-radius:.4em; }
        .checks label { display:inline-block; margin-right:.9em; }
        #survey-pad { outline:none; }
        #survey-pad:focus { box-shadow:0 0 0 4px #f9a825; border-radius:.6em; }
        #survey-rows li { padding:.15em .3em; }
        #survey-rows li.current { background:#fff59d; font-weight:700; }
        #survey-rows li .mark { float:right; font-weight:700; }
        #forms-status[data-outcome="refused"], #suggestion-status[data-outcome="refused"] { color:var(--bad); font-weight:700; }
        #forms-status[data-outcome="saved"], #suggestion-status[data-outcome="saved"] { color:var(--good); font-weight:700; }
        input, select { font:inherit; padding:.3em .45em; border:2px solid #9aa8b2; border-radius:.4em; max-width:100%; }
        input.big { font-size:1.5em; width:100%; letter-spacing:.05em; }
        #code { text-transform:uppercase; font-size:1.2em; width:100%; }
        button { font:inherit; padding:.3em 1em; border-radius:.4em; border:2px solid var(--accent);
                 background:var(--accent); color:#fff; cursor:pointer; margin-top:.5em; }
        :focus-visible { outline:4px solid #f9a825; outline-offset:2px; }
        .error, #error { color:var(--bad); font-weight:600; min-height:1.3em; }
        .muted { color:var(--muted); font-size:.8em; }
        .row { display:flex; flex-wrap:wrap; gap:.6em; align-items:flex-end; }
        .row > div { flex:1 1 8em; }
        table { border-collapse:collapse; width:100%; font-size:.85em; }
        th, td { text-align:left; padding:.25em .4em; border-bottom:1px solid #e0e6ea; }
        td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
        tr.short td { color:var(--warn); }
        #answer { min-height:4.2em; border-radius:.6em; padding:.5em .8em; font-size:1.4em; font-weight:700; margin:.6em 0; }
        #answer[data-state="ok"] { background:#c8e6c9; color:var(--good); border:4px solid var(--good); }
        #answer[data-state="bad"] { background:#ffcdd2; color:var(--bad); border:4px solid var(--bad); }
        #answer small { display:block; font-size:.6em; font-weight:400; }
        #keying-pad { outline:none; }
        #keying-pad:focus { box-shadow:0 0 0 4px #f9a825; border-radius:.6em; }
        #paper-no { font-size:2em; }
        #keying-rows { columns:2 16em; padding-left:2.2em; margin:.4em 0; }
        #keying-rows li { padding:.1em .3em; break-inside:avoid; }
        #keying-rows li.current { background:#fff59d; font-weight:700; }
        #keying-rows li .mark { float:right; font-weight:700; }
        #keying-rows li .diff { color:var(--bad); font-size:.8em; }
        .legend kbd, .keys kbd { border:1px solid #9aa8b2; border-radius:.3em; padding:0 .35em; background:#fff; }
        #keying-status[data-outcome="mismatch"], #keying-status[data-outcome="refused"] { color:var(--bad); font-weight:700; }
        #keying-status[data-outcome="agreed"], #keying-status[data-outcome="resolved"] { color:var(--good); font-weight:700; }
        .warnings { color:var(--warn); font-weight:600; }
        .ok { color:var(--good); font-weight:600; }
        [hidden] { display:none !important; }
        @media print { header, nav { display:none; } }
        </style>
        </head>
        <body>
        <header>
          <h1 data-t="title">三民活动 · 会场服务台</h1>
          <span id="venue-name"></span>
          <select id="session" aria-label="session" hidden></select>
          <span id="sync" hidden></span>
          <span id="standby" hidden></span>
          <span id="who"></span>
          <button id="lang" type="button">English</button>
          <button id="signout" type="button" hidden><span data-t="signOut">退出登录</span> <kbd>Alt+0</kbd></button>
        </header>
        <nav id="tabs" hidden>
          <button type="button" data-tab="checkin"><span data-t="tabCheckin">签到</span><kbd>Alt+1</kbd></button>
          <button type="button" data-tab="boxes"><span data-t="tabBoxes">票箱</span><kbd>Alt+2</kbd></button>
          <button type="button" data-tab="keying"><span data-t="tabKeying">计票录入</span><kbd>Alt+3</kbd></button>
          <button type="button" data-tab="upload"><span data-t="tabUpload">上传文件</span><kbd>Alt+4</kbd></button>
          <button type="button" data-tab="records"><span data-t="tabRecords">记录与更正</span><kbd>Alt+5</kbd></button>
          <button type="button" data-tab="reconcile"><span data-t="tabReconcile">核对</span><kbd>Alt+6</kbd></button>
          <button type="button" data-tab="forms"><span data-t="tabForms">表单录入</span><kbd>Alt+7</kbd></button>
        </nav>
        <main>
          <p id="loading" class="muted" data-t="loading">正在加载…</p>
          <form id="signin" class="card" hidden>
            <label for="code" data-t="codeLabel">请输入负责人给您的登录码</label>
            <input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false"
                   placeholder="ABCD-EFGH-JKMN-PQRS" required>
            <p id="error" role="alert"></p>
            <button type="submit" data-t="signIn">登录</button>
          </form>

          <section id="tab-checkin" class="tab" hidden>
            <form id="checkin-form" class="card" autocomplete="off">
              <label for="scan" data-t="scanLabel">扫描代表证，或输入代表编号、身份证号，按回车</label>
              <input id="scan" class="big" spellcheck="false" autocomplete="off">
              <div id="walkin" class="row" hidden>
                <div><label for="walkin-category" data-t="walkinCategory">名单外人员的代表类别</label>
                <select id="walkin-category"></select></div>
              </div>
              <div id="answer" role="status" aria-live="assertive" data-state="none"></div>
            </form>
            <div class="card">
              <h2 data-t="attendanceTitle">到会情况（按代表类别）</h2>
              <table id="attendance"></table>
            </div>
          </section>

          <section id="tab-boxes" class="tab" hidden>
            <form id="open-form" class="card row" autocomplete="off">
              <div><label for="open-box" data-t="boxId">票箱编号</label><input id="open-box" spellcheck="false"></div>
              <div><button type="submit" data-t="openBox">开箱</button></div>
            </form>
            <form id="close-form" class="card" autocomplete="off">
              <div class="row">
                <div><label for="close-box" data-t="boxId">票箱编号</label><input id="close-box" spellcheck="false"></div>
                <div><label for="close-issued" data-t="issued">发放票数</label><input id="close-issued" inputmode="numeric"></div>
                <div><label for="close-returned" data-t="returned">回收票数</label><input id="close-returned" inputmode="numeric"></div>
                <div><label><input type="checkbox" id="close-forms-only"> <span data-t="closeFormsOnly">只装问卷、意见建议表（没有选票）</span></label></div>
              </div>
              <div class="row">
                <div><label for="close-surveys" data-t="closeSurveys">其中问卷（份）</label><input id="close-surveys" inputmode="numeric"></div>
                <div><label for="close-suggestions" data-t="closeSuggestions">意见建议表（份）</label><input id="close-suggestions" inputmode="numeric"></div>
                <div><label for="close-discipline" data-t="closeDiscipline">纪律调查表（份）</label><input id="close-discipline" inputmode="numeric"></div>
                <div><button type="submit" data-t="closeBox">封箱</button></div>
              </div>
              <p id="close-proposal" class="muted"></p>
              <div id="close-warnings" class="warnings" role="alert"></div>
            </form>
            <div id="boxes-result" class="card" role="status" hidden></div>
            <div class="card"><table id="boxes"></table></div>
          </section>

          <section id="tab-keying" class="tab" hidden>
            <form id="keying-box-form" class="card row" autocomplete="off">
              <div><label for="keying-box" data-t="keyingBox">录入哪个票箱（须已封箱）</label><input id="keying-box" spellcheck="false"></div>
              <div><button type="submit" data-t="startKeying">开始录入</button></div>
            </form>
            <div id="keying-pad" class="card" tabindex="0" hidden>
              <div class="row">
                <div><span data-t="paper">选票</span> <strong id="paper-no">-</strong>
                  <span id="resolve-label" class="warnings" hidden data-t="resolving">（负责人裁定）</span></div>
                <div id="keying-progress" class="muted"></div>
              </div>
              <div id="paper-jump-row" hidden><label for="paper-jump" data-t="paperJump">跳到第几张（回车确定）</label>
                <input id="paper-jump" inputmode="numeric"></div>
              <p id="keying-legend" class="legend muted"></p>
              <ol id="keying-rows"></ol>
              <p id="keying-status" role="status" aria-live="polite"></p>
              <div id="disputes"></div>
            </div>
          </section>

          <section id="tab-upload" class="tab" hidden>
            <form id="upload-form" class="card" autocomplete="off">
              <label for="upload-kind" data-t="uploadKind">文件内容</label>
              <select id="upload-kind"><option value="checkins" data-t="kindCheckins">签到</option>
                <option value="ballots" data-t="kindBallots">选票</option>
                <option value="forms" data-t="kindForms">问卷和意见建议表</option></select>
              <label for="upload-file" data-t="uploadFile">扫描仪导出的 CSV 文件</label>
              <input id="upload-file" type="file" accept=".csv,text/csv">
              <div><button type="submit" data-t="upload">上传</button></div>
              <p id="upload-result" role="status"></p>
            </form>
          </section>

          <section id="tab-records" class="tab" hidden>
            <form id="correct-form" class="card" autocomplete="off" hidden>
              <h2 data-t="correctTitle">更正一条记录（仅负责人）</h2>
              <div class="row">
                <div><label for="correct-target" data-t="correctTarget">记录号</label><input id="correct-target" inputmode="numeric"></div>
                <div><label for="correct-reason" data-t="correctReason">更正原因（必填）</label><input id="correct-reason"></div>
                <div><label for="correct-issued" data-t="correctIssued">新的发放数（封箱记录）</label><input id="correct-issued" inputmode="numeric"></div>
                <div><label for="correct-returned" data-t="correctReturned">新的回收数（封箱记录）</label><input id="correct-returned" inputmode="numeric"></div>
              </div>
              <div class="row">
                <div><label for="correct-surveys" data-t="correctSurveys">新的问卷份数（封箱记录）</label><input id="correct-surveys" inputmode="numeric"></div>
                <div><label for="correct-suggestions" data-t="correctSuggestions">新的意见建议表份数</label><input id="correct-suggestions" inputmode="numeric"></div>
                <div><label for="correct-discipline" data-t="correctDiscipline">新的纪律调查表份数</label><input id="correct-discipline" inputmode="numeric"></div>
              </div>
              <button type="submit" data-t="correctSave">保存更正</button>
              <p id="correct-result" role="status"></p>
            </form>
            <div class="card"><h2 data-t="recordsTitle">最近的记录</h2><table id="records"></table></div>
          </section>

          <section id="tab-forms" class="tab" hidden>
            <form id="forms-box-form" class="card row" autocomplete="off">
              <div><label for="forms-kind" data-t="formsKind">表单</label>
                <select id="forms-kind"><option value="survey" data-t="formSurvey">社情民意调查问卷</option>
                  <option value="discipline" data-t="formDiscipline">纪律情况调查表</option>
                  <option value="suggestion" data-t="formSuggestion">意见建议征集表</option></select></div>
              <div><label for="forms-box" data-t="formsBox">哪个票箱（须已封箱并清点表单）</label><input id="forms-box" spellcheck="false"></div>
              <div><button type="submit" data-t="startKeying">开始录入</button></div>
            </form>
            <div id="survey-pad" class="card" tabindex="0" hidden>
              <div id="forms-progress" class="muted"></div>
              <p id="survey-legend" class="legend muted"></p>
              <ol id="survey-rows"></ol>
              <p id="forms-status" role="status" aria-live="polite"></p>
            </div>
            <form id="suggestion-form" class="card" autocomplete="off" hidden>
              <div id="suggestion-progress" class="muted"></div>
              <label for="sg-text" data-t="sgText">意见建议内容（照原文录入；身份证号、电话号码保存前自动遮盖）</label>
              <textarea id="sg-text" rows="5"></textarea>
              <div><span data-t="sgDepartments">涉及部门</span>：<span id="sg-departments" class="checks"></span></div>
              <div class="row">
                <div><label for="sg-topic" data-t="sgTopic">主题</label><select id="sg-topic"></select></div>
                <div><label for="sg-contact" data-t="sgContact">联系方式（可不填）</label><input id="sg-contact"></div>
                <div><label><input type="checkbox" id="sg-consent"> <span data-t="sgConsent">本人同意回访</span></label></div>
              </div>
              <button type="submit" data-t="sgSave">保存（Ctrl+Enter）</button>
              <p id="suggestion-status" role="status" aria-live="polite"></p>
            </form>
          </section>

          <section id="tab-reconcile" class="tab" hidden>
            <div class="card"><h2 data-t="reconcileTitle">本会场核对</h2><div id="findings"></div></div>
          </section>
        </main>
        <script src="/desk/app.js"></script>
        </body>
        </html>
        """#
}
