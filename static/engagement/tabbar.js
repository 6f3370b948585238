// The 社群 tab's badge: my unread group posts in all, live. The server counts up to 100,
// which means more than 99 ("99+"); a post of mine, or one arriving in the group whose page
// is open and looked at, is not unread.
import { subscribe } from "../realtime/events.js";

const OVER = 100;
const bar = document.querySelector(".tabbar");
const badge = bar?.querySelector(".tab-badge");
const me = Number(bar?.dataset.me);
// The page's count includes the posts up to here: a post the socket replays from before it
// (a reconnect's, or a page that resumes from its own list's position) is counted already.
const counted = Number(bar?.dataset.position) || 0;
let total = badge && !badge.hidden ? Number.parseInt(badge.textContent, 10) || 0 : 0;
if (badge?.textContent.endsWith("+")) total = OVER;
let reading = null; // the group whose page this is

// "3", "99+": an unread count as badges show it (the server's 100 means more than 99).
export const unreadText = (count) => (count >= OVER ? "99+" : String(count));

// This page is `group`'s: a post arriving in it is read at once if the page is looked at and
// `seesNew()` (scrolled to the bottom). group.js marks it read; the badge does not count it.
export function readingGroup(group, seesNew) {
  reading = { group, seesNew };
}

// Whether a post that just arrived adds to what I have not read.
export function isUnread(event) {
  if (event.post.author.id === me || event.seq <= counted) return false;
  const seen = event.group === reading?.group && document.visibilityState === "visible" && reading.seesNew();
  return !seen;
}

function show(count) {
  total = Math.max(0, Math.min(count, OVER));
  if (!badge) return;
  badge.textContent = unreadText(total);
  badge.hidden = total === 0;
}

subscribe("group-post", (event) => {
  if (isUnread(event)) show(total + 1);
});
subscribe("group-read", (event) => show(event.total_unread));
