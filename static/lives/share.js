// The room's share sheet: copy its link, its QR code (scanned in WeChat, it opens the room),
// the system share sheet where there is one, and a report. Anyone may share a live, signed out
// too; reporting asks to sign in first.
import { gettext, request, url } from "../miniapp/api.js";
import { Sheet } from "../miniapp/sheet.js";

const room = document.querySelector(".live");
const sheet = document.getElementById("live-share-sheet");
const openButton = room.querySelector(".live-share-open");
const reportForm = sheet.querySelector(".sheet-report");
const reportError = reportForm.querySelector(".sheet-error");
const done = sheet.querySelector(".sheet-done");
const link = sheet.querySelector("#live-link-input").value;
const title = room.querySelector(".live-title").textContent;
const signedIn = Boolean(room.dataset.me);

sheet.querySelector('[data-action="system"]').hidden = !navigator.share;

function tell(text) {
  done.textContent = text;
  done.hidden = !text;
}

const actions = {
  async copy() {
    try {
      await navigator.clipboard.writeText(link);
      tell(gettext("Link copied. Paste it into a chat."));
    } catch {
      showPane("link"); // no clipboard here: the link to copy by hand
      const input = sheet.querySelector("#live-link-input");
      input.focus();
      input.select();
    }
  },
  qr() {
    sheet.querySelector(".sheet-qr img").src = url("live-qr");
    showPane("qr");
  },
  async system() {
    try {
      await navigator.share({ title, text: title, url: link });
      shareSheet.close();
    } catch (error) {
      if (error.name !== "AbortError") tell(gettext("That did not work. Try again."));
    }
  },
  report() {
    if (!signedIn) {
      location.assign(`${url("login")}?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    showPane("report");
    reportForm.querySelector("input").focus();
  },
};

const shareSheet = new Sheet(sheet, actions);
const showPane = (name) => shareSheet.showPane(name);
openButton.addEventListener("click", () => {
  tell("");
  shareSheet.open(openButton);
});

reportForm.addEventListener("change", () => {
  reportForm.querySelector("[type=submit]").disabled = !new FormData(reportForm).get("reason");
});
reportForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  reportError.hidden = true;
  const data = new FormData(reportForm);
  try {
    await request(url("api-live-reports"), {
      method: "POST",
      json: { reason: data.get("reason"), text: (data.get("text") || "").trim() },
      fallback: gettext("Could not send the report. Please try again."),
    });
    showPane(null);
    tell(gettext("Thank you. Our moderators will look at it."));
  } catch (failure) {
    reportError.textContent = failure.message;
    reportError.hidden = false;
  }
});
