// The web chat page. The server names this browser's conversation: the first message asks for it
// (X-Infobot-Web-Chat: 1) and the answer sets an HttpOnly cookie this script never sees; every later
// request carries it, so nobody else can read or write this conversation.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const input = document.getElementById("text");
  const STARTED = "infobot-web-chat-started";
  const BUSY = "Demasiados mensajes · Too many messages · Twòp mesaj · Trop de messages";
  localStorage.removeItem("infobot-sender"); // the old page named itself; the server does now

  function add(text, who) {
    const div = document.createElement("div");
    div.className = "msg " + who;
    div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-Infobot-Web-Chat": "1" },
      body: JSON.stringify(body),
    });
  }

  function showReplies(replies) {
    for (const reply of replies) {
      const div = add(reply.text, "bot");
      div.dataset.language = reply.metadata.language || "";
      div.dataset.contentId = reply.metadata.content_id || "";
      if (reply.buttons) {
        const box = document.createElement("div");
        box.className = "choices";
        for (const b of reply.buttons) {
          const btn = document.createElement("button");
          btn.textContent = b.number + ". " + b.title;
          btn.addEventListener("click", () => send(b.payload, b.number + ". " + b.title));
          box.appendChild(btn);
        }
        log.appendChild(box);
      }
    }
    log.scrollTop = log.scrollHeight;
  }

  async function send(text, shown) {
    add(shown || text, "me");
    try {
      const res = await post("/webhooks/rest/webhook", { message: text });
      if (res.status === 429) {
        add(BUSY + " (" + (res.headers.get("Retry-After") || "60") + " s)", "bot error");
        return;
      }
      const body = await res.json();
      if (!res.ok) { add(body.error || "Error", "bot error"); return; }
      localStorage.setItem(STARTED, "1");
      showReplies(body);
    } catch (e) { add("No connection. Please try again.", "bot error"); }
  }

  // Messages from the hotline team cannot be pushed to a web page: ask for them every few seconds,
  // once this browser has a conversation.
  async function fetchStaffMessages() {
    if (document.hidden || !localStorage.getItem(STARTED)) return;
    try {
      const res = await post("/webhooks/rest/outbox", {});
      if (res.status === 401 || res.status === 403) { localStorage.removeItem(STARTED); return; }
      if (!res.ok) return;
      for (const message of await res.json()) {
        add(message.text, "bot staff").dataset.language = message.metadata.language || "";
      }
    } catch (e) { /* offline: the next round tries again, nothing is lost on the server */ }
  }
  setInterval(fetchStaffMessages, 4000);

  document.getElementById("form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (text) { send(text); input.value = ""; }
  });
})();
