// The sandbox page: draws the chats of the person whose phone is held, sends
// what is typed, pressed or picked, and redraws at every server-sent event.
"use strict";

const T = {
  vi: {
    subtitle: "Thử bot, không cần Telegram", holding: "Điện thoại của:",
    plusHour: "+1 giờ", plusDay: "+1 ngày", toNext: "Đến lần nhắc tiếp theo",
    next: "Lần nhắc tiếp theo: ", none: "Chưa có lịch nhắc",
    group: "Nhóm", private: "Chat riêng với bot",
    placeholder: "Nhập tin nhắn hoặc lệnh, ví dụ /help", send: "Gửi",
    empty: "Chưa có tin nhắn. Gõ /help để bắt đầu.", edited: "đã sửa",
    days: ["Chủ Nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"],
    lang: "EN",
    nothingDue: "Chưa có gì để nhắc: hãy tạo một buổi họp (/meeting).",
  },
  en: {
    subtitle: "Try the bot without Telegram", holding: "Phone of:",
    plusHour: "+1 hour", plusDay: "+1 day", toNext: "To the next reminder",
    next: "Next reminder: ", none: "Nothing scheduled",
    group: "Group", private: "Private chat with the bot",
    placeholder: "Type a message or a command, e.g. /help", send: "Send",
    empty: "No messages yet. Type /help to start.", edited: "edited",
    days: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    lang: "VI",
    nothingDue: "Nothing is due yet: make a meeting first (/meeting).",
  },
};

const state = {
  lang: localStorage.getItem("sandbox-lang") || "vi",
  as: localStorage.getItem("sandbox-as") || "secretary",
  chat: "group",
  view: null,
};
const $ = (id) => document.getElementById(id);
const t = (k) => T[state.lang][k];

function applyLang() {
  document.documentElement.lang = state.lang;
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  $("lang").textContent = t("lang");
  if (state.view) draw();
}

async function api(path, body) {
  const opts = body instanceof FormData ? { method: "POST", body } :
    { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  if (!res.ok) {
    showError(res.status === 409 ? t("nothingDue") : (await res.text()).trim());
    return null;
  }
  showError("");
  return res.json();
}

function showError(msg) {
  $("error").hidden = !msg;
  $("error").textContent = msg;
}

let loading = false, again = false;
async function refresh() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    const res = await fetch("/api/view?as=" + encodeURIComponent(state.as), { cache: "no-store" });
    if (res.ok) { state.view = await res.json(); draw(); }
  } finally {
    loading = false;
    if (again) { again = false; refresh(); }
  }
}

function draw() {
  const v = state.view;
  const sel = $("as");
  if (sel.options.length !== v.people.length || sel.dataset.lang !== state.lang) {
    sel.textContent = "";
    for (const p of v.people) {
      const o = document.createElement("option");
      o.value = p.key;
      o.textContent = p.name + " — " + (state.lang === "vi" ? p.role_vi : p.role_en);
      sel.append(o);
    }
    sel.dataset.lang = state.lang;
  }
  sel.value = v.as;
  $("clock-day").textContent = t("days")[v.weekday] + ",";
  $("clock").textContent = v.clock;
  $("next").textContent = v.next ? t("next") + v.next : t("none");
  $("tab-group").textContent = "👥 " + v.group.title;
  $("tab-private").textContent = "💬 " + t("private");
  $("tab-group").setAttribute("aria-selected", state.chat === "group");
  $("tab-private").setAttribute("aria-selected", state.chat === "private");
  drawMessages(state.chat === "group" ? v.group : v.private);
}

function drawMessages(chat) {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const key = state.as + ":" + chat.id;
  const changedChat = box.dataset.key !== key;
  box.dataset.key = key;
  box.textContent = "";
  if (chat.messages.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = t("empty");
    box.append(p);
  }
  for (const m of chat.messages) {
    const wrap = document.createElement("div");
    wrap.className = "msg" + (m.mine ? " mine" : "");
    wrap.dataset.id = m.id;
    const b = document.createElement("div");
    b.className = "bubble";
    if (!m.mine) {
      const f = document.createElement("div");
      f.className = "from";
      f.textContent = m.from;
      b.append(f);
    }
    if (m.photo) {
      const img = document.createElement("img");
      img.src = m.photo + "&inline=1";
      img.alt = "";
      b.append(img);
    }
    if (m.doc) {
      const a = document.createElement("a");
      a.className = "doc";
      a.href = m.doc.url;
      a.download = m.doc.name;
      a.textContent = "📄 " + m.doc.name;
      b.append(a, document.createElement("br"));
    }
    const body = document.createElement("span");
    body.className = "text";
    body.innerHTML = m.html; // rendered and escaped by the server (render.go)
    body.querySelectorAll(".spoiler").forEach((s) => s.addEventListener("click", () => s.classList.add("shown")));
    b.append(body);
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = (m.edited ? t("edited") + " · " : "") + m.time;
    b.append(meta);
    wrap.append(b);
    if (m.buttons) wrap.append(keyboard(chat.id, m));
    box.append(wrap);
  }
  if (atBottom || changedChat) box.scrollTop = box.scrollHeight;
}

function keyboard(chatID, m) {
  const kb = document.createElement("div");
  kb.className = "kb";
  for (const row of m.buttons) {
    const r = document.createElement("div");
    r.className = "row";
    for (const btn of row) {
      let el;
      if (btn.url) {
        el = document.createElement("a");
        el.href = btn.url;
        el.target = "_blank";
        el.rel = "noopener noreferrer";
      } else {
        el = document.createElement("button");
        el.type = "button";
        el.addEventListener("click", async () => {
          await api("/api/press", { as: state.as, chat: chatID, message: m.id, label: btn.text });
          refresh();
        });
      }
      el.textContent = btn.text;
      r.append(el);
    }
    kb.append(r);
  }
  return kb;
}

$("composer").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  await api("/api/send", { as: state.as, where: state.chat, text });
  refresh();
});

$("file").addEventListener("change", async () => {
  const f = $("file").files[0];
  if (!f) return;
  // The text box, when filled, is the file's caption; /import otherwise.
  const caption = $("text").value.trim() || "/import";
  $("text").value = "";
  const fd = new FormData();
  fd.append("as", state.as);
  fd.append("caption", caption);
  fd.append("file", f);
  $("file").value = "";
  state.chat = "private";
  await api("/api/upload", fd);
  refresh();
});

$("as").addEventListener("change", () => {
  state.as = $("as").value;
  localStorage.setItem("sandbox-as", state.as);
  refresh();
});

document.querySelectorAll(".tabs button").forEach((b) => b.addEventListener("click", () => {
  state.chat = b.dataset.chat;
  if (state.view) draw();
}));

document.querySelectorAll(".clock button").forEach((b) => b.addEventListener("click", async () => {
  await api("/api/clock", { step: b.dataset.step });
  refresh();
}));

$("lang").addEventListener("click", () => {
  state.lang = state.lang === "vi" ? "en" : "vi";
  localStorage.setItem("sandbox-lang", state.lang);
  applyLang();
});

applyLang();
refresh();
new EventSource("/api/events").addEventListener("change", refresh);
