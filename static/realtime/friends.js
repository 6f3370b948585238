// 好友动态: the server rendered the newest entries; the socket adds live ones on top
// and withdraws retracted ones, resuming from the last entry after any gap.
import { gettext, request, url } from "../miniapp/api.js";
import { describe, subscribe } from "./events.js";
import { connect } from "./socket.js";

const list = document.querySelector(".activity-list");
const template = document.getElementById("activity-template");
const empty = document.querySelector(".activity-empty");
const lang = document.documentElement.lang || "zh-hans";
const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
const UNITS = [
  ["year", 31_536_000],
  ["month", 2_592_000],
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
];

function ago(iso) {
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return gettext("just now");
}

function refreshTimes() {
  list.querySelectorAll(".activity-time").forEach((time) => {
    time.textContent = ago(time.getAttribute("datetime"));
  });
}

function render(event) {
  const item = template.content.firstElementChild.cloneNode(true);
  item.dataset.id = event.id;
  if (event.video) item.dataset.video = event.video.id;
  else delete item.dataset.video;
  item.querySelector(".activity-link").href = event.url || url("video-detail", event.video.id);
  item.querySelector(".avatar").src = event.actor.avatar;
  item.querySelector(".activity-text").textContent = describe(event);
  const note = item.querySelector(".activity-note");
  note.textContent = event.note || "";
  note.hidden = !event.note;
  const time = item.querySelector(".activity-time");
  time.setAttribute("datetime", event.created);
  time.textContent = ago(event.created);
  // A like in a live shows the live's host, ringed as on the feed's live strip.
  const poster = item.querySelector(".activity-poster");
  poster.src = event.video ? event.video.poster_url : event.live.host.avatar;
  item.classList.toggle("activity-live", !event.video);
  return item;
}

function add(event, { fresh = true } = {}) {
  if (list.querySelector(`.activity[data-id="${event.id}"]`)) return;
  const item = render(event);
  if (fresh) item.classList.add("is-new");
  list.prepend(item);
  empty.hidden = true;
}

function remove(id) {
  const item = list.querySelector(`.activity[data-id="${id}"]`);
  if (item) item.remove();
  empty.hidden = list.children.length > 0;
}

async function reload() {
  let page;
  try {
    page = await request(url("api-activity"));
  } catch {
    return;
  }
  list.replaceChildren();
  page.results.forEach((event) => add(event, { fresh: false }));
  empty.hidden = list.children.length > 0;
  socket.resumeAfter(page.last_id);
}

subscribe("activity", add);
subscribe("retract", (event) => remove(event.id));
subscribe("reload", reload);
// A video taken down: its entries go too (the retract events say so one by one as well).
subscribe("video-gone", ({ id }) => {
  list.querySelectorAll(`.activity[data-video="${id}"]`).forEach((item) => item.remove());
  empty.hidden = list.children.length > 0;
});
refreshTimes();
setInterval(refreshTimes, 60_000);
const socket = connect({ after: Number(list.dataset.lastId) });
