/// The phone ballot box's page (issue #16): plain HTML and CSS inside the binary (no CDN, no web font: a few
/// kilobytes on a slow link), with its script at `/vote/app.js` (`VoteScript`). The code comes from the slip's QR code
/// (in the URL's fragment, never sent to the node in a URL) or is typed. Chinese by default; the button switches to
/// English.
enum VotePage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>三民活动 · 手机评议</title>
        <style>
        :root { --fg:#10202a; --muted:#5b6b75; --bg:#f4f6f8; --card:#fff; --bad:#b71c1c; --good:#1b5e20; --accent:#0d3b66; }
        * { box-sizing:border-box; }
        body { margin:0; font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",system-ui,sans-serif;
               background:var(--bg); color:var(--fg); font-size:18px; line-height:1.4; }
        header { display:flex; align-items:center; gap:.5em; padding:.5em .8em; background:var(--accent); color:#fff;
                 position:sticky; top:0; z-index:1; }
        header h1 { font-size:1.05em; margin:0; flex:1; }
        header button { margin:0; background:transparent; border:2px solid #fff; color:#fff; min-height:40px; }
        main { max-width:40em; margin:0 auto; padding:.8em; }
        .card { background:var(--card); border-radius:.6em; padding:.8em; box-shadow:0 1px 3px rgba(0,0,0,.12);
                margin-bottom:.8em; }
        button { font:inherit; border-radius:.5em; border:2px solid var(--accent); background:var(--accent); color:#fff;
                 padding:.4em 1em; min-height:48px; cursor:pointer; }
        button:disabled { opacity:.5; }
        button.wide { width:100%; margin-top:.6em; font-size:1.1em; }
        button.plain { background:#fff; color:var(--accent); }
        input { font:inherit; font-size:1.2em; width:100%; padding:.4em; border:2px solid #9aa8b2; border-radius:.4em;
                text-transform:uppercase; letter-spacing:.05em; }
        :focus-visible { outline:4px solid #f9a825; outline-offset:2px; }
        .muted { color:var(--muted); font-size:.85em; }
        fieldset.dept { border:none; margin:0 0 .7em; padding:.6em; background:var(--card); border-radius:.6em;
                        box-shadow:0 1px 3px rgba(0,0,0,.12); }
        fieldset.dept legend { font-weight:600; padding:0; float:left; width:100%; margin-bottom:.4em; }
        fieldset.dept[data-missing="true"] { outline:3px solid var(--bad); }
        .marks { display:grid; grid-template-columns:repeat(auto-fit, minmax(5.5em, 1fr)); gap:.4em; clear:both; }
        .marks button { background:#fff; color:var(--fg); border-color:#9aa8b2; min-height:52px; padding:.3em; }
        .marks button[aria-pressed="true"] { background:var(--accent); color:#fff; border-color:var(--accent); }
        #progress { position:sticky; top:3.2em; background:var(--bg); padding:.3em 0; font-weight:600; z-index:1; }
        table { border-collapse:collapse; width:100%; }
        td, th { text-align:left; padding:.35em .2em; border-bottom:1px solid #dde4ea; }
        #message { font-weight:600; }
        #message[data-kind="bad"], #review-note { color:var(--bad); font-weight:600; }
        #receipt { font:bold 1.8em monospace; letter-spacing:.08em; text-align:center; margin:.4em 0; }
        #done h2 { color:var(--good); }
        #more-buttons button { display:block; width:100%; margin-top:.5em; }
        #more-buttons button[data-sent="true"] { background:#e8f5e9; color:var(--good); border-color:var(--good); }
        textarea, select { font:inherit; width:100%; padding:.4em; border:2px solid #9aa8b2; border-radius:.4em; }
        #sg-contact { text-transform:none; letter-spacing:0; font-size:1em; }
        .checks label { display:inline-block; margin:.2em .8em .2em 0; }
        #form-error { color:var(--bad); font-weight:600; }
        </style>
        <script src="/vote/app.js" defer></script>
        </head>
        <body>
        <header><h1 data-t="title">手机评议</h1><button id="lang" type="button">English</button></header>
        <main>
          <p id="loading" data-t="loading">正在加载…</p>
          <div id="message" class="card" role="alert" hidden></div>
          <form id="code-form" class="card" hidden>
            <label for="code" data-t="codeLabel">请输入纸条上的投票码</label>
            <input id="code" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="ABCD-EFGH-JKMN-PQRS">
            <button class="wide" type="submit" data-t="codeGo">打开选票</button>
          </form>
          <section id="ballot" hidden>
            <div class="card"><div id="ballot-head"></div><p class="muted" data-t="howTo">请为每个部门选择一项评价，全部选完后点击页面底部的“检查并提交”。</p></div>
            <p id="progress"></p>
            <div id="rows"></div>
            <p id="review-note" role="alert"></p>
            <button id="review" class="wide" type="button" data-t="review">检查并提交</button>
          </section>
          <section id="summary" class="card" hidden>
            <h2 data-t="summaryTitle">请核对您的评议</h2>
            <p class="muted" data-t="summaryNote">提交后不能修改。一个投票码只能提交一次。</p>
            <table id="summary-table"></table>
            <button id="submit" class="wide" type="button" data-t="submit">确认提交</button>
            <button id="back" class="wide plain" type="button" data-t="back">返回修改</button>
          </section>
          <section id="done" class="card" hidden>
            <h2 data-t="doneTitle">您的评议已记录</h2>
            <p data-t="receiptLabel">回执码（可在结果公布后到公布页面核对您的选票已被计入）：</p>
            <p id="receipt"></p>
            <p id="done-note" class="muted"></p>
            <p class="muted" data-t="doneNote">回执码不透露您的评议内容。请记下或截图保存。</p>
          </section>
          <section id="more" class="card" hidden>
            <h2 data-t="moreTitle">其他表单（自愿填写）</h2>
            <p class="muted" data-t="moreNote">问卷不记名，与您的选票分开保存，无法相互对应。每种表单每个投票码可提交一次。</p>
            <div id="more-buttons"></div>
          </section>
          <section id="form" hidden>
            <div class="card"><h2 id="form-title"></h2><p class="muted" id="form-how"></p></div>
            <div id="form-rows"></div>
            <div id="suggestion-fields" class="card" hidden>
              <label for="sg-text" data-t="sgText">您的意见建议</label>
              <textarea id="sg-text" rows="6"></textarea>
              <p class="muted" data-t="sgNumbers">身份证号、电话号码会被自动遮盖；如希望回访，请填在下面的联系方式中。</p>
              <div><span data-t="sgDepartments">涉及部门（可选）</span><div id="sg-departments" class="checks"></div></div>
              <label for="sg-topic" data-t="sgTopic">主题（可选）</label><select id="sg-topic"></select>
              <label for="sg-contact" data-t="sgContact">联系方式（可不填）</label><input id="sg-contact" autocomplete="tel">
              <label><input type="checkbox" id="sg-consent"> <span data-t="sgConsent">我同意有关部门就此建议与我联系</span></label>
            </div>
            <p id="form-error" role="alert"></p>
            <button id="form-send" class="wide" type="button" data-t="formSend">提交</button>
            <button id="form-back" class="wide plain" type="button" data-t="formBack">返回</button>
          </section>
        </main>
        </body>
        </html>
        """#
}
