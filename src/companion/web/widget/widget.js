/* Companion widget: the assistant on any ERP page.
 *
 * One tag embeds it: <script src="https://HOST/widget.js" data-company="acme" async></script>
 * A dependency-free custom element (<companion-widget>) in a shadow root: the host's CSS
 * can't reach it and it can't reach the host. No build step; this file is what is served.
 *
 * Every text that comes from a user, a document or a model is set with textContent (or an
 * SVG <text> node's textContent), never as HTML: the only innerHTML below is the static
 * stylesheet and skeleton, which hold no data.
 */
(() => {
  "use strict";
  if (window.customElements && customElements.get("companion-widget")) return;

  const SCRIPT = document.currentScript;
  const ORIGIN = SCRIPT && SCRIPT.src ? new URL(SCRIPT.src, location.href).origin : location.origin;
  const STEPS = {
    understanding: "Understanding your question…",
    choosing_tool: "Choosing how to answer…",
    querying: "Querying the ledger…",
    retrieving: "Searching your documents…",
    generating: "Writing the answer…",
    recording: "Recording the answer…",
  };
  const DOC_REF = /\b(?:PO|SO|INV|BILL|RCPT|PAY|JV|SM)-\d{4}-\d{4,}\b/g;
  const AGING = ["current", "1-30", "31-60", "61-90", "90+"];
  const TEXT_COLUMNS = new Set(["number", "code", "sku", "phone", "email", "month", "uom"]);

  const CSS = `
:host { all: initial; --c-bg:#ffffff; --c-fg:#1b2430; --c-muted:#5b6675; --c-line:#d9dee5;
  --c-soft:#f3f5f8; --c-accent:#1f5fbf; --c-accent-fg:#ffffff; --c-user:#e8f0fc; --c-warn:#8a4b00;
  --c-warn-bg:#fff4e0; --c-ok:#17663a; --c-danger:#a4262c; --shadow:0 8px 32px rgba(16,24,40,.22);
  font: 14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color: var(--c-fg); }
:host([theme="dark"]) { --c-bg:#161b22; --c-fg:#e6edf3; --c-muted:#9aa6b2; --c-line:#30363d;
  --c-soft:#21262d; --c-accent:#58a6ff; --c-accent-fg:#0d1117; --c-user:#1c2d45; --c-warn:#f0b45a;
  --c-warn-bg:#2e2312; --c-ok:#56d08a; --c-danger:#ff7b72; --shadow:0 8px 32px rgba(0,0,0,.6); }
@media (prefers-color-scheme: dark) { :host(:not([theme="light"])) { --c-bg:#161b22;
  --c-fg:#e6edf3; --c-muted:#9aa6b2; --c-line:#30363d; --c-soft:#21262d; --c-accent:#58a6ff;
  --c-accent-fg:#0d1117; --c-user:#1c2d45; --c-warn:#f0b45a; --c-warn-bg:#2e2312; --c-ok:#56d08a;
  --c-danger:#ff7b72; --shadow:0 8px 32px rgba(0,0,0,.6); } }
* { box-sizing: border-box; }
button { font: inherit; color: inherit; cursor: pointer; }
button:focus-visible, textarea:focus-visible, a:focus-visible { outline: 2px solid var(--c-accent); outline-offset: 2px; }
.launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 56px; height: 56px;
  border-radius: 50%; border: 0; background: var(--c-accent); color: var(--c-accent-fg); box-shadow: var(--shadow);
  display: grid; place-items: center; }
.launcher svg { width: 26px; height: 26px; }
.badge { position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px;
  background: var(--c-danger); color: #fff; font-size: 12px; font-weight: 600; line-height: 20px; text-align: center; }
.badge[hidden] { display: none; }
.drawer { position: fixed; top: 0; right: 0; bottom: 0; z-index: 2147483001; width: min(440px, 100vw);
  background: var(--c-bg); color: var(--c-fg); border-left: 1px solid var(--c-line); box-shadow: var(--shadow);
  display: flex; flex-direction: column; }
.drawer[hidden] { display: none; }
header { padding: 12px 14px 8px; border-bottom: 1px solid var(--c-line); }
.bar { display: flex; align-items: center; gap: 6px; }
h2 { font-size: 16px; margin: 0; flex: 1; }
.icon { border: 1px solid transparent; background: none; border-radius: 6px; padding: 4px 8px; color: var(--c-muted); }
.icon:hover { background: var(--c-soft); color: var(--c-fg); }
.sees { margin: 4px 0 0; font-size: 12px; color: var(--c-muted); }
.panel { flex: 1; overflow-y: auto; padding: 12px 14px; }
.panel[hidden] { display: none; }
.history button { display: block; width: 100%; text-align: left; padding: 8px 10px; margin: 0 0 6px;
  border: 1px solid var(--c-line); border-radius: 8px; background: var(--c-bg); }
.history button:hover { background: var(--c-soft); }
.history small { display: block; color: var(--c-muted); }
.msg { margin: 0 0 12px; max-width: 100%; }
.msg.user { margin-left: 15%; background: var(--c-user); border-radius: 10px 10px 2px 10px; padding: 8px 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.assistant .text { white-space: pre-wrap; overflow-wrap: anywhere; }
.msg.error .text { color: var(--c-danger); }
.docref { font-weight: 600; }
.cite { border: 0; background: var(--c-soft); border-radius: 4px; padding: 0 4px; font-size: 12px; color: var(--c-accent); vertical-align: super; }
.status { color: var(--c-muted); font-style: italic; margin: 0 0 8px; }
.status::before { content: ""; display: inline-block; width: 8px; height: 8px; margin-right: 6px; border-radius: 50%;
  background: var(--c-accent); animation: pulse 1s infinite alternate; }
@keyframes pulse { from { opacity: .3 } to { opacity: 1 } }
@media (prefers-reduced-motion: reduce) { .status::before { animation: none; } }
.tablewrap { overflow-x: auto; margin: 8px 0 4px; border: 1px solid var(--c-line); border-radius: 8px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
caption { text-align: left; padding: 6px 8px; color: var(--c-muted); font-size: 12px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--c-line); text-align: left; white-space: nowrap; }
th { background: var(--c-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tfoot td { font-weight: 700; border-top: 2px solid var(--c-line); border-bottom: 0; }
.chart { margin: 8px 0; }
.chart svg { width: 100%; height: auto; max-height: 150px; display: block; }
.chart .bar-rect { fill: var(--c-accent); }
.chart text { fill: var(--c-muted); font-size: 9px; }
.prov { font-size: 12px; color: var(--c-muted); margin: 4px 0; }
.sources { margin: 6px 0 0; padding: 0; list-style: none; }
.sources li { margin: 0 0 4px; }
.sources button { border: 0; background: none; padding: 0; color: var(--c-accent); text-align: left; }
.passage { margin: 4px 0 8px; padding: 6px 10px; border-left: 3px solid var(--c-accent); background: var(--c-soft); white-space: pre-wrap; font-size: 13px; }
.passage[hidden] { display: none; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; margin: 8px 0; }
.choices button, .card button, .tools button { border: 1px solid var(--c-line); background: var(--c-bg); border-radius: 16px; padding: 3px 10px; }
.choices button:hover, .tools button:hover { background: var(--c-soft); }
.card { border: 1px solid var(--c-warn); background: var(--c-warn-bg); border-radius: 10px; padding: 10px 12px; margin: 8px 0; }
.card h3 { margin: 0 0 4px; font-size: 14px; color: var(--c-warn); }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; margin: 6px 0; font-size: 13px; }
.card dt { color: var(--c-muted); }
.card dd { margin: 0; overflow-wrap: anywhere; }
.card .actions { display: flex; gap: 8px; align-items: center; margin-top: 8px; flex-wrap: wrap; }
.card .confirm { background: var(--c-accent); color: var(--c-accent-fg); border-color: var(--c-accent); font-weight: 600; }
.card .countdown { font-size: 12px; color: var(--c-muted); margin-left: auto; }
.card.done { border-color: var(--c-line); background: var(--c-soft); }
.card button:disabled, .choices button:disabled { opacity: .55; cursor: default; }
.tools { display: flex; gap: 6px; margin-top: 6px; }
.tools button { border-radius: 6px; font-size: 12px; padding: 2px 8px; color: var(--c-muted); display: inline-flex; align-items: center; }
.tools button[aria-pressed="true"] { color: var(--c-accent); border-color: var(--c-accent); }
.tools .note { font-size: 12px; color: var(--c-ok); align-self: center; }
form { display: flex; gap: 8px; padding: 10px 14px 14px; border-top: 1px solid var(--c-line); }
label.sr, .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
textarea { flex: 1; resize: none; min-height: 40px; max-height: 120px; padding: 9px 10px; border: 1px solid var(--c-line);
  border-radius: 8px; background: var(--c-bg); color: var(--c-fg); font: inherit; }
.send { border: 0; border-radius: 8px; background: var(--c-accent); color: var(--c-accent-fg); padding: 0 14px; font-weight: 600; }
.send:disabled { opacity: .5; cursor: default; }
.empty { color: var(--c-muted); }
.hint { font-size: 12px; color: var(--c-muted); margin: 0 14px; }
@media (max-width: 480px) { .drawer { width: 100vw; border-left: 0; } .msg.user { margin-left: 8%; } }
`;

  const SKELETON = `
<button class="launcher" part="launcher" type="button" aria-haspopup="dialog" aria-expanded="false"
  aria-controls="cw-drawer" aria-label="Open the Companion assistant">
  <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor"
  d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z"/></svg>
  <span class="badge" hidden aria-label="unread alerts"></span>
</button>
<section class="drawer" id="cw-drawer" role="dialog" aria-modal="true" aria-labelledby="cw-title" hidden>
  <header>
    <div class="bar">
      <h2 id="cw-title">Companion</h2>
      <button class="icon" type="button" data-act="new" aria-label="Start a new conversation">New</button>
      <button class="icon" type="button" data-act="history" aria-label="History of past conversations" aria-pressed="false">History</button>
      <button class="icon" type="button" data-act="close" aria-label="Close the assistant">✕</button>
    </div>
    <p class="sees" aria-live="polite"></p>
  </header>
  <div class="panel history" role="region" aria-label="Past conversations" hidden></div>
  <div class="panel log" role="log" aria-live="polite" aria-relevant="additions" aria-label="Conversation"></div>
  <p class="hint">Ctrl + / opens and closes the assistant. Figures come from your ledger.</p>
  <form>
    <label class="sr" for="cw-input">Ask Companion</label>
    <textarea id="cw-input" rows="1" maxlength="4000" placeholder="Ask Companion…"></textarea>
    <button class="send" type="submit">Send</button>
  </form>
</section>`;

  /** An element with optional class and text (always as text). */
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  /** A thumb icon (no emoji: not every system has an emoji font). */
  function thumb(down) {
    const icon = svg("svg", { viewBox: "0 0 24 24", width: 14, height: 14, "aria-hidden": "true", focusable: "false" });
    const path = svg("path", { fill: "currentColor",
      d: "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 7.9 6 8.4 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z" });
    if (down) icon.setAttribute("transform", "rotate(180)");
    icon.append(path);
    return icon;
  }

  function label(column) {
    const s = String(column).replace(/_/g, " ");
    return s.charAt(0).toUpperCase() + s.slice(1);
  }

  function asNumber(value) {
    if (typeof value === "number") return Number.isFinite(value) ? value : null;
    if (typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim())) return Number(value);
    return null;
  }

  class CompanionElement extends HTMLElement {
    static get observedAttributes() { return ["token", "company", "module", "record"]; }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      this._token = null;
      this._conversation = null;
      this._busy = false;
      this._timers = new Set();
      this._me = null;
      this._lastFocus = null;
    }

    connectedCallback() {
      if (this._ready) return;
      this._ready = true;
      const style = document.createElement("style");
      style.textContent = CSS;
      const shell = document.createElement("div");
      shell.innerHTML = SKELETON; // static markup, no data
      this._root.append(style, ...shell.childNodes);
      const $ = (s) => this._root.querySelector(s);
      this._launcher = $(".launcher");
      this._badge = $(".badge");
      this._drawer = $(".drawer");
      this._log = $(".log");
      this._history = $(".history");
      this._sees = $(".sees");
      this._input = $("textarea");
      this._send = $(".send");
      this._historyButton = $('[data-act="history"]');
      this._launcher.addEventListener("click", () => this.toggle());
      $('[data-act="close"]').addEventListener("click", () => this.close());
      $('[data-act="new"]').addEventListener("click", () => this.newConversation());
      this._historyButton.addEventListener("click", () => this._toggleHistory());
      $("form").addEventListener("submit", (e) => { e.preventDefault(); this._submit(); });
      this._input.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); this._submit(); }
      });
      this._drawer.addEventListener("keydown", (e) => this._trap(e));
      this._onKey = (e) => {
        if ((e.ctrlKey || e.metaKey) && e.key === "/") { e.preventDefault(); this.toggle(); return; }
        // Focus that fell out of the open drawer (a disabled button, a click on the page) is
        // brought back by the next Tab: the drawer is modal.
        if (e.key === "Tab" && this.isOpen && !e.composedPath().includes(this._drawer)) {
          e.preventDefault();
          this._input.focus();
        }
      };
      document.addEventListener("keydown", this._onKey);
      if (this.getAttribute("token")) this._token = this.getAttribute("token");
      this._pollUnread();
    }

    disconnectedCallback() {
      document.removeEventListener("keydown", this._onKey);
      for (const t of this._timers) clearInterval(t);
      this._timers.clear();
    }

    attributeChangedCallback(name, _old, value) {
      if (name === "token") this._token = value || null;
    }

    // --- public API -------------------------------------------------------------------
    setToken(token) {
      const first = !this._token;
      this._token = token || null;
      this._me = null;
      if (first && this._token && this._badge) this._pollUnread();
    }
    get isOpen() { return this._drawer && !this._drawer.hidden; }

    toggle() { if (this.isOpen) this.close(); else this.open(); }

    open() {
      if (!this._drawer) return;
      this._lastFocus = document.activeElement;
      this._drawer.hidden = false;
      this._launcher.setAttribute("aria-expanded", "true");
      this._input.focus();
      this._loadMe();
      if (!this._resumed) {
        this._resumed = true;
        // data-state tells the host (and tests) when the resumed conversation is on screen.
        this.setAttribute("data-state", "loading");
        this._resume().finally(() => this.setAttribute("data-state", "ready"));
      }
    }

    close() {
      if (!this.isOpen) return;
      this._drawer.hidden = true;
      this._launcher.setAttribute("aria-expanded", "false");
      this._launcher.focus();
    }

    newConversation() {
      this._conversation = null;
      this._remember(null);
      this._log.replaceChildren();
      this._showLog();
      this._input.focus();
    }

    // --- server -------------------------------------------------------------------------
    _base() { return (this.getAttribute("api-base") || ORIGIN).replace(/\/$/, ""); }

    _headers(json) {
      const h = { Accept: "application/json" };
      if (json) h["Content-Type"] = "application/json";
      if (this._token) h.Authorization = "Bearer " + this._token;
      const company = this.getAttribute("company");
      if (company) h["X-Company"] = company;
      return h;
    }

    async _api(method, path, body) {
      const response = await fetch(this._base() + "/api/v1" + path, {
        method, headers: this._headers(body !== undefined),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok) throw await this._error(response);
      return response.json();
    }

    async _error(response) {
      let message = "The request failed (" + response.status + ").";
      try {
        const body = await response.json();
        if (body && body.error && body.error.message) message = body.error.message;
      } catch (_) { /* not JSON: keep the status line */ }
      if (response.status === 401) message = "You are not signed in, or your session has expired. Sign in again.";
      const error = new Error(message);
      error.status = response.status;
      return error;
    }

    _storageKey() { return "companion.conversation." + (this.getAttribute("company") || "default"); }

    _remember(id) {
      try {
        if (id) localStorage.setItem(this._storageKey(), id);
        else localStorage.removeItem(this._storageKey());
      } catch (_) { /* storage blocked: the server's latest conversation is used instead */ }
    }

    _recalled() {
      try { return localStorage.getItem(this._storageKey()); } catch (_) { return null; }
    }

    async _pollUnread() {
      // The badge shows alerts once the server has them; a 404 means it doesn't: stop asking.
      if (!this._token) { this._badge.hidden = true; return; }
      try {
        const response = await fetch(this._base() + "/api/v1/ai/alerts/unread-count", { headers: this._headers(false) });
        if (response.status === 404) { this._badge.hidden = true; return; }
        if (response.ok) {
          const body = await response.json();
          const count = Number(body.count ?? body.unread ?? 0);
          this._badge.textContent = count > 99 ? "99+" : String(count);
          this._badge.setAttribute("aria-label", count + " unread alerts");
          this._badge.hidden = !(count > 0);
        }
      } catch (_) { this._badge.hidden = true; return; }
      const timer = setTimeout(() => { this._timers.delete(timer); this._pollUnread(); }, 60000);
      this._timers.add(timer);
    }

    async _loadMe() {
      if (this._me || !this._token) { this._showSees(); return; }
      try { this._me = await this._api("GET", "/me"); } catch (_) { this._me = null; }
      this._showSees();
    }

    _context() {
      const ctx = { page: (this.getAttribute("page") || location.pathname).slice(0, 200) };
      const module = this.getAttribute("module");
      const record = this.getAttribute("record");
      if (module) ctx.module = module.slice(0, 64);
      if (record) ctx.record = record.slice(0, 64);
      return ctx;
    }

    _showSees(context) {
      if (!this._token) { this._sees.textContent = "Not signed in."; return; }
      const parts = [];
      const me = this._me && this._me.company;
      const company = me && (!context || context.company === me.slug) ? me.name : context && context.company;
      const roles = context ? context.roles : this._me && this._me.roles;
      if (company) parts.push(company);
      if (roles && roles.length) parts.push("roles: " + roles.join(", "));
      const ctx = this._context();
      if (ctx.module) parts.push("module: " + ctx.module);
      if (ctx.record) parts.push("on " + ctx.record);
      this._sees.textContent = parts.length ? "Sees: " + parts.join(" · ") : "";
    }

    async _resume() {
      if (!this._token) { this._notice("Sign in to your ERP to use the assistant."); return; }
      try {
        let id = this._recalled();
        if (!id) {
          const page = await this._api("GET", "/ai/conversations?limit=1");
          id = page.items.length ? page.items[0].id : null;
        }
        if (id) await this._openConversation(id);
        else this._greet();
      } catch (error) {
        if (error.status === 404) { this._remember(null); this._greet(); }
        else this._notice(error.message, true);
      }
    }

    _greet() {
      this._log.replaceChildren();
      this._notice("Ask about your figures (“cash balance”, “overdue invoices”), your policies, or ask me to do something (“approve this PO”).");
    }

    async _openConversation(id) {
      const detail = await this._api("GET", "/ai/conversations/" + encodeURIComponent(id));
      this._conversation = detail.id;
      this._remember(detail.id);
      this._log.replaceChildren();
      for (const m of detail.messages) {
        if (m.role === "user") this._userBubble(m.content);
        else this._answer({ message: m.content, message_id: m.id, data: m.data, sources: m.sources, rating: m.rating }, false);
      }
      this._showLog();
      this._log.scrollTop = this._log.scrollHeight;
    }

    async _toggleHistory() {
      if (!this._history.hidden) { this._showLog(); return; }
      this._history.hidden = false;
      this._log.hidden = true;
      this._historyButton.setAttribute("aria-pressed", "true");
      this._history.replaceChildren(el("p", "empty", "Loading…"));
      try {
        const page = await this._api("GET", "/ai/conversations?limit=50");
        this._history.replaceChildren();
        if (!page.items.length) this._history.append(el("p", "empty", "No conversations yet."));
        for (const c of page.items) {
          const b = el("button", null, c.title || "Untitled");
          b.type = "button";
          b.append(el("small", null, new Date(c.updated_at).toLocaleString()));
          b.addEventListener("click", async () => {
            try { await this._openConversation(c.id); } catch (error) { this._notice(error.message, true); }
            this._input.focus();
          });
          this._history.append(b);
        }
      } catch (error) {
        this._history.replaceChildren(el("p", "empty", error.message));
      }
    }

    _showLog() {
      this._history.hidden = true;
      this._log.hidden = false;
      this._historyButton.setAttribute("aria-pressed", "false");
    }

    // --- asking -------------------------------------------------------------------------
    _submit() {
      const text = this._input.value.trim();
      if (!text || this._busy) return;
      this._input.value = "";
      this.ask(text);
    }

    async ask(text) {
      if (this._busy) return;
      if (!this._token) { this._notice("Sign in to your ERP to use the assistant.", true); return; }
      this._busy = true;
      this._send.disabled = true;
      this._showLog();
      this._userBubble(text);
      const status = el("p", "status", STEPS.understanding);
      status.setAttribute("role", "status");
      const draft = el("div", "msg assistant draft");
      this._log.append(status, draft);
      this._scroll();
      const body = { message: text, context: this._context() };
      if (this._conversation) body.conversation_id = this._conversation;
      try {
        const final = await this._stream(body, (kind, data) => {
          if (kind === "status" && STEPS[data.step]) status.textContent = STEPS[data.step];
          if (kind === "token") { draft.textContent += data.text || ""; this._scroll(); }
        });
        status.remove();
        draft.remove();
        this._conversation = final.conversation_id;
        this._remember(final.conversation_id);
        this._answer(final, true);
        if (final.context) this._showSees(final.context);
      } catch (error) {
        status.remove();
        draft.remove();
        this._notice(error.message, true);
      } finally {
        this._busy = false;
        this._send.disabled = false;
        this._scroll();
        // The Send button was disabled under the user's focus: give it back to the input.
        if (this.isOpen && !this._root.activeElement) this._input.focus();
      }
    }

    /** POST to the SSE endpoint and read its events; resolves with the final chat response. */
    async _stream(body, onEvent) {
      const response = await fetch(this._base() + "/api/v1/ai/chat/stream", {
        method: "POST", headers: { ...this._headers(true), Accept: "text/event-stream" }, body: JSON.stringify(body),
      });
      if (!response.ok) throw await this._error(response);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let kind = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) kind = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          }
          if (!data.length) continue;
          const payload = JSON.parse(data.join("\n"));
          if (kind === "final") { reader.cancel().catch(() => {}); return payload; }
          if (kind === "error") {
            const error = new Error((payload.error && payload.error.message) || "The answer failed.");
            error.status = 0;
            throw error;
          }
          onEvent(kind, payload);
        }
      }
      throw new Error("The connection closed before the answer arrived. Try again.");
    }

    // --- rendering ----------------------------------------------------------------------
    _scroll() { this._log.scrollTop = this._log.scrollHeight; }

    _userBubble(text) {
      const bubble = el("div", "msg user", text);
      bubble.setAttribute("aria-label", "You said");
      this._log.append(bubble);
    }

    _notice(text, isError) {
      const m = el("div", "msg assistant" + (isError ? " error" : ""));
      m.append(el("div", "text", text));
      if (isError) m.setAttribute("role", "alert");
      this._log.append(m);
      this._showLog();
    }

    /** One answer: text with citations, table, chart, provenance, sources, choices, card, tools. */
    _answer(answer, live) {
      const m = el("div", "msg assistant");
      const sources = Array.isArray(answer.sources) ? answer.sources : [];
      const passages = new Map();
      // The plain-text "Sources: [1] ..." line is for clients without a list; the list below shows them.
      const text = sources.length ? (answer.message || "").replace(/\n*Sources: [^\n]*\s*$/, "") : answer.message || "";
      m.append(this._text(text, sources, passages));
      const data = answer.data;
      if (data && Array.isArray(data.columns) && Array.isArray(data.rows) && data.rows.length) {
        m.append(this._table(data));
        const chart = this._chart(data);
        if (chart) m.append(chart);
      }
      if (data && data.provenance) m.append(el("p", "prov", data.provenance));
      if (sources.length) m.append(this._sources(sources, passages));
      if (live && Array.isArray(answer.choices) && answer.choices.length) m.append(this._choices(answer.choices));
      if (live && answer.pending_confirmation) m.append(this._card(answer.pending_confirmation));
      if (answer.message_id) m.append(this._tools(answer));
      this._log.append(m);
      return m;
    }

    _text(message, sources, passages) {
      const box = el("div", "text");
      // Split out [n] citations and document numbers; every piece is a text node.
      const pattern = new RegExp("\\[(\\d{1,2})\\]|" + DOC_REF.source, "g");
      let last = 0;
      for (const match of message.matchAll(pattern)) {
        box.append(document.createTextNode(message.slice(last, match.index)));
        if (match[1] !== undefined) {
          const n = Number(match[1]);
          const source = sources.find((s, i) => (s.number ?? i + 1) === n);
          if (source) {
            const cite = el("button", "cite", "[" + n + "]");
            cite.type = "button";
            cite.setAttribute("aria-label", "Source " + n + ": " + (source.title || ""));
            cite.addEventListener("click", () => { const p = passages.get(n); if (p) p.open(); });
            box.append(cite);
          } else box.append(document.createTextNode(match[0]));
        } else box.append(el("span", "docref", match[0]));
        last = match.index + match[0].length;
      }
      box.append(document.createTextNode(message.slice(last)));
      return box;
    }

    _formatter(fraction) {
      const locale = this.getAttribute("locale") || undefined;
      try {
        return new Intl.NumberFormat(locale, fraction ? { minimumFractionDigits: 2, maximumFractionDigits: 2 } : {});
      } catch (_) {
        return new Intl.NumberFormat(undefined, fraction ? { minimumFractionDigits: 2, maximumFractionDigits: 2 } : {});
      }
    }

    _numericColumns(data) {
      return data.columns.map((c, i) => !TEXT_COLUMNS.has(String(c)) &&
        data.rows.every((r) => r[i] === null || r[i] === undefined || asNumber(r[i]) !== null) &&
        data.rows.some((r) => asNumber(r[i]) !== null));
    }

    _cell(value, numeric, decimals) {
      if (value === null || value === undefined) return "";
      const n = numeric ? asNumber(value) : null;
      if (n === null) return typeof value === "object" ? JSON.stringify(value) : String(value);
      return this._formatter(decimals).format(n);
    }

    _table(data) {
      const numeric = this._numericColumns(data);
      const decimals = data.columns.map((_, i) => data.rows.some((r) => typeof r[i] === "string" && r[i].includes(".") || (typeof r[i] === "number" && !Number.isInteger(r[i]))));
      const wrap = el("div", "tablewrap");
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      const table = el("table");
      const caption = el("caption", null, data.currency ? "Amounts in " + data.currency : "Result");
      table.append(caption);
      wrap.setAttribute("aria-label", caption.textContent);
      const head = el("thead");
      const hr = el("tr");
      data.columns.forEach((c, i) => {
        const th = el("th", numeric[i] ? "num" : null, label(c));
        th.scope = "col";
        hr.append(th);
      });
      head.append(hr);
      const bodyEl = el("tbody");
      for (const row of data.rows) {
        const tr = el("tr");
        data.columns.forEach((_, i) => tr.append(el("td", numeric[i] ? "num" : null, this._cell(row[i], numeric[i], decimals[i]))));
        bodyEl.append(tr);
      }
      table.append(head, bodyEl);
      const totals = data.totals || {};
      if (Object.keys(totals).length && data.rows.length > 1) {
        const foot = el("tfoot");
        const tr = el("tr");
        data.columns.forEach((c, i) => {
          let text = i === 0 ? "Total" : "";
          if (c in totals && i > 0) text = this._cell(totals[c], true, decimals[i] || !Number.isInteger(asNumber(totals[c]) ?? 0));
          tr.append(el("td", i > 0 && c in totals ? "num" : null, text));
        });
        foot.append(tr);
        table.append(foot);
      }
      wrap.append(table);
      return wrap;
    }

    /** Bars for data.chart, a series by month, or aging buckets; null when the shape is neither. */
    _chart(data) {
      let points = null;
      let title = "";
      const numeric = this._numericColumns(data);
      if (data.chart && Array.isArray(data.chart.labels) && Array.isArray(data.chart.values)) {
        points = data.chart.labels.map((l, i) => [String(l), asNumber(data.chart.values[i]) || 0]);
        title = String(data.chart.title || "Chart");
      } else if (data.rows.length >= 2 && data.rows.every((r) => /^\d{4}-\d{2}$/.test(String(r[0])))) {
        const col = numeric.lastIndexOf(true);
        if (col > 0) {
          points = data.rows.map((r) => [String(r[0]), asNumber(r[col]) || 0]);
          title = label(data.columns[col]) + " by month";
        }
      } else if (AGING.every((b) => data.columns.includes(b))) {
        const totals = data.totals || {};
        points = AGING.map((b) => {
          const i = data.columns.indexOf(b);
          const t = asNumber(totals[b]);
          return [b, t !== null ? t : data.rows.reduce((s, r) => s + (asNumber(r[i]) || 0), 0)];
        });
        title = "Open amount by age (days)";
      }
      if (!points || !points.length) return null;
      const W = 320, H = 150, top = 14, bottom = 24, left = 4;
      const max = Math.max(...points.map((p) => Math.abs(p[1])), 1);
      const slot = (W - left * 2) / points.length;
      const figure = el("figure", "chart");
      figure.style.margin = "8px 0";
      const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
      const t = svg("title");
      t.textContent = title;
      chart.append(t);
      const fmt = this._formatter(false);
      points.forEach(([name, value], i) => {
        const h = Math.max(1, (Math.abs(value) / max) * (H - top - bottom));
        const x = left + i * slot + slot * 0.15;
        const bar = svg("rect", { class: "bar-rect", x, y: H - bottom - h, width: slot * 0.7, height: h, rx: 2 });
        const tip = svg("title");
        tip.textContent = name + ": " + fmt.format(Math.round(value));
        bar.append(tip);
        const tick = svg("text", { x: x + slot * 0.35, y: H - bottom + 12, "text-anchor": "middle" });
        tick.textContent = /^\d{4}-\d{2}$/.test(name) ? name.slice(2) : name;
        chart.append(bar, tick);
      });
      const caption = el("figcaption", "prov", title);
      figure.append(chart, caption);
      return figure;
    }

    _sources(sources, passages) {
      const list = el("ol", "sources");
      list.setAttribute("aria-label", "Sources");
      sources.forEach((s, i) => {
        const n = s.number ?? i + 1;
        const li = el("li");
        const b = el("button", null, "[" + n + "] " + (s.title || "Source") + (s.section ? " — " + s.section : ""));
        b.type = "button";
        b.setAttribute("aria-expanded", "false");
        const passage = el("blockquote", "passage", s.snippet || "");
        passage.hidden = true;
        passage.id = "cw-p-" + Math.random().toString(36).slice(2);
        b.setAttribute("aria-controls", passage.id);
        const set = (open) => { passage.hidden = !open; b.setAttribute("aria-expanded", String(open)); };
        b.addEventListener("click", () => set(passage.hidden));
        passages.set(n, { open: () => { set(true); b.focus(); } });
        li.append(b, passage);
        list.append(li);
      });
      return list;
    }

    _choices(choices) {
      const box = el("div", "choices");
      box.setAttribute("role", "group");
      box.setAttribute("aria-label", "Suggested answers");
      for (const choice of choices) {
        const b = el("button", null, choice);
        b.type = "button";
        b.addEventListener("click", () => { box.querySelectorAll("button").forEach((x) => { x.disabled = true; }); this.ask(String(choice)); });
        box.append(b);
      }
      return box;
    }

    _preview(preview) {
      const box = el("div");
      for (const [key, value] of Object.entries(preview || {})) {
        if (Array.isArray(value) && value.length && value.every((v) => v && typeof v === "object")) {
          const cols = [...new Set(value.flatMap((v) => Object.keys(v)))].filter((c) => value.some((v) => v[c] !== null && v[c] !== undefined));
          if (key === "documents") {
            for (const doc of value) {
              const dl = el("dl");
              for (const c of cols) if (doc[c] !== null && doc[c] !== undefined) dl.append(el("dt", null, label(c)), el("dd", null, this._value(doc[c])));
              box.append(dl);
            }
          } else {
            box.append(el("p", "prov", label(key)));
            box.append(this._table({ columns: cols, rows: value.map((v) => cols.map((c) => (typeof v[c] === "object" && v[c] !== null ? JSON.stringify(v[c]) : v[c]))), totals: {} }));
          }
        } else if (value !== null && value !== undefined && typeof value !== "object") {
          const dl = el("dl");
          dl.append(el("dt", null, label(key)), el("dd", null, this._value(value)));
          box.append(dl);
        }
      }
      return box;
    }

    /** A preview value: amounts with decimals in the host's format, the rest as written. */
    _value(value) {
      if (typeof value === "object") return JSON.stringify(value);
      const n = typeof value === "string" && /^-?\d+\.\d+$/.test(value) ? Number(value) : null;
      return n === null ? String(value) : this._formatter(true).format(n);
    }

    _card(pending) {
      const card = el("div", "card");
      card.setAttribute("role", "group");
      card.setAttribute("aria-label", "Confirmation needed");
      card.append(el("h3", null, "Confirm: " + label(pending.action)));
      card.append(el("p", null, pending.summary));
      card.append(this._preview(pending.preview));
      const actions = el("div", "actions");
      const yes = el("button", "confirm", "Confirm");
      const no = el("button", null, "Cancel");
      yes.type = no.type = "button";
      const countdown = el("span", "countdown");
      countdown.setAttribute("aria-live", "off");
      actions.append(yes, no, countdown);
      card.append(actions);
      const expires = new Date(pending.expires_at).getTime();
      const finish = (text) => {
        clearInterval(timer);
        this._timers.delete(timer);
        yes.disabled = no.disabled = true;
        card.classList.add("done");
        countdown.textContent = text;
      };
      const tick = () => {
        const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
        if (left <= 0) { finish("Expired: nothing was done. Ask again to redo it."); return; }
        countdown.textContent = "Expires in " + Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
      };
      const timer = setInterval(tick, 1000);
      this._timers.add(timer);
      tick();
      // The latest proposal is answered in the conversation ("yes"/"no"), so the result is
      // part of its transcript; an older one by its token, which can't hit another proposal.
      const decide = async (confirm) => {
        finish(confirm ? "Confirming…" : "Cancelling…");
        const latest = this._log.lastElementChild && this._log.lastElementChild.contains(card);
        if (latest) { await this.ask(confirm ? "yes" : "no"); countdown.textContent = confirm ? "Confirmed." : "Cancelled."; return; }
        try {
          const out = await this._api("POST", "/ai/actions/" + encodeURIComponent(pending.token) + (confirm ? "/confirm" : "/cancel"));
          countdown.textContent = confirm ? "Confirmed." : "Cancelled.";
          if (confirm) this._answer({ message: out.message || ("Done: " + (out.document_ref || "")) }, false);
          else this._notice("Cancelled: nothing was done.");
        } catch (error) {
          countdown.textContent = "";
          this._notice(error.message, true);
        }
        this._scroll();
      };
      yes.addEventListener("click", () => decide(true));
      no.addEventListener("click", () => decide(false));
      return card;
    }

    _tools(answer) {
      const tools = el("div", "tools");
      tools.setAttribute("role", "group");
      tools.setAttribute("aria-label", "Answer tools");
      const up = el("button");
      const down = el("button");
      up.append(thumb(false));
      down.append(thumb(true));
      const copy = el("button", null, "Copy");
      up.setAttribute("aria-label", "Good answer");
      down.setAttribute("aria-label", "Bad answer");
      copy.setAttribute("aria-label", "Copy the answer");
      const note = el("span", "note");
      note.setAttribute("aria-live", "polite");
      for (const b of [up, down, copy]) b.type = "button";
      const pressed = (rating) => {
        up.setAttribute("aria-pressed", String(rating === 1 || rating === "up"));
        down.setAttribute("aria-pressed", String(rating === -1 || rating === "down"));
      };
      pressed(answer.rating);
      const rate = async (rating) => {
        try {
          await this._api("POST", "/ai/messages/" + encodeURIComponent(answer.message_id) + "/feedback", { rating });
          pressed(rating);
          note.textContent = "Thanks for the feedback.";
        } catch (error) { note.textContent = error.message; }
      };
      up.addEventListener("click", () => rate("up"));
      down.addEventListener("click", () => rate("down"));
      copy.addEventListener("click", async () => {
        try { await navigator.clipboard.writeText(answer.message || ""); note.textContent = "Copied."; }
        catch (_) { note.textContent = "Copy is not allowed on this page."; }
      });
      tools.append(up, down, copy, note);
      return tools;
    }

    /** Keeps Tab inside the open drawer; Escape closes it. */
    _trap(e) {
      if (e.key === "Escape") { e.preventDefault(); this.close(); return; }
      if (e.key !== "Tab") return;
      const focusables = [...this._drawer.querySelectorAll("button, textarea, [tabindex='0']")]
        .filter((n) => !n.disabled && !n.closest("[hidden]") && n.offsetParent !== null);
      if (!focusables.length) return;
      const first = focusables[0];
      const lastEl = focusables[focusables.length - 1];
      const active = this._root.activeElement;
      if (e.shiftKey && (active === first || !this._drawer.contains(active))) { e.preventDefault(); lastEl.focus(); }
      else if (!e.shiftKey && active === lastEl) { e.preventDefault(); first.focus(); }
    }
  }

  customElements.define("companion-widget", CompanionElement);

  function widget() { return document.querySelector("companion-widget"); }

  // The host's handle: a token from its own login, and the page it is on (for SPAs).
  window.CompanionWidget = {
    setToken(token) { const w = widget(); if (w) w.setToken(token); else pendingToken = token; },
    setContext(ctx) {
      const w = widget();
      if (!w || !ctx) return;
      for (const k of ["module", "record", "page"]) {
        if (ctx[k]) w.setAttribute(k, String(ctx[k])); else w.removeAttribute(k);
      }
    },
    open() { const w = widget(); if (w) w.open(); },
    close() { const w = widget(); if (w) w.close(); },
    ask(text) { const w = widget(); if (w) { w.open(); return w.ask(text); } return undefined; },
  };
  let pendingToken = null;

  // One tag is enough: mount the element with the script tag's data-* settings.
  function mount() {
    if (widget() || (SCRIPT && SCRIPT.dataset.mount === "manual")) return;
    const w = document.createElement("companion-widget");
    const data = SCRIPT ? SCRIPT.dataset : {};
    for (const [key, attr] of [["company", "company"], ["token", "token"], ["theme", "theme"], ["module", "module"],
      ["record", "record"], ["locale", "locale"], ["api", "api-base"], ["page", "page"]]) {
      if (data[key]) w.setAttribute(attr, data[key]);
    }
    document.body.append(w);
    if (pendingToken) w.setToken(pendingToken);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
