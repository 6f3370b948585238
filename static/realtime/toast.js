"use strict";
// On every page but 好友动态: a short toast when a friend likes or shares a video.
// Throttled: one toast at a time; what arrives meanwhile is summed up in the next.
(() => {
  if (!window.miniapp) return;
  const gettext = window.gettext || ((text) => text);
  const ngettext = window.ngettext || ((one, many, count) => (count === 1 ? one : many));
  const interpolate = window.interpolate || ((format) => format);
  const SHOW_FOR = 4_000;
  let toast = null;
  let busy = false;
  let waiting = [];

  function element() {
    if (toast) return toast;
    toast = document.createElement("a");
    toast.className = "friend-toast";
    toast.href = "/friends/";
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
    box.href = events.length === 1 && first.url ? first.url : "/friends/";
    if (events.length === 1) {
      const format = first.verb === "share" ? gettext("%(name)s shared 《%(title)s》") : gettext("%(name)s liked 《%(title)s》");
      text.textContent = interpolate(format, { name: first.actor.name, title: first.video.title }, true);
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

  function announce(event) {
    if (event.type !== "activity") {
      waiting = waiting.filter((queued) => queued.id !== event.id); // withdrawn before it was shown
      return;
    }
    waiting.push(event);
    if (!busy) flush();
  }

  new window.miniapp.ActivitySocket({ onEvent: announce }).start();
})();
