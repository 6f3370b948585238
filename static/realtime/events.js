// What the page's activity socket hears, for any module to listen to without opening one
// (the feed drops a video taken down, but leaves the socket to the page's own script):
//   "activity", "retract"  the event as the server sent it (a replayed or polled one too);
//                          a retract's `id` is a friend's entry or a group post (one log)
//   "group-post"           {group, post, seq}: a post in one of my groups (mine too), live or replayed
//   "group-read"           {group, last_id, unread, total_unread}: I read a group (on another page)
//   "video-gone"           {id} of a video a moderator took down
//   "live-state"           {id, status} of a live announced in my groups: on air or ended
//   "reload"               {} the server could not replay the gap: reload the list
//   "connected"            {} the socket is open and subscribed: what happens from now on arrives
import { gettext, interpolate } from "../miniapp/api.js";

const hub = new EventTarget();

// Calls `listener(detail)` for each `type` event; returns a function that stops it.
export function subscribe(type, listener) {
  const handler = (event) => listener(event.detail);
  hub.addEventListener(type, handler);
  return () => hub.removeEventListener(type, handler);
}

export function publish(type, detail = {}) {
  hub.dispatchEvent(new CustomEvent(type, { detail }));
}

// "alice liked “…”", "alice 赞了《…》", "alice 评论了《…》", "bob 给 alice 的直播点赞": an activity event in a sentence, as the server writes the entries it renders.
export function describe(event) {
  if (event.verb === "live_like") {
    return interpolate(gettext("%(name)s liked %(host)s's live"), { name: event.actor.name, host: event.live.host.name }, true);
  }
  const formats = {
    share: gettext("%(name)s shared “%(title)s”"),
    comment: gettext("%(name)s commented on “%(title)s”"),
  };
  const format = formats[event.verb] ?? gettext("%(name)s liked “%(title)s”");
  return interpolate(format, { name: event.actor.name, title: event.video.title }, true);
}
