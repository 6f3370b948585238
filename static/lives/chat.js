// The room's comments (评论 / 弹幕): the latest at the bottom left, new ones as the room socket
// brings them, removed ones gone at once; "bob 来了" when someone comes in. A signed-in viewer
// writes one below (POST /api/lives/{id}/comments/); the host and moderators tap a comment to
// remove it or to mute its writer in this live.
import { gettext, interpolate, request, url } from "../miniapp/api.js";

const SHOWN = 30; // comments kept on screen
const NOTICE_MS = 2500;

export class RoomChat {
  constructor(room, { onSignIn, onMessage }) {
    this.room = room;
    this.onSignIn = onSignIn;
    this.onMessage = onMessage;
    this.list = room.querySelector(".live-comments");
    this.notice = room.querySelector(".live-notice");
    this.form = room.querySelector(".live-say");
    this.input = room.querySelector(".live-say-text");
    this.menu = room.querySelector(".live-comment-menu");
    this.lastId = null; // the newest comment shown: a reconnect asks for those after it
    this.noticeTimer = null;
    this.chosen = null; // the comment the menu is open for
  }

  start() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("focus", () => {
      if (!this.room.dataset.me) this.onSignIn();
    });
    if (this.room.dataset.moderator) {
      this.list.addEventListener("click", (event) => {
        const item = event.target.closest(".live-comment");
        if (item) this.openMenu(item);
      });
      this.menu.addEventListener("click", (event) => this.act(event.target.closest("button")?.dataset.action));
    }
  }

  hear(frame) {
    if (frame.type === "hello") {
      // A reconnect: the comments removed while it was away go, the ones it missed come.
      (frame.gone ?? []).forEach((id) => this.onScreen(id)?.remove());
      frame.comments.forEach((comment) => this.add(comment));
    } else if (frame.type === "comment") this.add(frame);
    else if (frame.type === "comment_gone") this.onScreen(frame.id)?.remove();
    else if (frame.type === "notice" && frame.kind === "enter") this.arrived(frame.user);
  }

  onScreen(id) {
    return this.list.querySelector(`[data-id="${id}"]`); // the comment on screen, if it is
  }

  add(comment) {
    if (this.onScreen(comment.id)) return; // mine, shown when sent
    const item = document.createElement("li");
    item.className = comment.staff ? "live-comment live-comment-staff" : "live-comment";
    item.dataset.id = comment.id;
    item.dataset.user = comment.user.id;
    const name = document.createElement("span");
    name.className = "live-comment-name";
    name.textContent = comment.user.name;
    const text = document.createElement("span");
    text.className = "live-comment-text";
    text.textContent = comment.text;
    item.append(name, text);
    // In id order: a comment that committed late goes where it belongs.
    const after = [...this.list.children].find((other) => Number(other.dataset.id) > comment.id);
    this.list.insertBefore(item, after ?? null);
    while (this.list.children.length > SHOWN) this.list.firstElementChild.remove();
    this.lastId = Math.max(this.lastId ?? 0, comment.id);
    this.list.scrollTop = this.list.scrollHeight;
  }

  arrived(user) {
    this.notice.textContent = interpolate(gettext("%s joined"), [user.name]);
    this.notice.hidden = false;
    window.clearTimeout(this.noticeTimer);
    this.noticeTimer = window.setTimeout(() => (this.notice.hidden = true), NOTICE_MS);
  }

  async send() {
    const text = this.input.value.trim();
    if (!text) return;
    if (!this.room.dataset.me) return this.onSignIn();
    this.input.disabled = true;
    try {
      const comment = await request(url("api-live-comments"), {
        method: "POST",
        json: { text },
        fallback: gettext("Your comment did not go. Try again."),
      });
      this.input.value = "";
      this.add(comment);
    } catch (failure) {
      this.onMessage(failure.message); // the text stays, to send again
    } finally {
      this.input.disabled = false;
    }
  }

  openMenu(item) {
    this.chosen = item;
    this.menu.hidden = false;
    this.menu.querySelector("button").focus();
  }

  async act(action) {
    const item = this.chosen;
    this.menu.hidden = true;
    this.chosen = null;
    if (!item || !action || action === "cancel") return;
    try {
      if (action === "remove") {
        await request(`${url("api-live-comments")}${item.dataset.id}/`, { method: "DELETE" });
        item.remove();
      } else if (action === "mute") {
        await request(url("api-live-mutes"), { method: "POST", json: { user: Number(item.dataset.user) } });
        this.onMessage(gettext("Muted in this live."));
      }
    } catch (failure) {
      this.onMessage(failure.message);
    }
  }
}
