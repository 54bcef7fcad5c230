// The chat page: models from GET /v1/models, replies streamed from POST /v1/chat/completions.
// The conversation lives in this page and is sent whole each turn; the server keeps none of it.
"use strict";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "sluice.apiKey";
const SETTINGS = ["system-prompt", "temperature", "top-p", "max-tokens", "model"];

const chat = {
  messages: [], // the OpenAI chat messages so far (user and assistant turns)
  images: [], // data: URLs of the images attached to the next message
  controller: null, // the AbortController of the reply being streamed
};

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- the server

function authHeaders() {
  const key = localStorage.getItem(KEY_STORAGE);
  return key ? { Authorization: "Bearer " + key } : {};
}

// The message of an error response ({"error": {"message": ...}}), else its status and text.
async function errorMessage(res) {
  const text = await res.text();
  try {
    const message = JSON.parse(text).error.message;
    if (message) return message;
  } catch (_) {
    // not the server's error shape
  }
  return `${res.status} ${res.statusText}${text ? ": " + text.slice(0, 300) : ""}`;
}

async function apiFetch(path, options = {}) {
  const headers = { ...options.headers, ...authHeaders() };
  const res = await fetch(path, { ...options, headers });
  if (res.ok) return res;
  const message = await errorMessage(res);
  if (res.status === 401) askForKey(message);
  throw new HttpError(res.status, message);
}

// Calls onEvent with each JSON event of a server-sent event stream, up to "data: [DONE]".
async function readEvents(res, onEvent) {
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, "");
      buffer = buffer.slice(end + 1);
      if (line.startsWith("data:")) {
        data.push(line.slice(5).trimStart());
      } else if (line === "" && data.length) {
        const payload = data.join("\n");
        data = [];
        if (payload === "[DONE]") return;
        onEvent(JSON.parse(payload));
      }
    }
    if (done) throw new Error("the stream ended before its [DONE] event");
  }
}

// ---------------------------------------------------------------- models

async function loadModels() {
  setStatus("asking for the models\u2026");
  try {
    const res = await apiFetch("/v1/models");
    const models = (await res.json()).data || [];
    const select = $("model");
    const wanted = select.value || localStorage.getItem("sluice.model");
    select.replaceChildren(
      ...models.map((m) => new Option(m.state ? `${m.id} (${m.state})` : m.id, m.id)),
    );
    if (models.some((m) => m.id === wanted)) select.value = wanted;
    setStatus(models.length ? "" : "the server lists no models", !models.length);
    if (models.some((m) => m.state === "loading")) setTimeout(loadModels, 2000);
  } catch (err) {
    setStatus("models: " + err.message, true);
    if (err.status === 503) setTimeout(loadModels, 2000); // the server is still loading
  }
}

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

// ---------------------------------------------------------------- the conversation

function addTurn(role) {
  const turn = document.createElement("article");
  turn.className = "turn " + role;
  $("messages").append(turn);
  return turn;
}

function thumbnail(url) {
  const img = new Image();
  img.src = url;
  img.className = "thumb";
  img.alt = "attached image";
  return img;
}

function showUserTurn(text, images) {
  const turn = addTurn("user");
  const body = document.createElement("div");
  body.className = "text";
  body.textContent = text;
  turn.append(body, ...images.map(thumbnail));
  return turn;
}

// The elements of one assistant reply: folded reasoning, the rendered text, a line of numbers.
function replyView() {
  const view = { turn: addTurn("assistant"), pending: 0 };
  view.turn.dataset.state = "streaming";
  view.reasoning = document.createElement("details");
  view.reasoning.className = "reasoning";
  view.reasoning.hidden = true;
  const summary = document.createElement("summary");
  summary.textContent = "Reasoning";
  view.reasoningText = document.createElement("div");
  view.reasoning.append(summary, view.reasoningText);
  view.content = document.createElement("div");
  view.content.className = "content";
  view.stats = document.createElement("div");
  view.stats.className = "stats";
  view.turn.append(view.reasoning, view.content, view.stats);
  return view;
}

function render(view, reply) {
  if (reply.reasoning) {
    view.reasoning.hidden = false;
    view.reasoningText.textContent = reply.reasoning;
  }
  view.content.innerHTML = renderMarkdown(reply.content); // escaped by renderMarkdown
  scrollToEnd();
}

function scheduleRender(view, reply) {
  if (!view.pending) {
    view.pending = requestAnimationFrame(() => {
      view.pending = 0;
      render(view, reply);
    });
  }
}

function scrollToEnd(always = false) {
  const box = $("messages");
  if (always || box.scrollHeight - box.scrollTop - box.clientHeight < 120)
    box.scrollTop = box.scrollHeight;
}

// "42 tokens · 31.5 tokens/s · first token 0.21 s": tokens/s is completion_tokens over the time
// from the first token to the last.
function statsLine(reply, started, state) {
  const parts = [];
  if (reply.usage) {
    const n = reply.usage.completion_tokens;
    const seconds = (reply.last - reply.first) / 1000;
    parts.push(`${n} tokens`);
    if (seconds > 0) parts.push(`${(n / seconds).toFixed(1)} tokens/s`);
  }
  if (reply.first) parts.push(`first token ${((reply.first - started) / 1000).toFixed(2)} s`);
  if (reply.finish === "length") parts.push("cut at max_tokens");
  if (state === "stopped") parts.push("stopped");
  return parts.join(" \u00b7 ");
}

function requestBody() {
  const system = $("system-prompt").value.trim();
  const body = {
    model: $("model").value,
    messages: system ? [{ role: "system", content: system }, ...chat.messages] : chat.messages,
    stream: true,
    stream_options: { include_usage: true },
  };
  const numbers = { temperature: "temperature", top_p: "top-p", max_tokens: "max-tokens" };
  for (const [field, id] of Object.entries(numbers)) {
    const value = $(id).value.trim();
    if (value !== "") body[field] = Number(value);
  }
  return body;
}

// Streams one reply into view; "done", "stopped" (the stop button) or "error".
async function streamReply(view, reply) {
  const started = performance.now();
  let state = "done";
  try {
    const res = await apiFetch("/v1/chat/completions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(requestBody()),
      signal: chat.controller.signal,
    });
    await readEvents(res, (event) => {
      if (event.error) throw new Error(event.error.message || JSON.stringify(event.error));
      if (event.usage) reply.usage = event.usage;
      const choice = event.choices && event.choices[0];
      if (!choice) return;
      const delta = choice.delta || {};
      if (delta.content || delta.reasoning_content) {
        reply.last = performance.now();
        reply.first = reply.first || reply.last;
        reply.content += delta.content || "";
        reply.reasoning += delta.reasoning_content || "";
        scheduleRender(view, reply);
      }
      if (choice.finish_reason) reply.finish = choice.finish_reason;
    });
  } catch (err) {
    state = err.name === "AbortError" ? "stopped" : "error";
    if (state === "error") {
      const error = document.createElement("div");
      error.className = "error";
      error.textContent = err.message;
      view.turn.append(error);
    }
  }
  render(view, reply);
  view.stats.textContent = statsLine(reply, started, state);
  view.turn.dataset.state = state;
  return state;
}

async function send() {
  const text = $("input").value.trim();
  if ((!text && !chat.images.length) || chat.controller) return;
  if (!$("model").value) return setStatus("no model to send to", true);
  const messages = chat.messages; // "New chat" may replace it while the reply streams
  const images = chat.images.splice(0);
  const parts = images.map((url) => ({ type: "image_url", image_url: { url } }));
  const content = images.length ? [...(text ? [{ type: "text", text }] : []), ...parts] : text;
  messages.push({ role: "user", content });
  $("input").value = "";
  renderAttachments();
  const userTurn = showUserTurn(text, images);
  const view = replyView();
  scrollToEnd(true);

  chat.controller = new AbortController();
  document.body.classList.add("busy");
  const reply = { content: "", reasoning: "", first: 0, last: 0, usage: null, finish: null };
  const state = await streamReply(view, reply);
  chat.controller = null;
  document.body.classList.remove("busy");

  if (state === "error") {
    messages.pop(); // the model never answered it: it is not part of the conversation
    userTurn.classList.add("failed");
  } else {
    messages.push({ role: "assistant", content: reply.content });
  }
  $("input").focus();
}

function newChat() {
  if (chat.controller) chat.controller.abort();
  chat.messages = [];
  $("messages").replaceChildren();
  $("input").focus();
}

// ---------------------------------------------------------------- images

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function renderAttachments() {
  const thumbs = chat.images.map((url, i) => {
    const img = thumbnail(url);
    img.title = "Click to remove";
    img.addEventListener("click", () => {
      chat.images.splice(i, 1);
      renderAttachments();
    });
    return img;
  });
  $("attachments").replaceChildren(...thumbs);
}

// ---------------------------------------------------------------- the API key

function askForKey(message) {
  const stored = localStorage.getItem(KEY_STORAGE);
  $("key-error").textContent = stored && message ? `The server refused this key: ${message}` : "";
  $("key-input").value = stored || "";
  $("key-dialog").hidden = false;
  $("key-input").focus();
}

function saveKey(event) {
  event.preventDefault();
  const key = $("key-input").value.trim();
  if (key) localStorage.setItem(KEY_STORAGE, key);
  else localStorage.removeItem(KEY_STORAGE);
  $("key-dialog").hidden = true;
  loadModels();
}

// ---------------------------------------------------------------- wiring

function restoreSettings() {
  for (const id of SETTINGS) {
    const saved = localStorage.getItem("sluice." + id);
    if (saved !== null && id !== "model") $(id).value = saved;
    $(id).addEventListener("change", () => localStorage.setItem("sluice." + id, $(id).value));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  restoreSettings();
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    send();
  });
  $("input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  $("stop").addEventListener("click", () => chat.controller && chat.controller.abort());
  $("new-chat").addEventListener("click", newChat);
  $("reload-models").addEventListener("click", loadModels);
  $("image-input").addEventListener("change", async (event) => {
    try {
      for (const file of event.target.files) chat.images.push(await readAsDataUrl(file));
    } catch (err) {
      setStatus("image: " + err.message, true);
    }
    event.target.value = "";
    renderAttachments();
  });
  $("key-form").addEventListener("submit", saveKey);
  $("key-cancel").addEventListener("click", () => ($("key-dialog").hidden = true));
  $("change-key").addEventListener("click", () => askForKey(null));
  loadModels();
  $("input").focus();
});
