/// The desk page: plain HTML, CSS and a small script inside the binary (no CDN, no build step). It asks
/// `/desk/api/me` who is signed in, shows the sign-in form (one field for the code, Enter signs in) or the clerk
/// signed in with a sign-out button. Chinese by default; `?lang=en` or the button switches to English.
enum DeskPage {
    static let html = #"""
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>三民活动 · 会场服务台</title>
        <style>
        :root { --fg:#10202a; --muted:#5b6b75; --bg:#f4f6f8; --card:#fff; --bad:#c62828; --accent:#0d3b66; }
        * { box-sizing: border-box; }
        body { margin:0; font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;
               background:var(--bg); color:var(--fg); font-size:clamp(20px, 2vw, 32px); }
        header { display:flex; align-items:center; gap:1em; padding:.6em 1em; background:var(--accent); color:#fff; }
        header h1 { font-size:1.3em; margin:0; flex:1; }
        main { max-width:40em; margin:1.5em auto; padding:0 1em; }
        .card { background:var(--card); border-radius:.6em; padding:1em 1.2em; box-shadow:0 1px 3px rgba(0,0,0,.12); }
        label { display:block; margin-bottom:.4em; }
        input { font:inherit; font-size:1.2em; width:100%; padding:.35em .5em; letter-spacing:.08em;
                border:2px solid #9aa8b2; border-radius:.4em; text-transform:uppercase; }
        button { font:inherit; padding:.35em 1.1em; border-radius:.4em; border:2px solid var(--accent);
                 background:var(--accent); color:#fff; cursor:pointer; margin-top:.6em; }
        header button { margin:0; font-size:.7em; border-color:#fff; background:transparent; }
        :focus-visible { outline:4px solid #f9a825; outline-offset:2px; }
        #error { color:var(--bad); font-weight:600; min-height:1.4em; }
        .muted { color:var(--muted); font-size:.8em; }
        [hidden] { display:none !important; }
        </style>
        </head>
        <body>
        <header>
          <h1 data-t="title">三民活动 · 会场服务台</h1>
          <button id="lang" type="button">English</button>
        </header>
        <main>
          <p id="loading" class="muted" data-t="loading">正在加载…</p>
          <form id="signin" class="card" hidden>
            <label for="code" data-t="codeLabel">请输入负责人给您的登录码</label>
            <input id="code" name="code" autocomplete="off" autocapitalize="characters" spellcheck="false"
                   placeholder="ABCD-EFGH-JKMN-PQRS" required>
            <p id="error" role="alert"></p>
            <button type="submit" data-t="signIn">登录</button>
          </form>
          <section id="desk" class="card" hidden>
            <p><span data-t="signedInAs">已登录：</span><strong id="who"></strong></p>
            <p class="muted" data-t="next">签到台即将上线：此处将用于代表签到。</p>
            <button id="signout" type="button" data-t="signOut">退出登录</button>
          </section>
        </main>
        <script>
        "use strict";
        const T = {
          zh: { title:"三民活动 · 会场服务台", loading:"正在加载…", codeLabel:"请输入负责人给您的登录码", signIn:"登录",
                signedInAs:"已登录：", next:"签到台即将上线：此处将用于代表签到。", signOut:"退出登录", other:"English",
                roles:{ desk:"签到", count:"计票", lead:"负责人" },
                errors:{ code_malformed:"这不是登录码：登录码为16位字母和数字，如 ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"没有这个登录码，请核对，或向负责人索取新码",
                         code_used:"此登录码已使用过（每个码只能登录一次），请向负责人索取新码",
                         code_expired:"此登录码已过期，请向负责人索取新码",
                         code_replaced:"已为您发放了更新的登录码，请使用新码",
                         clerk_revoked:"此工作人员已被撤销，无法登录",
                         rate_limited:"错误次数过多，请 {s} 秒后再试",
                         signed_out:"登录已失效，请重新登录", csrf:"请刷新页面后重试",
                         network:"无法连接会场节点，请检查网络后重试" } },
          en: { title:"Sanmin · venue desk", loading:"Loading…", codeLabel:"Enter the sign-in code the lead gave you", signIn:"Sign in",
                signedInAs:"Signed in as ", next:"The check-in desk comes next: representatives will be checked in here.",
                signOut:"Sign out", other:"中文",
                roles:{ desk:"desk", count:"count", lead:"lead" },
                errors:{ code_malformed:"This is not a sign-in code: a code is 16 letters and digits, like ABCD-EFGH-JKMN-PQRS",
                         code_unknown:"No such sign-in code: check it, or ask the lead for a new one",
                         code_used:"This code was used already (a code signs in once): ask the lead for a new one",
                         code_expired:"This code has expired: ask the lead for a new one",
                         code_replaced:"A newer code was issued for you: sign in with that one",
                         clerk_revoked:"This clerk was revoked and cannot sign in",
                         rate_limited:"Too many wrong codes: try again in {s} seconds",
                         signed_out:"Your session ended: sign in again", csrf:"Reload the page and try again",
                         network:"Cannot reach the venue node: check the network and try again" } } };
        let lang = new URLSearchParams(location.search).get("lang") === "en" ? "en" : "zh";
        let me = null;
        let lastError = null;
        const $ = (id) => document.getElementById(id);

        function render() {
          const t = T[lang];
          document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
          document.title = t.title;
          for (const el of document.querySelectorAll("[data-t]")) el.textContent = t[el.dataset.t];
          $("lang").textContent = t.other;
          if (me) $("who").textContent = me.clerk.name + " (" + (t.roles[me.clerk.role] || me.clerk.role) + ")";
          $("error").textContent = lastError ? (t.errors[lastError.code] || lastError.message).replace("{s}", lastError.wait || "") : "";
        }

        function show(session) {
          me = session;
          $("loading").hidden = true;
          $("signin").hidden = !!me;
          $("desk").hidden = !me;
          render();
          if (!me) $("code").focus(); else $("signout").focus();
        }

        async function errorOf(response) {
          try { const body = await response.json(); return { code: body.error.code, message: body.error.message,
                                                             wait: response.headers.get("Retry-After") }; }
          catch (e) { return { code: "network", message: "HTTP " + response.status }; }
        }

        $("lang").addEventListener("click", () => { lang = lang === "zh" ? "en" : "zh"; render(); });

        $("signin").addEventListener("submit", async (event) => {
          event.preventDefault();
          lastError = null;
          try {
            const response = await fetch("/desk/api/sign-in", { method:"POST", credentials:"same-origin",
              headers:{ "Content-Type":"application/json" }, body: JSON.stringify({ code: $("code").value }) });
            if (response.ok) { $("code").value = ""; show(await response.json()); return; }
            lastError = await errorOf(response);
          } catch (e) { lastError = { code: "network", message: String(e) }; }
          render();
          $("code").select();
        });

        $("signout").addEventListener("click", async () => {
          try {
            await fetch("/desk/api/sign-out", { method:"POST", credentials:"same-origin",
              headers:{ "X-CSRF-Token": me ? me.csrf_token : "" } });
          } catch (e) {}
          lastError = null;
          show(null);
        });

        (async () => {
          try {
            const response = await fetch("/desk/api/me", { credentials:"same-origin" });
            show(response.ok ? await response.json() : null);
          } catch (e) { lastError = { code: "network", message: String(e) }; show(null); }
        })();
        </script>
        </body>
        </html>
        """#
}
