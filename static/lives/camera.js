// The host's camera: `Camera` opens it (front or back, sound on or off) for a preview;
// `Broadcast` records it with MediaRecorder and sends each chunk, as it is recorded, over the
// live's ingest socket (/ws/lives/<id>/ingest/, lives/consumers.py), where the server turns it
// into the live's HLS. A new recording (the camera switched, the socket reconnected) starts
// from its header, which the server takes as the next session of the same live.
import { gettext } from "../miniapp/api.js";

// What the server can copy without encoding (H.264) first, then what every Chromium and
// Android records (VP8), then Safari's MP4 (H.264 and AAC).
const TYPES = ["video/webm;codecs=h264,opus", "video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];
const TIMESLICE_MS = 250; // a chunk each quarter second: what the viewers' delay starts from
const MOST_BUFFERED = 4 * 1024 * 1024; // unsent bytes past which the recording restarts (a slow uplink)
const RETRY_MS = 2000;
// The server's refusals that another try would not change (lives/errors.py).
const FATAL = new Set(["encoding", "audio_encoding", "resolution", "frame_rate", "too_much_audio", "no_video", "ended"]);

export function cameraMessage(error) {
  if (!navigator.mediaDevices?.getUserMedia) {
    return gettext("This browser cannot use the camera here. Open the page over HTTPS in a recent browser.");
  }
  if (error?.name === "NotAllowedError" || error?.name === "SecurityError") {
    return gettext("The camera was refused. Allow this site to use the camera and microphone in your browser's settings, then try again.");
  }
  if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") {
    return gettext("No camera was found on this device.");
  }
  if (error?.name === "NotReadableError") {
    return gettext("The camera is in use by another app. Close it and try again.");
  }
  return gettext("The camera could not be opened.");
}

export class Camera {
  constructor(preview) {
    this.preview = preview;
    this.facing = "user";
    this.muted = false;
    this.stream = null;
  }

  async open() {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error(cameraMessage());
    const stream = await navigator.mediaDevices
      .getUserMedia({
        video: {
          facingMode: this.facing,
          width: { ideal: 1280 },
          height: { ideal: 720 },
          frameRate: { ideal: 30, max: 30 },
        },
        audio: { echoCancellation: true, noiseSuppression: true },
      })
      .catch((error) => {
        throw new Error(cameraMessage(error));
      });
    this.close();
    this.stream = stream;
    for (const track of stream.getAudioTracks()) track.enabled = !this.muted;
    this.preview.srcObject = stream;
    this.preview.classList.toggle("mirrored", this.facing === "user");
    await this.preview.play().catch(() => {});
    return stream;
  }

  async switch() {
    this.facing = this.facing === "user" ? "environment" : "user";
    return this.open();
  }

  toggleMute() {
    this.muted = !this.muted;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !this.muted;
    return this.muted;
  }

  close() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
  }
}

function recorderOptions() {
  const mimeType = TYPES.find((type) => window.MediaRecorder?.isTypeSupported?.(type));
  // A keyframe a second, so the server can cut 1 s segments without encoding (where supported).
  return { ...(mimeType ? { mimeType } : {}), videoBitsPerSecond: 2_500_000, videoKeyFrameIntervalDuration: 1000 };
}

// `onState(state, message)`: "connecting", "sending" (connected, before the first segment),
// "live" (viewers can watch), "retrying", "failed" (with a message), "ended".
export class Broadcast {
  constructor(liveId, camera, onState) {
    this.liveId = liveId;
    this.camera = camera;
    this.onState = onState;
    this.socket = null;
    this.recorder = null;
    this.stopped = false;
    this.retry = null;
  }

  start() {
    if (!window.MediaRecorder) {
      this.onState("failed", gettext("This browser cannot record the camera. Use a recent Chrome or Safari."));
      return;
    }
    this.connect();
  }

  connect() {
    window.clearTimeout(this.retry);
    if (this.stopped) return;
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // A Channels route (lives/routing.py), not in the URLconf.
    const socket = new WebSocket(`${scheme}//${location.host}/ws/lives/${this.liveId}/ingest/`);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (event) => socket === this.socket && this.closed(event.code);
  }

  receive(frame) {
    if (frame.type === "ready") {
      this.onState("sending");
      this.record();
    } else if (frame.type === "playing") {
      this.onState("live");
    } else if (frame.type === "restart") {
      this.record(); // the camera was quiet and its recording was closed: begin a new one
    } else if (frame.type === "ended") {
      this.stop();
      this.onState("ended");
    } else if (frame.type === "error") {
      this.error = frame;
    }
  }

  closed(code) {
    this.stopRecorder();
    this.socket = null;
    if (this.stopped) return;
    const error = this.error;
    this.error = null;
    if (code === 4401 || code === 4403 || code === 4404 || (error && FATAL.has(error.code))) {
      this.stopped = true;
      this.onState("failed", error?.message || gettext("This live can't be sent from here."));
      return;
    }
    // 4409: the live is still held by this page's last socket, for a few seconds; or the network.
    this.onState("retrying", error?.message);
    this.retry = window.setTimeout(() => this.connect(), RETRY_MS);
  }

  // A new recording of the camera's current stream, its chunks sent as they come.
  record() {
    this.stopRecorder();
    const stream = this.camera.stream;
    const socket = this.socket;
    if (!stream || !socket || socket.readyState !== WebSocket.OPEN) return;
    let recorder;
    try {
      recorder = new MediaRecorder(stream, recorderOptions());
    } catch {
      recorder = new MediaRecorder(stream);
    }
    // Only the current recording's chunks go out: a stopped recorder's last one may come after
    // the next recording's header, and would break it. (Its quarter second is lost.)
    const current = () => recorder === this.recorder && socket.readyState === WebSocket.OPEN;
    recorder.ondataavailable = async (event) => {
      if (!event.data.size || !current()) return;
      const chunk = await event.data.arrayBuffer();
      if (!current()) return;
      socket.send(chunk); // in order: one recorder's arrayBuffer() calls resolve in order
      if (socket.bufferedAmount > MOST_BUFFERED && recorder === this.recorder) {
        // The uplink can't keep up: start a new recording once the backlog is out, rather than
        // let viewers fall further and further behind.
        this.stopRecorder();
        const drained = window.setInterval(() => {
          if (socket.readyState !== WebSocket.OPEN) window.clearInterval(drained);
          else if (socket.bufferedAmount < 256 * 1024) {
            window.clearInterval(drained);
            this.record();
          }
        }, 250);
      }
    };
    recorder.start(TIMESLICE_MS);
    this.recorder = recorder;
  }

  // The camera changed (switched front/back): the same socket carries a new recording.
  restart() {
    if (this.recorder) this.record();
  }

  stopRecorder() {
    const recorder = this.recorder;
    this.recorder = null;
    if (recorder && recorder.state !== "inactive") recorder.stop();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.retry);
    this.stopRecorder();
    const socket = this.socket;
    this.socket = null;
    socket?.close(1000);
  }
}
