// The chat page's client: JSON messages over one WebSocket (see server.py).
"use strict";

const $ = (id) => document.getElementById(id);
let ws = null;
let joined = false;

function show(text, kind) {
  const item = document.createElement("li");
  item.textContent = text; // never innerHTML: names and messages are untrusted
  if (kind) item.className = kind;
  $("log").append(item);
  item.scrollIntoView({ block: "end" });
}

function describe(extensions) {
  if (!extensions.length) return "none negotiated";
  return extensions
    .map((e) =>
      e.extension === "permessage-deflate"
        ? `permessage-deflate (server window ${e.server_max_window_bits} bits` +
          `${e.server_no_context_takeover ? ", no context takeover" : ""}, ` +
          `client window ${e.client_max_window_bits} bits)`
        : e.extension)
    .join(", ");
}

function enable(connected) {
  $("text").disabled = $("send").disabled = !connected;
  $("name").disabled = $("join").disabled = connected;
  if (connected) $("text").focus();
}

const handlers = {
  welcome(msg) {
    $("status").textContent = `joined as ${msg.name}`;
    $("extensions").textContent = describe(msg.extensions);
    $("node").textContent = msg.node;
    show(`Welcome, ${msg.name}! Online on this server: ${msg.online.join(", ")}`, "event");
    joined = true;
    enable(true);
  },
  join: (msg) => show(`* ${msg.name} joined`, "event"),
  leave: (msg) => show(`* ${msg.name} left`, "event"),
  message: (msg) => show(`<${msg.name}> ${msg.text}`),
  error(msg) {
    show(`! ${msg.text}`, "error");
    if (!joined) ws.close(1000); // e.g. the name is taken: try another
  },
};

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("name").value.trim();
  if (!name || ws) return;
  const url = new URL("ws", location.href); // the page is at /, the chat at /ws
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  ws = new WebSocket(url);
  $("status").textContent = "connecting";
  ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "join", name })));
  ws.addEventListener("message", (ev) => {
    const msg = JSON.parse(ev.data);
    const handler = handlers[msg.type];
    if (handler) handler(msg);
  });
  ws.addEventListener("close", (ev) => {
    $("status").textContent = `disconnected (code ${ev.code}${ev.reason ? ": " + ev.reason : ""})`;
    ws = null;
    joined = false;
    enable(false);
  });
});

$("send-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(JSON.stringify({ type: "message", text }));
  $("text").value = "";
});
