// /groups/: my groups, the one with the newest post first, each with its last post and unread
// count. Drawn from the page's groups-data, then kept live from the socket: a post moves its
// group to the top, a read elsewhere clears its badge, anything the events cannot say
// (a post withdrawn, a group joined, a gap) reloads the list from /api/groups/.
import { request, url } from "../miniapp/api.js";
import { subscribe } from "../realtime/events.js";
import { connect } from "../realtime/socket.js";
import { chatTime, lastPostText } from "./posts.js";
import { isUnread, unreadText } from "./tabbar.js";

const list = document.querySelector(".group-list");
const empty = document.querySelector(".groups-empty");
const template = document.getElementById("group-row-template");
const groups = new Map(); // id -> the group as the API gives it

function fill(row, group) {
  row.dataset.id = group.id;
  row.querySelector(".group-link").href = group.url;
  row.querySelector(".group-avatar").src = group.avatar;
  row.querySelector(".group-name").textContent = group.name;
  row.querySelector(".group-count").textContent = `(${group.member_count})`;
  const badge = row.querySelector(".unread-badge");
  badge.textContent = unreadText(group.unread);
  badge.hidden = !group.unread;
  const time = row.querySelector(".group-time");
  const last = group.last_post;
  time.dateTime = last ? last.created : "";
  time.textContent = last ? chatTime(last.created) : "";
  row.querySelector(".group-last").textContent = lastPostText(last);
}

function rowOf(id) {
  return list.querySelector(`.group-row[data-id="${id}"]`);
}

function draw(all) {
  groups.clear();
  list.replaceChildren(
    ...all.map((group) => {
      groups.set(group.id, group);
      const row = template.content.firstElementChild.cloneNode(true);
      fill(row, group);
      return row;
    }),
  );
  empty.hidden = all.length > 0;
}

let reloading = null;
function reload() {
  reloading ??= request(url("api-groups"))
    .then((answer) => draw(answer.groups))
    .catch(() => {}) // offline or a bad moment: the list stays as it is until the next event
    .finally(() => (reloading = null));
  return reloading;
}

subscribe("group-post", (event) => {
  const group = groups.get(event.group);
  if (!group) return reload(); // a group I was not in when the page was drawn
  if (group.last_post && group.last_post.id >= event.post.id) return; // a replay of what the list shows
  group.last_post = event.post;
  if (isUnread(event)) group.unread = Math.min(group.unread + 1, 100);
  const row = rowOf(group.id);
  fill(row, group);
  list.prepend(row); // newest post first
});
subscribe("group-read", (event) => {
  const group = groups.get(event.group);
  if (!group) return;
  group.unread = event.unread;
  fill(rowOf(group.id), group);
});
// A group's last post withdrawn: the server knows which post is its last now.
const showing = (test) => [...groups.values()].some((group) => group.last_post && test(group.last_post));
subscribe("retract", ({ id }) => showing((post) => post.id === id) && reload());
subscribe("video-gone", ({ id }) => showing((post) => post.video?.id === id) && reload());
subscribe("reload", reload);

draw(JSON.parse(document.getElementById("groups-data").textContent).groups);
setInterval(() => {
  list.querySelectorAll(".group-time").forEach((time) => {
    if (time.dateTime) time.textContent = chatTime(time.dateTime);
  });
}, 60_000);
// What happened before the socket subscribed (since the page was drawn, or while it was away).
subscribe("connected", reload);
connect();
