// The server's messages (Django's, at the top of a page) shown as wx.showToast shows its own:
// for a moment, then faded out, so that none stays over the video. Errors stay a little longer.
const SHOWN_MS = 1500;
const ERROR_SHOWN_MS = 3000;
const FADE_MS = 300; // base.css's transition

for (const toast of document.querySelectorAll(".toasts .toast")) {
  const shown = toast.classList.contains("toast-error") ? ERROR_SHOWN_MS : SHOWN_MS;
  setTimeout(() => {
    toast.classList.add("is-leaving");
    setTimeout(() => {
      const list = toast.parentElement;
      toast.remove();
      if (list && !list.children.length) list.remove();
    }, FADE_MS);
  }, shown);
}
