// /live/<id>/: the room. Its HLS plays with hls.js (vendored, static/lives/vendor) where the
// browser has Media Source Extensions, natively elsewhere (iOS web views), muted at first as autoplay
// requires, with a sound-on button. The live's state is asked again every few seconds:
// scheduled → on air → ended (with the replay). The host starts and ends it here; a camera
// live's host sees their own camera and sends it from here (camera.js), with a camera switch
// and mute, and comes back to it by opening the room again. The room socket (likes.js) brings
// the likes, the viewers and the live's pauses and end as they happen; the poll is the backstop.
import { gettext, interpolate, request, url } from "../miniapp/api.js";
import { Broadcast, Camera } from "./camera.js";
import { RoomChat } from "./chat.js";
import { RoomLikes } from "./likes.js";
import Hls from "./vendor/hls.js-1.6.15/hls.light.min.mjs";

const room = document.querySelector(".live");
const video = room.querySelector(".live-video");
const state = room.querySelector(".live-state");
const badge = room.querySelector(".live-badge");
const sound = room.querySelector(".live-sound");
const jump = room.querySelector(".live-jump");
const start = room.querySelector(".live-start");
const end = room.querySelector(".live-end");
const replay = room.querySelector(".live-replay");
const flip = room.querySelector(".live-flip");
const mute = room.querySelector(".live-mute");
const toast = room.querySelector(".live-toast");
const POLL_MS = 15000;
const BEHIND_S = 8; // further than this behind the live edge: offer to jump

let live = JSON.parse(document.getElementById("live-data").textContent);
let hls = null;
let playing = false;
let camera = null; // the host's own camera, for a camera live
let broadcast = null;
let sending = ""; // the broadcast's state, shown to the host

const isHost = () => room.dataset.me && Number(room.dataset.me) === live.host.id;
const isStudio = () => isHost() && live.source === "camera";

function show() {
  room.dataset.status = live.status;
  badge.hidden = live.status !== "live";
  start.hidden = !(isHost() && live.status === "scheduled");
  end.hidden = !(isHost() && live.status === "live");
  if (live.status === "scheduled") {
    state.textContent = live.starts_at
      ? interpolate(gettext("Starts %s"), [new Date(live.starts_at).toLocaleString()])
      : gettext("Not on air yet");
  } else if (live.status === "ended") {
    sound.hidden = jump.hidden = true;
    state.textContent = live.end_reason
      ? interpolate(gettext("The live has ended: %s"), [live.end_reason])
      : gettext("The live has ended");
    replay.hidden = !live.replay;
    if (live.replay) replay.href = live.replay.url;
  } else if (isStudio()) {
    state.textContent = sending;
  } else if (!playing) {
    state.textContent = gettext("Connecting…");
  } else {
    state.textContent = live.paused ? gettext("The host stepped away and will be right back") : "";
  }
  flip.hidden = mute.hidden = !(isStudio() && live.status !== "ended" && camera);
}

// The host's camera live: their camera on screen, sent while on air.
const SENDING = {
  connecting: () => gettext("Connecting…"),
  sending: () => gettext("Starting the live…"),
  live: () => "",
  retrying: () => gettext("Reconnecting…"),
  ended: () => "",
};

async function studio() {
  if (live.status === "ended") {
    broadcast?.stop();
    camera?.close();
    camera = null;
    show();
    return;
  }
  if (!camera) {
    camera = new Camera(video);
    try {
      await camera.open();
    } catch (failure) {
      camera = null;
      sending = failure.message;
      show();
      return;
    }
  }
  if (live.status === "live" && !broadcast) {
    broadcast = new Broadcast(live.id, camera, (next, message) => {
      sending = message || (SENDING[next] ? SENDING[next]() : "");
      show();
      if (next === "ended") refresh();
    });
    broadcast.start();
  }
  show();
}

flip.addEventListener("click", async () => {
  flip.disabled = true;
  try {
    await camera.switch();
    broadcast?.restart(); // a new recording, from the other camera
  } catch (failure) {
    sending = failure.message;
    show();
  } finally {
    flip.disabled = false;
  }
});
mute.addEventListener("click", () => {
  const muted = camera.toggleMute();
  mute.setAttribute("aria-pressed", String(muted));
  mute.textContent = muted ? gettext("Unmute") : gettext("Mute");
});

// The live edge: what a player a couple of segments behind the newest would show.
function liveEdge() {
  if (hls && hls.liveSyncPosition) return hls.liveSyncPosition;
  const ranges = video.seekable;
  return ranges.length ? ranges.end(ranges.length - 1) - 3 : null;
}

// The playlist appears a second or two after the live goes on air (its first segment): wait for it.
async function playlistReady() {
  for (;;) {
    try {
      const answer = await fetch(live.hls_url, { method: "HEAD", cache: "no-store", credentials: "same-origin" });
      if (answer.ok) return;
    } catch {
      // the network is away: try again
    }
    await new Promise((resolve) => window.setTimeout(resolve, 1000));
  }
}

async function play() {
  if (!live.hls_url || playing) return;
  playing = true;
  await playlistReady();
  if (Hls && Hls.isSupported()) {
    // hls.js wherever Media Source Extensions exist (Chromium now also claims native HLS, and
    // plays it worse); no worker (it would be a blob: script, which the CSP refuses).
    // Two segments behind the edge; a stall does not move that target for good (hls.js adds
    // a second per stall otherwise, and at rate 1 never catches up), a player behind catches
    // up gently, and one more than 5 segments behind jumps back (bench/live_latency.py).
    hls = new Hls({
      enableWorker: false,
      liveSyncDurationCount: 2,
      liveSyncOnStallIncrease: 0,
      maxLiveSyncPlaybackRate: 1.1,
      liveMaxLatencyDurationCount: 5,
    });
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
        return;
      }
      // The network failed past hls.js's own retries: start again in a moment.
      hls.destroy();
      hls = null;
      playing = false;
      window.setTimeout(() => live.status === "live" && play(), 2000);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
    hls.loadSource(live.hls_url);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = live.hls_url; // iOS web views without Media Source: their own HLS
  } else {
    state.textContent = gettext("This browser cannot play live video.");
    return;
  }
  // Muted autoplay (hls.js: once its playlist is read); a refusal leaves it to the sound button.
  video.play().catch(() => {});
  sound.hidden = false;
}

video.addEventListener("playing", () => {
  if (live.status === "live") state.textContent = "";
});
video.addEventListener("timeupdate", () => {
  const edge = liveEdge();
  jump.hidden = live.status !== "live" || edge === null || edge - video.currentTime < BEHIND_S;
});
video.addEventListener("ended", () => show());

sound.addEventListener("click", () => {
  video.muted = !video.muted;
  sound.textContent = video.muted ? gettext("Sound on") : gettext("Sound off");
  video.play().catch(() => {});
});
jump.addEventListener("click", () => {
  const edge = liveEdge();
  if (edge !== null) video.currentTime = edge;
  jump.hidden = true;
});

async function act(button, name) {
  button.disabled = true;
  try {
    live = await request(url(name), { method: "POST", fallback: gettext("That did not work. Try again.") });
    update();
  } catch (failure) {
    state.textContent = failure.message;
  } finally {
    button.disabled = false;
  }
}
start.addEventListener("click", () => act(start, "api-live-start"));
end.addEventListener("click", () => {
  if (window.confirm(gettext("End the live for everyone?"))) act(end, "api-live-end");
});

function update() {
  show();
  if (isStudio()) studio();
  else if (live.status !== "scheduled") play();
}

async function refresh() {
  try {
    live = await request(url("api-live"));
    update();
  } catch {
    // the network is away: ask again at the next poll
  }
}

// A camera live's replay is made a little after it ends (lives/replays.py): ask until it is there.
const REPLAY_POLLS = 12; // 3 minutes
let replayPolls = 0;
const replayComing = () =>
  live.status === "ended" && !live.replay && live.source === "camera" && live.keep_replay && replayPolls++ < REPLAY_POLLS;

async function poll() {
  await refresh();
  if (live.status !== "ended" || replayComing()) window.setTimeout(poll, POLL_MS);
}

let toastTimer = null;
function say(message) {
  toast.textContent = message;
  toast.hidden = false;
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (toast.hidden = true), 1500);
}

const signIn = () => location.assign(`${url("login")}?next=${encodeURIComponent(location.pathname)}`);
const chat = new RoomChat(room, { onSignIn: signIn, onMessage: say });
const likes = new RoomLikes(room, live.id, {
  onFrame: (frame) => chat.hear(frame),
  after: () => chat.lastId,
  onStatus(status) {
    if (status === "paused" || status === "live") {
      live.paused = status === "paused";
      show();
    }
    if (status === "ended" || live.status !== "live") refresh();
  },
  onSignIn: signIn,
  onMessage: say,
});

update();
chat.start();
if (live.status !== "ended") likes.start();
if (live.status !== "ended" || replayComing()) window.setTimeout(poll, POLL_MS);
