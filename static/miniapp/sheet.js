// A bottom sheet of options (the share sheets of a video and of a live): one pane shown at a
// time under the options, closed by a tap outside, 取消 or Escape, with focus back on what
// opened it. Choosing the option `data-action="name"` runs `actions.name()`.
export class Sheet {
  constructor(element, actions) {
    this.element = element;
    this.opener = null;
    element.addEventListener("click", (event) => {
      if (event.target.closest("[data-close]")) return this.close();
      const option = event.target.closest(".sheet-option");
      if (option) actions[option.dataset.action]();
    });
    document.addEventListener("keydown", (event) => event.key === "Escape" && !element.hidden && this.close());
  }

  open(opener) {
    this.opener = opener;
    this.showPane(null);
    this.element.hidden = false;
    document.body.classList.add("has-sheet");
    this.element.querySelector(".sheet-option:not([hidden])").focus();
  }

  close() {
    this.element.hidden = true;
    document.body.classList.remove("has-sheet");
    if (this.opener) this.opener.focus();
  }

  showPane(name) {
    this.element.querySelectorAll(".sheet-pane").forEach((pane) => {
      pane.hidden = pane.dataset.pane !== name;
    });
  }
}
