// rapport's board: dragging a card onto another column submits that card's
// own "Move to" form with the column's stage, the same form a keyboard or a
// browser without JavaScript uses (won and lost still ask their question).
// Live updates: the server's event stream (/events) says "changed" when a
// reply, a post or a stage change is recorded, and the board is fetched
// again and swapped in place, keeping the focused control focused.
"use strict";
(function () {
  const board = document.getElementById("board");
  if (!board) return;
  let dragged = null;
  board.addEventListener("dragstart", (e) => {
    const card = e.target.closest(".card");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.id);
  });
  board.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    if (pending) { pending = false; refresh(); }
    board.querySelectorAll(".column.over").forEach((c) => c.classList.remove("over"));
  });
  board.addEventListener("dragover", (e) => {
    const column = e.target.closest(".column");
    if (!column || !dragged) return;
    e.preventDefault();
    column.classList.add("over");
  });
  board.addEventListener("dragleave", (e) => {
    const column = e.target.closest(".column");
    if (column && !column.contains(e.relatedTarget)) column.classList.remove("over");
  });
  board.addEventListener("drop", (e) => {
    const column = e.target.closest(".column");
    if (!column || !dragged) return;
    e.preventDefault();
    const form = dragged.querySelector("form.move");
    const select = form && form.querySelector("select[name=stage]");
    if (!select || select.value === column.dataset.stage) return;
    select.value = column.dataset.stage;
    form.requestSubmit();
  });

  let refreshing = false;
  let pending = false;
  async function refresh() {
    if (dragged || refreshing) { pending = true; return; }
    refreshing = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (response.redirected || !response.ok) return;
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("board");
      if (!fresh) return;
      const active = document.activeElement;
      const card = active && active.closest ? active.closest(".card") : null;
      const focus = card ? { id: card.id, name: active.getAttribute("name"), tag: active.tagName } : null;
      board.replaceChildren(...fresh.childNodes);
      board.dataset.updated = String(Date.now());
      if (focus) {
        const again = document.getElementById(focus.id);
        const target = again && (focus.name ? again.querySelector(focus.tag + "[name='" + focus.name + "']") : again.querySelector("a"));
        if (target) target.focus();
      }
    } finally {
      refreshing = false;
      if (pending) { pending = false; refresh(); }
    }
  }
  if (window.EventSource) {
    const live = new EventSource("/events");
    live.addEventListener("changed", refresh);
  }
})();
