// The share sheet: send to groups and friends with a note, copy the link, its QR code and poster, the system share
// sheet where there is one, and inside WeChat a pointer to WeChat's own menu. Every link is a
// share link (/v/<id>/?s=<token>) made by the server, so views and likes through it are credited.
import { gettext, interpolate, ngettext, request, url } from "../miniapp/api.js";
import { Sheet } from "../miniapp/sheet.js";
import { arrival, say, setCount, signedIn } from "./feed/page.js";

const sheet = document.getElementById("share-sheet");
const inWeChat = /MicroMessenger/i.test(navigator.userAgent);
const guide = document.querySelector(".wechat-guide");
const form = sheet.querySelector(".sheet-friends");
const picker = form.querySelector(".friend-picker");
const groupsBox = form.querySelector(".sheet-groups");
const groupPicker = form.querySelector(".group-picker");
const note = form.querySelector("textarea");
const noteCount = form.querySelector(".sheet-note-count");
const error = form.querySelector(".sheet-error");
const send = form.querySelector("[type=submit]");
let slide = null; // the video being shared
let plain = null; // {id, url}: the plain link of this video, made once
let friendsLoaded = false;
const groupNames = new Map(); // id -> name, of the groups listed

sheet.querySelector('[data-action="wechat"]').hidden = !inWeChat;
sheet.querySelector('[data-action="system"]').hidden = inWeChat || !navigator.share;

function open(forSlide, button) {
  slide = forSlide;
  if (plain && plain.id !== slide.dataset.id) plain = null;
  shareSheet.open(button);
}

const close = () => shareSheet.close();
const showPane = (name) => shareSheet.showPane(name);

function signInFirst() {
  location.assign(`${url("login")}?next=${encodeURIComponent(url("video-detail", slide.dataset.id))}`);
}

// The server makes (or hands back) the link; signed out, the page's own link is passed on.
async function shareLink() {
  const id = slide.dataset.id;
  if (plain && plain.id === id) return plain.url;
  if (!signedIn) {
    const page = new URL(url("video-detail", id), location.origin);
    if (arrival.token && id === arrival.id) page.searchParams.set("s", arrival.token);
    return page.href;
  }
  const body = await post(id, { to: [], note: "" });
  plain = { id, url: body.url };
  return body.url;
}

async function post(id, payload) {
  const fallback = gettext("Could not share. Please try again.");
  const body = await request(url("api-shares", id), { method: "POST", json: payload, fallback });
  if (slide && slide.dataset.id === id) setCount(slide.querySelector(".action-share .action-count"), body.share_count);
  return body;
}

const failed = (err) => say(err.message);

const actions = {
  async friends() {
    if (!signedIn) return signInFirst();
    showPane("friends");
    if (!friendsLoaded) await Promise.all([loadGroups(), loadFriends()]);
    (form.querySelector("fieldset:not([hidden]) input") || note).focus();
  },
  async copy() {
    let address;
    try {
      address = await shareLink();
    } catch (err) {
      return failed(err);
    }
    try {
      await navigator.clipboard.writeText(address);
      close();
      say(gettext("Link copied. Paste it into a chat."));
    } catch {
      // No clipboard here (an older web view, or not allowed): show the link to copy by hand.
      showPane("link");
      const input = sheet.querySelector("#share-link-input");
      input.value = address;
      input.focus();
      input.select();
    }
  },
  async qr() {
    try {
      const shared = new URL(await shareLink());
      const token = shared.searchParams.get("s");
      const qr = new URL(url("share-qr", slide.dataset.id), location.origin);
      const poster = new URL(url("share-poster", slide.dataset.id), location.origin);
      if (token) [qr, poster].forEach((image) => image.searchParams.set("s", token));
      sheet.querySelector(".sheet-qr img").src = qr.href;
      Object.assign(savePoster, { href: poster.href, download: `poster-${slide.dataset.id}.jpg` });
      showPane("qr");
    } catch (err) {
      failed(err);
    }
  },
  async system() {
    try {
      const title = slide.querySelector(".slide-title").textContent;
      await navigator.share({ title, text: title, url: await shareLink() });
      close();
    } catch (err) {
      if (err.name !== "AbortError") failed(err);
    }
  },
  report() {
    if (!signedIn) return signInFirst();
    showPane("report");
    reportForm.querySelector("input").focus();
  },
  async wechat() {
    // WeChat shares the page's own address: make it this video's share link first.
    try {
      const shared = new URL(await shareLink());
      history.replaceState(null, "", `${shared.pathname}${shared.search}`);
      close();
      guide.hidden = false;
    } catch (err) {
      failed(err);
    }
  },
};

// 保存海报: a download where the browser honours it (a computer); on a phone, and always in
// WeChat's browser, which ignores `download`, the poster itself with "long-press to save".
const savePoster = sheet.querySelector(".sheet-poster-save");
const onPhone = inWeChat || matchMedia("(pointer: coarse)").matches;
savePoster.addEventListener("click", (event) => {
  if (!onPhone) return;
  event.preventDefault();
  sheet.querySelector(".sheet-poster img").src = savePoster.href;
  showPane("poster");
});

const reportForm = sheet.querySelector(".sheet-report");
const reportError = reportForm.querySelector(".sheet-error");
const reportSend = reportForm.querySelector("[type=submit]");
reportForm.addEventListener("change", () => {
  reportSend.disabled = !reportForm.querySelector("input:checked");
});
reportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const reason = reportForm.querySelector("input:checked");
  if (!reason) return;
  reportSend.disabled = true;
  reportError.hidden = true;
  try {
    await request(url("api-reports", slide.dataset.id), {
      method: "POST",
      json: { reason: reason.value, text: reportForm.elements.text.value.trim() },
      fallback: gettext("Could not send the report. Please try again."),
    });
    reportForm.reset();
    close();
    say(gettext("Thank you. Our moderators will look at it."));
  } catch (err) {
    reportError.textContent = err.message;
    reportError.hidden = false;
    reportSend.disabled = false;
  }
});

async function loadFriends() {
  try {
    const { friends } = await request(url("api-friends"));
    picker.replaceChildren(...friends.map(friendRow));
    if (!friends.length) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = gettext("No friends here yet. Copy the link instead.");
      picker.append(none);
    }
    friendsLoaded = true;
  } catch {
    picker.querySelector("li").textContent = gettext("Could not load your friends. Please try again.");
  }
}

// My groups above my friends (the group with the newest post first); none: no groups list.
async function loadGroups() {
  try {
    const { groups } = await request(url("api-groups"));
    groups.forEach((group) => groupNames.set(group.id, group.name));
    groupPicker.replaceChildren(...groups.map(groupRow));
    groupsBox.hidden = groups.length === 0;
  } catch {
    const failed = document.createElement("li");
    failed.className = "muted";
    failed.textContent = gettext("Could not load your groups. Please try again.");
    groupPicker.replaceChildren(failed);
    groupsBox.hidden = false;
  }
}

function pickerRow({ name: field, id, avatar, text, count }) {
  const row = document.createElement("li");
  const label = document.createElement("label");
  const box = Object.assign(document.createElement("input"), { type: "checkbox", name: field, value: id });
  const face = Object.assign(document.createElement("img"), { src: avatar, alt: "", width: 36, height: 36 });
  const name = document.createElement("span");
  name.className = "picker-name";
  name.textContent = text;
  label.append(box, face, name);
  if (count !== undefined) {
    const members = document.createElement("span");
    members.className = "picker-count";
    members.textContent = `(${count})`;
    label.append(members);
  }
  row.append(label);
  return row;
}

const friendRow = (friend) => pickerRow({ name: "to", id: friend.id, avatar: friend.avatar, text: friend.name });
const groupRow = (group) =>
  pickerRow({ name: "groups", id: group.id, avatar: group.avatar, text: group.name, count: group.member_count });

function chosen(list) {
  return Array.from(list.querySelectorAll("input:checked"), (box) => Number(box.value));
}

form.addEventListener("change", () => {
  send.disabled = chosen(picker).length + chosen(groupPicker).length === 0;
});

// "Sent to 2 friends.", "Sent to 王家村.", "Sent to 1 friend and 2 groups."
function sentText(to, groups) {
  const friendsText = (count) => interpolate(ngettext("%(count)s friend", "%(count)s friends", count), { count }, true);
  const groupsText = (count) => interpolate(ngettext("%(count)s group", "%(count)s groups", count), { count }, true);
  if (!groups.length) {
    const sent = ngettext("Sent to %(count)s friend.", "Sent to %(count)s friends.", to.length);
    return interpolate(sent, { count: to.length }, true);
  }
  if (!to.length && groups.length === 1) {
    return interpolate(gettext("Sent to %(name)s."), { name: groupNames.get(groups[0]) }, true);
  }
  if (!to.length) return interpolate(gettext("Sent to %(groups)s."), { groups: groupsText(groups.length) }, true);
  const both = { friends: friendsText(to.length), groups: groupsText(groups.length) };
  return interpolate(gettext("Sent to %(friends)s and %(groups)s."), both, true);
}

// Groups I am no longer in (the server said so): they cannot be chosen any more.
function dropGroups(ids) {
  ids.forEach((id) => {
    const box = groupPicker.querySelector(`input[value="${id}"]`);
    if (!box) return;
    box.checked = false;
    box.disabled = true;
    box.closest("li").classList.add("is-disabled");
  });
}

note.addEventListener("input", () => {
  noteCount.textContent = `${note.value.length}/140`;
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const to = chosen(picker);
  const groups = chosen(groupPicker);
  if (!to.length && !groups.length) return;
  send.disabled = true;
  error.hidden = true;
  const payload = { to, note: note.value.trim() };
  if (groups.length) payload.groups = groups;
  try {
    await post(slide.dataset.id, payload);
    const sent = sentText(to, groups);
    form.reset();
    noteCount.textContent = "0/140";
    close();
    say(sent);
  } catch (err) {
    if (Array.isArray(err.body?.not_member)) dropGroups(err.body.not_member);
    error.textContent = err.message;
    error.hidden = false;
    send.disabled = chosen(picker).length + chosen(groupPicker).length === 0;
  }
});

const shareSheet = new Sheet(sheet, actions);
guide.addEventListener("click", () => {
  guide.hidden = true;
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") guide.hidden = true;
});
document.addEventListener("click", (event) => {
  const button = event.target.closest(".action-share");
  if (button) open(button.closest(".slide"), button);
});
