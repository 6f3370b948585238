// A group's page: its posts as a chat of cards, oldest at the top, newest at the bottom.
// Older pages load when the reader scrolls to the top; new posts arrive over the socket and
// come into view if the reader is at the bottom (else a "3 条新消息" pill says so); withdrawn
// ones leave. What the reader has seen is marked read, which clears the badges elsewhere.
import { gettext, interpolate, ngettext, request, url } from "../miniapp/api.js";
import { publish, subscribe } from "../realtime/events.js";
import { connect } from "../realtime/socket.js";
import { chatTime, clipLength, compact, viewsText } from "./posts.js";
import { readingGroup } from "./tabbar.js";

const chat = document.querySelector(".chat");
const list = chat.querySelector(".chat-list");
const empty = chat.querySelector(".chat-empty");
const older = chat.querySelector(".chat-older");
const pill = document.querySelector(".chat-new");
const template = document.getElementById("post-template");
const group = JSON.parse(document.getElementById("group-data").textContent);
const page = JSON.parse(document.getElementById("page-data").textContent);
const me = Number(chat.dataset.me);
const NEAR = 48; // px: this close to the bottom counts as at the bottom
const TIME_GAP = 5 * 60_000; // a time line above a post that comes this long after the one before

let previous = page.previous; // the page of older posts, null when this is all
let newest = page.last_id ?? 0; // the newest post the page has had (for ?after=)
let readUpTo = group.read_up_to ?? 0;
let fresh = 0; // posts that arrived below while the reader was scrolled up

const sameSite = (address) => {
  const parsed = new URL(address, location.href);
  return `${parsed.pathname}${parsed.search}`;
};
const items = () => list.querySelectorAll(".post");
const atBottom = () => window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - NEAR;
const toBottom = () => window.scrollTo(0, document.documentElement.scrollHeight);

function liveState(live) {
  if (live.status === "live") return gettext("● Live now: tap to watch");
  if (live.status === "ended") return gettext("The live has ended");
  return live.starts_at
    ? interpolate(gettext("Live at %s"), [chatTime(live.starts_at, { withClock: true })])
    : gettext("Live coming soon");
}

function render(post) {
  const item = template.content.firstElementChild.cloneNode(true);
  item.dataset.id = post.id;
  item.dataset.created = post.created;
  item.classList.toggle("is-mine", post.author.id === me);
  item.querySelector(".post-avatar").src = post.author.avatar;
  item.querySelector(".post-author").textContent = post.author.name;
  const note = item.querySelector(".post-note");
  note.textContent = post.note;
  note.hidden = !post.note;
  const card = item.querySelector(".post-card");
  card.href = post.url;
  const video = post.video;
  if (video) {
    item.dataset.video = video.id;
    item.querySelector(".post-poster img").src = video.poster_url;
    item.querySelector(".post-duration").textContent = clipLength(video.duration);
    item.querySelector(".post-title").textContent = video.title;
    item.querySelector(".post-likes").textContent = `♥ ${compact(video.like_count)}`;
  } else if (post.live) {
    // A live's announcement: its title and its state (announced for a time, on air, over),
    // which the socket updates, and while on air its likes and viewers.
    item.querySelector(".post-poster").hidden = true;
    item.dataset.live = post.live.id;
    item.liveInfo = post.live;
    card.classList.add("post-live", `is-${post.live.status}`);
    item.querySelector(".post-title").textContent = post.live.title;
    item.querySelector(".post-likes").textContent = liveState(post.live);
  }
  const views = item.querySelector(".post-views");
  views.textContent = post.views ? viewsText(post.views) : "";
  views.hidden = !post.views;
  return item;
}

// WeChat's time lines: above the first post, and above one that comes long after the one before.
function markTimes() {
  let before = null;
  items().forEach((item) => {
    const created = new Date(item.dataset.created).getTime();
    const line = item.querySelector(".post-time");
    line.hidden = before !== null && created - before < TIME_GAP;
    if (!line.hidden) line.querySelector("time").textContent = chatTime(item.dataset.created, { withClock: true });
    before = created;
  });
  empty.hidden = items().length > 0;
}

function has(id) {
  return list.querySelector(`.post[data-id="${id}"]`) !== null;
}

// Posts newer than all shown, oldest first: at the bottom.
function append(posts) {
  const wasAtBottom = atBottom();
  const added = posts.filter((post) => !has(post.id));
  if (!added.length) return;
  list.append(...added.map(render));
  newest = Math.max(newest, ...added.map((post) => post.id));
  markTimes();
  if (wasAtBottom) toBottom();
  else showFresh(fresh + added.length);
  markRead();
}

// Older posts, oldest first: on top, the reader's view staying where it was.
function prepend(posts) {
  const added = posts.filter((post) => !has(post.id));
  if (!added.length) return;
  const height = document.documentElement.scrollHeight;
  list.prepend(...added.map(render));
  markTimes();
  window.scrollBy(0, document.documentElement.scrollHeight - height);
}

function remove(selector) {
  list.querySelectorAll(selector).forEach((item) => item.remove());
  markTimes();
}

function showFresh(count) {
  fresh = count;
  pill.hidden = count === 0;
  pill.textContent = interpolate(ngettext("%(count)s new message", "%(count)s new messages", count), { count }, true);
}

// The newest post the reader has had on screen (above the tab bar).
function newestSeen() {
  const bottom = document.querySelector(".tabbar")?.getBoundingClientRect().top ?? window.innerHeight;
  const shown = [...items()].reverse().find((item) => item.getBoundingClientRect().top < bottom);
  return shown ? Number(shown.dataset.id) : 0;
}

const RETRY_AFTER = 5_000; // a read that failed is tried again on the next scroll or post after this

let reading = false;
let failedAt = -Infinity;
async function markRead() {
  if (document.visibilityState !== "visible" || reading || performance.now() - failedAt < RETRY_AFTER) return;
  const last = newestSeen();
  if (last <= readUpTo) return;
  reading = true;
  let answer = null;
  try {
    answer = await request(url("api-group-read"), { method: "POST", json: { last_id: last } });
  } catch {
    failedAt = performance.now(); // offline or a bad moment
  }
  reading = false;
  if (!answer) return;
  readUpTo = Math.max(readUpTo, last);
  publish("group-read", { group: group.id, last_id: last, ...answer }); // this page's badges too
  markRead(); // more came into view meanwhile
}

const nearTop = () => older.getBoundingClientRect().bottom > -200;

let loadingOlder = false;
async function loadOlder() {
  if (!previous || loadingOlder) return;
  loadingOlder = true;
  older.textContent = gettext("Loading…");
  try {
    const answer = await request(sameSite(previous));
    previous = answer.previous;
    prepend(answer.results);
  } catch {
    return; // the next scroll to the top tries again
  } finally {
    loadingOlder = false;
    older.textContent = "";
  }
  if (nearTop()) loadOlder(); // still at the top (the posts do not fill the screen yet)
}

// Since `newest`, page by page: what the socket could not bring (before it subscribed, or a gap).
async function catchUp() {
  let next = `${url("api-group-posts")}?after=${newest}`;
  while (next) {
    let answer;
    try {
      answer = await request(sameSite(next));
    } catch {
      return;
    }
    append(answer.results);
    next = answer.next;
  }
}

async function reload() {
  let answer;
  try {
    answer = await request(url("api-group-posts"));
  } catch {
    return;
  }
  list.replaceChildren();
  previous = answer.previous;
  newest = answer.last_id ?? 0;
  showFresh(0);
  list.append(...answer.results.map(render));
  markTimes();
  toBottom();
  markRead();
}

subscribe("group-post", (event) => {
  if (event.group === group.id) append([event.post]);
});
subscribe("retract", ({ id }) => remove(`.post[data-id="${id}"]`));
subscribe("video-gone", ({ id }) => remove(`.post[data-video="${id}"]`));
subscribe("reload", reload);
subscribe("connected", catchUp);
// A live announced here went on air or ended: every card of it says so.
function showLive(id, changes) {
  list.querySelectorAll(`.post[data-live="${id}"]`).forEach((item) => {
    const live = Object.assign(item.liveInfo, changes);
    const card = item.querySelector(".post-card");
    card.classList.remove("is-scheduled", "is-live", "is-ended");
    card.classList.add(`is-${live.status}`);
    let text = liveState(live);
    if (live.status === "live" && live.likes !== undefined) {
      const counts = { likes: compact(live.likes), viewers: compact(live.viewers) };
      text += ` · ${interpolate(gettext("♥ %(likes)s · %(viewers)s watching"), counts, true)}`;
    }
    item.querySelector(".post-likes").textContent = text;
  });
}
subscribe("live-state", ({ id, status }) => showLive(id, { status }));

// The likes and viewers of the lives on air here, asked again while the page is in view.
const COUNTS_EVERY = 15_000;
async function liveCounts() {
  if (document.visibilityState === "visible") {
    const cards = list.querySelectorAll(".post-live.is-live");
    const onAir = new Set([...cards].map((card) => card.closest(".post").dataset.live));
    for (const id of onAir) {
      try {
        const live = await request(url("api-live", id));
        showLive(id, { status: live.status, likes: live.likes, viewers: live.viewers });
      } catch {
        // the network is away: next time
      }
    }
  }
  window.setTimeout(liveCounts, COUNTS_EVERY);
}

subscribe("group-read", (event) => {
  if (event.group === group.id) readUpTo = Math.max(readUpTo, event.last_id);
});

pill.addEventListener("click", () => {
  toBottom();
  showFresh(0);
});
window.addEventListener(
  "scroll",
  () => {
    if (fresh && atBottom()) showFresh(0);
    markRead();
  },
  { passive: true },
);
document.addEventListener("visibilitychange", markRead);

// New posts are read as they arrive while this page is looked at and scrolled to the bottom.
readingGroup(group.id, () => atBottom());
history.scrollRestoration = "manual"; // a chat opens at its newest post, also when reloaded
list.append(...page.results.map(render));
markTimes();
toBottom();
markRead();
// Near the top: the page of older posts (also at once while the posts do not fill the screen).
new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && loadOlder(), {
  rootMargin: "200px 0px 0px 0px",
}).observe(older);
setInterval(markTimes, 60_000);
liveCounts();
connect();
