// rapport's board: dragging a card onto another column submits that card's
// own "Move to" form with the column's stage, the same form a keyboard or a
// browser without JavaScript uses (won and lost still ask their question).
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
})();
