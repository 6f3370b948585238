// The page's one activity socket: it connects, resumes from the last event it saw, drops
// duplicates, pings, reconnects with backoff and jitter, and falls back to polling the API
// when the socket never opens. What it hears goes out through events.js.
import { gettext, request, url } from "../miniapp/api.js";
import { publish } from "./events.js";

const PING_EVERY = 25_000;
const DEAD_AFTER = 10_000; // no answer this long after a ping: the socket is dead
const FIRST_DELAY = 1_000;
const MAX_DELAY = 30_000;
const POLL_EVERY = 15_000;
const POLL_AFTER_FAILURES = 3;
const SEEN_KEPT = 1000;
// Close codes: 4401 signed out (at connect, or when the session ends: a sign-out, a password
// change, a ban, expiry) and 4403 a foreign page: never retried, but for one case. A 4401 on
// a socket that had its hello may be a session renewed under a new key (a password change
// made in another tab keeps that browser signed in): one more attempt tells. 4003: the
// server got a binary frame, which this client never sends: reconnect as after any drop.
const REFUSED = new Set([4401, 4403]);
// The events of the log, and the names events.js publishes them under. Friends' activities and
// group posts are one log: one position (`lastId`, the highest `seq` seen) resumes both.
const LOGGED = { activity: "activity", retract: "retract", group_post: "group-post" };

class ActivitySocket {
  constructor({ after = null } = {}) {
    this.lastId = after;
    this.seen = new Set(); // recent seqs: events can arrive out of log order, and replays overlap
    this.failures = 0;
    this.everOpened = false;
    this.greeted = false; // this socket had its hello: it was signed in
    this.signInRetried = false; // a 4401 after a hello was tried once again
    this.socket = null;
    this.timers = {};
    this.state = "idle";
  }

  start() {
    window.addEventListener("online", () => this.reconnectNow());
    // The browser's word is a hint: a socket can outlive a short drop. The banner says offline
    // at once, and the socket is asked (a ping): any frame that comes says it is open again,
    // none for DEAD_AFTER and it is closed and tried again.
    window.addEventListener("offline", () => {
      this.setState("offline");
      this.ping();
    });
    window.addEventListener("pageshow", (event) => event.persisted && this.reconnectNow());
    window.addEventListener("pagehide", () => this.stop());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
    this.connect();
  }

  socketUrl() {
    // The Channels route (realtime/routing.py): not in the URLconf, so no {% url %} for it.
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // The user's shard is for the proxy, which sends each shard's sockets to the same workers.
    const params = new URLSearchParams();
    if (document.body.dataset.shard) params.set("shard", document.body.dataset.shard);
    if (this.lastId !== null) params.set("after", this.lastId);
    const query = params.toString();
    return `${scheme}//${location.host}/ws/activity/${query ? `?${query}` : ""}`;
  }

  connect() {
    this.clear("retry");
    if (this.state === "refused" || this.state === "stopped") return;
    if (navigator.onLine === false) return this.setState("offline");
    this.setState(this.everOpened || this.failures ? "reconnecting" : "connecting");
    this.greeted = false;
    const socket = new WebSocket(this.socketUrl());
    this.socket = socket;
    socket.onopen = () => {
      this.failures = 0;
      this.everOpened = true;
      this.clear("poll");
      this.setState("open");
      this.timers.ping = setInterval(() => this.ping(), PING_EVERY);
    };
    socket.onmessage = (message) => this.receive(message.data);
    socket.onclose = (event) => socket === this.socket && this.closed(event.code);
  }

  isOpen() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  receive(data) {
    this.clear("dead");
    this.setState("open"); // whatever the banner said: frames are coming in
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "hello") {
      this.greeted = true;
      this.signInRetried = false;
      if (this.lastId === null) this.lastId = message.last_id;
      publish("connected");
    } else if (message.type === "reload") {
      this.lastId = message.last_id;
      publish("reload");
    } else if (LOGGED[message.type]) {
      this.accept(message);
    } else if (message.type === "video_gone") {
      publish("video-gone", { id: message.video }); // a moderator took it down: every page drops it
    } else if (message.type === "group_read") {
      publish("group-read", message); // not logged: read on another page, this one clears its badge
    } else if (message.type === "live_state") {
      publish("live-state", message.live); // a live announced in my groups went on air or ended
    }
  }

  accept(event) {
    const seq = event.seq ?? event.id;
    if (this.seen.has(seq)) return; // a duplicate (replays reach back a few seconds)
    this.seen.add(seq);
    if (this.seen.size > SEEN_KEPT) this.seen.delete(this.seen.values().next().value);
    // Resume from the highest position seen; the server's replay overlap covers
    // entries numbered below it that were still on their way.
    if (this.lastId === null || seq > this.lastId) this.lastId = seq;
    publish(LOGGED[event.type], event);
  }

  ping() {
    if (!this.isOpen()) return;
    this.socket.send(JSON.stringify({ type: "ping" }));
    if (this.timers.dead) return; // one already waits for its answer
    this.timers.dead = setTimeout(() => this.closed(4000), DEAD_AFTER);
  }

  closed(code) {
    const socket = this.socket;
    this.socket = null;
    this.clear("ping");
    this.clear("dead");
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close();
    if (this.state === "stopped") return;
    if (code === 4401 && this.greeted && !this.signInRetried) {
      this.signInRetried = true; // once more, after the usual delay: the new cookie is on its way
    } else if (REFUSED.has(code)) {
      return this.setState("refused");
    }
    this.failures += 1;
    if (!this.everOpened && this.failures >= POLL_AFTER_FAILURES) this.startPolling();
    // 1 s, 2 s, 4 s … up to 30 s, each time somewhere in the upper half, so that a
    // restarted server is not hit by every client in the same second.
    const ceiling = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** (this.failures - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.setState(navigator.onLine === false ? "offline" : "reconnecting");
    this.timers.retry = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.state === "refused") return;
    if (this.state === "stopped") this.state = "idle";
    if (this.isOpen()) {
      // It came through (back online, the page shown again): say so, and make sure of it.
      this.setState("open");
      this.ping();
      return;
    }
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close();
      this.socket = null;
    }
    this.connect();
  }

  // The page reloaded its list itself: the next events are those after `id`.
  resumeAfter(id) {
    this.lastId = id;
  }

  stop() {
    this.setState("stopped");
    Object.keys(this.timers).forEach((name) => this.clear(name));
    if (this.socket) this.socket.close(1000);
    this.socket = null;
  }

  startPolling() {
    if (this.timers.poll) return;
    const poll = async () => {
      // As the socket would: the groups' posts too, in the same log.
      const query = this.lastId === null ? "" : `?after=${this.lastId}&groups=1`;
      try {
        const page = await request(`${url("api-activity")}${query}`);
        if (this.lastId === null) this.lastId = page.last_id;
        else page.results.forEach((event) => this.accept(event));
      } catch (error) {
        if (error.status === 403) this.setState("refused"); // else offline, or a bad moment: the next round tries again
      }
    };
    poll();
    this.timers.poll = setInterval(poll, POLL_EVERY);
  }

  clear(name) {
    clearTimeout(this.timers[name]);
    clearInterval(this.timers[name]);
    delete this.timers[name];
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    document.documentElement.dataset.socket = state;
    showState(state);
  }
}

// The slim banner: shown while not connected, after a moment for a first connect.
let bannerTimer = null;
function showState(state) {
  const banner = document.querySelector(".conn-banner");
  if (!banner) return;
  clearTimeout(bannerTimer);
  const texts = {
    connecting: gettext("Connecting…"),
    reconnecting: gettext("Connection lost. Reconnecting…"),
    offline: gettext("You are offline. Friends' activity will catch up when you are back."),
  };
  if (!texts[state]) {
    banner.hidden = true;
    return;
  }
  const show = () => {
    banner.dataset.state = state;
    banner.textContent = texts[state];
    banner.hidden = false;
  };
  if (state === "connecting") bannerTimer = setTimeout(show, 1500);
  else show();
}

let socket = null;

// Opens the page's socket, resuming after the event `after` (the newest the page shows;
// null: from now on). There is one socket a page: a second call gets the same one.
export function connect({ after = null } = {}) {
  if (!socket) {
    socket = new ActivitySocket({ after });
    socket.start();
  }
  return socket;
}
