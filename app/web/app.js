// ragqa chat page. Plain JavaScript, no dependencies, no build step.
//
// Safety rule for this file: text from the model, the documents or the server is only ever
// put on the page with textContent / createTextNode — never innerHTML.
"use strict";

(() => {
  const HISTORY_MESSAGES = 6; // the last three exchanges go with a follow-up
  const HISTORY_CHARS = 2000; // each message clipped to this many characters
  const CONTEXT_CHARS = 320; // context shown around a cited passage
  const MAX_BUSY_RETRIES = 30;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    statusText: $("status-text"),
    banner: $("banner"),
    welcome: $("welcome"),
    welcomeDocs: $("welcome-docs"),
    conversation: $("conversation"),
    form: $("ask-form"),
    question: $("question"),
    send: $("send"),
    stop: $("stop"),
    newChat: $("new-chat"),
    docsPanel: $("docs-panel"),
    docsToggle: $("docs-toggle"),
    docsClose: $("docs-close"),
    docsCount: $("docs-count"),
    scopeNote: $("scope-note"),
    docsList: $("docs-list"),
    docsMessage: $("docs-message"),
    uploadForm: $("upload-form"),
    uploadFile: $("upload-file"),
    uploadBtn: $("upload-btn"),
    uploadName: $("upload-name"),
    viewer: $("viewer"),
    viewerKicker: $("viewer-kicker"),
    viewerTitle: $("viewer-title"),
    viewerHeading: $("viewer-heading"),
    viewerMeta: $("viewer-meta"),
    viewerBody: $("viewer-body"),
    viewerWhole: $("viewer-whole"),
    viewerClose: $("viewer-close"),
    announcer: $("announcer"),
  };

  const state = {
    busy: false,
    controller: null, // AbortController of the request in flight
    retry: null, // {timer, cancel} while waiting to retry after a 503
    history: [], // [{role, content}] of finished exchanges, oldest first
    docTexts: new Map(), // doc_id -> Promise<{document, text}>
    viewerDoc: null, // what the viewer shows, for "whole document"
    scope: new Set(), // doc_ids ticked "ask within"; empty: all documents
  };

  // ---- small helpers -------------------------------------------------------------

  /** createElement with a class, text and attributes; children may be nodes or strings. */
  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function announce(message) {
    ui.announcer.textContent = "";
    // a fresh text node after a tick makes screen readers announce repeated messages too
    window.setTimeout(() => {
      ui.announcer.textContent = message;
    }, 50);
  }

  function formatMs(ms) {
    if (ms === null || ms === undefined) return null;
    if (ms < 1000) return `${Math.round(ms)} ms`;
    return `${(ms / 1000).toFixed(1)} s`;
  }

  function plural(n, one, many) {
    return `${n.toLocaleString()} ${n === 1 ? one : many}`;
  }

  function modelLabel(name) {
    return String(name || "").replace(/\.gguf$/i, "");
  }

  function nearBottom() {
    const doc = document.documentElement;
    return window.innerHeight + window.scrollY >= doc.scrollHeight - 160;
  }

  function scrollToBottom() {
    window.scrollTo({ top: document.documentElement.scrollHeight });
  }

  // ---- talking to the server -----------------------------------------------------------

  /** fetch with the API key (asked for once if the server wants one). */
  async function api(path, options = {}, retried = false) {
    const headers = new Headers(options.headers || {});
    const key = window.sessionStorage.getItem("ragqa-api-key");
    if (key) headers.set("Authorization", `Bearer ${key}`);
    const res = await fetch(path, { ...options, headers });
    if (res.status === 401 && !retried) {
      const given = window.prompt("This ragqa server needs its API key (RAGQA_API_KEY):");
      if (given) {
        window.sessionStorage.setItem("ragqa-api-key", given.trim());
        return api(path, options, true);
      }
    }
    return res;
  }

  /** The {code, message, status, retryAfter} of a failed response, whatever its body. */
  async function errorOf(res) {
    let code = `http_${res.status}`;
    let message = `The server answered ${res.status}${res.statusText ? ` ${res.statusText}` : ""}.`;
    try {
      const body = await res.json();
      if (body && body.error && body.error.message) {
        code = body.error.code || code;
        message = body.error.message;
      }
    } catch (_) {
      // not JSON: keep the generic message
    }
    const header = res.headers.get("Retry-After");
    const retryAfter = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : null;
    return { code, message, status: res.status, retryAfter };
  }

  /** Read a text/event-stream body, calling onEvent(name, data) for each event. */
  async function readEvents(res, onEvent) {
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    const dispatch = (block) => {
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        if (field === "event") name = value;
        else if (field === "data") data.push(value);
      }
      if (!data.length) return;
      let parsed;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch (_) {
        return;
      }
      onEvent(name, parsed);
    };
    const drain = (final) => {
      // normalise CRLF / CR, but keep a trailing CR: its LF may come in the next chunk
      const cut = !final && buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
      buffer = buffer.slice(0, cut).replace(/\r\n?/g, "\n") + buffer.slice(cut);
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        dispatch(block);
      }
      if (final && buffer.trim()) dispatch(buffer);
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      drain(false);
    }
    buffer += decoder.decode();
    drain(true);
  }

  // ---- health ------------------------------------------------------------------------

  async function checkHealth() {
    try {
      const res = await fetch("/health");
      const body = await res.json();
      if (res.ok && body.status === "ok") {
        ui.status.className = "status ok";
        ui.statusText.textContent = `Ready · ${modelLabel(body.model)}`;
        ui.status.title = `Model: ${body.model}`;
        ui.banner.hidden = true;
      } else {
        ui.status.className = "status bad";
        ui.statusText.textContent = "Not ready";
        const problems = (body.problems || []).join(" ");
        showBanner(`The service is not fully ready. ${problems || "Check the server log."}`);
      }
    } catch (_) {
      ui.status.className = "status bad";
      ui.statusText.textContent = "Offline";
      showBanner("Cannot reach the ragqa server. Is it running? This page will work once it is.");
    }
  }

  function showBanner(text) {
    ui.banner.textContent = text;
    ui.banner.hidden = false;
  }

  // ---- one question and its answer -----------------------------------------------------

  class Turn {
    constructor(question) {
      this.question = question;
      this.result = null; // the `citations` event: the full answer
      this.raw = ""; // streamed text
      this.stateEl = h("div", { class: "answer-state" });
      this.headEl = h("p", { class: "unanswerable-title", text: "The articles don't contain this" });
      this.headEl.hidden = true;
      this.textEl = h("p", { class: "answer-text" });
      this.extraEl = h("div", { class: "answer-extra" });
      this.answerEl = h(
        "article",
        { class: "answer", "aria-label": "Answer", "data-status": "pending", "aria-busy": "true" },
        this.stateEl,
        this.headEl,
        this.textEl,
        this.extraEl,
      );
      this.el = h(
        "li",
        { class: "turn" },
        h("div", { class: "question" }, h("p", { text: question })),
        this.answerEl,
      );
    }

    set status(value) {
      this.answerEl.dataset.status = value;
      this.answerEl.classList.toggle("streaming", value === "streaming");
      const active = value === "pending" || value === "streaming" || value === "busy";
      this.answerEl.setAttribute("aria-busy", active ? "true" : "false");
    }

    setState(text) {
      this.stateEl.replaceChildren();
      if (!text) {
        this.stateEl.hidden = true;
        return;
      }
      this.stateEl.hidden = false;
      this.stateEl.append(h("span", { class: "spinner", "aria-hidden": "true" }), h("span", { text }));
    }

    reset() {
      this.raw = "";
      this.result = null;
      this.textEl.replaceChildren();
      this.extraEl.replaceChildren();
      this.answerEl.classList.remove("unanswerable");
      this.headEl.hidden = true;
    }

    appendToken(text) {
      const stick = nearBottom();
      if (!this.raw) this.setState(null);
      this.raw += text;
      this.textEl.append(document.createTextNode(text));
      if (stick) scrollToBottom();
    }

    notice(kind, text, action, lead) {
      const p = h("p", null, lead ? h("strong", { text: lead }) : null, lead ? " " : null, text);
      const box = h("div", { class: `notice ${kind}` }, p);
      if (action) box.append(action);
      this.extraEl.append(box);
      return box;
    }
  }

  function citationLabel(c) {
    const heading = c.heading ? ` — ${c.heading}` : "";
    const page = c.page !== null && c.page !== undefined ? `, p. ${c.page}` : "";
    return `${c.title || c.source}${heading}${page}`;
  }

  function chip(c) {
    return h("button", {
      type: "button",
      class: c.inferred ? "chip inferred" : "chip",
      text: String(c.number),
      title: citationLabel(c) + (c.inferred ? " (attached by similarity)" : ""),
      "aria-label": `Source ${c.number}: ${citationLabel(c)}${c.inferred ? ", attached by similarity" : ""}`,
      onclick: () => openPassage(c),
    });
  }

  /** The final answer: [n] markers become chips; sources and timings go underneath. */
  function renderResult(turn, result) {
    turn.result = result;
    turn.textEl.replaceChildren();
    const sources = result.sources || [];
    const citations = result.citations || [];
    const byNumber = new Map(sources.map((s) => [s.number, s]));
    for (const c of citations) byNumber.set(c.number, c);

    if (!result.answerable) {
      turn.answerEl.classList.add("unanswerable");
      turn.headEl.hidden = false;
      turn.textEl.textContent = result.answer;
    } else {
      let chips = 0;
      const parts = String(result.answer).split(/\[(\d+)\]/);
      parts.forEach((part, i) => {
        if (i % 2 === 0) {
          if (part) turn.textEl.append(document.createTextNode(part));
          return;
        }
        const c = byNumber.get(Number(part));
        if (c) {
          turn.textEl.append(chip(c));
          chips += 1;
        } else {
          turn.textEl.append(document.createTextNode(`[${part}]`));
        }
      });
      if (!chips && citations.length) {
        const line = h("p", { class: "inferred-line" }, "Supported by ");
        for (const c of citations) line.append(chip(c), " ");
        if (citations.some((c) => c.inferred)) line.append("— attached by similarity");
        turn.extraEl.append(line);
      }
      if (result.certainty != null) {
        const c = Number(result.certainty).toFixed(2);
        turn.extraEl.append(
          h("p", { class: "certainty-line", text: `The model's certainty of its claim: ${c} (the least probability it gave a word of the figures and names it answered with; a sure model can still be wrong).` }),
        );
      }
      if (result.refusal_probability != null) {
        const p = Number(result.refusal_probability).toFixed(2);
        turn.extraEl.append(
          h("p", { class: "reconsidered-line", text: `The model first leaned towards saying the sources do not answer this (probability ${p}); this is its next most likely answer, checked against the sources.` }),
        );
      }
    }

    if (sources.length) {
      const list = h("ol", { class: "source-list" });
      for (const s of sources) {
        const cited = citations.find((c) => c.number === s.number);
        const shown = cited || s;
        const tags = h("span", { class: "source-tags" });
        if (cited && cited.inferred) tags.append(h("span", { class: "tag similar", text: "attached by similarity" }));
        else if (cited) tags.append(h("span", { class: "tag", text: "cited" }));
        tags.append(h("span", { class: "score", title: "Similarity of question and passage", text: Number(s.score).toFixed(2) }));
        const main = h(
          "span",
          { class: "source-main" },
          h("span", { class: "source-title", text: s.title || s.source }),
          s.heading ? h("span", { class: "source-heading", text: ` — ${s.heading}` }) : null,
          s.page !== null && s.page !== undefined ? h("span", { class: "source-page", text: `, p. ${s.page}` }) : null,
        );
        list.append(
          h(
            "li",
            null,
            h(
              "button",
              {
                type: "button",
                class: cited ? "source cited" : "source",
                title: citationLabel(s),
                onclick: () => openPassage(shown),
                "aria-label": `Source ${s.number}: ${citationLabel(s)}, score ${Number(s.score).toFixed(2)}${
                  cited ? (cited.inferred ? ", attached by similarity" : ", cited") : ""
                }`,
              },
              h("span", { class: "source-num", text: `[${s.number}]` }),
              main,
              tags,
            ),
          ),
        );
      }
      turn.extraEl.append(
        h(
          "section",
          { class: "sources", "aria-label": "Sources" },
          h("h3", { text: result.answerable ? "Sources" : "Closest passages" }),
          list,
        ),
      );
    }
  }

  function renderTimings(turn, done) {
    const t = done.timings || {};
    const parts = [];
    if (t.retrieval_ms !== undefined) parts.push(`retrieval ${formatMs(t.retrieval_ms)}`);
    if (t.ttft_ms !== null && t.ttft_ms !== undefined) parts.push(`first token ${formatMs(t.ttft_ms)}`);
    if (t.total_ms !== undefined) parts.push(`total ${formatMs(t.total_ms)}`);
    if (done.model && done.model !== "none") parts.push(modelLabel(done.model));
    if (parts.length) turn.extraEl.append(h("p", { class: "timings", text: parts.join(" · ") }));
  }

  // ---- asking --------------------------------------------------------------------------

  function setBusy(busy) {
    state.busy = busy;
    document.body.dataset.busy = busy ? "true" : "false";
    const stopHadFocus = document.activeElement === ui.stop;
    ui.send.hidden = busy;
    ui.stop.hidden = !busy;
    ui.newChat.hidden = busy || !ui.conversation.children.length;
    if (!busy && stopHadFocus) ui.question.focus();
  }

  function historyForRequest() {
    return state.history
      .slice(-HISTORY_MESSAGES)
      .map((t) => ({ role: t.role, content: t.content.slice(0, HISTORY_CHARS) }));
  }

  function ask(question) {
    ui.welcome.hidden = true;
    const turn = new Turn(question);
    ui.conversation.append(turn.el);
    scrollToBottom();
    const body = { question, history: historyForRequest() };
    if (state.scope.size) body.documents = [...state.scope];
    run(turn, body, 0);
  }

  async function run(turn, body, attempt) {
    setBusy(true);
    turn.reset();
    turn.status = "pending";
    turn.setState("Searching the articles…");
    const controller = new AbortController();
    state.controller = controller;
    let outcome = null; // "done" | "error" | "busy" once decided

    const fail = (message, lead = null) => {
      outcome = "error";
      turn.status = "error";
      turn.notice("error", message, null, lead);
      announce(lead ? `${lead} ${message}` : message);
    };

    try {
      const res = await api("/api/ask/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (!res.ok) {
        const err = await errorOf(res);
        if (err.status === 503 && (err.code === "busy" || err.retryAfter !== null)) {
          outcome = "busy";
          waitAndRetry(turn, body, attempt, err.retryAfter ?? 5);
        } else {
          fail(err.message, "Could not answer:");
        }
        return;
      }
      await readEvents(res, (name, data) => {
        if (outcome) return;
        if (name === "sources") {
          const n = Array.isArray(data) ? data.length : 0;
          turn.setState(n ? `Reading ${plural(n, "passage", "passages")}…` : "Thinking…");
        } else if (name === "token") {
          turn.status = "streaming";
          turn.appendToken(String(data.text ?? ""));
        } else if (name === "citations") {
          turn.setState(null);
          renderResult(turn, data);
        } else if (name === "done") {
          outcome = "done";
          turn.status = "done";
          turn.setState(null);
          renderTimings(turn, data);
          finishExchange(turn);
        } else if (name === "error") {
          const err = (data && data.error) || {};
          if (err.code === "busy") {
            outcome = "busy";
            waitAndRetry(turn, body, attempt, 5);
          } else {
            fail(err.message || "the answer failed part-way through.", "Could not finish the answer:");
          }
        }
      });
      if (!outcome) {
        if (controller.signal.aborted) throw new DOMException("stopped", "AbortError");
        fail("The answer ended before it was complete. Please try again.");
      }
    } catch (err) {
      if (outcome) {
        // already finished (done, error or busy): nothing more to say
      } else if (controller.signal.aborted || (err && err.name === "AbortError")) {
        outcome = "stopped";
        turn.status = "stopped";
        turn.notice("", turn.raw ? "Stopped. The answer above is incomplete." : "Stopped.");
        announce("Stopped.");
      } else {
        fail("Could not reach the server. Check that ragqa is running, then try again.");
      }
    } finally {
      if (state.controller === controller) state.controller = null;
      if (outcome !== "busy") {
        turn.setState(null);
        setBusy(false);
      }
    }
  }

  function finishExchange(turn) {
    const result = turn.result;
    const text = result ? result.answer : turn.raw.trim();
    state.history.push({ role: "user", content: turn.question }, { role: "assistant", content: text });
    if (!result) {
      announce(text);
    } else if (!result.answerable) {
      announce(`The articles don't contain this. ${text}`);
    } else {
      const n = (result.citations || []).length;
      announce(`Answer: ${text.replace(/\[(\d+)\]/g, " (source $1)")} ${n ? plural(n, "source", "sources") + " cited." : ""}`);
    }
  }

  /** 503 busy: count down Retry-After seconds, then ask again (cancellable). */
  function waitAndRetry(turn, body, attempt, seconds) {
    turn.reset();
    turn.setState(null);
    turn.status = "busy";
    if (attempt >= MAX_BUSY_RETRIES) {
      turn.status = "error";
      turn.notice("error", "The server stayed busy for too long. Please try again later.");
      setBusy(false);
      return;
    }
    let left = Math.max(1, Math.round(seconds));
    const cancel = h("button", { type: "button", class: "btn btn-small", text: "Cancel" });
    const box = turn.notice("warn", "", cancel);
    box.classList.add("busy");
    const text = box.querySelector("p");
    const show = () => {
      text.textContent = `The server is busy answering other questions. Trying again in ${plural(left, "second", "seconds")}…`;
    };
    show();
    announce(`The server is busy. Trying again in ${plural(left, "second", "seconds")}.`);
    const timer = window.setInterval(() => {
      left -= 1;
      if (left > 0) {
        show();
        return;
      }
      window.clearInterval(timer);
      state.retry = null;
      run(turn, body, attempt + 1);
    }, 1000);
    const stopWaiting = () => {
      window.clearInterval(timer);
      state.retry = null;
      turn.reset();
      turn.status = "cancelled";
      turn.notice("", "Cancelled. The server was busy; ask again when you like.");
      announce("Cancelled.");
      setBusy(false);
      ui.question.focus();
    };
    cancel.addEventListener("click", stopWaiting);
    state.retry = { cancel: stopWaiting };
  }

  function stop() {
    if (state.retry) state.retry.cancel();
    else if (state.controller) state.controller.abort();
  }

  // ---- the passage / document viewer ---------------------------------------------------

  function fetchDocument(docId) {
    if (!state.docTexts.has(docId)) {
      const p = api(`/api/documents/${encodeURIComponent(docId)}`).then(async (res) => {
        if (!res.ok) throw await errorOf(res);
        return res.json();
      });
      p.catch(() => state.docTexts.delete(docId));
      state.docTexts.set(docId, p);
    }
    return state.docTexts.get(docId);
  }

  function openViewer() {
    if (!ui.viewer.open) ui.viewer.showModal();
    ui.viewerBody.scrollTop = 0;
  }

  /** Text with [start, end) highlighted; the whole text, or just some context around it. */
  function highlighted(text, start, end, whole) {
    let from = 0;
    let to = text.length;
    if (!whole) {
      from = Math.max(0, start - CONTEXT_CHARS);
      to = Math.min(text.length, end + CONTEXT_CHARS);
      // widen to whole words
      if (from > 0) {
        const space = text.lastIndexOf(" ", from);
        const newline = text.lastIndexOf("\n", from);
        from = Math.max(space, newline) + 1;
      }
      if (to < text.length) {
        const m = /\s/.exec(text.slice(to));
        to = m ? to + m.index : text.length;
      }
    }
    const frag = document.createDocumentFragment();
    if (from > 0) frag.append(h("span", { class: "ellipsis", text: "… " }));
    frag.append(document.createTextNode(text.slice(from, start)));
    const mark = h("mark", { text: text.slice(start, end) });
    frag.append(mark);
    frag.append(document.createTextNode(text.slice(end, to)));
    if (to < text.length) frag.append(h("span", { class: "ellipsis", text: " …" }));
    return { frag, mark };
  }

  function showInViewer(text, start, end, whole) {
    const { frag, mark } = highlighted(text, start, end, whole);
    ui.viewerBody.replaceChildren(frag);
    // bring the highlight into view inside the scrolling body
    const body = ui.viewerBody;
    body.scrollTop = Math.max(0, mark.offsetTop - body.offsetTop - body.clientHeight / 3);
  }

  async function openPassage(c) {
    state.viewerDoc = null;
    ui.viewerKicker.textContent = `Source ${c.number}${c.inferred ? " · attached by similarity" : c.cited ? " · cited" : ""}`;
    ui.viewerTitle.textContent = c.title || c.source;
    ui.viewerHeading.textContent = [c.heading, c.page !== null && c.page !== undefined ? `p. ${c.page}` : null].filter(Boolean).join(" · ");
    ui.viewerMeta.textContent = `Characters ${c.start.toLocaleString()}–${c.end.toLocaleString()} · score ${Number(c.score).toFixed(2)}`;
    ui.viewerBody.replaceChildren(h("span", { class: "muted", text: "Loading the passage…" }));
    ui.viewerWhole.hidden = true;
    openViewer();
    try {
      const doc = await fetchDocument(c.doc_id);
      let { start, end } = c;
      const text = doc.text;
      if (text.slice(start, end) !== c.text) {
        // the document changed since: find the passage again, or show it alone
        const found = c.text ? text.indexOf(c.text) : -1;
        if (found < 0) throw new Error("moved");
        start = found;
        end = found + c.text.length;
      }
      state.viewerDoc = { text, start, end };
      showInViewer(text, start, end, false);
      ui.viewerWhole.textContent = "Show the whole document";
      ui.viewerWhole.hidden = false;
    } catch (_) {
      ui.viewerMeta.textContent = "This document is no longer in the index; here is the passage as it was cited.";
      const { frag } = highlighted(c.text, 0, c.text.length, true);
      ui.viewerBody.replaceChildren(frag);
    }
  }

  async function openDocument(doc) {
    state.viewerDoc = null;
    ui.viewerKicker.textContent = "Document";
    ui.viewerTitle.textContent = doc.title;
    ui.viewerHeading.textContent = "";
    ui.viewerMeta.textContent = `${plural(doc.n_chunks, "passage", "passages")} · ${plural(doc.n_chars, "character", "characters")} · ${doc.source}`;
    ui.viewerBody.replaceChildren(h("span", { class: "muted", text: "Loading the document…" }));
    ui.viewerWhole.hidden = true;
    openViewer();
    try {
      const body = await fetchDocument(doc.doc_id);
      ui.viewerBody.textContent = body.text;
    } catch (err) {
      ui.viewerBody.replaceChildren(h("span", { class: "muted", text: (err && err.message) || "Could not load the document." }));
    }
  }

  ui.viewerWhole.addEventListener("click", () => {
    const d = state.viewerDoc;
    if (!d) return;
    const whole = ui.viewerWhole.dataset.whole !== "true";
    ui.viewerWhole.dataset.whole = whole ? "true" : "false";
    ui.viewerWhole.textContent = whole ? "Show just the passage" : "Show the whole document";
    showInViewer(d.text, d.start, d.end, whole);
  });
  ui.viewerClose.addEventListener("click", () => ui.viewer.close());
  ui.viewer.addEventListener("close", () => {
    ui.viewerWhole.dataset.whole = "false";
  });
  // a click on the backdrop (outside the dialog box) closes it
  ui.viewer.addEventListener("click", (e) => {
    if (e.target !== ui.viewer) return;
    const r = ui.viewer.getBoundingClientRect();
    const inside = e.clientX >= r.left && e.clientX <= r.right && e.clientY >= r.top && e.clientY <= r.bottom;
    if (!inside) ui.viewer.close();
  });

  // ---- documents ---------------------------------------------------------------------------

  function docsMessage(text, isError) {
    ui.docsMessage.textContent = text;
    ui.docsMessage.classList.toggle("error", Boolean(isError));
  }

  async function loadDocuments() {
    let docs;
    try {
      const res = await api("/api/documents");
      if (!res.ok) throw await errorOf(res);
      docs = (await res.json()).documents || [];
    } catch (err) {
      docsMessage(`Could not list the documents: ${(err && err.message) || "the server did not answer"}`, true);
      return;
    }
    ui.docsCount.textContent = docs.length ? String(docs.length) : "";
    const present = new Set(docs.map((d) => d.doc_id));
    for (const id of [...state.scope]) if (!present.has(id)) state.scope.delete(id);
    showScope(docs.length);
    const chunks = docs.reduce((n, d) => n + d.n_chunks, 0);
    ui.welcomeDocs.textContent = docs.length
      ? `Searching ${plural(docs.length, "document", "documents")} · ${plural(chunks, "passage", "passages")}`
      : "No documents yet: add one in the Documents panel to start.";
    if (!docs.length) {
      ui.docsList.replaceChildren(h("li", { class: "docs-empty", text: "No documents are indexed yet." }));
      return;
    }
    ui.docsList.replaceChildren(
      ...docs.map((d) =>
        h(
          "li",
          { class: "doc", "data-doc-id": d.doc_id },
          h("input", {
            type: "checkbox",
            class: "doc-scope",
            title: "Ask within the ticked documents only",
            "aria-label": `Ask within ${d.title}`,
            checked: state.scope.has(d.doc_id),
            onchange: (e) => {
              if (e.target.checked) state.scope.add(d.doc_id);
              else state.scope.delete(d.doc_id);
              showScope(docs.length);
            },
          }),
          h(
            "div",
            { class: "doc-main" },
            h("button", {
              type: "button",
              class: "doc-title",
              text: d.title,
              title: d.source,
              "aria-label": `Read ${d.title}`,
              onclick: () => openDocument(d),
            }),
            h("p", {
              class: "doc-meta",
              text: [
                d.published ? `published ${d.published}` : null,
                d.author ? `by ${d.author}` : null,
                plural(d.n_chunks, "passage", "passages"),
              ]
                .filter(Boolean)
                .join(" · "),
            }),
          ),
          h("button", {
            type: "button",
            class: "btn btn-small btn-quiet btn-danger",
            text: "Delete",
            "aria-label": `Delete ${d.title}`,
            onclick: () => deleteDocument(d),
          }),
        ),
      ),
    );
  }

  /** Says, under the question box, which documents the next question is asked within. */
  function showScope(total) {
    const n = state.scope.size;
    ui.scopeNote.hidden = !n;
    ui.scopeNote.textContent = n
      ? `Asking within ${plural(n, "ticked document", "ticked documents")} of ${total} · untick them in Documents to ask all`
      : "";
  }

  async function deleteDocument(d) {
    if (!window.confirm(`Delete "${d.title}"? Its passages will no longer be used in answers.`)) return;
    docsMessage(`Deleting "${d.title}"…`);
    try {
      const res = await api(`/api/documents/${encodeURIComponent(d.doc_id)}`, { method: "DELETE" });
      if (!res.ok) throw await errorOf(res);
      state.docTexts.delete(d.doc_id);
      docsMessage(`Deleted "${d.title}".`);
      announce(`Deleted ${d.title}.`);
    } catch (err) {
      docsMessage(`Could not delete "${d.title}": ${(err && err.message) || "the server did not answer"}`, true);
    }
    await loadDocuments();
    ui.uploadFile.focus();
  }

  ui.uploadForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const file = ui.uploadFile.files && ui.uploadFile.files[0];
    if (!file) {
      docsMessage("Choose a file first.", true);
      return;
    }
    const form = new FormData();
    form.append("file", file, file.name);
    ui.uploadBtn.disabled = true;
    docsMessage(`Adding "${file.name}" to the index…`);
    try {
      const res = await api("/api/documents", { method: "POST", body: form });
      if (!res.ok) throw await errorOf(res);
      const info = await res.json();
      state.docTexts.delete(info.doc_id);
      docsMessage(
        info.duplicate
          ? `"${info.title}" is already indexed.`
          : `Added "${info.title}" (${plural(info.n_chunks, "passage", "passages")}). You can ask about it now.`,
      );
      announce(`Added ${info.title}.`);
      ui.uploadForm.reset();
      showChosenFile();
    } catch (err) {
      docsMessage(`Could not add "${file.name}": ${(err && err.message) || "the server did not answer"}`, true);
    } finally {
      ui.uploadBtn.disabled = false;
    }
    await loadDocuments();
  });

  function showChosenFile() {
    const file = ui.uploadFile.files && ui.uploadFile.files[0];
    ui.uploadName.textContent = file ? file.name : "";
    ui.uploadName.classList.toggle("chosen", Boolean(file));
  }
  ui.uploadFile.addEventListener("change", showChosenFile);

  // narrow screens: the documents panel is a drawer
  function setDrawer(open) {
    ui.docsPanel.classList.toggle("open", open);
    ui.docsToggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) window.requestAnimationFrame(() => ui.docsClose.focus());
    else if (ui.docsPanel.contains(document.activeElement)) ui.docsToggle.focus();
  }
  ui.docsToggle.addEventListener("click", () => setDrawer(!ui.docsPanel.classList.contains("open")));
  ui.docsClose.addEventListener("click", () => setDrawer(false));
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && ui.docsPanel.classList.contains("open") && !ui.viewer.open) {
      setDrawer(false);
    }
  });

  // ---- the composer ---------------------------------------------------------------------------

  function autosize() {
    ui.question.style.height = "auto";
    ui.question.style.height = `${ui.question.scrollHeight}px`;
  }

  ui.form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.busy) return;
    const question = ui.question.value.trim();
    if (!question) {
      ui.question.focus();
      return;
    }
    ui.question.value = "";
    autosize();
    ask(question);
  });
  ui.question.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      ui.form.requestSubmit();
    } else if (e.key === "Escape" && state.busy) {
      stop();
    }
  });
  ui.question.addEventListener("input", autosize);
  ui.stop.addEventListener("click", stop);
  ui.newChat.addEventListener("click", () => {
    if (state.busy) return;
    state.history = [];
    ui.conversation.replaceChildren();
    ui.welcome.hidden = false;
    ui.newChat.hidden = true;
    announce("New conversation.");
    ui.question.focus();
  });

  setBusy(false);
  checkHealth();
  loadDocuments();
  ui.question.focus();
})();
