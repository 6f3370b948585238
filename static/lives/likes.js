// The room's likes and viewers. A tap on the heart (or a double tap on the video) draws a heart
// at once and adds to the count; the taps go to the server in batches, one at a time, every
// 250 ms at most or as the server paces a busy room (its answer's `next`, up to 2 s)
// (POST /api/lives/{id}/likes/, each batch named so that a retry counts once). The room socket
// /ws/live/<id>/ brings the total, the viewers and the latest likers at most once a tick, and
// hearts float for the others' taps, more for a bigger delta. Its other frames (comments,
// notices) go to `onFrame`.
import { compact } from "../engagement/posts.js";
import { RequestError, gettext, interpolate, request, url } from "../miniapp/api.js";

const SEND_EVERY = 250; // ms, and the server's pace is kept within these
const SEND_EVERY_MOST = 2000;
const BATCH_MAX = 50; // the server's (lives/taps.py)
const HEARTS_MAX = 6;
const HEART_COLOURS = ["#fa5151", "#ff8f1f", "#ffc300", "#07c160", "#10aeff", "#b37feb"];
const FIRST_DELAY = 1000;
const MAX_DELAY = 15000;
// 4403 another origin, 4404 no such live: not retried. 1000: the live ended.
const FINAL = new Set([1000, 4403, 4404]);

const batchId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

export class RoomLikes {
  // `room`: the page's .live element; `onStatus(status)`: the live paused, came back or ended.
  // `onFrame(frame)`: every frame, for the comments (chat.js); `after()`: the last comment shown.
  constructor(room, liveId, { onStatus, onSignIn, onMessage, onFrame = () => {}, after = () => null }) {
    this.room = room;
    this.liveId = liveId;
    this.onStatus = onStatus;
    this.onFrame = onFrame;
    this.after = after;
    this.onSignIn = onSignIn;
    this.onMessage = onMessage;
    this.total = 0; // the server's, as last heard
    this.mine = 0; // taps of mine not yet in a total heard from the server
    this.pending = 0; // taps not yet sent
    this.inFlight = null; // the batch being sent: {id, taps}
    this.timer = null;
    this.every = SEND_EVERY; // the room's pace, as the server last said
    this.sentAt = 0;
    this.delay = FIRST_DELAY;
    this.socket = null;
    this.closed = false;
    this.count = room.querySelector(".live-likes-count");
    this.viewers = room.querySelector(".live-viewers");
    this.likers = room.querySelector(".live-likers");
    this.hearts = room.querySelector(".live-hearts");
  }

  start() {
    this.room.querySelector(".live-like").addEventListener("click", () => this.tap());
    this.room.querySelector(".live-video").addEventListener("dblclick", () => this.tap());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.socket) this.connect();
    });
    window.addEventListener("pagehide", () => this.flush({ keepalive: true }));
    this.connect();
  }

  stop() {
    this.closed = true;
    this.socket?.close();
  }

  connect() {
    if (this.closed || this.socket) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const after = this.after();
    const query = after === null ? "" : `?after=${after}`;
    const socket = new WebSocket(`${scheme}//${location.host}/ws/live/${this.liveId}/${query}`);
    this.socket = socket;
    socket.addEventListener("message", (message) => this.hear(JSON.parse(message.data)));
    socket.addEventListener("close", (event) => {
      this.socket = null;
      if (this.closed || FINAL.has(event.code)) return;
      window.setTimeout(() => this.connect(), this.delay * (0.5 + Math.random()));
      this.delay = Math.min(this.delay * 2, MAX_DELAY);
    });
  }

  hear(frame) {
    this.onFrame(frame);
    if (frame.type === "hello" || frame.type === "room") {
      this.delay = FIRST_DELAY;
      const others = frame.type === "room" ? Math.max(0, frame.delta - this.heardMine()) : 0;
      this.total = Math.max(this.total, frame.likes);
      this.show(frame);
      if (others > 0) this.float(Math.min(HEARTS_MAX, Math.ceil(Math.log2(others + 1))));
    } else if (frame.type === "status") {
      this.onStatus(frame.status);
    }
  }

  // My taps the server counted since its last frame: they are in this frame's delta, and their
  // hearts were drawn when tapped.
  heardMine() {
    const heard = this.acknowledged || 0;
    this.acknowledged = 0;
    return heard;
  }

  show(frame) {
    this.count.textContent = compact(this.total + this.mine);
    this.count.parentElement.hidden = false;
    if (frame && frame.viewers !== undefined) {
      this.viewers.textContent = interpolate(gettext("%s watching"), [compact(frame.viewers)]);
      this.viewers.hidden = false;
    }
    if (frame && frame.likers) {
      this.likers.replaceChildren(
        ...frame.likers.map((liker) => {
          const image = document.createElement("img");
          image.src = liker.avatar;
          image.alt = liker.name;
          image.title = liker.name;
          image.width = image.height = 24;
          return image;
        }),
      );
    }
  }

  tap() {
    if (this.room.dataset.status !== "live") return;
    if (!this.room.dataset.me) {
      this.onSignIn();
      return;
    }
    this.float(1, true);
    this.pending += 1;
    this.mine += 1;
    this.show();
    if (!this.timer && !this.inFlight) this.schedule(this.every);
  }

  // The next batch in `wait` ms, or when the pace allows after the last one.
  schedule(wait) {
    const paced = this.sentAt + this.every - Date.now();
    this.timer = window.setTimeout(() => this.flush(), Math.max(wait, paced, 0));
  }

  async flush({ keepalive = false } = {}) {
    this.timer = null;
    if (this.inFlight) return; // one batch at a time: the next goes when it is answered
    if (!this.pending) return;
    const taps = Math.min(this.pending, BATCH_MAX);
    this.pending -= taps;
    this.inFlight = { id: batchId(), taps };
    this.sentAt = Date.now();
    await this.send(keepalive);
  }

  async send(keepalive) {
    const batch = this.inFlight;
    try {
      const answer = await request(url("api-live-likes"), {
        method: "POST",
        json: { taps: batch.taps, batch: batch.id },
        keepalive,
      });
      this.counted(batch, answer);
    } catch (failure) {
      if (failure instanceof RequestError && failure.network) {
        // No answer: the same batch again in a moment (counted once, whatever happened).
        window.setTimeout(() => this.send(false), 1000);
        return;
      }
      if (failure.status === 429 && failure.body.likes !== undefined) {
        this.counted(batch, failure.body);
        return;
      }
      this.inFlight = null;
      this.mine = Math.max(0, this.mine - batch.taps);
      if (failure.status === 401 || failure.status === 403) this.onSignIn();
      else this.onMessage(failure.message);
      this.show();
      return;
    }
    if (this.pending && !this.timer) this.schedule(0);
  }

  counted(batch, answer) {
    this.inFlight = null;
    this.mine = Math.max(0, this.mine - batch.taps);
    this.acknowledged = (this.acknowledged || 0) + answer.counted;
    this.total = Math.max(this.total, answer.likes);
    if (answer.next) this.every = Math.min(SEND_EVERY_MOST, Math.max(SEND_EVERY, answer.next));
    if (answer.refused) this.onMessage(answer.detail);
    this.show();
  }

  // Hearts rising from the like button: mine at once, the others' with each frame.
  float(count, mine = false) {
    for (let n = 0; n < count; n += 1) {
      const heart = document.createElement("span");
      heart.className = mine ? "live-heart live-heart-mine" : "live-heart";
      heart.textContent = "♥";
      heart.style.color = HEART_COLOURS[Math.floor(Math.random() * HEART_COLOURS.length)];
      heart.style.setProperty("--drift", `${Math.round((Math.random() - 0.5) * 80)}px`);
      heart.style.animationDelay = `${n * 120}ms`;
      heart.addEventListener("animationend", () => heart.remove());
      this.hearts.append(heart);
    }
  }
}
