// The comment sheet (评论): a slide's 💬 opens its video's comments, the pinned one first, then the
// newest, each with its replies. Signed in, write a comment or reply to one; delete your own (the
// video's author any, and pins one). While it is open, what others write, delete or pin arrives
// over the sheet's own socket (/ws/videos/<id>/comments/); when that socket comes back after a
// drop, the list is read again, so nothing missed stays missing.
import { gettext, interpolate, ngettext, request, url } from "../miniapp/api.js";
import { subscribe } from "../realtime/events.js";
import { say, setCount } from "./feed/page.js";

const sheet = document.getElementById("comment-sheet");
const list = sheet.querySelector(".comment-list");
const scroller = sheet.querySelector(".comment-scroll");
const empty = sheet.querySelector(".comment-empty");
const loading = sheet.querySelector(".comment-loading");
const more = sheet.querySelector(".comment-more");
const title = sheet.querySelector(".comment-title");
const form = sheet.querySelector(".comment-form");
const input = form?.querySelector("input");
const replying = form?.querySelector(".comment-replying");
const error = form?.querySelector(".comment-error");
const template = document.getElementById("comment-template");
const me = Number(sheet.dataset.me) || null;
const RETRY_MS = [1000, 2000, 5000, 10000];

let slide = null; // the slide whose comments are shown
let opener = null;
let videoAuthor = null;
let next = null; // the next page's `before`
let count = 0;
let replyTo = null; // {id, name} of the comment answered
let socket = null;
let retries = 0;
let retryTimer = null;

const times = new Intl.RelativeTimeFormat(document.documentElement.lang || "zh-hans", { numeric: "auto" });

function ago(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  if (seconds > -60) return gettext("just now");
  for (const [unit, size] of [["minute", 60], ["hour", 3600], ["day", 86400]]) {
    if (seconds > -size * (unit === "day" ? 7 : unit === "hour" ? 24 : 60)) return times.format(Math.round(seconds / size), unit);
  }
  return new Date(iso).toLocaleDateString(document.documentElement.lang || "zh-hans");
}

function showCount(value) {
  count = Math.max(0, value);
  title.textContent = count ? interpolate(ngettext("%(count)s comment", "%(count)s comments", count), { count }, true) : gettext("Comments");
  if (slide) setCount(slide.querySelector(".action-comment .action-count"), count);
  empty.hidden = list.children.length > 0 || !loading.hidden; // not while the first page is on its way
}

function render(comment) {
  const item = template.content.firstElementChild.cloneNode(true);
  item.dataset.id = comment.id;
  item.dataset.author = comment.author.id;
  const profile = url("author", comment.author.id);
  item.querySelector(".comment-face").href = profile;
  const avatar = item.querySelector(".comment-avatar");
  avatar.src = comment.author.avatar;
  const name = item.querySelector(".comment-name");
  name.href = profile;
  name.textContent = comment.author.name;
  if (comment.reply_to) {
    const to = item.querySelector(".comment-to");
    to.textContent = `▸ ${comment.reply_to.name}`;
    to.hidden = false;
  }
  item.querySelector(".comment-by-author").hidden = comment.author.id !== videoAuthor;
  item.querySelector(".comment-text").textContent = comment.text; // text, never markup
  const time = item.querySelector(".comment-time");
  time.dateTime = comment.created;
  time.textContent = ago(comment.created);
  item.querySelector(".comment-delete").hidden = !me || (me !== comment.author.id && me !== videoAuthor);
  item.querySelector(".comment-pin").hidden = !me || me !== videoAuthor || comment.parent !== null;
  item.querySelector(".comment-report").hidden = !me || me === comment.author.id;
  markPinned(item, comment.pinned);
  if (!form) item.querySelector(".comment-reply").hidden = true;
  for (const reply of comment.replies || []) item.querySelector(".comment-replies").append(render(reply));
  return item;
}

function markPinned(item, pinned) {
  item.classList.toggle("is-pinned", pinned);
  item.querySelector(":scope > .comment-main .comment-pinned").hidden = !pinned;
  const pin = item.querySelector(":scope > .comment-main .comment-pin");
  pin.textContent = pinned ? gettext("Unpin") : gettext("Pin");
}

const find = (id) => list.querySelector(`.comment[data-id="${CSS.escape(String(id))}"]`);

function place(comment, { fresh = false } = {}) {
  if (find(comment.id)) return; // mine, shown from the answer already; or a repeat
  const item = render(comment);
  if (fresh) item.classList.add("is-new");
  if (comment.parent) {
    const parent = find(comment.parent);
    if (!parent) return; // on a page not loaded: it shows when that page is
    parent.querySelector(":scope > .comment-main > .comment-replies").append(item);
  } else {
    const pinned = list.querySelector(":scope > .comment.is-pinned");
    if (pinned) pinned.after(item);
    else list.prepend(item);
  }
  showCount(count + 1);
}

function remove(id) {
  const item = find(id);
  if (!item) return;
  const gone = 1 + item.querySelectorAll(".comment").length;
  item.remove();
  showCount(count - gone);
}

function pin(id) {
  for (const item of list.querySelectorAll(":scope > .comment")) markPinned(item, Number(item.dataset.id) === id);
  const pinned = id && find(id);
  if (pinned) list.prepend(pinned);
}

async function load({ again = false } = {}) {
  const id = slide.dataset.id;
  const query = next && !again ? `?before=${next}` : "";
  loading.hidden = list.children.length > 0;
  if (!loading.hidden) empty.hidden = true;
  more.hidden = true;
  try {
    const page = await request(`${url("api-comments", id)}${query}`);
    if (!slide || slide.dataset.id !== id) return; // closed, or another video's since
    videoAuthor = page.video_author;
    if (again || !query) list.replaceChildren();
    for (const comment of page.comments) list.append(render(comment));
    next = page.next;
    more.hidden = next === null;
    showCount(page.count);
  } catch (failure) {
    say(failure.message || gettext("Could not load the comments. Please try again."));
  } finally {
    loading.hidden = true;
    empty.hidden = list.children.length > 0;
  }
}

function listen(id) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const opened = new WebSocket(`${scheme}//${location.host}/ws/videos/${encodeURIComponent(id)}/comments/`);
  socket = opened;
  opened.addEventListener("open", () => {
    if (retries > 0) load({ again: true }); // back after a drop: read what was missed
    retries = 0;
  });
  opened.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "comment") place(event.comment, { fresh: true });
    else if (event.type === "comment_gone") remove(event.id);
    else if (event.type === "comment_pinned") pin(event.id);
    else if (event.type === "video_gone") close(); // taken down: its comments go with it
  });
  opened.addEventListener("close", (closed) => {
    if (socket !== opened || closed.code === 4403) return;
    if (closed.code === 4404) return close(); // the video is gone (taken down while away)
    retryTimer = setTimeout(() => listen(id), RETRY_MS[Math.min(retries, RETRY_MS.length - 1)]);
    retries += 1;
  });
}

function stopListening() {
  clearTimeout(retryTimer);
  const closing = socket;
  socket = null;
  closing?.close();
  retries = 0;
}

export function open(forSlide, button) {
  reportForm.hidden = true;
  if (slide !== forSlide) {
    stopListening();
    list.replaceChildren();
    next = null;
    slide = forSlide;
    count = Number(slide.querySelector(".action-comment .action-count").dataset.count) || 0;
    showCount(count);
    load();
    listen(slide.dataset.id);
  } else if (!socket) {
    listen(slide.dataset.id);
    load({ again: true });
  }
  opener = button;
  setReply(null);
  sheet.hidden = false;
  document.body.classList.add("has-sheet");
  sheet.querySelector(".comment-close").focus();
}

function close() {
  sheet.hidden = true;
  document.body.classList.remove("has-sheet");
  stopListening();
  opener?.focus();
}

function setReply(target) {
  replyTo = target;
  if (!form) return;
  replying.hidden = !target;
  if (target) replying.querySelector("span").textContent = interpolate(gettext("Reply to %(name)s"), { name: target.name }, true);
  input.placeholder = target ? interpolate(gettext("Reply to %(name)s"), { name: target.name }, true) : gettext("Add a comment…");
}

async function send(event) {
  event.preventDefault();
  const text = input.value.trim();
  error.hidden = true;
  if (!text) {
    input.focus();
    return;
  }
  const button = form.querySelector("[type=submit]");
  button.disabled = true;
  try {
    const body = { text };
    if (replyTo) body.reply_to = replyTo.id;
    const comment = await request(url("api-comments", slide.dataset.id), { method: "POST", json: body });
    input.value = "";
    setReply(null);
    place({ ...comment, replies: [] }, { fresh: true });
    if (!comment.parent) scroller.scrollTop = 0;
  } catch (failure) {
    error.textContent = failure.message || gettext("Your comment did not go. Try again.");
    error.hidden = false; // the text stays in the box
  } finally {
    button.disabled = false;
  }
}

async function act(event) {
  if (event.target.closest("[data-close]")) return close();
  if (event.target === more) return load();
  if (event.target.closest(".comment-replying-cancel")) return setReply(null);
  const item = event.target.closest(".comment");
  if (!item) return;
  const id = Number(item.dataset.id);
  try {
    if (event.target.closest(".comment-reply")) {
      setReply({ id, name: item.querySelector(".comment-name").textContent });
      input.focus();
    } else if (event.target.closest(".comment-delete")) {
      if (!window.confirm(gettext("Delete this comment?"))) return;
      await request(url("api-comment", id), { method: "DELETE" });
      remove(id);
    } else if (event.target.closest(".comment-report")) {
      reporting = id;
      reportForm.reset();
      reportForm.querySelector("[type=submit]").disabled = true;
      reportForm.hidden = false;
      scroller.scrollTop = 0;
      reportForm.querySelector("input").focus();
    } else if (event.target.closest(".comment-pin")) {
      const pinned = !item.classList.contains("is-pinned");
      await request(url("api-comment-pin", id), { method: "POST", json: { pinned } });
      pin(pinned ? id : null);
    }
  } catch (failure) {
    say(failure.message || gettext("That did not work. Try again."));
  }
}

// Reporting a comment: the reasons of a video's report, above the list, for the comment chosen.
const reportForm = sheet.querySelector(".sheet-report");
let reporting = null;
const notNow = document.createElement("button"); // the pane is shared with the share sheet's: its own 取消
Object.assign(notNow, { type: "button", className: "button button-block comment-report-cancel", textContent: gettext("Cancel") });
notNow.addEventListener("click", () => {
  reportForm.hidden = true;
  reporting = null;
});
reportForm.append(notNow);
reportForm.addEventListener("change", () => {
  reportForm.querySelector("[type=submit]").disabled = !reportForm.querySelector("input:checked");
});
reportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = reportForm.querySelector("input:checked");
  const problem = reportForm.querySelector(".sheet-error");
  if (!reason || !reporting) return;
  problem.hidden = true;
  try {
    await request(url("api-comment-reports", reporting), {
      method: "POST",
      json: { reason: reason.value, text: reportForm.elements.text.value.trim() },
      fallback: gettext("Could not send the report. Please try again."),
    });
    reportForm.hidden = true;
    reporting = null;
    say(gettext("Thank you. Our moderators will look at it."));
  } catch (failure) {
    problem.textContent = failure.message;
    problem.hidden = false;
  }
});

sheet.addEventListener("click", act);
form?.addEventListener("submit", send);
sheet.querySelector("[data-sign-in]")?.addEventListener("click", (event) => {
  event.preventDefault();
  const back = `${url("video-detail", slide.dataset.id)}?comments=1`;
  location.assign(`${url("login")}?next=${encodeURIComponent(back)}`);
});
document.addEventListener("keydown", (event) => event.key === "Escape" && !sheet.hidden && close());
// A video taken down goes with its comments: its sheet closes.
subscribe("video-gone", ({ id }) => !sheet.hidden && slide && String(id) === slide.dataset.id && close());
document.querySelector(".feed")?.addEventListener("click", (event) => {
  const button = event.target.closest(".action-comment");
  if (button) open(button.closest(".slide"), button);
});
// A link from 好友动态 ("bob 评论了…") or back from signing in: the first video's comments, open.
if (new URLSearchParams(location.search).get("comments")) {
  const first = document.querySelector(".feed .slide");
  if (first) open(first, first.querySelector(".action-comment"));
}
