// What the groups list and a group's page both write: a post's time as a chat list shows it,
// the line under a group's name, a clip's length, and counts as the server writes them.
import { interpolate, ngettext } from "../miniapp/api.js";

const lang = document.documentElement.lang || "zh-hans";
const clockFormat = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const weekdayFormat = new Intl.DateTimeFormat(lang, { weekday: "short" });
const dateFormat = new Intl.DateTimeFormat(lang, { month: "numeric", day: "numeric" });
const fullDateFormat = new Intl.DateTimeFormat(lang, { year: "numeric", month: "numeric", day: "numeric" });
const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });
const counts = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
const DAY = 86_400_000;

const startOfDay = (moment) => new Date(moment.getFullYear(), moment.getMonth(), moment.getDate()).getTime();

// As WeChat dates a message: "14:05" today, "昨天" / "yesterday", a weekday within the week,
// "3/12" this year, else the full date. `withClock` adds the time to the older ones ("昨天 14:05").
export function chatTime(iso, { withClock = false } = {}) {
  const moment = new Date(iso);
  const days = Math.round((startOfDay(new Date()) - startOfDay(moment)) / DAY);
  const clock = clockFormat.format(moment);
  let day;
  if (days <= 0) return clock;
  if (days === 1) day = relative.format(-1, "day");
  else if (days < 7) day = weekdayFormat.format(moment);
  else if (moment.getFullYear() === new Date().getFullYear()) day = dateFormat.format(moment);
  else day = fullDateFormat.format(moment);
  return withClock ? `${day} ${clock}` : day;
}

// "alice: 这是我们村的老王", or the video's title when the post has no note.
export function lastPostText(post) {
  if (!post) return "";
  const text = post.note || post.video?.title || post.live?.title || "";
  return `${post.author.name}: ${text}`;
}

// "0:05", "12:34", "1:02:03".
export function clipLength(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const [hours, minutes, secs] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const tail = `${String(secs).padStart(2, "0")}`;
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${tail}` : `${minutes}:${tail}`;
}

// 1.2万 / 12.3K, as the server's compact_count filter writes them.
export const compact = (value) => counts.format(value);

// "3 人看过": the people who watched through this post.
export function viewsText(views) {
  const format = ngettext("%(count)s person watched", "%(count)s people watched", views);
  return interpolate(format, { count: compact(views) }, true);
}
