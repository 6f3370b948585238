// What the page's activity socket hears, for any module to listen to without opening one
// (the feed drops a video taken down, but leaves the socket to the page's own script):
//   "activity", "retract"  the event as the server sent it (a replayed or polled one too)
//   "video-gone"           {id} of a video a moderator took down
//   "reload"               {} the server could not replay the gap: reload the list
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

// "alice liked 《…》": an activity event in a sentence, as the server writes the entries it renders.
export function describe(event) {
  const format = event.verb === "share" ? gettext("%(name)s shared 《%(title)s》") : gettext("%(name)s liked 《%(title)s》");
  return interpolate(format, { name: event.actor.name, title: event.video.title }, true);
}
