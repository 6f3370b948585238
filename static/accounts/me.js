// 我的: the "show my likes" switch saves as it is flipped (its form's Save button is for pages
// without scripts), and the invitation shares the app's link, or copies it.
import { csrfToken, gettext } from "../miniapp/api.js";

const form = document.querySelector("form.setting");
const said = form?.querySelector(".setting-said");

function say(where, text) {
  where.textContent = text;
  clearTimeout(where.timer);
  where.timer = setTimeout(() => (where.textContent = ""), 3000);
}

if (form) {
  form.querySelector(".setting-save").hidden = true;
  const input = form.querySelector("input[name=share_likes]");
  input.addEventListener("change", async () => {
    input.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.detail || `${response.status}`);
      input.checked = body.share_likes;
      say(said, body.detail);
    } catch {
      input.checked = !input.checked; // as it is on the server
      say(said, gettext("Not saved: the network failed. Try again."));
    } finally {
      input.disabled = false;
    }
  });
}

const invite = document.querySelector(".invite-button");
invite?.addEventListener("click", async () => {
  const link = invite.dataset.link;
  const status = document.querySelector(".invite-said");
  if (navigator.share) {
    try {
      await navigator.share({ title: document.title, text: gettext("Watch and like videos with me"), url: link });
      return;
    } catch (error) {
      if (error.name === "AbortError") return; // the person closed the sheet
    }
  }
  try {
    await navigator.clipboard.writeText(link);
    say(status, gettext("Link copied: send it to your friends."));
  } catch {
    say(status, link); // no clipboard: the link itself, to copy by hand
  }
});
