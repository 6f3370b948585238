// On every signed-in page but 好友动态: a short toast when a friend likes or shares a video.
// Throttled: one toast at a time; what arrives meanwhile is summed up in the next.
import { interpolate, ngettext, url } from "../miniapp/api.js";
import { describe, subscribe } from "./events.js";
import { connect } from "./socket.js";

const SHOW_FOR = 4_000;
let toast = null;
let busy = false;
let waiting = [];

function element() {
  if (toast) return toast;
  toast = document.createElement("a");
  toast.className = "friend-toast";
  toast.href = url("friends");
  toast.hidden = true;
  toast.setAttribute("role", "status");
  toast.setAttribute("aria-live", "polite");
  const avatar = document.createElement("img");
  avatar.className = "avatar";
  avatar.alt = "";
  const text = document.createElement("span");
  toast.append(avatar, text);
  document.body.append(toast);
  return toast;
}

function show(events) {
  const box = element();
  const [first] = events;
  const [avatar, text] = box.children;
  avatar.src = first.actor.avatar;
  // One event opens its video (a share through its share link); several open 好友动态.
  box.href = events.length === 1 && first.url ? first.url : url("friends");
  if (events.length === 1) {
    text.textContent = describe(first);
  } else {
    const format = ngettext("%s new activity from friends", "%s new activities from friends", events.length);
    text.textContent = interpolate(format, [events.length]);
  }
  busy = true;
  box.classList.remove("is-leaving");
  box.hidden = false;
  setTimeout(() => {
    box.classList.add("is-leaving");
    setTimeout(() => {
      box.hidden = true;
      busy = false;
      if (waiting.length) flush();
    }, 300);
  }, SHOW_FOR);
}

function flush() {
  const events = waiting;
  waiting = [];
  show(events);
}

subscribe("activity", (event) => {
  waiting.push(event);
  if (!busy) flush();
});
subscribe("retract", (event) => {
  waiting = waiting.filter((queued) => queued.id !== event.id); // withdrawn before it was shown
});
connect();
